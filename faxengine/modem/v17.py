"""V.17: the 2-wire modem for facsimile at 7200, 9600, 12 000 and 14 400 bit/s.

ITU-T V.17: 2400 symbols/s of QAM on an 1800 Hz carrier, 3 to 6 data bits
per symbol plus one redundant bit from an 8-state trellis code, so the
constellations have 16, 32, 64 and 128 points.  The transmitter scrambles
(1 + x^-18 + x^-23), differentially encodes the first two bits of each
symbol, convolutionally encodes them and maps the result; it starts with the
long training (T.30: TCF and the first page after a rate change) or the
short one (later pages at the same rate), optionally preceded by the talker
echo protection tone.  The receiver decodes the trellis with a
soft-decision Viterbi decoder.

The receiver (``csrc/v17rx.c``) is built from the shared blocks of the
modems (carrier detection, band-pass matched filter, NCO, timing recovery,
T/2 NLMS equaliser) and follows the training segment by segment; it tells a
long training from a short one itself and keeps its equaliser from one to
the next, as the short training needs.  The hot loops live in ``csrc/``,
reached through the compiled module ``faxengine.modem._v17``.
"""
from __future__ import annotations

from faxengine.modem import _v17
from faxengine.modem._common import check_flag
from faxengine.modem.v29 import _check, _HighSpeedRx, _HighSpeedTx

__all__ = ["V17Tx", "V17Rx", "RATES", "BAUD", "CARRIER_HZ"]

#: V.17 §2: data signalling rates, modulation rate and carrier
RATES = (14400, 12000, 9600, 7200)
BAUD = 2400
CARRIER_HZ = 1800.0


class V17Tx(_HighSpeedTx):
    """V.17 transmitter.

    Args:
        rate: 14400, 12000, 9600 or 7200 bit/s.
        short_train: send the short training of V.17 instead of the long one
            (T.30: pages after the first at the same rate).
        power_dbm0: transmit level of the data signal.
        tep: start with the talker echo protection tone (200 ms of
            unmodulated carrier, then 20 ms of silence).
    Raises:
        ModemError: on a rate V.17 does not have (or not an int), a level out
            of range (or not a number), short_train or tep not a bool.

    ``modulate(bits)`` returns the samples of the training (first call) and
    of every whole symbol of bits so far; ``finish()`` sends the rest, 32
    symbols of scrambled ones (they flush the receiver's Viterbi decoder)
    and 20 ms of silence; the next ``modulate`` starts a new transmission.
    """

    def __init__(self, rate: int = 14400, short_train: bool = False,
                 power_dbm0: float = -13.0, tep: bool = False) -> None:
        rate, power_dbm0 = _check("V.17", rate, RATES, power_dbm0, short_train=short_train, tep=tep)
        self.rate = rate
        self.short_train = bool(short_train)
        self.power_dbm0 = power_dbm0
        super().__init__(lambda: _v17.Tx(rate, self.short_train, tep, power_dbm0))


class V17Rx(_HighSpeedRx):
    """V.17 receiver for one rate (T.30 says which, in DCS).

    The first signal must bring the long training.  Once trained the
    receiver keeps its equaliser across the end of a signal and takes the
    next one with either training: it tells them apart itself, so T.30's
    short-trained pages need nothing but more samples.  What it keeps is the
    equaliser as it was while its decisions were good, so a noise burst that
    lost a signal does not spoil the short training of the next one.

    Raises:
        ModemError: on a rate V.17 does not have (or not an int).
    """

    def __init__(self, rate: int = 14400) -> None:
        rate, _ = _check("V.17", rate, RATES)
        self.rate = rate
        super().__init__(lambda: _v17.Rx(rate))

    def restart(self, short_train: bool = False) -> None:
        """Wait for a new signal.  short_train=True keeps the equaliser
        trained on this call's long training (what a short training needs);
        False forgets everything (a new call)."""
        self._core.restart(check_flag("short_train", short_train))

    @property
    def carrier_offset_hz(self) -> float:
        """Carrier frequency offset being tracked, in Hz."""
        return self._core.carrier_offset_hz
