"""V.27ter: the 4800/2400 bit/s modem T.30 falls back to for image data and TCF.

V.27ter §2: carrier 1800 Hz; 4800 bit/s sends tribits as 8-phase
differential PSK at 1600 baud, 2400 bit/s dibits as 4-phase at 1200 baud;
50 % raised-cosine spectrum shared between the two ends; scrambler
1 + x^-6 + x^-7 with a guard against repetitive patterns (§2.6).  The
training (§2.5, Table 3): an optional 185-200 ms unmodulated carrier (talker
echo protection, ``tep``), 20 ms of silence, 180-degree reversals (50
symbols long, 14 short), the equaliser conditioning pattern of 0/180-degree
changes (1074 symbols long, 58 short) and 8 symbols of scrambled ones.  T.30
uses the long training, the default here (708 ms at 4800 bit/s, 943 ms at
2400).

The transmitter and receiver are those of v29.py over csrc/v27ter_tx.c and
csrc/v27ter_rx.c: the same receiver blocks, with the reversals as the
alternation (its 180-degree ambiguity is settled by the sign of the pattern),
a 17-tap equaliser and 8- or 4-phase slicing.  The receiver expects the
long training.
"""
from __future__ import annotations

from faxengine.modem import _v27ter
from faxengine.modem.v29 import _check, _HighSpeedRx, _HighSpeedTx

__all__ = ["V27terTx", "V27terRx", "RATES", "CARRIER_HZ"]

#: V.27ter §2: data signalling rates and carrier
RATES = (4800, 2400)
CARRIER_HZ = 1800.0


class V27terTx(_HighSpeedTx):
    """V.27ter transmitter.

    Args:
        rate: 4800 or 2400 bit/s.
        power_dbm0: transmit level of the data signal.
        tep: send the 190 ms echo-protection carrier before the training.
        short_train: the short training (14 reversals, 58 pattern symbols)
            instead of the long one T.30 uses.
    Raises:
        ModemError: on a rate V.27ter does not have (or not an int), a level
            out of range (or not a number), tep or short_train not a bool.
    """

    def __init__(self, rate: int = 4800, power_dbm0: float = -13.0, tep: bool = False,
                 short_train: bool = False) -> None:
        rate, power_dbm0 = _check("V.27ter", rate, RATES, power_dbm0, tep=tep,
                                   short_train=short_train)
        self.rate = rate
        self.power_dbm0 = power_dbm0
        super().__init__(lambda: _v27ter.V27terTxCore(rate, power_dbm0, tep, short_train))


class V27terRx(_HighSpeedRx):
    """V.27ter receiver for one rate, long training.

    Raises:
        ModemError: on a rate V.27ter does not have (or not an int).
    """

    def __init__(self, rate: int = 4800) -> None:
        rate, _ = _check("V.27ter", rate, RATES)
        self.rate = rate
        super().__init__(lambda: _v27ter.V27terRxCore(rate))
