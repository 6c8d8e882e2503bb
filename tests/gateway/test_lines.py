"""The line drivers (gateway.lines): the simulated network's behaviours, the SIP line.

Every simulated call is a real call of our terminals through a line model,
so the result codes asserted here are what the calling terminal says; the
pages the far end received must equal the pages sent, pixel for pixel.
Simulated calls run as fast as the CPU allows (a fraction of a second
each); the SIP calls run in real time on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from faxengine import tiff
from faxengine.gateway import jobs
from faxengine.gateway.errors import GatewayConfigError, GatewayError
from faxengine.gateway.lines import (BUSY_S, RING_TIMEOUT_S, Behaviour, CallOutcome,
                                     SimulatedNetwork, SipLine, parse_behaviour,
                                     sip_result_code)
from faxengine.media.call import ABORT_LINE_S, HANGUP_WAIT_S, FaxReceiver, SipEndpoint
from faxengine.media.sip.events import IncomingCall
from faxengine.t30.result import CODES
from faxengine.t4 import Page

DETAIL = "0000000007001"
LOCAL = ("127.0.0.1", 0)


def _page(seed: int, lines: int = 800) -> Page:
    """An A4-wide fine page of typewritten lines (quick to code, not blank)."""
    rng = np.random.default_rng(seed)
    img = Image.new("L", (1728, lines), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=22)
    for y in range(40, lines - 40, 36):
        words = " ".join("".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), rng.integers(2, 9)))
                         for _ in range(rng.integers(4, 14)))
        draw.text((80, y), words, fill=0, font=font)
    return Page.from_pil(img)


PAGES = [_page(1), _page(2)]


def _call(network: SimulatedNetwork, number: str, pages=PAGES, detail_no=DETAIL,
          **options) -> CallOutcome:
    async def go():
        try:
            return await network.call(number, pages, detail_no=detail_no, **options)
        finally:
            await network.close()
    return asyncio.run(go())


def _received(network: SimulatedNetwork, number: str) -> list[Page]:
    return tiff.read(network.received_path(number, DETAIL))


def _same(got: list[Page], sent: list[Page]) -> bool:
    return len(got) == len(sent) and all(np.array_equal(a.image, b.image)
                                         for a, b in zip(got, sent))


# ------------------------------------------------------------------ behaviours

@pytest.mark.parametrize("text, behaviour", [
    ("answer", Behaviour("answer")), ("busy", Behaviour("busy")),
    (" No-Answer ", Behaviour("no-answer")), ("not-fax", Behaviour("not-fax")),
    ("noisy:12", Behaviour("noisy", snr_db=12.0)), ("noisy:-3.5", Behaviour("noisy", snr_db=-3.5)),
    ("hangup-after:0", Behaviour("hangup-after", pages=0)),
    ("hangup-after:3", Behaviour("hangup-after", pages=3)),
])
def test_behaviours_parse(text, behaviour):
    assert parse_behaviour(text) == behaviour
    assert parse_behaviour(str(behaviour)) == behaviour


@pytest.mark.parametrize("text, message", [
    ("ringing", "line.numbers.\"1\" = 'ringing': not a behaviour; use answer, busy, no-answer, "
                "not-fax, noisy:<SNR dB> or hangup-after:<pages>"),
    ("noisy:", "line.numbers.\"1\" = 'noisy:': noisy takes an SNR in dB from -10 to 60, "
               "e.g. noisy:12"),
    ("noisy:nan", "line.numbers.\"1\" = 'noisy:nan': noisy takes an SNR in dB from -10 to 60, "
                  "e.g. noisy:12"),
    ("noisy:99", "line.numbers.\"1\" = 'noisy:99': noisy takes an SNR in dB from -10 to 60, "
                 "e.g. noisy:12"),
    ("hangup-after:-1", "line.numbers.\"1\" = 'hangup-after:-1': hangup-after takes a number "
                        "of pages from 0 to 1000, e.g. hangup-after:1"),
    ("hangup-after:2.5", "line.numbers.\"1\" = 'hangup-after:2.5': hangup-after takes a number "
                         "of pages from 0 to 1000, e.g. hangup-after:1"),
    (3, "line.numbers.\"1\" = 3: a behaviour is a string; use answer, busy, no-answer, "
        "not-fax, noisy:<SNR dB> or hangup-after:<pages>"),
])
def test_a_bad_behaviour_is_refused_naming_its_entry(tmp_path, text, message):
    with pytest.raises(GatewayConfigError) as caught:
        SimulatedNetwork({"1": text}, tmp_path)
    assert str(caught.value) == message


def test_a_number_that_is_not_digits_is_refused(tmp_path):
    with pytest.raises(GatewayConfigError) as caught:
        SimulatedNetwork({"092-123": "answer"}, tmp_path)
    assert str(caught.value) == ('line.numbers."092-123": not a number; give the fax number in '
                                 'digits (or "default" for every other number)')


# ------------------------------------------------------------------- simulated

def test_answer_sends_every_page_and_the_far_end_keeps_them(tmp_path):
    network = SimulatedNetwork({"0921234567": "answer"}, tmp_path)
    events: list[dict] = []
    outcome = _call(network, "0921234567", on_event=events.append)
    assert (outcome.result_code, outcome.pages_sent) == ("OK", 2)
    assert outcome.detail == CODES["OK"]
    assert 10.0 < outcome.line_seconds < 60.0
    assert _same(_received(network, "0921234567"), PAGES)
    assert network.received_path("0921234567", DETAIL) == \
        tmp_path / "simnet" / "0921234567" / f"{DETAIL}.tif"
    # the trace: plain data, a timeline of the caller's frames, the result last
    assert json.loads(json.dumps(outcome.trace)) == outcome.trace == events
    names = [e.get("name") for e in outcome.trace if e["event"] == "FrameSent"]
    assert names[0] == "DCS" and names[-1] == "DCN"
    assert outcome.trace[-1]["event"] == "CallEnded" and outcome.trace[-1]["code"] == "OK"
    assert [e["number"] for e in outcome.trace if e["event"] == "PageSent"] == [1, 2]
    times = [e["time_s"] for e in outcome.trace]
    assert times == sorted(times)


def test_default_answers_any_other_number_and_a_number_without_one_fails(tmp_path):
    network = SimulatedNetwork({"default": "answer"}, tmp_path, processes=0)
    assert _call(network, "0311112222", pages=PAGES[:1]).result_code == "OK"
    assert _same(_received(network, "0311112222"), PAGES[:1])
    outcome = _call(SimulatedNetwork({"1": "answer"}, tmp_path, processes=0), "2")
    assert (outcome.result_code, outcome.detail) == \
        ("LINE_FAILED", "2: no such number on the simulated network")


def test_what_no_call_can_be_made_of_is_refused_before_dialling(tmp_path):
    network = SimulatedNetwork({"default": "answer"}, tmp_path, processes=0)
    for number in ("", "../../x", "092 123", "０９２"):
        outcome = _call(network, number)
        assert (outcome.result_code, outcome.detail) == \
            ("LINE_FAILED", f"{number!r}: not a number that can be dialled (digits only)")
    with pytest.raises(GatewayError) as caught:
        _call(network, "0921", detail_no="../x")
    assert str(caught.value) == "detail_no must be the 13 digits of jobs.detail_no, not '../x'"
    with pytest.raises(GatewayError) as caught:
        _call(network, "0921", pages=[])
    assert str(caught.value) == f"job {DETAIL} has no pages to send; render its documents first"
    assert not (tmp_path / "simnet").exists() and not (tmp_path.parent / "x").exists()


def test_a_watcher_that_raises_does_not_break_the_call(tmp_path):
    def broken(event):
        raise RuntimeError("watcher bug")
    outcome = _call(SimulatedNetwork({"1": "answer"}, tmp_path, processes=0), "1",
                    pages=PAGES[:1], on_event=broken)
    assert outcome.result_code == "OK"


def test_busy_and_no_answer_end_before_t30_without_waiting(tmp_path):
    network = SimulatedNetwork({"1": "busy", "2": "no-answer"}, tmp_path)
    started = time.monotonic()
    busy, no_answer = _call(network, "1"), _call(network, "2")
    assert time.monotonic() - started < 1.0          # simulated time: nothing slept
    assert (busy.result_code, busy.pages_sent, busy.line_seconds) == ("BUSY", 0, BUSY_S)
    assert (no_answer.result_code, no_answer.line_seconds) == ("NO_ANSWER", RING_TIMEOUT_S)
    assert busy.trace == no_answer.trace == []
    assert not (tmp_path / "simnet").exists()


def test_a_voice_answering_is_not_a_fax(tmp_path):
    outcome = _call(SimulatedNetwork({"1": "not-fax"}, tmp_path, processes=0), "1")
    assert (outcome.result_code, outcome.pages_sent) == ("NOT_FAX", 0)
    assert 35.0 <= outcome.line_seconds < 40.0       # T1 ran out
    assert not [e for e in outcome.trace if e["event"] == "FrameReceived"]


def test_a_far_end_that_hangs_up_after_one_page(tmp_path):
    network = SimulatedNetwork({"1": "hangup-after:1"}, tmp_path, processes=0)
    outcome = _call(network, "1")
    assert (outcome.result_code, outcome.pages_sent) == ("REMOTE_DISCONNECT", 1)
    assert [e["name"] for e in outcome.trace if e["event"] == "FrameReceived"][-1] == "DCN"
    assert _same(_received(network, "1"), PAGES[:1])


def test_hangup_after_zero_pages_keeps_no_file(tmp_path):
    network = SimulatedNetwork({"1": "hangup-after:0"}, tmp_path, processes=0)
    outcome = _call(network, "1")
    assert (outcome.result_code, outcome.pages_sent) == ("REMOTE_DISCONNECT", 0)
    assert not network.received_path("1", DETAIL).exists()


def test_noisy_at_a_good_snr_goes_through_and_at_a_bad_one_fails_for_real(tmp_path):
    good = _call(SimulatedNetwork({"1": "noisy:30"}, tmp_path, processes=0), "1",
                 pages=PAGES[:1])
    assert good.result_code == "OK"
    bad = _call(SimulatedNetwork({"1": "noisy:3"}, tmp_path, processes=0), "1")
    assert bad.result_code in ("PAGE_REJECTED", "TRAINING_FAILED"), bad
    assert bad.pages_sent < 2 and bad.detail.startswith(CODES[bad.result_code][:30])
    assert jobs.CALL_OUTCOMES[bad.result_code] == "retry"


@pytest.mark.parametrize("processes", [None, 0], ids=["process-pool", "threads"])
def test_eight_simultaneous_calls_all_complete(tmp_path, processes):
    network = SimulatedNetwork({"default": "answer"}, tmp_path, processes=processes)
    numbers = [f"09200000{k:02d}" for k in range(8)]

    async def go():
        try:
            return await asyncio.gather(*(network.call(n, PAGES[:1], detail_no=DETAIL)
                                          for n in numbers))
        finally:
            await network.close()

    outcomes = asyncio.run(asyncio.wait_for(go(), 120))
    assert [o.result_code for o in outcomes] == ["OK"] * 8
    assert all(_same(_received(network, n), PAGES[:1]) for n in numbers)


def test_a_cancelled_simulated_call_hangs_up_with_dcn(tmp_path):
    network = SimulatedNetwork({"1": "answer"}, tmp_path, realtime=True)
    events: list[dict] = []

    async def go():
        task = asyncio.ensure_future(network.call("1", PAGES, detail_no=DETAIL,
                                                  on_event=events.append))
        deadline = time.monotonic() + 30
        while not any(e["event"] == "FrameSent" for e in events):     # DCS: in phase B
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        await network.close()
        return time.monotonic() - started

    took = asyncio.run(asyncio.wait_for(go(), 60))
    assert took < ABORT_LINE_S + 1.0
    assert [e["name"] for e in events if e["event"] == "FrameSent"][-1] == "DCN"
    assert events[-1]["event"] == "CallEnded" and events[-1]["code"] == "LOCAL_ABORT"


def _interrupt_a_long_call_in_the_pool(tmp_path, interrupt):
    """One worker process: a short call (the worker is up), a 30-page call
    that ``interrupt(network, task)`` disturbs half a second in, a short call
    again.  The long call's outcome (or exception) and the last outcome."""
    network = SimulatedNetwork({"1": "answer"}, tmp_path, processes=1)
    many = [_page(k) for k in range(30)]

    async def go():
        await network.call("1", PAGES[:1], detail_no=DETAIL)
        task = asyncio.ensure_future(network.call("1", many, detail_no="0000000007002"))
        await asyncio.sleep(0.5)
        started = time.monotonic()
        interrupt(network, task)
        try:
            long = await asyncio.wait_for(task, 30)
        except asyncio.CancelledError as exc:
            long = exc
        took = time.monotonic() - started
        after = await network.call("1", PAGES[:1], detail_no="0000000007003")
        await network.close()
        return long, took, after

    long, took, after = asyncio.run(asyncio.wait_for(go(), 120))
    assert after.result_code == "OK"            # the network still works
    stopped = network.received_path("1", "0000000007002")
    assert not stopped.exists() or len(tiff.read(stopped)) < 30
    return long, took


