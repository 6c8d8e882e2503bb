"""Signal levels and rate: the dBm0 reference every layer measures against, and
the one sample rate (8000 samples/s) every layer counts time in.

G.711: the largest sine the codec carries is +3.14 dBm0, so 0 dBm0 is a sine
3.14 dB below a full-scale (amplitude 32 767) sine: a mean square of
32767² / 2 / 10**0.314 in int16 units (amplitude about 22 767).  The modems
set their transmit levels and carrier thresholds with it and the line models
their noise; one definition keeps them measuring the same dB.
(csrc/dsp_agc.c holds the same figure for the C modems, transmitters and
receivers alike; tests/csrc/dsp_test.c checks it.)
"""
from __future__ import annotations

import math

__all__ = ["SAMPLE_RATE", "DBM0_FULL_SCALE_SINE", "DBM0_REF_POWER", "dbm0_to_power", "power_to_dbm0"]

#: samples per second of every signal in the package (G.711 telephony: 8 kHz)
SAMPLE_RATE = 8000

#: dB by which a full-scale sine (amplitude 32 767) exceeds 0 dBm0 (G.711).
DBM0_FULL_SCALE_SINE = 3.14
#: mean square, in int16 units, of a 0 dBm0 signal
DBM0_REF_POWER = 32767.0**2 / 2.0 / 10.0 ** (DBM0_FULL_SCALE_SINE / 10.0)


def dbm0_to_power(dbm0: float) -> float:
    """Mean square, in int16 units, of a signal at ``dbm0``."""
    return DBM0_REF_POWER * 10.0 ** (dbm0 / 10.0)


def power_to_dbm0(power: float) -> float:
    """Level in dBm0 of a mean square ``power`` in int16 units (-inf for 0)."""
    return -math.inf if power <= 0 else 10.0 * math.log10(power / DBM0_REF_POWER)
