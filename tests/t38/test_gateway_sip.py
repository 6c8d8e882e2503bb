"""The SIP T.38 gateway (``faxengine t38gateway``, media.t38gateway_call) on 127.0.0.1, in real time.

A sender calls the gateway, the gateway calls a receiver: one leg in G.711
audio, the other in T.38, ``T38Gateway`` between them.  Both directions
with the commands as a user runs them (receiver and gateway in their own
processes): pages pixel-equal, all three OK.  Then a BYE in the middle of a
call ending both legs, a refused outgoing leg (486) answered on the
incoming one with the same failure, and the pure rules (which leg is T.38,
which failure to pass on).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import subprocess
import sys

import pytest

from faxengine import tiff
from faxengine.media.call import FaxReceiver, SipEndpoint, send_fax
from faxengine.media.commands import send_main, t38gateway_main
from faxengine.media.sip.errors import SipLocalError
from faxengine.media.t38call import T38Options
from faxengine.media.t38gateway_call import T38GatewayServer, failure_for, legs_for
from t38_pump import assert_tiff_pages, text_page

LOCAL = ("127.0.0.1", 0)
COMMAND = "import sys; from faxengine.cli import main; sys.exit(main(sys.argv[1:]))"


class Process:
    """A ``faxengine`` command in its own process that prints where it listens first."""

    def __init__(self, *argv: str) -> None:
        self.before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.proc = subprocess.Popen([sys.executable, "-c", COMMAND, *argv],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().split()
        assert first[:2] == ["listening", "on"], (first, self.proc.stderr.read())
        self.uri = first[2]

    def finish(self, timeout: float = 60.0) -> tuple[int, list[str], float]:
        """Exit status, the lines printed after the first, CPU seconds it used."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        finally:
            self.kill()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (self.before.ru_utime + self.before.ru_stime)
        return self.proc.returncode, out.splitlines(), cpu

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def receiver_behind_gateway(tmp_path):
    """``faxengine receive --t38 --once`` and ``faxengine t38gateway --once`` to it;
    yields (receiver, gateway) and kills whatever still runs at the end."""
    receiver = Process("receive", "--listen", "127.0.0.1:0", "--out", str(tmp_path / "in"),
                       "--once", "--json", "--t38")
    try:
        gateway = Process("t38gateway", "--listen", "127.0.0.1:0", "--to", receiver.uri,
                          "--once", "--json")
        try:
            yield receiver, gateway
        finally:
            gateway.kill()
    finally:
        receiver.kill()


def test_audio_sender_through_the_gateway_to_a_t38_receiver(tmp_path, capsys):
    """``faxengine send --no-t38`` -> ``faxengine t38gateway`` -> ``faxengine
    receive --t38``: the incoming leg audio, the outgoing offered only T.38."""
    pages = [text_page(40)]
    doc = tmp_path / "doc.tif"
    tiff.write(doc, pages)
    with receiver_behind_gateway(tmp_path) as (receiver, gateway):
        assert send_main([str(doc), "--to", gateway.uri, "--no-t38", "--json"]) == 0
        status, lines, cpu = gateway.finish()
        rx_status, rx_lines, _ = receiver.finish()
    sent = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    gw, received = json.loads(lines[-1]), json.loads(rx_lines[-1])
    assert status == 0 and rx_status == 0
    assert sent["ok"] and not sent["t38"] and sent["codec"] == "PCMU"
    assert received["ok"] and received["t38"] and received["codec"] is None   # T.38 at once
    assert gw["ok"] and gw["t38_leg"] == "outgoing" and gw["codec"] == "PCMU"
    assert (gw["gateway"]["code"], gw["gateway"]["pages"]) == ("OK", 1)
    assert gw["udptl"]["sent"] == received["udptl"]["received"]
    assert gw["rtp"]["received"] > 0 and gw["udptl"]["lost"] == 0
    assert_tiff_pages(received["path"], pages)
    print(f"\ngateway CPU {cpu * 1000 / gw['line_seconds']:.1f} ms per call-second (process), "
          f"{gw['cpu_seconds'] * 1000 / gw['line_seconds']:.1f} in its 20 ms steps; "
          f"{gw['line_seconds']:.1f} s")


def test_t38_sender_through_the_gateway_to_an_audio_receiver(tmp_path):
    """A sender whose INVITE offers only T.38 -> the gateway -> ``faxengine
    receive --t38``: the outgoing leg is audio, and the receiver's re-INVITE
    to T.38 on it is refused 488 (the gateway already converts), so the
    receiver goes on in audio."""
    pages = [text_page(41)]
    with receiver_behind_gateway(tmp_path) as (receiver, gateway):
        sent = asyncio.run(asyncio.wait_for(
            send_fax(pages, gateway.uri, t38=T38Options(t38_only=True)), 120))
        status, lines, _ = gateway.finish()
        rx_status, rx_lines, _ = receiver.finish()
    gw, received = json.loads(lines[-1]), json.loads(rx_lines[-1])
    assert sent.ok and sent.t38 and sent.codec is None
    assert status == 0 and rx_status == 0
    assert gw["ok"] and gw["t38_leg"] == "incoming" and gw["gateway"]["pages"] == 1
    assert received["ok"] and not received["t38"] and received["codec"] == "PCMU"
    assert received["t38_refused"] == "488 Not Acceptable Here"
    assert_tiff_pages(received["path"], pages)


