"""Interop with baresip (Debian package baresip-core), a real SIP user agent,
run headless on 127.0.0.1 as a child that the test always stops.

baresip plays a WAV file (aufile) into the call and records what it decodes
from our RTP (sndfile), with the config kept in tests/media/baresip/.  Both
ends send a V.21 channel 2 frame train (``V21Tx`` + ``HdlcTx``) and then a
tone; each side's recording must give back, through ``V21Rx`` + ``HdlcRx``,
exactly the frames the other sent, and the tone at its frequency and level;
baresip's recording also goes through our call analyser (``analyse`` on the
WAV it wrote), which must name the frames we sent and give their octets.
Both G.711 laws, both directions: our INVITE answered by baresip (we hang up),
and baresip's INVITE answered by us (it hangs up when its file ends)."""
from __future__ import annotations

import asyncio
import json
import socket
import string
from pathlib import Path

import numpy as np
import pytest

from faxengine.g711 import g711_roundtrip, ulaw_encode
from faxengine.media.analyser import analyse, analyse_samples
from faxengine.media.rtp.protocol import open_rtp
from faxengine.media.rtp.session import RtpSession, codec
from faxengine.media.sip.events import (CallEnded, CallEstablished, CallProgress,
                                        CallUpdated, IncomingCall, Registered)
from faxengine.media.sip.protocol import open_sip

from _peers import (LOOPBACK, PASSWORDS, RATE, child, free_media_ports, free_port, heard, needs, program,
                    read_wav, tone, tone_seen, v21_frames, v21_train, wait_for_sip, write_wav)
from _peers import kamailio  # noqa: F401  (a fixture)
from test_media_loopback import expect

CONFIG = Path(__file__).resolve().parent / "baresip"
pytestmark = needs("baresip", "baresip-core")
LAWS = {"PCMU": (0, "ulaw"), "PCMA": (8, "alaw")}

# T.30 frames as they go on the line (address, control, FCF, FIF; T.30 §5.3.6):
# ours a TSI and a DCS, baresip's a CSI and a DIS.
OUR_FRAMES = [b"\xff\x03\x43" + b"0010 555 21 1+".ljust(20), b"\xff\x13\x83\x00\x46\x78\x00"]
THEIR_FRAMES = [b"\xff\x03\x40" + b"0020 555 21 1+".ljust(20), b"\xff\x13\x80\x00\xce\xf4\x80"]
OUR_NAMES = ["TSI", "DCS"]       # T.30 Table 2 names the analyser gives them
THEIR_NAMES = ["CSI", "DIS"]
OUR_TONE = (1100.0, -13.0)       # Hz, dBm0
THEIR_TONE = (1800.0, -10.0)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def audio(frames: list[bytes], hz: float, dbm0: float, tail: float) -> np.ndarray:
    """Silence, the frames in V.21, a gap, 0.6 s of tone, ``tail`` s of silence."""
    return np.concatenate([silence(0.2), v21_train(frames), silence(0.3),
                           tone(hz, dbm0, 0.6), silence(tail)])


OURS = audio(OUR_FRAMES, *OUR_TONE, tail=0.2)
# Generous jitter buffers on both ends (ours here, baresip's in its config): the
# machine running the suite may be busy, and a packet played out late would be
# lost to the sample-for-sample check.
JITTER_DELAY = 0.2
BARESIP_START_S = 15.0          # from its start to its first INVITE, on a loaded machine


