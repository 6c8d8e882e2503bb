"""FaxTerminal embedded: typed events, pages in memory, one trace logger per call.

A program that embeds the terminal takes ``events()`` (frozen dataclasses of
``faxengine.t30.events``) instead of parsing the trace, receives pages
without a file, and keeps the traces of concurrent calls apart with
``logger=``.  A receive file is written page by page, so a call cut short
leaves the pages confirmed so far in a readable file.  ``on_event`` takes
the events as they come instead of keeping them, so a long call that nobody
takes ``events()`` from keeps no page in memory.
"""
from __future__ import annotations

import dataclasses
import gc
import logging
import weakref

import numpy as np
import pytest

from faxengine import tiff
from faxengine.t30 import events as ev
from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.result import Result
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import BadLines
from spandsp import run_call as pump
from test_terminal import text_page
from test_terminal_failures import CutOff


def collect(term, into):
    """A pump side that keeps the events as they come (as a program would)."""
    class Side:
        finished = property(lambda self: term.finished)

        def tx(self, n):
            out = term.tx(n)
            into.extend(term.events())
            return out

        def rx(self, samples):
            term.rx(samples)
            into.extend(term.events())
    return Side()


@pytest.mark.parametrize("ecm", [False, True], ids=["non-ecm", "ecm"])
def test_a_call_in_memory_reports_what_happened_as_events(tmp_path, monkeypatch, ecm):
    monkeypatch.chdir(tmp_path)
    pages = [text_page(s, rows=300) for s in (1, 2)]
    sender = FaxTerminal(True, send=pages, ecm=ecm)
    receiver = FaxTerminal(False)                       # receive=None: in memory
    s_events, r_events = [], []
    pump(collect(sender, s_events), collect(receiver, r_events))
    assert sender.result.ok and receiver.result.ok
    assert list(tmp_path.iterdir()) == []               # nothing touched the disk

    got = [e for e in r_events if isinstance(e, ev.PageReceived)]
    assert [e.number for e in got] == [1, 2]
    assert all(np.array_equal(e.image, p.image) for e, p in zip(got, pages, strict=True))
    assert all((e.x_res, e.y_res) == (pages[0].x_res, pages[0].y_res) for e in got)
    if ecm:
        assert all(e.bad_lines is None and e.ecm.blocks == 1 and e.ecm.ppr == 0
                   and not e.ecm.incomplete and e.ecm.frames > 0 for e in got)
    else:
        assert all(e.ecm is None and e.bad_lines.count == 0 for e in got)
    assert [(e.number, e.response) for e in s_events if isinstance(e, ev.PageSent)] == [
        (1, "MCF"), (2, "MCF")]

    for side in (s_events, r_events):
        [training] = [e for e in side if isinstance(e, ev.TrainingResult)]
        assert (training.modem, training.rate, training.accepted) == ("V.17", 14400, True)
        assert isinstance(side[-1], ev.CallEnded) and side[-1].result.ok
        assert sum(isinstance(e, ev.CallEnded) for e in side) == 1
        times = [e.time_s for e in side]
        assert times == sorted(times) and times[-1] > 10
    sent = [e.name for e in s_events if isinstance(e, ev.FrameSent)]
    heard = [e.name for e in r_events if isinstance(e, ev.FrameReceived)]
    post = ["PPS", "PPS"] if ecm else ["MPS", "EOP"]
    assert sent == ["DCS", *post, "DCN"] and heard == sent
    [dcs] = [e for e in r_events if isinstance(e, ev.FrameReceived) and e.name == "DCS"]
    assert dcs.words.startswith("DCS: V.17 14400, fine") and dcs.raw[2] == 0x83  # X=1 DCS
    assert sender.events() == [] and receiver.events() == []     # taken: gone


def test_events_are_frozen_slotted_and_check_themselves():
    event = ev.PageSent(1.0, 1, "MCF")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.number = 2
    assert not hasattr(event, "__dict__")
    for bad in (lambda: ev.PageSent(1.0, 0, "MCF"), lambda: ev.PageSent(1.0, 1, "RTN"),
                lambda: ev.FrameSent(-1.0, "DCN", "DCN", b"\xff\x13\xfb"),
                lambda: ev.FrameSent(0.0, "DCN", "DCN", b"\xff"),
                lambda: ev.PageReceived(0.0, 1, np.zeros((2, 8), np.uint8), 204, 196,
                                        bad_lines=BadLines(0, 0, 2)),
                lambda: ev.PageReceived(0.0, 1, np.zeros((2, 8), bool), 204, 196)):
        with pytest.raises(LocalProtocolError, match="invalid T.30 event"):
            bad()
    ended = ev.CallEnded(3.0, Result("OK", "done"))
    assert ended.result.ok and ended == ev.CallEnded(3.0, Result("OK", "done"))
    page = ev.PageReceived(0.0, 1, np.zeros((2, 8), bool), 204, 196, ecm=ev.EcmStats(1, 3, 0, False))
    assert page == page and page != dataclasses.replace(page) and {page: 1}[page] == 1