def test_a_cancelled_call_in_the_process_pool_stops_at_once(tmp_path):
    """Cancelled, the worker sees the shared stop flag at its next block."""
    long, took = _interrupt_a_long_call_in_the_pool(tmp_path, lambda network, task: task.cancel())
    assert isinstance(long, asyncio.CancelledError)
    assert took < ABORT_LINE_S


def test_a_worker_process_that_dies_fails_the_call_and_the_next_one_works(tmp_path):
    def kill(network, task):
        for process in list(network._executor._processes.values()):
            process.kill()
    died, _ = _interrupt_a_long_call_in_the_pool(tmp_path, kill)
    assert died.result_code == "LINE_FAILED"
    assert died.detail.startswith("the simulated network's worker process died (")


# --------------------------------------------------------------- result codes

def test_every_result_code_a_driver_returns_is_one_the_jobs_know():
    codes = set(CODES) | {"BUSY", "NO_ANSWER", "LINE_FAILED"}
    codes |= {sip_result_code(status) for status in range(300, 700)}
    assert codes <= set(jobs.CALL_OUTCOMES), codes - set(jobs.CALL_OUTCOMES)
    assert [sip_result_code(s) for s in (486, 600, 408, 480, 487, 404, 503)] == \
        ["BUSY", "BUSY", "NO_ANSWER", "NO_ANSWER", "NO_ANSWER", "LINE_FAILED", "LINE_FAILED"]