async def _gateway_to(receiver_endpoint, **options):
    gw_endpoint = await SipEndpoint.open(LOCAL, user="gateway")
    host, port = receiver_endpoint.sip.local
    server = T38GatewayServer(gw_endpoint, f"sip:fax@{host}:{port}", **options)
    return gw_endpoint, server


def test_a_bye_mid_call_ends_both_legs(tmp_path):
    """The sender is stopped 6 s into the call (Ctrl-C: DCN, then BYE on the
    audio leg): the gateway hangs up the T.38 leg, the receiver ends at once
    with the far end's BYE, nothing passed is called OK."""
    async def run():
        rx = await SipEndpoint.open(LOCAL, user="fax")
        gw_endpoint, server = await _gateway_to(rx)
        try:
            receiving = asyncio.ensure_future(FaxReceiver(rx, tmp_path).serve(once=True))
            gatewaying = asyncio.ensure_future(server.serve(max_calls=1))
            host, port = gw_endpoint.sip.local
            sending = asyncio.ensure_future(send_fax([text_page(42)], f"sip:fax@{host}:{port}",
                                                     t38=False))
            await asyncio.sleep(6.0)
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
            (gw,) = await asyncio.wait_for(gatewaying, 20)
            (received,) = await asyncio.wait_for(receiving, 20)
            return gw, received
        finally:
            gw_endpoint.close()
            rx.close()

    gw, received = asyncio.run(asyncio.wait_for(run(), 90))
    assert not gw.ok and gw.gateway.code in ("CALL_FAILED", "NO_SIGNAL")
    assert (gw.sip_status, gw.sip_reason) == (200, "BYE from the far end")
    assert gw.line_seconds < 12.0                   # not run on to its own timeouts
    assert not received.ok and received.t38
    assert (received.sip_status, received.sip_reason) == (200, "BYE from the far end")


def test_a_refused_outgoing_leg_refuses_the_incoming_one_alike(tmp_path):
    """The far end answers the gateway's INVITE 486 Busy Here: the caller's
    INVITE gets 486 too, no media runs."""
    async def run():
        busy = await SipEndpoint.open(LOCAL, user="fax")
        gw_endpoint, server = await _gateway_to(busy)

        async def refuse():
            incoming = await busy.incoming.get()
            busy.sip.reject(incoming.call_id, 486)

        try:
            refusing = asyncio.ensure_future(refuse())
            gatewaying = asyncio.ensure_future(server.serve(max_calls=1))
            host, port = gw_endpoint.sip.local
            sent = await send_fax([text_page(43)], f"sip:fax@{host}:{port}")
            (gw,) = await asyncio.wait_for(gatewaying, 10)
            await refusing
            return sent, gw
        finally:
            gw_endpoint.close()
            busy.close()

    sent, gw = asyncio.run(asyncio.wait_for(run(), 30))
    assert (sent.sip_status, sent.fax.code) == (486, "NO_ANSWER")
    assert gw.gateway is None and not gw.ok and gw.sip_status == 486
    assert gw.sip_reason == "outgoing leg: 486 Busy Here"
    assert gw.line() == "gateway: REFUSED -- SIP 486 outgoing leg: 486 Busy Here"


def test_which_leg_is_t38():
    assert legs_for("auto", offers_audio=True) == "outgoing"
    assert legs_for("auto", offers_audio=False) == "incoming"
    assert legs_for("outgoing", offers_audio=True) == "outgoing"
    assert legs_for("outgoing", offers_audio=False) is None         # 488
    assert legs_for("incoming", offers_audio=False) == "incoming"
    assert legs_for("incoming", offers_audio=True) is None
    with pytest.raises(ValueError, match="the T.38 leg is one of auto, incoming, outgoing, "
                                         "not 'both'"):
        legs_for("both", True)


@pytest.mark.parametrize("status, passed_on", [
    (486, 486), (404, 404), (488, 488), (603, 603), (500, 500), (408, 408), (487, 487),
    (302, 480), (401, 403), (407, 403), (503, 500)])
def test_the_failure_passed_on(status, passed_on):
    assert failure_for(status) == passed_on


@pytest.mark.parametrize("argv, message", [
    (["--to", "fax@nowhere"], "SIP URI 'fax@nowhere' is not sip:user@host[:port]"),
    (["--to", "sip:fax@127.0.0.1", "--listen", "nowhere"],
     "--listen takes HOST:PORT (e.g. 127.0.0.1:5060), not 'nowhere'"),
    (["--to", "sip:fax@127.0.0.1", "--listen", "127.0.0.1:0", "--calls", "0"],
     "--calls takes a number of calls >= 1, not 0"),
])
def test_command_usage_errors(argv, message, capsys):
    assert t38gateway_main(argv) == 2
    assert capsys.readouterr().err.strip() == f"faxengine t38gateway: {message}"


def test_a_gateway_calling_itself_is_refused():
    async def run():
        endpoint = await SipEndpoint.open(LOCAL, user="gateway")
        try:
            host, port = endpoint.sip.local
            with pytest.raises(SipLocalError) as caught:
                T38GatewayServer(endpoint, f"sip:fax@{host}:{port}")
            return str(caught.value), host, port
        finally:
            endpoint.close()

    message, host, port = asyncio.run(run())
    assert message == (f"sip:fax@{host}:{port} is this gateway's own address: every call "
                       "would call the gateway again; give the far end's")
