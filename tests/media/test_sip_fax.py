"""Fax calls over SIP/RTP on 127.0.0.1, ours to ours, in real time (media.call, media.rtpport).

A ``send_fax`` calls a ``FaxReceiver`` through two of our user agents; the
RTP goes straight between the sockets or through ``relay.Relay`` (jitter,
reordering, loss).  The pages that arrive must equal the pages sent, pixel
for pixel.  Each call runs in real time (~16 s of line time a page), so the
default suite keeps two (one page, ECM, clean and with 1 % loss); the rest
are ``slow``.  Every wait is bounded.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import wave

import numpy as np
import pytest

from faxengine import tiff
from faxengine.media.call import FaxReceiver, SipEndpoint, send_fax
from faxengine.media.commands import receive_main, send_main
from faxengine.media.pump import BLOCK, Pump
from faxengine.media.rtp.packet import RtpPacket
from faxengine.media.rtp.session import PCMU, RtpSession
from faxengine.media.rtpport import RtpPort, _Paced
from faxengine.media.sip import SipLocalError, sdp
import fax_calls
from fax_calls import CALL_TIMEOUT, LOCAL, assert_went_through
from test_pump import _page



def run_call(pages, out, *, ecm=True, codec="PCMU", relay=None, user="fax"):
    """One call, sender to receiver (``fax_calls.run_call``); both results and the relay."""
    return fax_calls.run_call(pages, out, ecm=ecm, relay=relay, user=user,
                              send={"codec_name": codec})


def test_one_page_ecm_call_over_sip_in_real_time(tmp_path):
    pages = [_page(1)]
    sent, received, _ = run_call(pages, tmp_path)
    assert_went_through(sent, received, pages)
    assert sent.codec == received.codec == "PCMU" and sent.fax.ecm
    for r, peer in ((sent, received), (received, sent)):
        # A clean loopback: nothing lost, short or malformed.  The one loss allowed is
        # the slots a peer stalled > 200 ms by a loaded machine skipped on purpose
        # (rtp.session MAX_BURST), which it counts; late only when the machine stalls us > 40 ms.
        assert r.rtp.lost == peer.rtp.skipped, (r.rtp, peer.rtp)
        assert r.rtp.underruns == r.rtp.malformed == 0, r.rtp
        assert r.rtp.late <= r.rtp.received // 100, r.rtp
        assert 12.0 < r.line_seconds < 25.0
    assert sent.rtp.sent == received.rtp.received


def test_ecm_call_completes_with_one_percent_packet_loss(tmp_path):
    pages = [_page(2)]
    sent, received, link = run_call(pages, tmp_path, relay=dict(loss=0.01, seed=4))
    assert all(w.dropped > 0 for w in link.ways.values())
    assert received.rtp.blocks_lost > 0 and sent.rtp.blocks_lost > 0     # filled in, not silence
    assert_went_through(sent, received, pages)


@pytest.mark.slow
@pytest.mark.parametrize("ecm", [True, False])
@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_three_pages_over_sip(tmp_path, ecm, codec):
    pages = [_page(10), _page(11), _page(12)]
    sent, received, _ = run_call(pages, tmp_path, ecm=ecm, codec=codec)
    assert_went_through(sent, received, pages)
    assert sent.codec == received.codec == codec and sent.fax.ecm == ecm


@pytest.mark.slow
@pytest.mark.parametrize("ecm", [True, False])
def test_three_pages_through_30_ms_of_jitter_and_2_percent_reordering(tmp_path, ecm):
    pages = [_page(20), _page(21), _page(22)]
    sent, received, link = run_call(pages, tmp_path, ecm=ecm,
                                    relay=dict(jitter=0.030, reorder=0.02, seed=5))
    assert all(w.reordered > 0 for w in link.ways.values())
    assert received.rtp.reordered > 0 and sent.rtp.reordered > 0
    for r in (sent, received):          # the 60 ms jitter buffer holds (nearly) all of them
        assert r.rtp.late <= r.rtp.received // 200, r.rtp
    assert_went_through(sent, received, pages)


def test_a_call_for_another_user_is_refused_404(tmp_path):
    async def refused():
        rx = await SipEndpoint.open(LOCAL, user="fax")
        try:
            receiver = FaxReceiver(rx, tmp_path, user="fax")
            serving = asyncio.ensure_future(receiver.serve(once=True))
            host, port = rx.sip.local
            result = await send_fax([_page(1)], f"sip:someone@{host}:{port}")
            serving.cancel()
            return result
        finally:
            rx.close()

    result = asyncio.run(asyncio.wait_for(refused(), 20))
    assert (result.sip_status, result.fax.code, result.ok) == (404, "NO_ANSWER", False)
    assert result.fax.message.endswith("(SIP 404 Not Found)")
    assert list(tmp_path.iterdir()) == []


def test_our_offer_lists_the_codec_asked_for_first():
    (audio,) = sdp.parse(sdp.offer("192.0.2.1", 4000, 1, codecs=("PCMA", "PCMU"))).media
    assert audio.formats == ("8", "0", "101")
    with pytest.raises(SipLocalError, match="we offer PCMU and/or PCMA, not G729"):
        sdp.offer("192.0.2.1", 4000, 1, codecs=("G729",))


class _Socket:
    def __init__(self):
        self.sent = []

    def send(self, datagrams):
        self.sent += datagrams


class _Talker:
    """An end that sends a counter and records what it hears."""
    finished = False

    def __init__(self):
        self.n, self.heard = 0, []

    def tx(self, n):
        self.n += 1
        return np.full(n, self.n * 100, np.int16)

    def rx(self, samples):
        self.heard.append(int(samples[0]))

    def rx_fillin(self, n):
        self.heard.append("lost")


def _packet(seq, value):
    return RtpPacket(0, seq, seq * BLOCK, 7, PCMU.encode(np.full(BLOCK, value, np.int16))).encode()


def test_the_port_hears_silence_before_the_first_packet_then_blocks_and_holes():
    """Explicit times: the jitter buffer (60 ms) plays packet 0 out at 0.075 s;
    packet 2 never comes, so its block reaches the terminal as fill-in."""
    session = RtpSession(PCMU, ("127.0.0.1", 9), seed=1)
    port = RtpPort(session, _Socket())
    talker = _Talker()
    pump = Pump(talker, port)
    port.start(0.0)
    arrivals = {0.015: (0, 1000), 0.035: (1, 2000), 0.075: (3, 4000), 0.095: (4, 5000)}
    for j in range(8):
        now = j * 0.02
        for t, (seq, value) in arrivals.items():
            if now - 0.02 < t <= now:
                session.datagram_received(_packet(seq, value), ("127.0.0.1", 9), t)
        port.pull(now)
        pump.limit = (j + 1) * BLOCK
        pump.run()
        port.flush(now)
    heard = [h if h == "lost" else round(h, -3) for h in talker.heard]
    # 4 quiet blocks (nothing due), the one-block slack, then 1000, 2000, the hole
    assert heard == [0, 0, 0, 0, 0, 1000, 2000, "lost"]
    seqs = [RtpPacket.parse(d).sequence for d, _ in port.socket.sent]
    assert [(s - seqs[0]) % 65536 for s in seqs] == list(range(8))     # one packet per block
    assert session.stats.underruns == 0 and port.starved == 0


def test_a_far_end_gone_silent_is_heard_as_silence_after_a_second_of_fill_in():
    """Packets stop (the far end was killed, no BYE): the first second of lost
    blocks is fill-in, what follows silence, so the terminal's carrier drops
    and its timers can end the call instead of waiting on fill-in for ever."""
    from faxengine.media.rtpport import FILLIN_MAX_BLOCKS
    session = RtpSession(PCMU, ("127.0.0.1", 9), seed=1)
    port = RtpPort(session, _Socket())
    talker = _Talker()
    pump = Pump(talker, port)
    port.start(0.0)
    blocks = 8 + FILLIN_MAX_BLOCKS + 5
    for j in range(blocks):
        now = j * 0.02
        if j < 4:                                   # four packets, then nothing
            session.datagram_received(_packet(j, 1000), ("127.0.0.1", 9), now)
        port.pull(now)
        pump.limit = (j + 1) * BLOCK
        pump.run()
        port.flush(now)
    lost = [i for i, h in enumerate(talker.heard) if h == "lost"]
    assert len(lost) == FILLIN_MAX_BLOCKS and lost == list(range(lost[0], lost[0] + len(lost)))
    assert talker.heard[lost[-1] + 1:] == [0] * (blocks - lost[-1] - 1)
    assert port.silenced == blocks - lost[-1] - 1 > 0


def _python(*code_and_args):
    return [sys.executable, "-c", *code_and_args]


RECEIVE = "import sys; from faxengine.media.commands import receive_main; sys.exit(receive_main(sys.argv[1:]))"
SEND = "import sys; from faxengine.media.commands import send_main; sys.exit(send_main(sys.argv[1:]))"


@pytest.mark.slow
def test_send_and_receive_commands_over_sip(tmp_path):
    """The two commands in their own processes: PCMA asked for, the call
    recorded, results as JSON, exit status 0 on both sides."""
    pages = [_page(30), _page(31)]
    doc = tmp_path / "doc.tif"
    tiff.write(doc, pages)
    out = tmp_path / "in"
    receiver = subprocess.Popen(_python(RECEIVE, "--listen", "127.0.0.1:0", "--out", str(out),
                                        "--once", "--json", "--record-dir", str(tmp_path / "rec")),
                                stdout=subprocess.PIPE, text=True)
    try:
        listening = receiver.stdout.readline().split()
        assert listening[:2] == ["listening", "on"]
        sender = subprocess.run(_python(SEND, str(doc), "--to", listening[2], "--codec", "pcma",
                                        "--record", str(tmp_path / "call.wav"), "--json"),
                                capture_output=True, text=True, timeout=CALL_TIMEOUT)
        received = json.loads(receiver.stdout.readline())
        assert receiver.wait(30) == 0
    finally:
        receiver.kill()
        receiver.wait()
    assert sender.returncode == 0, sender.stderr
    sent = json.loads(sender.stdout)
    assert sent["ok"] and received["ok"] and sent["codec"] == received["codec"] == "PCMA"
    assert sent["fax"]["pages"] == received["fax"]["pages"] == 2
    got = tiff.read(received["path"])
    assert all(np.array_equal(p.image, q.image) for p, q in zip(got, pages))
    for wav_path in (tmp_path / "call.wav", *(tmp_path / "rec").iterdir()):
        with wave.open(str(wav_path)) as wav:
            assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)
            assert abs(wav.getnframes() / 8000 - sent["line_seconds"]) < 1.0


def test_commands_refuse_bad_arguments_with_status_2(capsys, tmp_path):
    assert receive_main(["--listen", "nowhere", "--out", str(tmp_path)]) == 2
    assert "--listen takes HOST:PORT (e.g. 127.0.0.1:5060), not 'nowhere'" in capsys.readouterr().err
    assert send_main([str(tmp_path / "missing.tif"), "--to", "sip:fax@127.0.0.1:9"]) == 2
    assert "No such file or directory" in capsys.readouterr().err
    assert send_main(["x.tif", "--to", "fax@127.0.0.1"]) == 2
    assert capsys.readouterr().err == ("faxengine send: SIP URI 'fax@127.0.0.1' is not "
                                       "sip:user@host[:port]\n")
    # the document is loaded as every command loads it: one line naming the file
    (tmp_path / "notes.txt").write_text("not a picture")
    assert send_main([str(tmp_path / "notes.txt"), "--to", "sip:fax@127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"faxengine send: {tmp_path / 'notes.txt'}: ") and err.count("\n") == 1
    # --out is made or refused before any call is answered (it listened forever before)
    (tmp_path / "a-file").write_text("")
    assert receive_main(["--listen", "127.0.0.1:9", "--out", str(tmp_path / "a-file")]) == 2
    assert "a-file: cannot make the folder" in capsys.readouterr().err
    made = tmp_path / "new" / "faxes"
    assert receive_main(["--listen", "nowhere", "--out", str(made)]) == 2 and not made.exists()


class _NoPort(_Talker):
    """A quiet port stub: the pacing arithmetic without sockets."""

    def tx(self, n):
        return np.zeros(n, np.int16)

    def pull(self, now):
        pass

    def flush(self, now):
        pass


def test_paced_line_time_keeps_to_the_clock_over_an_hour():
    """Wake-ups up to 19 ms late, and a 150 ms stall every minute: each step
    catches up to the blocks due, so over an hour the line time is never
    behind the clock and never more than one block ahead of it."""
    import random

    pump = Pump(_NoPort(), _NoPort())
    paced = _Paced(pump, pump.b, lambda: False, 0.0, 2 * 3600 * 8000, None)
    rng = random.Random(1)
    worst = 0.0
    k = 0
    while k < 3600 * 50:
        now = k * 0.02 + rng.uniform(0.0, 0.019) + (0.15 if k % 3000 == 2999 else 0.0)
        paced.step(now)
        ahead = pump.samples / 8000 - now
        assert 0.0 < ahead <= 0.02 + 1e-9, (k, now, ahead)
        worst = max(worst, ahead)
        k = pump.samples // BLOCK
    assert pump.samples >= 3600 * 8000 and worst <= 0.02


@pytest.mark.parametrize("ptime", [0.010, 0.030, 0.060])
def test_a_far_end_ptime_other_than_20_ms_never_underruns(ptime):
    """The pump makes 20 ms blocks; packets of 10, 30 or 60 ms go out on the
    session's clock, fed one packet ahead, so none goes out short."""
    session = RtpSession(PCMU, ("127.0.0.1", 9), ptime=ptime, seed=1)
    port = RtpPort(session, _Socket())
    pump = Pump(_NoPort(), port)
    port.start(0.0)
    for j in range(300):
        now = j * 0.02 + 0.007
        port.pull(now)
        pump.limit = (j + 1) * BLOCK
        pump.run()
        port.flush(now)
    assert session.stats.underruns == 0
    assert session.stats.sent == int(now / ptime + 1e-9) + 1


def test_the_progress_bar_prints_a_line_per_page_sent_when_not_on_a_terminal(capsys):
    from types import SimpleNamespace

    from faxengine.media.progress import PageBar

    bar = PageBar()
    assert not bar.live                          # pytest captures stderr
    for progress in [(1, 2, 0.0), (1, 2, 0.5), (1, 2, 1.0), (1, 2, 1.0), (2, 2, 0.3), (2, 2, 1.0)]:
        bar(SimpleNamespace(progress=progress))
    bar.end()
    assert capsys.readouterr().err == "page 1/2 sent\npage 2/2 sent\n"