# ------------------------------------------------------------------------ SIP

@pytest.mark.parametrize("template", ["sip:0921@127.0.0.1", "tel:{number}", "sip:{nummer}@h",
                                      "{number}@127.0.0.1"])
def test_a_sip_template_without_a_number_is_refused(template):
    with pytest.raises(GatewayConfigError) as caught:
        SipLine(template)
    assert str(caught.value) == (f"line.sip.uri = {template!r}: give a SIP URI with {{number}} "
                                 "where the number goes, e.g. \"sip:{number}@127.0.0.1:5062\"")


def test_a_sip_call_to_our_receiver_goes_through(tmp_path):
    async def go():
        rx = await SipEndpoint.open(LOCAL, user="fax")
        line = SipLine("sip:{number}@%s:%d" % rx.sip.local)
        try:
            serving = asyncio.ensure_future(FaxReceiver(rx, tmp_path).serve(once=True))
            outcome = await line.call("0921234567", PAGES[:1], detail_no=DETAIL)
            (received,) = await asyncio.wait_for(serving, 30)
            return outcome, received
        finally:
            await line.close()
            rx.close()

    outcome, received = asyncio.run(asyncio.wait_for(go(), 120))
    assert (outcome.result_code, outcome.pages_sent) == ("OK", 1)
    assert 10.0 < outcome.line_seconds < 30.0
    assert outcome.trace[-1]["code"] == "OK" and json.loads(json.dumps(outcome.trace))
    assert _same(tiff.read(received.path), PAGES[:1])


