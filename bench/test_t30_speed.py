"""Fax call speed: a one-page call, ours to ours against spandsp to spandsp.

One round is a whole call: CCITT chart 1 at fine resolution, V.17 14400, with
ECM (MMR) and without (MR), the calling terminal sending to the answering
one, both pumped by the same loop -- the media layer's ``Pump``, which
``faxengine loopback`` uses too (``spandsp.run_call`` is that pump;
160-sample blocks, no line model) -- until both reach phase E.  Rates are seconds of line
time per second of CPU (the real-time factor, both terminals together); the
ratio is ours / spandsp.  Required by issue 5: ours at least 300x real time
on one core (the table's ratio column has no requirement; the absolute
factor and the line times are printed by the tests).  The engine issue
asks 2x spandsp (not reached; ours would need about 17.3 ms a call).
Measured in process CPU time, rounds interleaved with the code before the
last round of cuts (docs/t30.md, Speed), best of 8-12, on the shared
2-core machine at load 5-7: 1.73-1.78x with ECM (ours 19.2-21.2 ms,
spandsp 34.2-36.8 ms; 1.44-1.57x before) and 1.53-1.70x without (ours
25.5-27.6 ms; 1.39-1.51x before).  Both sides get the pump's 160-sample blocks:
larger ones cut spandsp's ctypes calls per block more than our Python and
make the ratio smaller.  Line time ours 24.9 s (ECM) and 28.7 s (non-ECM),
spandsp 25.4 s and 28.9 s.
"""
from __future__ import annotations

import pytest

import spandsp
from conftest import time_calls
from faxengine.t30.terminal import FaxTerminal

pytestmark = pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)

REQUIRED_X = 300


def make(contender, ecm, chart1, out):
    page, path = chart1
    if contender == "ours":
        return (FaxTerminal(True, send=[page], ecm=ecm),
                FaxTerminal(False, receive=out, ecm=ecm))
    return (spandsp.FaxTerminal(True, send=path, ecm=ecm),
            spandsp.FaxTerminal(False, receive=out, ecm=ecm))


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
@pytest.mark.parametrize("contender", ["ours", "spandsp"])
def test_one_page_call(benchmark, speed, chart1, tmp_path, contender, ecm):
    group = f"chart 1 call {'ecm' if ecm else 'non-ecm'}"

    def run(a, b):
        line = spandsp.run_call(a, b, max_seconds=120)
        return line, a.result.ok and b.result.ok

    line, best = time_calls(benchmark, speed, group, contender,
                            lambda: make(contender, ecm, chart1, tmp_path / "rx.tif"), run)
    if best:
        verdict = "PASS" if contender != "ours" or line / best >= REQUIRED_X else "FAIL"
        print(f"\n{group}, {contender}: line time {line:.2f} s, {line / best:.0f}x real time"
              + (f" (required {REQUIRED_X}x: {verdict})" if contender == "ours" else ""))