class Baresip:
    """baresip's configuration in a test's directory, and the command that runs it."""

    def __init__(self, tmp: Path, law: str, source: np.ndarray, aor: str = f"sip:fax@{LOOPBACK}",
                 password: str | None = None) -> None:
        self.dir = tmp
        self.log = tmp / "baresip.log"
        self.port = free_port()
        self.ctrl_port = free_port()
        rtp = free_media_ports()                            # RTP and RTCP (even, odd)
        self.source = source
        write_wav(tmp / "source.wav", source)
        values = dict(sip_port=self.port, source=tmp / "source.wav", dir=tmp,
                      rtp_low=rtp, rtp_high=rtp + 1, codec=law, aor=aor, ctrl_port=self.ctrl_port,
                      auth=f";auth_pass={password}" if password else "")
        for name in ("config", "accounts"):
            text = string.Template((CONFIG / name).read_text()).substitute(values)
            (tmp / name).write_text(text)
        self.seconds = int(len(source) / RATE) + 5           # baresip quits after this anyway

    def args(self, *commands: str) -> list[str]:
        args = [program("baresip"), "-4", "-n", LOOPBACK, "-f", str(self.dir),
                "-t", str(self.seconds)]
        for command in commands:
            args += ["-e", command]
        return args

    def command(self, command: str) -> dict:
        """Run a menu command (``hold``, ``resume``...) through ctrl_tcp: JSON objects
        in netstrings; the events it also sends are skipped.  Its response, checked ok."""
        body = json.dumps({"command": command, "params": "", "token": command}).encode()
        with socket.create_connection((LOOPBACK, self.ctrl_port), timeout=3) as s:
            s.sendall(b"%d:%s," % (len(body), body))
            buffer = b""
            while True:
                while b":" not in buffer or len(buffer) <= buffer.index(b":") + int(
                        buffer[:buffer.index(b":")]) + 1:
                    chunk = s.recv(4096)
                    assert chunk, f"ctrl_tcp closed after {buffer!r}"
                    buffer += chunk
                colon = buffer.index(b":")
                end = colon + 1 + int(buffer[:colon])
                message, buffer = json.loads(buffer[colon + 1:end]), buffer[end + 1:]
                if message.get("response"):
                    assert message["ok"], message
                    return message

    def recording_path(self) -> Path:
        """The WAV of what baresip decoded from our RTP (complete once it has stopped)."""
        paths = list(self.dir.glob("dump-*-dec.wav"))
        assert len(paths) == 1, (paths, self.log.read_text(errors="replace"))
        return paths[0]

    def recording(self) -> np.ndarray:
        """What baresip decoded from our RTP (read once it has stopped)."""
        return read_wav(self.recording_path())


def drain(rtp) -> np.ndarray:
    """All the audio received so far (lost blocks as silence)."""
    blocks = []
    while not rtp.blocks.empty():
        blocks.append(rtp.blocks.get_nowait().samples)
    return np.concatenate(blocks) if blocks else np.zeros(0, np.int16)


def start_audio(rtp, up: CallEstablished, law: str) -> RtpSession:
    assert (up.audio.payload_type, up.audio.law) == LAWS[law]
    assert up.audio.remote[0] == LOOPBACK
    session = RtpSession(codec(up.audio.law, up.audio.payload_type), up.audio.remote,
                         ptime=up.audio.ptime_ms / 1000, jitter_delay=JITTER_DELAY)
    session.send(OURS)
    rtp.attach(session)
    return session


def check_heard(samples: np.ndarray, frames: list[bytes], hz_dbm0: tuple[float, float]) -> None:
    assert v21_frames(samples) == frames
    hz, dbm0 = tone_seen(samples)
    assert abs(hz - hz_dbm0[0]) < 1.0, hz
    assert abs(dbm0 - hz_dbm0[1]) < 0.3, dbm0


def check_analysed(report, names: list[str], frames: list[bytes]) -> None:
    """The call analyser found exactly ``frames`` (good FCS), by T.30 name, on V.21."""
    got = [(f.name, f.data, f.modem) for f in report.frames]
    assert got == [(n, f, "V.21") for n, f in zip(names, frames)], report.lines()


def check_g711(received: np.ndarray, sent: np.ndarray, law: str, plus_zero: int = 0) -> None:
    """``received`` is ``sent`` through G.711 ``law`` sample for sample, from the
    V.21 preamble's start to the tone's end at least (the receiver may have missed
    packets before the call was up, or the tail after the hangup).  A µ-law
    +0 (character 0xFF) decodes as ``plus_zero``: 0 in G.711 Table 2 and ours, +2
    in libre's decoder that baresip uses."""
    expected = g711_roundtrip(sent, LAWS[law][1])
    if law == "PCMU":
        expected[ulaw_encode(sent) == 0xFF] = plus_zero
    sound = np.flatnonzero(np.abs(expected) > 100)
    start_r, start_e = int(np.argmax(np.abs(received) > 100)), int(sound[0])
    n = min(len(expected) - start_e, len(received) - start_r)
    assert n > sound[-1] - start_e, "the recording stops before the tone ends"
    differ = np.flatnonzero(received[start_r:start_r + n] != expected[start_e:start_e + n])
    assert len(differ) == 0, f"{len(differ)} of {n} samples differ, the first at {differ[:1]}"