@pytest.mark.parametrize("how", ["ctrl-c", "abort"])
def test_a_call_cut_short_leaves_a_readable_file_with_the_pages_so_far(tmp_path, how):
    out = tmp_path / "rx.tif"
    pages = [text_page(s, rows=200) for s in range(4)]
    sender = FaxTerminal(True, send=pages, ecm=False)
    receiver = FaxTerminal(False, receive=out)
    if how == "ctrl-c":             # the pump stops dead: the file is never closed
        pump(sender, CutOff(receiver, lambda t: t.pages_done == 2), max_seconds=200)
        assert not receiver.finished
    else:
        def abort_after_2(t):
            if t.pages_done == 2:
                t.abort()
            return False
        pump(sender, CutOff(receiver, abort_after_2), max_seconds=200)
        assert receiver.result.code == "LOCAL_ABORT" and receiver.result.pages == 2
    got = [p.image for p in tiff.read(out)]
    assert len(got) == 2 and all(np.array_equal(a, p.image) for a, p in zip(got, pages))


def test_each_terminal_traces_on_its_own_logger(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    a_log, b_log = logging.getLogger("faxengine.t30.a"), logging.getLogger("faxengine.t30.b")
    sender = FaxTerminal(True, send=[text_page(1, rows=100)], logger=a_log)
    receiver = FaxTerminal(False, logger=b_log)
    pump(sender, receiver)
    by = {name: [r.getMessage() for r in caplog.records if r.name == name]
          for name in ("faxengine.t30.a", "faxengine.t30.b", "faxengine.t30")}
    assert by["faxengine.t30"] == []
    assert "tx DCN" in by["faxengine.t30.a"] and "rx DCN" in by["faxengine.t30.b"]
    assert not any(m.startswith("rx DCS") for m in by["faxengine.t30.a"])
    for name in ("faxengine.t30.a", "faxengine.t30.b"):
        assert sum(m.startswith("call ended: OK") for m in by[name]) == 1


@pytest.mark.parametrize("how", ["abort", "abort-twice"])
def test_call_ended_is_logged_once_per_call(how, caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    term = FaxTerminal(False)
    for _ in range(10):
        term.tx(160)
    term.abort()
    if how == "abort-twice":
        term.abort()
    while not term.finished:
        term.tx(160)
    term.abort()
    term.rx(np.zeros(160, np.int16))
    term.tx(160)
    ended = [r for r in caplog.records if r.getMessage().startswith("call ended")]
    assert len(ended) == 1 and term.result.code == "LOCAL_ABORT"
    assert [type(e).__name__ for e in term.events()][-1] == "CallEnded"


def test_the_state_machine_modules_do_no_file_io():
    """Only files.py (the layer outside the state machine) reads or writes files."""
    import ast
    from pathlib import Path

    import faxengine.t30 as t30
    folder = Path(t30.__file__).parent
    for name in ("terminal", "engine", "sender", "receiver", "events", "options", "states"):
        tree = ast.parse((folder / f"{name}.py").read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {m for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                     for m in (n.module, *(f"{n.module}.{a.name}" for a in n.names))}
        assert not imported & {"faxengine.tiff", "pathlib", "io", "shutil"}, name
        calls = {n.func.id for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "open" not in calls, name


def test_a_logger_adapter_tags_every_line_of_a_call(caplog):
    caplog.set_level(logging.INFO, logger="faxengine.t30")
    tagged = logging.LoggerAdapter(logging.getLogger("faxengine.t30.line"), {"call": "c-17"})
    sender = FaxTerminal(True, send=[text_page(1, rows=100)], logger=tagged)
    pump(sender, FaxTerminal(False))
    mine = [r for r in caplog.records if r.name == "faxengine.t30.line"]
    assert mine and all(r.call == "c-17" for r in mine)
    assert {"tx DCS: V.17 14400, fine, MMR, ECM 256, A4", "tx DCN"} <= {
        r.getMessage() for r in mine}


def _pages_alive(on_event_given: bool, ecm: bool) -> tuple[int, int]:
    """A four-page call nobody takes events() from: (pages received, their
    images still alive after it)."""
    alive = []

    def watch(event):
        if isinstance(event, ev.PageReceived):
            alive.append(weakref.ref(event.image))

    sender = FaxTerminal(True, send=[text_page(s, rows=120) for s in range(4)], ecm=ecm,
                         on_event=(lambda event: None) if on_event_given else None)
    receiver = FaxTerminal(False, ecm=ecm, on_event=watch if on_event_given else None)
    if not on_event_given:
        receiver._listeners.append(watch)       # watch without taking the events
    pump(sender, receiver, max_seconds=300)
    assert sender.result.ok and receiver.result.ok
    gc.collect()
    return len(alive), sum(ref() is not None for ref in alive)


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "non-ecm"])
def test_with_on_event_no_page_stays_in_memory(ecm):
    # events() never called: every page image is kept, 4 MB a fine page
    assert _pages_alive(False, ecm) == (4, 4)
    # on_event: each goes to it and none is kept
    assert _pages_alive(True, ecm) == (4, 0)


def test_on_event_takes_the_events_events_returns_none():
    got = []
    sender = FaxTerminal(True, send=[text_page(1, rows=80)], on_event=got.append)
    receiver = FaxTerminal(False)
    pump(sender, receiver, max_seconds=200)
    assert sender.events() == [] and isinstance(got[-1], ev.CallEnded)
    assert [type(e) for e in got].count(ev.PageSent) == 1
    assert len(receiver.events()) > 0
    with pytest.raises(LocalProtocolError, match="on_event must be callable"):
        FaxTerminal(False, on_event="print")


def test_loopback_keeps_no_events(tmp_path):
    from faxengine.loopback import Loopback
    pages = [text_page(s, rows=100) for s in range(3)]
    loop = Loopback(pages, tmp_path / "rx.tif")
    assert loop.run().ok
    assert loop.sender.events() == [] and loop.receiver.events() == []
    assert len(tiff.read(tmp_path / "rx.tif")) == 3