async def _refusing_uas(status: int):
    """A user agent (our SIP stack) that answers every INVITE with ``status``."""
    uas = await SipEndpoint.open(LOCAL, user="fax")

    async def refuse():
        while True:
            incoming: IncomingCall = await uas.incoming.get()
            uas.sip.reject(incoming.call_id, status)

    return uas, asyncio.ensure_future(refuse())


@pytest.mark.parametrize("status, code", [(486, "BUSY"), (480, "NO_ANSWER"),
                                          (404, "LINE_FAILED")])
def test_a_refused_sip_call_maps_to_the_line_result(status, code):
    async def go():
        uas, refusing = await _refusing_uas(status)
        line = SipLine("sip:{number}@%s:%d" % uas.sip.local)
        try:
            return await line.call("0451234567", PAGES[:1], detail_no=DETAIL)
        finally:
            await line.close()
            refusing.cancel()
            uas.close()

    outcome = asyncio.run(asyncio.wait_for(go(), HANGUP_WAIT_S * 4))
    assert (outcome.result_code, outcome.pages_sent, outcome.trace) == (code, 0, [])
    assert outcome.detail.startswith(f"SIP {status} ")


def test_a_cancelled_sip_call_hangs_up_and_the_far_end_hears_dcn(tmp_path):
    """The gateway stopping: the line's call is cancelled once the far end's
    DIS is in; it raises CancelledError within the bound, and our receiver
    ends with a remote disconnect and the caller's BYE."""
    async def go():
        rx = await SipEndpoint.open(LOCAL, user="fax")
        line = SipLine("sip:{number}@%s:%d" % rx.sip.local)
        events: list[dict] = []
        try:
            serving = asyncio.ensure_future(FaxReceiver(rx, tmp_path).serve(once=True))
            calling = asyncio.ensure_future(line.call("0921234567", PAGES[:1], detail_no=DETAIL,
                                                      on_event=events.append))
            deadline = time.monotonic() + 30
            while not any(e.get("name") == "DIS" for e in events):
                assert time.monotonic() < deadline and not calling.done()
                await asyncio.sleep(0.05)
            calling.cancel()
            started = time.monotonic()
            with pytest.raises(asyncio.CancelledError):
                await calling
            took = time.monotonic() - started
            (received,) = await asyncio.wait_for(serving, 10)
            return took, received, events
        finally:
            await line.close()
            rx.close()

    took, received, events = asyncio.run(asyncio.wait_for(go(), 60))
    assert took < ABORT_LINE_S + HANGUP_WAIT_S
    assert received.fax.code == "REMOTE_DISCONNECT"
    assert received.sip_reason == "BYE from the far end"
    assert [e["name"] for e in events if e["event"] == "FrameSent"][-1] == "DCN"


