"""Signal levels in dBm0 and the project's definition of SNR.

The level reference (0 dBm0 = 3.14 dB below a full-scale sine, G.711) is
defined once, in :mod:`faxengine.levels`, and re-exported here.

SNR (architecture, Conventions): the mean power of the modem signal while it
is on, over the power of white Gaussian noise added over the whole 0–4000 Hz
band.  "While it is on" is judged in 20 ms frames: the frames whose power is
within ON_WINDOW_DB of the strongest frame count, the silent ones do not.
"""
from __future__ import annotations

import math

import numpy as np

from faxengine.levels import DBM0_FULL_SCALE_SINE, DBM0_REF_POWER, dbm0_to_power, power_to_dbm0
from faxengine.line.errors import LineError

__all__ = [
    "DBM0_FULL_SCALE_SINE", "DBM0_REF_POWER", "FRAME", "ON_WINDOW_DB",
    "power_dbm0", "on_power_dbm0", "noise_dbm0_for_snr", "dbm0_to_power", "power_to_dbm0",
]

#: frame over which signal on/off is judged: 20 ms at 8000 samples/s
FRAME = 160
#: frames within this many dB of the strongest frame count as "signal on"
ON_WINDOW_DB = 10.0


def power_dbm0(samples) -> float:
    """Mean power of ``samples`` in dBm0 (-inf for silence or no samples)."""
    x = np.asarray(samples, dtype=np.float64)
    return power_to_dbm0(float(np.mean(x * x))) if x.size else -math.inf


def on_power_dbm0(samples) -> float:
    """Mean power in dBm0 of ``samples`` while the signal is on (see module doc)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return -math.inf
    frames = x.size // FRAME
    if frames == 0:
        return power_dbm0(x)
    # a last partial frame is left out: every frame then weighs the same
    p = np.mean(x[: frames * FRAME].reshape(frames, FRAME) ** 2, axis=1)
    strongest = p.max()
    if strongest <= 0:
        return -math.inf
    on = p >= strongest * 10.0 ** (-ON_WINDOW_DB / 10.0)
    return power_to_dbm0(float(np.mean(p[on])))


def noise_dbm0_for_snr(signal, snr_db: float) -> float:
    """Noise level in dBm0 that gives ``snr_db`` against ``signal`` while on.

    Raises:
        LineError: for a NaN or infinite ``snr_db``, or a silent signal.
    """
    if not math.isfinite(snr_db):
        raise LineError(f"SNR must be a finite number of dB, not {snr_db}")
    level = on_power_dbm0(signal)
    if level == -math.inf:
        raise LineError("the signal is silent: no noise level gives an SNR against it")
    return level - snr_db
