"""faxengine.line.impulse: clicks at the rate and peak asked for, seeded, any chunking."""
from __future__ import annotations

import math

import numpy as np
import pytest

from faxengine import line
from faxengine.line.impulse import CLICK_SAMPLES, ImpulseNoise

FS = 8000


def test_clicks_come_at_the_rate_with_the_peak_asked_for():
    ch = line.Line(impulse_rate_hz=5.0, impulse_dbm0=-10.0, seed=4)
    y = ch.process(np.zeros(FS * 60, dtype=np.int16)).astype(np.float64)
    clicks = ch._impulses.clicks
    assert abs(clicks - 300) < 4 * math.sqrt(300)             # Poisson: 300 +- 4 sigma
    peak_sine = math.sqrt(2 * line.dbm0_to_power(-10.0))
    assert np.max(np.abs(y)) == pytest.approx(peak_sine, rel=0.05)    # overlaps are rare
    # each click is short: the line is quiet most of the time
    assert np.count_nonzero(np.abs(y) > 1) < clicks * CLICK_SAMPLES
    # and within the telephone band: little DC
    assert abs(np.mean(y)) < 5


def test_clicks_are_seeded_and_any_chunking_gives_one_call():
    x = np.zeros(40000)
    whole = ImpulseNoise(20.0, -20.0, seed=1).process(x)
    assert np.array_equal(whole, ImpulseNoise(20.0, -20.0, seed=1).process(x))
    assert not np.array_equal(whole, ImpulseNoise(20.0, -20.0, seed=2).process(x))
    gen = ImpulseNoise(20.0, -20.0, seed=1)
    bounds = [0, 1, 5, 37, 38, 1000, 1001, 20000, 40000]
    parts = [gen.process(x[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    assert np.array_equal(np.concatenate(parts), whole)


def test_no_rate_no_clicks():
    x = np.round(np.random.default_rng(1).normal(0, 1000, 8000)).astype(np.int16)
    assert np.array_equal(line.Line(impulse_rate_hz=0.0).process(x), x)


@pytest.mark.parametrize("rate,level,match", [
    (float("nan"), -10.0, "rate"), (-1.0, -10.0, "rate"), (float("inf"), -10.0, "rate"),
    (1.0, float("nan"), "level"), (1.0, float("inf"), "level"),
])
def test_bad_impulse_parameters_raise(rate, level, match):
    with pytest.raises(line.LineError, match=match):
        line.Line(impulse_rate_hz=rate, impulse_dbm0=level)