CTRL_C_SCRIPT = """
import asyncio, os, signal, sys
sys.path.insert(0, sys.argv[1])
from test_lines import _page
from faxengine.gateway.lines import SimulatedNetwork

async def main():
    network = SimulatedNetwork({"1": "answer"}, sys.argv[2], processes=1)
    await network.call("1", [_page(0)], detail_no="0000000007000")      # the worker is up
    task = asyncio.ensure_future(network.call("1", [_page(k) for k in range(20)],
                                              detail_no="0000000007001"))
    await asyncio.sleep(0.5)
    for pid in list(network._executor._processes):      # what Ctrl-C does to the worker
        os.kill(pid, signal.SIGINT)
    outcome = await task
    print("ended", outcome.result_code, outcome.pages_sent, flush=True)
    await network.close()

asyncio.run(main())
"""


def test_ctrl_c_does_not_kill_a_call_in_a_pool_worker(tmp_path):
    """A terminal's Ctrl-C reaches every process of the group: a pool worker
    must not die of it mid-call (KeyboardInterrupt came back out of
    ``call``); the gateway decides when its calls stop."""
    proc = subprocess.run([sys.executable, "-c", CTRL_C_SCRIPT, str(Path(__file__).parent),
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert (proc.stdout, proc.returncode) == ("ended OK 20\n", 0), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
