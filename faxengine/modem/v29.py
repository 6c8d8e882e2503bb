"""V.29: the 9600/7200/4800 bit/s modem T.30 uses for image data and TCF.

V.29 §2: 2400 baud on a 1700 Hz carrier; 16-point combined amplitude/phase
constellation at 9600 bit/s (quadbits: Q1 picks the amplitude, Q2Q3Q4 the
phase change in steps of 45 degrees), 8 points at 7200 (tribits), 4 at 4800
(dibits); scrambler 1 + x^-18 + x^-23 (§4).  Every transmission opens with
the training sequence of §5 (253 ms): 48 symbols of silence, 128 symbols of
alternations A B, 384 symbols of the equaliser conditioning pattern C/D from
the generator 1 + x^-6 + x^-7, 48 symbols of scrambled ones.  An optional
200 ms echo-protection tone (``tep``) may precede it; T.30 does not use it by
default.

:class:`V29Tx` pulse-shapes with a 25 % root raised cosine and sets its level
in dBm0.  :class:`V29Rx` is the training receiver of csrc/dsp_qamrx.c: a
complex band-pass matched filter that also interpolates for timing, timing
and carrier phase taken in one step from the alternations, a T/2 spaced
NLMS equaliser (37 taps at 9600 and 7200 bit/s, 25 at 4800) trained on
the known pattern then decision directed, Gardner timing and a
post-equaliser second-order PLL; it reports carrier, training, level and
the SNR at its decisions.  TCF (T.30 §5.3.6.2.1: 1.5 s
of zeros) needs nothing special: the receiver delivers the bits, T.30 counts.

Streaming: ``modulate`` and ``demodulate`` take any split of their input and
give the same output as one call.  The C code is csrc/v29tx.c and
csrc/v29rx.c; v27ter.py reuses the facade classes defined here.
"""
from __future__ import annotations

import numpy as np

from faxengine.modem import _v29
from faxengine.modem._common import as_bits, as_count, as_samples, check_flag, check_level, check_rate

__all__ = ["V29Tx", "V29Rx", "RATES", "BAUD", "CARRIER_HZ"]

#: V.29 §2: data signalling rates, modulation rate and carrier
RATES = (9600, 7200, 4800)
BAUD = 2400
CARRIER_HZ = 1700.0
#: transmit levels accepted (T.30 terminals send about -13 dBm0)
MIN_POWER_DBM0 = -60.0
MAX_POWER_DBM0 = -3.0


def _check(name: str, rate, rates: tuple[int, ...], power_dbm0=None, **flags) -> tuple[int, float | None]:
    """The rate and level of a high-speed modem, checked (ModemError on a
    wrong type or value), and the boolean ``flags`` by name."""
    for flag, value in flags.items():
        check_flag(flag, value)
    rate = check_rate(name, rate, rates)
    # above -3 dBm0 the peaks of the 16-point V.29 signal clip at full scale
    if power_dbm0 is not None:
        power_dbm0 = check_level(power_dbm0, MIN_POWER_DBM0, MAX_POWER_DBM0)
    return rate, power_dbm0


class _HighSpeedTx:
    """Facade of a training-sequence transmitter core (shared by V.29 and V.27ter)."""

    def __init__(self, make_core) -> None:
        self._core = make_core()

    def modulate(self, bits) -> np.ndarray:
        """int16 samples: the training sequence first (on the first call), then
        as many of ``bits`` (uint8 0/1, after those of earlier calls) as fill
        whole symbols; the rest wait for the next call or :meth:`finish`."""
        return self._core.modulate(as_bits(bits), False)

    def finish(self) -> np.ndarray:
        """The remaining bits (the last symbol padded with ones), the turn-off
        and the filter tail.  The next :meth:`modulate` starts a new
        transmission, with its own training."""
        out = self._core.modulate(np.zeros(0, dtype=np.uint8), True)
        self._core.restart()        # the C state, restarted in place (csrc/ lifecycle)
        return out


class _HighSpeedRx:
    """Facade of a training receiver core (shared by V.29 and V.27ter)."""

    def __init__(self, make_core) -> None:
        self._core = make_core()

    def demodulate(self, samples) -> np.ndarray:
        """The data bits (uint8 0/1) these int16 samples complete, after
        training; any split of the input gives the same bits."""
        return self._core.demodulate(as_samples(samples))

    def fillin(self, n: int) -> np.ndarray:
        """``n`` samples that never arrived (a lost RTP packet), as spandsp's
        ``*_rx_fillin``: the receiver keeps the carrier (no carrier loss),
        moves its symbol timing and carrier phase on by ``n`` samples, and
        adapts nothing (no training on nothing).  Zeros go through its
        filters, and the bits its decisions make over the hole are returned
        (errors, as good as random), so the data after the hole keeps its
        place in the bit stream.

        Raises:
            ModemError: if n is not an int >= 0.
        """
        return self._core.fillin(as_count(n))

    def restart(self) -> None:
        """Forget everything heard so far: the C state returns to where its
        init left it, in the same memory (csrc/ lifecycle: ``*_restart``)."""
        self._core.restart()

    def symbols(self, n: int = 4096) -> np.ndarray:
        """The last ``n`` data symbols the receiver decided on (at most 4096),
        complex64, oldest first: the equaliser's output after carrier
        correction, on the scale of the recommendation's constellation
        (V.17: its integer grid).  What a constellation diagram plots."""
        return self._core.symbols(n)

    @property
    def carrier_present(self) -> bool:
        """True while the received level is above the carrier-detect threshold
        (ON above -47 dBm0, OFF below -52 dBm0)."""
        return self._core.carrier_present

    @property
    def trained(self) -> bool:
        """True once training succeeded and data bits are being delivered."""
        return self._core.trained

    @property
    def signal_power_dbm0(self) -> float:
        """The received level over the last few ms, in dBm0."""
        return self._core.signal_power_dbm0

    @property
    def snr_db(self) -> float:
        """Signal to noise ratio at the decisions (from the decision error), in
        dB; 0.0 until trained."""
        return self._core.snr_db


class V29Tx(_HighSpeedTx):
    """V.29 transmitter.

    Args:
        rate: 9600, 7200 or 4800 bit/s.
        power_dbm0: transmit level of the data signal.
        tep: send the 200 ms echo-protection tone before the training.
    Raises:
        ModemError: on a rate V.29 does not have (or not an int), a level out
            of range (or not a number), tep not a bool.
    """

    def __init__(self, rate: int = 9600, power_dbm0: float = -13.0, tep: bool = False) -> None:
        rate, power_dbm0 = _check("V.29", rate, RATES, power_dbm0, tep=tep)
        self.rate = rate
        self.power_dbm0 = power_dbm0
        super().__init__(lambda: _v29.V29TxCore(rate, power_dbm0, tep))


class V29Rx(_HighSpeedRx):
    """V.29 receiver for one rate (T.30 says which, in DCS).

    Raises:
        ModemError: on a rate V.29 does not have (or not an int).
    """

    def __init__(self, rate: int = 9600) -> None:
        rate, _ = _check("V.29", rate, RATES)
        self.rate = rate
        super().__init__(lambda: _v29.V29RxCore(rate))
