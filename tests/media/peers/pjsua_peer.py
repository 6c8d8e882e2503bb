"""A fax machine that is not ours: PJSIP's user agent (pjsua2, from the PyPI
wheel ``pjsua2-python``, GPL-2, used by the tests only) with libspandsp's fax
terminal (``tests/spandsp``) behind its audio.

Run as a child process of a test, one call each, so PJSIP's threads and its
once-per-process library never share the test's interpreter::

    python pjsua_peer.py answer --receive rx.tif [--no-ecm] [--timeout S]
    python pjsua_peer.py call sip:fax@127.0.0.1:5060 --send tx.tif [--no-ecm]

It prints ``LISTENING sip:fax@127.0.0.1:PORT`` once its UDP transport is up
(on 127.0.0.1, a port the system chose), then, when the call is over,
one JSON line: spandsp's result (``ok``, ``message``, pages, rate, ECM) and
the SIP side's (``sip_status``, ``sip_reason``, who hung up).  Exit status 0
when spandsp's result is success and the call ended.

The result is spandsp's verdict once the call is over.  When the line drops
before spandsp reached phase E, the peer calls ``t30_terminate`` as a
telephony stack does at hang-up, and spandsp says how far the call got: a
receiver that confirmed the last page (MCF) and then did not hear the DCN
(T.30 never repeats it) has the document, and says OK.  Read before that,
its result was missing, and a loaded machine's run of the sending test
failed so.  ``phase_e_in_call`` says whether phase E came while the call
lasted, ``phase_e_lead_s`` how long before it ended, ``frames_tail``
spandsp's last T.30 frames.  ``--record`` keeps what spandsp heard (and
each frame's wall clock) for the analysis of a failure;
``--deaf-after-pages`` makes a DCN unheard on purpose.  The jitter buffer's
state is not polled: ``getStreamStat`` called every 100 ms from this
thread, while the media thread waits for the GIL in ``onFrameReceived``,
stalled the audio: spandsp then missed the TCF in 1 call of 2 at load 4.

The audio path: PJSIP's conference bridge runs at 8000 samples/s on a null
sound device (its clock thread, no sound card); a custom ``AudioMediaPort``
is connected both ways to the call's audio, so every 20 ms frame the bridge
hands PJSIP's received audio to ``onFrameReceived`` (into spandsp's
``fax_rx``) and asks ``onFrameRequested`` for the frame to send (from
``fax_tx``).  One Python call per 20 ms frame, never per sample.  For fax
over G.711 the media settings follow what T.38 §I/V.150.1 pass-through
wants: no voice activity detection (silence suppression would cut the
modem's quiet gaps), no echo canceller, PCMU/PCMA only.

Every wait is bounded by ``--timeout`` (line seconds); the peer hangs up
itself after spandsp's phase E.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pjsua2 as pj

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))       # tests/, for spandsp
import spandsp  # noqa: E402

FRAME = 160                   # samples in a 20 ms frame at 8000 samples/s
HANG_UP_AFTER = 1.0           # seconds after spandsp's phase E before the peer sends BYE


class FaxPort(pj.AudioMediaPort):
    """The bridge port that joins the call's audio to spandsp's fax terminal."""

    recording = False         # keep what spandsp heard (``--record``)
    deaf_after: int | None = None   # pages, then spandsp hears silence (``--deaf-after-pages``)

    def __init__(self, fax: spandsp.FaxTerminal):
        super().__init__()
        self.fax = fax
        self.lock = threading.Lock()
        self.frames_in = self.frames_out = 0
        self.result: spandsp.FaxResult | None = None
        self.phase_e_at: float | None = None     # wall clock (time.time) of phase E
        self.deaf = False
        self.heard: list | None = [] if self.recording else None   # (wall clock, frame)

    def onFrameRequested(self, frame):      # noqa: N802 (pjsua2's name)
        with self.lock:
            samples = self.fax.tx(FRAME)
            self.frames_out += 1
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(samples.tobytes())
        frame.size = 2 * FRAME

    def onFrameReceived(self, frame):       # noqa: N802
        if frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO or frame.size == 0:
            return
        samples = np.frombuffer(bytes(frame.buf), dtype="<i2")
        with self.lock:
            if self.deaf_after is not None and not self.deaf:
                self.deaf = self.fax.pages_rx >= self.deaf_after
            if self.deaf:
                samples = np.zeros(FRAME, np.int16)
            self.fax.rx(samples)
            self.frames_in += 1
            if self.heard is not None:
                self.heard.append((time.time(), samples.copy()))
            if self.result is None and self.fax.finished:
                self.result = self.fax.result
                self.phase_e_at = time.time()


class FaxCall(pj.Call):
    def __init__(self, account, fax: spandsp.FaxTerminal, call_id=pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.port = FaxPort(fax)
        self.connected = self.disconnected = False
        self.status, self.reason = 0, ""
        self.hung_up_by = "far end"
        self.disconnected_at: float | None = None

    def onCallState(self, prm):             # noqa: N802
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.connected = True
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.status, self.reason = info.lastStatusCode, info.lastReason
            self.disconnected_at = time.time()
            self.disconnected = True

    def onCallMediaState(self, prm):        # noqa: N802
        info = self.getInfo()
        for i, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                audio = self.getAudioMedia(i)
                if self.port.getPortId() == pj.PJSUA_INVALID_ID:
                    fmt = pj.MediaFormatAudio()
                    fmt.init(pj.PJMEDIA_FORMAT_PCM, 8000, 1, 20000, 16)
                    self.port.createPort("spandsp-fax", fmt)
                audio.startTransmit(self.port)
                self.port.startTransmit(audio)


class FaxAccount(pj.Account):
    def __init__(self, make_fax):
        super().__init__()
        self.make_fax = make_fax
        self.call: FaxCall | None = None

    def onIncomingCall(self, prm):          # noqa: N802
        call = FaxCall(self, self.make_fax(), prm.callId)
        if self.call is not None:           # one call per peer: a second one is busy
            op = pj.CallOpParam()
            op.statusCode = pj.PJSIP_SC_BUSY_HERE
            call.hangup(op)
            return
        self.call = call
        op = pj.CallOpParam()
        op.statusCode = pj.PJSIP_SC_OK
        call.answer(op)


def _write_heard(path: Path, heard: list) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(frame.tobytes() for _, frame in heard))
    np.save(path.with_suffix(".times.npy"), np.array([t for t, _ in heard]))


def _endpoint() -> pj.Endpoint:
    ep = pj.Endpoint()
    ep.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0            # SIP events on our thread (libHandleEvents)
    config.uaConfig.mainThreadOnly = False
    config.uaConfig.userAgent = "pjsua2-spandsp-fax-peer"
    config.logConfig.level = 1
    config.logConfig.consoleLevel = 1
    media = config.medConfig
    media.clockRate = media.sndClockRate = 8000
    media.channelCount = 1
    media.audioFramePtime = media.ptime = 20
    media.noVad = True
    media.ecTailLen = 0
    ep.libInit(config)
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():
        name = codec.codecId
        ep.codecSetPriority(name, 255 if name.startswith(("PCMU/", "PCMA/")) else 0)
    return ep


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=["answer", "call"])
    parser.add_argument("uri", nargs="?", help="whom to call (role 'call')")
    parser.add_argument("--send", help="TIFF-F file spandsp sends")
    parser.add_argument("--receive", help="TIFF-F file spandsp writes")
    parser.add_argument("--no-ecm", dest="ecm", action="store_false")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--deaf-after-pages", type=int, metavar="N",
                        help="once N pages are received, spandsp hears silence (so never "
                        "the DCN: as if the far end's jitter buffer concealed it)")
    parser.add_argument("--record", help="write what spandsp heard to this WAV file, and "
                        "beside it (.times.npy) the wall clock at which each frame came")
    args = parser.parse_args(argv)
    if (args.role == "call") != bool(args.uri):
        parser.error("a URI is given with 'call' and only then")
    if args.deaf_after_pages is not None and args.deaf_after_pages < 1:
        parser.error(f"--deaf-after-pages is a number of pages, 1 or more, "
                     f"not {args.deaf_after_pages}")

    def make_fax():
        return spandsp.FaxTerminal(args.role == "call", send=args.send, receive=args.receive,
                                   ecm=args.ecm, ident="PJSUA2 SPANDSP")

    FaxPort.recording = bool(args.record)
    FaxPort.deaf_after = args.deaf_after_pages
    ep = _endpoint()
    transport = pj.TransportConfig()
    transport.boundAddress = "127.0.0.1"
    transport.port = 0
    tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    ep.libStart()
    local = ep.transportGetInfo(tid).localName
    account_config = pj.AccountConfig()
    account_config.idUri = f"sip:fax@{local}"
    account_config.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    account = FaxAccount(make_fax)
    account.create(account_config)
    print(f"LISTENING sip:fax@{local}", flush=True)

    if args.role == "call":
        call = FaxCall(account, make_fax())
        account.call = call
        call.makeCall(args.uri, pj.CallOpParam(True))
    deadline = time.monotonic() + args.timeout
    finished_at = None
    hung_up_by = "far end"
    while time.monotonic() < deadline:
        ep.libHandleEvents(20)
        call = account.call
        if call is None:
            continue
        if call.disconnected:
            break
        if call.port.result is not None:
            finished_at = finished_at or time.monotonic()
            if time.monotonic() - finished_at > HANG_UP_AFTER:
                hung_up_by = "us"
                call.hangup(pj.CallOpParam(True))
                finished_at = float("inf")
    call = account.call
    report = {"sip_status": call.status if call else 0, "sip_reason": call.reason if call else "",
              "connected": bool(call and call.connected), "hung_up_by": hung_up_by,
              "timed_out": not (call and call.disconnected),
              "frames_in": call.port.frames_in if call else 0,
              "frames_out": call.port.frames_out if call else 0}
    if call is not None:
        with call.port.lock:
            # phase E while the call lasted (DCN heard), and how long before it ended
            report["phase_e_in_call"] = call.port.result is not None
            if call.port.phase_e_at is not None and call.disconnected_at is not None:
                report["phase_e_lead_s"] = round(call.disconnected_at - call.port.phase_e_at, 3)
            report["frames_tail"] = [(d, s, name) for d, s, _, name in call.port.fax.frames()[-6:]]
            if call.port.result is None:
                # the line dropped first: tell spandsp, as a telephony stack does at
                # hang-up (t30_terminate); its verdict says how far the call got
                call.port.fax.terminate()
            result = call.port.fax.result
        if result is not None:
            report.update(ok=result.ok, message=result.message, pages_tx=result.pages_tx,
                          pages_rx=result.pages_rx, bit_rate=result.bit_rate, ecm=result.ecm,
                          remote_ident=result.remote_ident)
    report.setdefault("ok", False)
    if call is not None and not call.disconnected:
        call.hangup(pj.CallOpParam(True))
        for _ in range(50):
            ep.libHandleEvents(20)
            if call.disconnected:
                break
    if args.record and call is not None:
        _write_heard(Path(args.record), call.port.heard)
    print(json.dumps(report), flush=True)
    account.call = None
    del call, account
    ep.libDestroy()
    return 0 if report["ok"] and not report["timed_out"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
