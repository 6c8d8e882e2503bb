"""Interop with sipp (Debian package sip-tester): its scenarios, kept in
tests/media/sipp/, drive our user agent (through the asyncio adapter) on
127.0.0.1 with ports chosen free here.  Each run is bounded: sipp's own
``-timeout`` and an asyncio timeout around it.  Skipped when sipp is absent."""
from __future__ import annotations

import asyncio
import random
import shutil
import socket
from pathlib import Path

import pytest

from faxengine.media.sip.events import (CallEnded, CallEstablished, IncomingCall, Registered)
from faxengine.media.sip.protocol import open_sip

SIPP = shutil.which("sipp")
SCENARIOS = Path(__file__).resolve().parent / "sipp"
pytestmark = pytest.mark.skipif(SIPP is None, reason="sipp is not installed: apt-get install -y sip-tester")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_media_ports() -> int:
    """An even port with the three above it free too (sipp binds RTP, RTCP, video)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 60000, 2)
        socks = []
        try:
            for port in range(base, base + 4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no four free UDP ports in a row on 127.0.0.1")


async def run_sipp(scenario: str, tmp: Path, *target: str, port: int | None = None) -> tuple[int, str]:
    args = [SIPP, *target, "-sf", str(SCENARIOS / scenario), "-m", "1", "-i", "127.0.0.1",
            "-p", str(port or free_port()), "-mp", str(free_media_ports()), "-nostdin",
            "-timeout", "15", "-timeout_error", "-recv_timeout", "8000",
            "-trace_err", "-error_file", str(tmp / "errors.log"),
            "-trace_msg", "-message_file", str(tmp / "messages.log")]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE, cwd=tmp)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 25)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    log = (tmp / "errors.log").read_text() if (tmp / "errors.log").exists() else ""
    return proc.returncode, err.decode(errors="replace") + log


async def against_sipp(scenario: str, tmp: Path, policy: str = "answer"):
    """Our user agent answers (or rejects) whatever sipp's scenario sends it."""
    ua = await open_sip(("127.0.0.1", 0), user="fax")
    events = []

    async def serve():
        while True:
            event = await ua.next_event()
            events.append(event)
            if isinstance(event, IncomingCall):
                if policy == "answer later":        # let sipp send its INVITE again first
                    await asyncio.sleep(0.3)
                    ua.answer(event.call_id, free_port())
                elif policy == "answer":
                    ua.answer(event.call_id, free_port())
                elif policy == "reject":
                    ua.reject(event.call_id, 486)
    server = asyncio.ensure_future(serve())
    try:
        code, log = await run_sipp(scenario, tmp, f"127.0.0.1:{ua.local[1]}")
    finally:
        server.cancel()
        ua.close()
    assert code == 0, log
    return events


def received(tmp: Path) -> list[str]:
    """The first lines of the messages sipp received, from its message log."""
    log = (tmp / "messages.log").read_text()
    return [m.split("\n", 3)[2].strip() for m in log.split("message received")[1:]]


def kinds(events):
    return [type(e).__name__ for e in events]


def test_sipp_calls_us_and_hangs_up(tmp_path):
    events = asyncio.run(against_sipp("call.xml", tmp_path))
    assert kinds(events) == ["IncomingCall", "CallEstablished", "CallEnded"]
    assert events[1].audio.law == "alaw"                   # sipp offered PCMA first
    assert events[2].reason == "BYE from the far end"


def test_sipp_cancels_while_we_ring(tmp_path):
    events = asyncio.run(against_sipp("cancel.xml", tmp_path, policy="ring"))
    assert kinds(events) == ["IncomingCall", "CallEnded"] and events[1].status == 487


def test_we_answer_486_busy(tmp_path):
    events = asyncio.run(against_sipp("busy.xml", tmp_path, policy="reject"))
    assert kinds(events) == ["IncomingCall", "CallEnded"] and events[1].status == 486


def test_our_200_is_retransmitted_until_the_ack(tmp_path):
    events = asyncio.run(against_sipp("retransmission.xml", tmp_path, policy="answer later"))
    assert kinds(events) == ["IncomingCall", "CallEstablished", "CallEnded"]
    assert received(tmp_path).count("SIP/2.0 200 OK") == 3 + 1     # INVITE's x3 till the ACK; BYE's


def test_malformed_requests_get_400_and_the_stack_goes_on(tmp_path):
    events = asyncio.run(against_sipp("malformed.xml", tmp_path))
    assert events == []


async def we_call(scenario: str, tmp: Path, action: str):
    port = free_port()
    sipp = asyncio.ensure_future(run_sipp(scenario, tmp, "-bind_local",
                                          port=port))
    await asyncio.sleep(0.5)                               # sipp binds its socket
    ua = await open_sip(("127.0.0.1", 0), user="fax", password="secret")
    events = []
    try:
        if action == "register":
            ua.register(f"sip:127.0.0.1:{port}", expires=300)
            events.append(await ua.next_event(10))
        else:
            call_id = ua.invite(f"sip:sipp@127.0.0.1:{port}", free_port())
            while not events or not isinstance(events[-1], CallEstablished):
                events.append(await ua.next_event(10))
            ua.hangup(call_id)
            events.append(await ua.next_event(10))
        code, log = await sipp
    finally:
        ua.close()
        if not sipp.done():
            sipp.cancel()
    assert code == 0, log
    return events


def test_we_register_through_a_401_challenge(tmp_path):
    events = asyncio.run(we_call("register_401.xml", tmp_path, "register"))
    assert events == [Registered(120)]


def test_we_call_sipp(tmp_path):
    events = asyncio.run(we_call("answer.xml", tmp_path, "call"))
    invites = [line for line in received(tmp_path) if line.startswith("INVITE ")]
    assert len(invites) == 2                               # timer A: the "lost" INVITE again
    assert kinds(events) == ["CallProgress", "CallEstablished", "CallEnded"]
    assert events[1].audio.payload_type == 0 and events[2] == CallEnded(events[2].call_id, 200, "local hangup")
