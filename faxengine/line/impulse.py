"""Impulse noise: clicks on the line, as switching, dialling on a neighbouring
pair and lightning put there (V.56 lists it among the impairments a modem
test set applies; M.1020 §2.6 counts impulses above a threshold).

Each click is a short damped oscillation, exp(−t/τ)·sin(2πft + φ), with τ =
0.5 ms, cut off after 4 ms, of a frequency f drawn uniformly from 300–3400 Hz
and a random phase and polarity, its peak being ``peak_dbm0``: the peak of a
sine at that level (a −10 dBm0 click peaks as a −10 dBm0 sine does).  Clicks
arrive at random, as a Poisson process of ``rate_hz`` clicks per second (the
gaps are exponentially distributed), from a seeded generator: the same seed
gives the same clicks, and any split of the input into blocks gives the
output of one call (a click that straddles two blocks is finished in the
second).  The work is per click, not per sample.
"""
from __future__ import annotations

import math

import numpy as np

from faxengine.levels import SAMPLE_RATE, dbm0_to_power
from faxengine.line.errors import LineError

__all__ = ["ImpulseNoise", "CLICK_SAMPLES"]

#: length of one click: 4 ms
CLICK_SAMPLES = 32
#: decay time constant of a click, seconds
CLICK_TAU = 0.0005


class ImpulseNoise:
    """Clicks added to a float block (module doc).

    Args:
        rate_hz: mean clicks per second (0 for none).
        peak_dbm0: peak of each click, as the level of a sine of that peak.
        seed: seed of the generator.

    Raises:
        LineError: for a NaN, infinite or negative rate, or a NaN or infinite level.
    """

    def __init__(self, rate_hz: float, peak_dbm0: float, seed: int = 0) -> None:
        if not (math.isfinite(rate_hz) and rate_hz >= 0):
            raise LineError(f"impulse noise rate must be a finite number of clicks per second >= 0, "
                            f"not {rate_hz}")
        if not math.isfinite(peak_dbm0):
            raise LineError(f"impulse noise level must be a finite number of dBm0, not {peak_dbm0}")
        self.rate_hz = rate_hz
        self.peak = math.sqrt(2.0 * dbm0_to_power(peak_dbm0))
        self._rng = np.random.default_rng(seed)
        self._t = 0                                 # samples seen so far
        self._next = self._gap()                    # absolute sample of the next click
        self._tail = np.zeros(0)                    # what the last click still adds
        #: clicks added so far
        self.clicks = 0

    def _gap(self) -> float:
        return math.inf if self.rate_hz == 0 else self._rng.exponential(SAMPLE_RATE / self.rate_hz)

    def _click(self) -> np.ndarray:
        t = np.arange(CLICK_SAMPLES) / SAMPLE_RATE
        f = self._rng.uniform(300.0, 3400.0)
        phase = self._rng.uniform(0.0, 2.0 * math.pi)
        shape = np.exp(-t / CLICK_TAU) * np.sin(2.0 * math.pi * f * t + phase)
        return self.peak * shape / np.max(np.abs(shape))

    def process(self, x) -> np.ndarray:
        """``x`` (float) plus the clicks that fall in it."""
        y = np.array(x, dtype=np.float64, copy=True)
        n = y.size
        pending = np.zeros(n + CLICK_SAMPLES)
        pending[:self._tail.size] += self._tail
        while self._next < self._t + n:
            at = int(self._next) - self._t
            pending[at:at + CLICK_SAMPLES] += self._click()
            self.clicks += 1
            self._next += self._gap()
        y += pending[:n]
        self._tail = pending[n:].copy()
        self._t += n
        return y
