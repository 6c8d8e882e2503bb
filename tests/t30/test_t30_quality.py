"""TCF and page-quality judgements."""
from __future__ import annotations

import numpy as np
import pytest

from faxengine.t30 import Fcf
from faxengine.t30.quality import (PageQualityPolicy, judge_page, judge_tcf, longest_zero_run,
                                   tcf_bits)
from faxengine.t4.codec import BadLines


def test_tcf_length():
    assert tcf_bits(14400) == 21600 and tcf_bits(2400) == 3600


def test_longest_zero_run():
    assert longest_zero_run(np.zeros(0, np.uint8)) == 0
    assert longest_zero_run(np.array([1, 0, 0, 1, 0, 0, 0], np.uint8)) == 3
    assert longest_zero_run(np.array([0, 0, 1], np.uint8)) == 2
    assert longest_zero_run(np.ones(5, np.uint8)) == 0


def test_judge_tcf():
    rate = 9600
    clean = np.zeros(tcf_bits(rate), np.uint8)
    assert judge_tcf(clean, rate)
    broken = clean.copy()
    broken[::5000] = 1                      # an error every 0.52 s: no 1 s run
    assert not judge_tcf(broken, rate)
    late = np.concatenate([np.random.default_rng(1).integers(0, 2, 3000).astype(np.uint8),
                           np.zeros(9700, np.uint8)])     # trained late, then clean
    assert judge_tcf(late, rate)
    assert not judge_tcf(np.zeros(9000, np.uint8), rate)  # cut short


@pytest.mark.parametrize("bad, resolution, answer", [
    (BadLines(0, 0, 1100), "fine", Fcf.MCF),
    (BadLines(10, 5, 1100), "fine", Fcf.MCF),        # 0.9 %, 0.65 mm
    (BadLines(10, 5, 1100), "standard", Fcf.RTP),    # same lines are 1.3 mm at standard
    (BadLines(60, 20, 1100), "fine", Fcf.RTP),       # 5.5 %, 2.6 mm
    (BadLines(200, 5, 1100), "fine", Fcf.RTN),       # 18 %
    (BadLines(40, 40, 1100), "fine", Fcf.RTN),       # 3.6 %, but one 5.2 mm hole
    (BadLines(30, 30, 1100), "fine", Fcf.RTP),       # a 3.9 mm hole
    (BadLines(0, 0, 0), "fine", Fcf.RTN),
])
def test_judge_page(bad, resolution, answer):
    assert judge_page(bad, resolution) is answer


def test_policy_is_adjustable():
    strict = PageQualityPolicy(good_ratio=0.0, good_run_mm=0.0)
    assert strict.judge(BadLines(1, 1, 1000), "fine") is Fcf.RTP
    assert strict.judge(BadLines(0, 0, 1000), "fine") is Fcf.MCF


@pytest.mark.parametrize("w", [1, 2, 3, 5, 8, 20, 21])
def test_window_max_is_the_max_of_every_window(w):
    from faxengine.t30.quality import _window_max
    rng = np.random.default_rng(w)
    for n in (w, w + 1, 50, 333):
        x = rng.random(n)
        want = np.lib.stride_tricks.sliding_window_view(x, w).max(axis=1)
        assert np.array_equal(_window_max(x, w), want)