async def we_call(bs: Baresip, law: str) -> np.ndarray:
    ua = await open_sip((LOOPBACK, 0), user="alice")
    rtp = await open_rtp((LOOPBACK, 0))
    try:
        call_id = ua.invite(f"sip:fax@{LOOPBACK}:{bs.port}", rtp.port)
        await expect(ua, CallProgress)
        up = await expect(ua, CallEstablished)
        session = start_audio(rtp, up, law)
        while session.queued:                       # all of OURS sent, however busy we are
            await asyncio.sleep(0.05)
        await asyncio.sleep(JITTER_DELAY + 0.3)     # ... and played out at baresip
        ua.hangup(call_id)
        assert (await expect(ua, CallEnded)).status == 200
        st = session.stats
        assert st.sent >= len(OURS) // 160 and st.received > 0 and st.malformed == 0
        return drain(rtp)
    finally:
        ua.close()
        rtp.close()


async def answer_their_call(bs: Baresip, law: str, ua, target: str) -> np.ndarray:
    """baresip dials ``target``; ``ua`` answers, sends OURS and hears baresip's file
    until baresip hangs up at its end.  Returns what we heard."""
    rtp = await open_rtp((LOOPBACK, 0))
    try:
        lines = heard(ua)
        with child(bs.args(f"/dial {target}"), bs.log, bs.dir):
            # baresip dials once it has started: on a loaded 2-core machine (a fresh-clone
            # run) that took more than the 5 s other events get
            incoming = await expect(ua, IncomingCall, timeout=BARESIP_START_S)
            ua.answer(incoming.call_id, rtp.port)
            up = await expect(ua, CallEstablished)
            session = start_audio(rtp, up, law)
            ended = await expect(ua, CallEnded, timeout=bs.seconds)
            assert ended.reason == "BYE from the far end"
            assert [line.split()[0] for line in lines] == ["INVITE", "ACK", "BYE"]
        assert session.stats.malformed == 0
        return drain(rtp)
    finally:
        rtp.close()


async def they_call(bs: Baresip, law: str) -> np.ndarray:
    ua = await open_sip((LOOPBACK, 0), user="fax")
    try:
        return await answer_their_call(bs, law, ua, f"sip:fax@{LOOPBACK}:{ua.local[1]}")
    finally:
        ua.close()


async def they_call_through(proxy, bs: Baresip, law: str) -> np.ndarray:
    bob = await open_sip((LOOPBACK, 0), user="bob", password=PASSWORDS["bob"])
    try:
        bob.register(f"sip:{proxy[0]}:{proxy[1]}", 60)
        await expect(bob, Registered)
        return await answer_their_call(bs, law, bob, f"sip:bob@{proxy[0]}:{proxy[1]}")
    finally:
        bob.close()


async def arrival(lines: list[str], line: str, timeout: float = 3.0) -> None:
    """Wait until ``line`` is the last start line ``heard``."""
    for _ in range(int(timeout / 0.05)):
        if lines[-1:] == [line]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{line!r} did not arrive in {timeout} s: {lines}")


