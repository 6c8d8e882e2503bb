"""Cancelling a call hangs up cleanly (media.call): DCN over RTP, then BYE.

The task running ``send_fax`` (Ctrl-C on ``faxengine send``, a gateway that
stops) or ``FaxReceiver.answer`` is cancelled in the middle of a call on
127.0.0.1.  The far end must hear a DCN (T.30 §5.3.6.2.8: its result is a
remote disconnect) and a BYE (RFC 3261 §15), both within a bounded time --
not end on its T.30 timers, or never.  Each call runs in real time; they
are cancelled early in the document to keep the suite fast.
"""
from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from faxengine import tiff
from faxengine.media.call import ABORT_LINE_S, HANGUP_WAIT_S, FaxReceiver, SipEndpoint, send_fax
from faxengine.media.sip.events import CallEnded
from test_pump import _page

LOCAL = ("127.0.0.1", 0)
HANG_UP_BOUND = ABORT_LINE_S + HANGUP_WAIT_S + 2.0     # what a cancelled call may take, s


def _send(rx, pages, progress):
    host, port = rx.sip.local
    return asyncio.ensure_future(send_fax(pages, f"sip:fax@{host}:{port}", progress=progress))


async def _cancelled(task):
    """Cancel ``task``; it must end with CancelledError in bounded time.  When it was cancelled."""
    task.cancel()
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, HANG_UP_BOUND)
    return started


async def _cancel_sender_mid_page(out):
    """Send two pages, cancel the sender once its first page is a fifth out."""
    rx = await SipEndpoint.open(LOCAL, user="fax")
    try:
        serving = asyncio.ensure_future(FaxReceiver(rx, out).serve(once=True))
        mid_page = asyncio.Event()

        def progress(terminal):
            page, _, fraction = terminal.progress
            if page == 1 and fraction > 0.2:
                mid_page.set()

        sending = _send(rx, [_page(1), _page(2)], progress)
        await asyncio.wait_for(mid_page.wait(), 60)
        started = await _cancelled(sending)
        sender_took = time.monotonic() - started
        (received,) = await asyncio.wait_for(serving, HANG_UP_BOUND)
        return sender_took, time.monotonic() - started, received
    finally:
        rx.close()


def test_a_cancelled_sender_sends_dcn_then_bye(tmp_path):
    sender_took, receiver_took, received = asyncio.run(_cancel_sender_mid_page(tmp_path))
    assert received.fax.code == "REMOTE_DISCONNECT", received.fax      # it heard our DCN
    assert received.fax.pages == 0
    assert (received.sip_status, received.sip_reason) == (200, "BYE from the far end")
    # DCN (~1.2 s of V.21) and LINGER_S of line time, then the BYE's answer
    assert 1.0 < sender_took < ABORT_LINE_S + 1.0, sender_took
    assert receiver_took < HANG_UP_BOUND


async def _cancel_receiver_in_phase_b(out):
    rx = await SipEndpoint.open(LOCAL, user="fax")
    try:
        receiver = FaxReceiver(rx, out)
        answering: list[asyncio.Task] = []

        async def take_one():
            incoming = await rx.incoming.get()
            answering.append(asyncio.current_task())
            return await receiver.answer(incoming)

        serving = asyncio.ensure_future(take_one())
        trained = asyncio.Event()

        def progress(terminal):
            if terminal.state not in ("B:WAIT_DIS", "B:WAIT_CFR") or terminal.pages_done:
                trained.set()       # the sender has its CFR: the receiver is in phase C

        sending = _send(rx, [_page(3)], progress)
        await asyncio.wait_for(trained.wait(), 60)
        started = await _cancelled(serving)
        sent = await asyncio.wait_for(sending, HANG_UP_BOUND)
        return time.monotonic() - started, sent
    finally:
        rx.close()


@pytest.mark.slow
def test_a_cancelled_receiver_hangs_up_with_bye_and_the_sender_ends_at_once(tmp_path):
    took, sent = asyncio.run(_cancel_receiver_in_phase_b(tmp_path))
    assert not sent.ok and sent.fax.code in ("REMOTE_DISCONNECT", "LOCAL_ABORT"), sent.fax
    assert sent.sip_reason == "BYE from the far end"
    assert took < HANG_UP_BOUND


RECEIVE = ("import sys; from faxengine.cli import main; "
           "sys.exit(main(['receive', *sys.argv[1:]]))")
SEND = "import sys; from faxengine.cli import main; sys.exit(main(['send', *sys.argv[1:]]))"


def test_ctrl_c_on_faxengine_send_hangs_up_and_the_receiver_says_why(tmp_path):
    """SIGINT to ``faxengine send`` mid-call: it exits 130, and the ``receive
    --once`` peer ends within seconds (not on its T2 timeout) with a remote
    disconnect on its result line."""
    doc = tmp_path / "doc.tif"
    tiff.write(doc, [_page(4), _page(5)])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVE, "--listen", "127.0.0.1:0",
                                 "--out", str(tmp_path / "in"), "--once"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    sender = None
    try:
        listening = receiver.stdout.readline().split()
        assert listening[:2] == ["listening", "on"], listening
        sender = subprocess.Popen([sys.executable, "-c", SEND, str(doc), "--to", listening[2]],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env)
        # the progress bar (not a terminal: a line per page) says when page 1
        # has gone out: the call is in the middle of the document
        deadline = time.monotonic() + 90
        line = ""
        while line != "page 1/2 sent\n":
            assert time.monotonic() < deadline and sender.poll() is None, line
            if select.select([sender.stderr], [], [], 1.0)[0]:
                line = sender.stderr.readline()
        sender.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = sender.communicate(timeout=HANG_UP_BOUND)
        out, _ = receiver.communicate(timeout=HANG_UP_BOUND)
        took = time.monotonic() - started
    finally:
        for proc in (sender, receiver):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    assert sender.returncode == 130, err
    assert "interrupted" in err
    assert receiver.returncode == 1
    assert "received: REMOTE_DISCONNECT" in out and "BYE from the far end" in out, out
    assert took < HANG_UP_BOUND


async def _cancel_while_ringing():
    uas = await SipEndpoint.open(LOCAL, user="fax")      # rings (180) and never answers
    try:
        sending = _send(uas, [_page(6)], None)
        incoming = await asyncio.wait_for(uas.incoming.get(), 10)
        events = uas.watch(incoming.call_id)
        await asyncio.sleep(0.5)    # our 180 Ringing reaches the caller (RFC 3261 §9.1)
        started = await _cancelled(sending)
        while not isinstance(event := await asyncio.wait_for(events.get(), HANG_UP_BOUND),
                             CallEnded):
            pass
        return time.monotonic() - started, event
    finally:
        uas.close()


def test_a_call_cancelled_while_it_rings_is_cancelled_in_sip():
    took, ended = asyncio.run(_cancel_while_ringing())
    assert (ended.status, ended.reason) == (487, "cancelled by the caller")    # RFC 3261 §9.2
    assert took < HANGUP_WAIT_S
