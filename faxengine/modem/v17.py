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

The hot loops live in ``csrc/v17tx.c`` and ``csrc/v17_trellis.c``, reached
through the compiled module ``faxengine.modem._v17``.
"""
from __future__ import annotations

import numpy as np

from faxengine.modem import _v17
from faxengine.modem.errors import ModemError

__all__ = ["V17Tx", "RATES"]

RATES = (7200, 9600, 12000, 14400)


def _check_rate(rate: int) -> int:
    if rate not in RATES:
        raise ModemError(f"V.17 has no rate {rate} bit/s; choose one of {', '.join(map(str, RATES))}")
    return int(rate)


def _as_bits(bits) -> np.ndarray:
    arr = np.ascontiguousarray(bits, dtype=np.uint8)
    if arr.ndim != 1:
        raise ModemError(f"bits must be a 1-D array of 0/1, got shape {arr.shape}")
    if arr.size and arr.max() > 1:
        raise ModemError("bits must be 0 or 1")
    return arr


class V17Tx:
    """V.17 transmitter.

    Args:
        rate: 7200, 9600, 12000 or 14400 bit/s.
        short_train: send the short training of V.17 instead of the long one
            (T.30 uses it for pages after the first at the same rate).
        power_dbm0: mean power of the data signal, in dBm0.
        tep: start with the talker echo protection tone (200 ms of
            unmodulated carrier, then 20 ms of silence).

    ``modulate(bits)`` returns the samples for the training (on the first
    call) and for every whole symbol of bits given so far; ``finish()`` sends
    what remains, 32 symbols of scrambled ones and 20 ms of silence.  The
    output of any split of the bits into calls is the same.
    """

    def __init__(self, rate: int = 14400, short_train: bool = False,
                 power_dbm0: float = -13.0, tep: bool = False) -> None:
        self.rate = _check_rate(rate)
        if not -60.0 <= power_dbm0 <= 3.0:
            raise ModemError(f"power {power_dbm0} dBm0 is outside -60..3 dBm0")
        self.short_train = bool(short_train)
        self.tep = bool(tep)
        self._tx = _v17.Tx(self.rate, self.short_train, self.tep, float(power_dbm0))
        self._finished = False

    def modulate(self, bits) -> np.ndarray:
        """int16 samples at 8000/s for these bits (0/1, in order)."""
        if self._finished:
            raise ModemError("V17Tx.modulate() after finish(): make a new transmitter")
        return self._tx.modulate(_as_bits(bits))

    def finish(self) -> np.ndarray:
        """The remaining symbols and the turn-off; the transmitter is done."""
        if self._finished:
            return np.zeros(0, np.int16)
        self._finished = True
        return self._tx.finish()