async def held_and_resumed(bs: Baresip) -> list[str]:
    ua = await open_sip((LOOPBACK, 0), user="alice")
    rtp = await open_rtp((LOOPBACK, 0))
    loop = asyncio.get_running_loop()
    try:
        call_id = ua.invite(f"sip:fax@{LOOPBACK}:{bs.port}", rtp.port)
        await expect(ua, CallProgress)
        start_audio(rtp, await expect(ua, CallEstablished), "PCMU")
        lines = heard(ua)
        directions = []
        for command in ("hold", "resume"):
            await loop.run_in_executor(None, bs.command, command)
            updated = await expect(ua, CallUpdated)
            assert updated.call_id == call_id and updated.audio.remote[0] == LOOPBACK
            directions.append(updated.audio.direction)
            # Our 200 is ACKed before we go on (RFC 3261 §15: no BYE before the ACK).
            await arrival(lines, f"ACK sip:alice@{LOOPBACK}:{ua.local[1]} SIP/2.0")
        ua.hangup(call_id)
        assert (await expect(ua, CallEnded)).status == 200
        await arrival(lines, "SIP/2.0 200 OK")                  # baresip's answer to our BYE
        assert [line.split()[0] for line in lines] == ["INVITE", "ACK", "INVITE", "ACK",
                                                       "SIP/2.0"]
        return directions
    finally:
        ua.close()
        rtp.close()


def check_both_ways(bs: Baresip, law: str, heard_by_us: np.ndarray) -> None:
    """What each end decoded is what the other sent: frames, tone, samples."""
    check_heard(heard_by_us, THEIR_FRAMES, THEIR_TONE)
    check_analysed(analyse_samples(heard_by_us), THEIR_NAMES, THEIR_FRAMES)
    check_g711(heard_by_us, bs.source, law)
    recorded = bs.recording()
    check_heard(recorded, OUR_FRAMES, OUR_TONE)
    check_analysed(analyse(bs.recording_path()), OUR_NAMES, OUR_FRAMES)
    check_g711(recorded, OURS, law, plus_zero=2)


@pytest.mark.parametrize("law", LAWS)
def test_baresip_answers_our_call(tmp_path, law):
    bs = Baresip(tmp_path, law, audio(THEIR_FRAMES, *THEIR_TONE, tail=3.0))
    with child(bs.args(), bs.log, tmp_path) as proc:
        wait_for_sip((LOOPBACK, bs.port), proc, bs.log)
        heard_by_us = asyncio.run(asyncio.wait_for(we_call(bs, law), 20))
    check_both_ways(bs, law, heard_by_us)


@pytest.mark.parametrize("law", LAWS)
def test_baresip_calls_us(tmp_path, law):
    bs = Baresip(tmp_path, law, audio(THEIR_FRAMES, *THEIR_TONE, tail=1.6))
    check_both_ways(bs, law, asyncio.run(asyncio.wait_for(they_call(bs, law),
                                                          20 + BARESIP_START_S)))


def test_baresip_calls_us_through_kamailio(tmp_path, kamailio):
    """baresip as alice (answering kamailio's 407) calls bob, our registered user
    agent, through the proxy: INVITE, ACK and BYE reach us along its route."""
    bs = Baresip(tmp_path, "PCMU", audio(THEIR_FRAMES, *THEIR_TONE, tail=1.6),
                 aor=f"sip:alice@{kamailio[0]}:{kamailio[1]}", password=PASSWORDS["alice"])
    heard_by_us = asyncio.run(asyncio.wait_for(they_call_through(kamailio, bs, "PCMU"),
                                               20 + BARESIP_START_S))
    check_both_ways(bs, "PCMU", heard_by_us)
    assert "INVITE from alice to bob routed to sip:bob@127.0.0.1:" in (
        tmp_path / "kamailio.log").read_text(errors="replace")           # the config's xlog


def test_baresip_holds_and_resumes_our_call(tmp_path):
    """baresip's hold and resume are re-INVITEs in our dialog (a=sendonly, then
    a=sendrecv): each is a CallUpdated with that direction, answered and ACKed."""
    bs = Baresip(tmp_path, "PCMU", audio(THEIR_FRAMES, *THEIR_TONE, tail=3.0))
    with child(bs.args(), bs.log, tmp_path) as proc:
        wait_for_sip((LOOPBACK, bs.port), proc, bs.log)
        directions = asyncio.run(asyncio.wait_for(held_and_resumed(bs), 20))
    assert directions == ["sendonly", "sendrecv"]
    log = bs.log.read_text(errors="replace")
    assert "call: hold sip:alice@127.0.0.1" in log
