"""T.38 terminal speed: a one-page T.38 call, ours to ours against spandsp's
``t38_terminal`` to itself.

One round is a whole call: CCITT chart 1 at fine resolution, V.17 14400,
with ECM (MMR) and without (MR), calling terminal sending, both ends stepped
20 ms at a time by ``tests/t38/t38_pump.pump`` with every IFP packet through
UDPTL (``faxengine.t38.udptl``, redundancy 3) each way, until both reach
phase E.  Rates are seconds of line time per second of CPU (both terminals
together); the ratio is ours / spandsp.  The issue asks for 200 concurrent
real-time T.38 calls on this machine: a call needs 1/rate of a core, so
the figure printed is rate x 2 cores.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "t38"))

import spandsp_t38_terminal as sp38                       # noqa: E402
from conftest import time_calls                            # noqa: E402
from faxengine.t38.terminal import T38Terminal             # noqa: E402
from t38_pump import UdptlWire, pump                       # noqa: E402

pytestmark = pytest.mark.skipif(not sp38.available(), reason=sp38.REASON)


def make(contender, ecm, chart1, out):
    page, path = chart1
    if contender == "ours":
        return (T38Terminal(True, send=[page], ecm=ecm, on_event=lambda e: None),
                T38Terminal(False, ecm=ecm, on_event=lambda e: None))
    return (sp38.SpandspT38Terminal(True, send=path, ecm=ecm),
            sp38.SpandspT38Terminal(False, receive=out, ecm=ecm))


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
@pytest.mark.parametrize("contender", ["ours", "spandsp"])
def test_one_page_t38_call(benchmark, speed, chart1, tmp_path, contender, ecm):
    group = f"chart 1 T.38 call {'ecm' if ecm else 'non-ecm'}"

    def run(a, b):
        line = pump(a, b, UdptlWire(), UdptlWire(), max_seconds=120)
        return line, a.result.ok and b.result.ok

    line, best = time_calls(benchmark, speed, group, contender,
                            lambda: make(contender, ecm, chart1, tmp_path / "rx.tif"), run)
    if best:
        print(f"\n{group}, {contender}: line time {line:.2f} s, {line / best:.0f}x real "
              f"time, about {2 * line / best:.0f} concurrent real-time calls on 2 cores")
