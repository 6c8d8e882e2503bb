"""Fax call speed: a one-page call, ours to ours against spandsp to spandsp.

One round is a whole call: CCITT chart 1 at fine resolution, V.17 14400, with
ECM (MMR) and without (MR), the calling terminal sending to the answering
one, both pumped by the same loop -- the media layer's ``Pump``, which
``faxengine loopback`` uses too (``spandsp.run_call`` is that pump;
160-sample blocks, no line model) -- until both reach phase E.  Rates are seconds of line
time per second of CPU (the real-time factor, both terminals together); the
ratio is ours / spandsp.  Required by issue 5: ours at least 300x real time
on one core (printed per test).  The engine issue asks "a one-page call ...
at least 2x spandsp": the table counts calls per CPU second and holds 2x as
the ECM group's requirement; the real-time factors are printed beside.  Rounds: ours and spandsp's calls in
turn, 15 each after a warm-up, in process CPU time, the best of each (best
of 3 one contender after the other swung from 1.5x to 2.0x between runs on
this shared machine).  The table's ratio is per call; the line prints the
ratio of real-time factors as well, a little lower, because spandsp's call
takes 0.5 s more line time than ours (ours 24.9 s with ECM and 28.7 s
without, spandsp 25.4 s and 28.9 s).  Measured at load 0.5 (lead, main after
the last cuts, docs/t30.md Speed): ECM ours 16.6-16.9 ms, spandsp
34.1-34.4 ms: 2.03-2.06x a call, 1.99-2.02x in the table; non-ECM ours
21.1-21.6 ms, spandsp 39.3-39.7 ms: 1.82-1.87x.  With the receive path's
per-block bookkeeping compiled (t30/_link.pyx, docs/t30.md Speed, the fourth
round) the ECM call takes 3-6 % fewer instructions (callgrind: 165.4-174.3M
against 175.9-176.9M); timed beside another engineer's runs (load 0.3-1.4)
it was ours 16.9-25.6 ms, spandsp 35.2-54.0 ms, 1.65-2.47x a call over seven
runs, a spread that hides the gain; non-ECM 1.73-1.97x.  The lead's three
runs on main right after it (load 0.8): ECM ours 16.8-18.1 ms, spandsp
35.5-38.3 ms, 2.01-2.17x a call (1.98-2.13x in real-time factor); non-ECM
1.84-1.89x.  Both sides get the pump's
160-sample blocks: larger ones cut spandsp's ctypes calls per block more
than our Python and make the ratio smaller.
"""
from __future__ import annotations

import time

import pytest

import spandsp
from faxengine.t30.terminal import FaxTerminal

pytestmark = pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)

REQUIRED_X = 300
#: the engine issue's ratio for the ECM call (ours / spandsp)
REQUIRED_RATIO = 2.0
#: a call takes 17-40 ms of CPU: the best of 15 rounds in turn is steady on a
#: shared machine, the best of 3 one after the other was not (1.5x to 2.0x)
ROUNDS = 15


def make(contender, ecm, chart1, out):
    page, path = chart1
    if contender == "ours":
        return (FaxTerminal(True, send=[page], ecm=ecm),
                FaxTerminal(False, receive=out, ecm=ecm))
    return (spandsp.FaxTerminal(True, send=path, ecm=ecm),
            spandsp.FaxTerminal(False, receive=out, ecm=ecm))


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
def test_one_page_call(speed, chart1, tmp_path, ecm):
    """Ours and spandsp's calls in turn, ROUNDS each after a warm-up, timed
    in process CPU time: on a shared machine a neighbour slows whichever
    call is running, so rounds taken in turn see the same neighbours, and
    the best of each is the code's own cost."""
    group = f"chart 1 call {'ecm' if ecm else 'non-ecm'}"
    best = {"ours": float("inf"), "spandsp": float("inf")}
    line = {}
    for round_ in range(ROUNDS + 1):
        for contender in best:
            a, b = make(contender, ecm, chart1, tmp_path / f"rx-{contender}.tif")
            start = time.process_time()
            seconds = spandsp.run_call(a, b, max_seconds=120)
            spent = time.process_time() - start
            assert a.result.ok and b.result.ok, f"{contender} call failed: {a.result} / {b.result}"
            line[contender] = seconds
            if round_:                      # (round 0 warms up)
                best[contender] = min(best[contender], spent)
    for contender, spent in best.items():           # the unit: one call
        speed.record(group, contender, 1, spent, ROUNDS, unit="calls per CPU second",
                     required=REQUIRED_RATIO if ecm else None)
    ours, theirs = (line[c] / best[c] for c in ("ours", "spandsp"))
    print(f"\n{group}: ours {best['ours'] * 1000:.1f} ms CPU, {ours:.0f}x real time "
          f"(required {REQUIRED_X}x: {'PASS' if ours >= REQUIRED_X else 'FAIL'}); spandsp "
          f"{best['spandsp'] * 1000:.1f} ms, {theirs:.0f}x real time; ratio "
          f"{best['spandsp'] / best['ours']:.2f}x a call, {ours / theirs:.2f}x in real-time factor")
