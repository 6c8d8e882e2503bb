"""V.21 channel 2: the 300 bit/s FSK modem T.30 uses for every command and response.

V.21 §2: channel 2 sends a binary 1 (mark) as 1650 Hz and a 0 (space) as
1850 Hz at 300 bit/s; T.30 §5.3 carries HDLC frames over it (see hdlc.py).

:class:`V21Tx` is a continuous-phase FSK generator: ``modulate(bits)`` returns
the samples of those bits (80/3 samples a bit, the fractional length held
exactly so bit edges never drift), phase continuous across calls;
``finish()`` returns a 2 ms fade-out and ends the transmission.

:class:`V21Rx` demodulates non-coherently with a pair of quadrature
correlators one bit long (the matched filter of each tone), recovers the bit
clock with a digital PLL on the zero crossings of the soft decision, and
detects the carrier with a band-limited power meter: ON above -45 dBm0, OFF
below -48 dBm0 (V.21 §7: ON for signals above -43 dBm0, OFF below -48 dBm0,
at least 2 dB of hysteresis).  Bits come out only while the carrier is on.
The C code is csrc/v21tx.c and csrc/v21rx.c; their headers say how it works.

Levels are in dBm0 (architecture, Conventions; :mod:`faxengine.levels`).
"""
from __future__ import annotations

import math

import numpy as np

from faxengine.levels import dbm0_to_power, power_to_dbm0
from faxengine.modem import _v21
from faxengine.modem._common import as_bits, as_count, as_samples, check_level

__all__ = ["V21Tx", "V21Rx", "MARK_HZ", "SPACE_HZ", "BIT_RATE"]

#: V.21 §2, channel 2: frequency of a 1 (mark) and of a 0 (space)
MARK_HZ = 1650.0
SPACE_HZ = 1850.0
BIT_RATE = 300
#: carrier detect thresholds (V.21 §7 asks ON above -43, OFF below -48 dBm0)
CARRIER_ON_DBM0 = -45.0
CARRIER_OFF_DBM0 = -48.0

def sine_amplitude(power_dbm0: float) -> float:
    """Peak amplitude of a sine at ``power_dbm0``; raises ModemError above +3 dBm0."""
    return math.sqrt(2.0 * dbm0_to_power(check_level(power_dbm0, -90.0, 3.0)))


class V21Tx:
    """V.21 channel 2 transmitter.

    Args:
        power_dbm0: transmit level (T.30 terminals send about -13 dBm0 or less).
    """

    def __init__(self, power_dbm0: float = -13.0) -> None:
        self.power_dbm0 = power_dbm0
        self._core = _v21.V21TxCore(MARK_HZ, SPACE_HZ, sine_amplitude(power_dbm0))

    def modulate(self, bits) -> np.ndarray:
        """int16 samples for ``bits`` (uint8 0/1), continuing the previous call."""
        return self._core.modulate(as_bits(bits))

    def finish(self) -> np.ndarray:
        """The turn-off ramp; the next :meth:`modulate` starts a new transmission."""
        return self._core.finish()


class V21Rx:
    """V.21 channel 2 receiver with carrier detect.

    ``demodulate(samples)`` returns the bits recovered while the carrier was
    present; any split of the input into calls gives the same bits.
    """

    def __init__(self) -> None:
        self._core = _v21.V21RxCore(MARK_HZ, SPACE_HZ, dbm0_to_power(CARRIER_ON_DBM0),
                                    dbm0_to_power(CARRIER_OFF_DBM0))

    def demodulate(self, samples) -> np.ndarray:
        """The bits (uint8 0/1) these int16 samples complete."""
        return self._core.demodulate(as_samples(samples))

    def fillin(self, n: int) -> np.ndarray:
        """``n`` samples that never arrived (a lost RTP packet), as spandsp's
        ``fsk_rx_fillin``: the carrier detector holds its state and the
        tone oscillators and bit clock move on by ``n`` samples, with no
        timing correction; the bits sliced over the hole (while the carrier
        is on: as good as random) are returned, so the bits after it keep
        their place.

        Raises:
            ModemError: if n is not an int >= 0.
        """
        return self._core.fillin(as_count(n))

    def restart(self) -> None:
        """Forget everything heard so far."""
        self._core.restart()

    @property
    def carrier_present(self) -> bool:
        """True while a signal above the carrier-detect threshold is in the band."""
        return self._core.carrier_present

    @property
    def signal_power_dbm0(self) -> float:
        """The in-band level heard over the last few ms, in dBm0."""
        return power_to_dbm0(self._core.power)
