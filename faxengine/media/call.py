"""Fax calls over SIP: a user agent, an RTP port and a terminal, pumped in real time.

``send_fax`` calls a SIP URI and sends a document; ``FaxReceiver`` answers
INVITEs on an endpoint and writes one multi-page TIFF-F file per call.
Each call is the same three parts:

* the SIP user agent (``faxengine.media.sip``) sets the call up and down;
  ``SipEndpoint`` shares one UA and its socket between many calls and hands
  each call its own events;
* an ``RtpPort`` (``faxengine.media.rtpport``): the RTP session the SDP
  agreed on, on its own socket, as one end of the ``Pump``;
* a ``FaxTerminal`` as the other end, run by ``run_paced`` on the loop's
  monotonic clock, 20 ms a block.

Ending a call
-------------
A fax call ends in T.30 (DCN), then in SIP (BYE).  The caller hangs up
``LINGER_S`` after its terminal finished, so the DCN it sent has played
out at the far end even from a jitter buffer ``FAR_END_JITTER_S`` deep; the answerer waits up to ``BYE_WAIT_S`` for that BYE
and hangs up itself when none comes.  When the far end hangs up first, the
pump runs on for the jitter buffer's delay (the audio still in it), and a
terminal that has not finished by then is aborted: its result says how far
the document got.

Everything is bounded: a call that is not answered in ``ANSWER_TIMEOUT_S``
is cancelled, and a call is stopped after ``max_seconds`` of line time.

Cancelling a call
-----------------
Cancelling the task that runs ``send_fax`` or ``FaxReceiver.answer``
(Ctrl-C on ``faxengine send``, a gateway that stops) hangs up as a fax
machine's stop key does, not by dropping the line: the terminal is aborted
(T.30 §5.3.6.2.8: it sends DCN), the pump runs on in real time until that
DCN has played out over RTP and ``LINGER_S`` more (at most ``ABORT_LINE_S``
of line time), then BYE is sent and its answer awaited (at most
``HANGUP_WAIT_S``), and only then is ``CancelledError`` raised again.  The
far end hears a DCN and a BYE, and ends at once with a remote disconnect
instead of waiting out its T.30 timers.  A call cancelled while it rings
is CANCELled (RFC 3261 §9).  A second cancellation during the hang-up
stops at once.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
import os
import time
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.media.pump import BLOCK, MAX_SECONDS, Pump
from faxengine.media.rtp.session import RtpSession, RtpStats, codec
from faxengine.media.rtpport import RtpPort, RtpSocket, open_rtp_socket, pace
from faxengine.media.sip.events import (CallEnded, CallEstablished, CallUpdated, Event,
                                        IncomingCall, Registered, RegistrationFailed,
                                        ReinviteRefused)
from faxengine.media.sip.errors import SipLocalError
from faxengine.media.sip.message import Uri
from faxengine.media.sip.protocol import SipProtocol, open_sip
from faxengine.media.sip.sdp import Audio, Image
from faxengine.media.t38call import DEFAULT_PARAMS, T38Options, pace_t38, t38_terminal
from faxengine.media.t38call import udptl_port as t38_udptl_port
from faxengine.t30.result import CODES, Result
from faxengine.t30.terminal import FaxTerminal
from faxengine.t38.terminal import T38Terminal
from faxengine.t38.transport import T38Stats, UdptlPort, UdptlSocket, open_udptl_socket

__all__ = ["CallResult", "FaxReceiver", "SipEndpoint", "hang_up", "send_fax", "uncancel"]

logger = logging.getLogger(__name__)

Address = tuple[str, int]
ANSWER_TIMEOUT_S = 60.0      # ringing longer than this: CANCEL
FAR_END_JITTER_S = 0.5       # the deepest jitter buffer a far end may hold our audio in:
                             # adaptive buffers of SBCs and gateways reach 200-500 ms,
                             # PJSIP's default maximum is 500 ms
LINGER_S = FAR_END_JITTER_S + 0.1   # caller: line time after its DCN's last sample before
                             # BYE: the far end plays out its jitter buffer, plus 100 ms
                             # for transit and its play-out frames (a BYE drops what it
                             # still holds).  Line time counts from the step that found
                             # the terminal finished, after that DCN went out, and never
                             # runs ahead of the clock: it is real time after the send.
BYE_WAIT_S = 3.0             # answerer: line time it waits for the caller's BYE
BYE_DRAIN_S = 0.5            # after the far end's BYE: real time in which RTP still in
                             # the socket (a loaded host reads SIP first) reaches the
                             # terminal, so a DCN sent just before BYE is heard
HANGUP_WAIT_S = 5.0          # how long a BYE may take to be answered
ABORT_BLOCKS = 3000          # an aborted terminal's DCN: 60 s of line time at most
ABORT_LINE_S = 4.0          # a cancelled call: line time for its DCN (about 1.2 s) to play out


@dataclass(frozen=True, slots=True)
class CallResult:
    """How one fax call over SIP went.

    Attributes:
        fax: the terminal's ``Result`` (``fax.ok``: the document went through).
        call_id: the SIP Call-ID.
        sip_status: 200 when the call was set up and hung up, else the
            final status that ended it (486, 408 ...).
        sip_reason: the SIP outcome in words.
        codec: "PCMU" or "PCMA", None when no call was set up.
        rtp: the RTP statistics (sent, received, lost, late, ...), or None.
        line_seconds: line time the pump ran.
        path: the TIFF-F file a receiver wrote, else None.
        t38: the fax went over T.38 (UDPTL), not audio.
        udptl: the UDPTL counts of a T.38 call, else None.
        t38_refused: our re-INVITE to T.38 was declined ("488 Not Acceptable
            Here"): the fax went in audio.
    """

    fax: Result
    call_id: str
    sip_status: int
    sip_reason: str
    codec: str | None = None
    rtp: RtpStats | None = None
    line_seconds: float = 0.0
    path: str | None = None
    t38: bool = False
    udptl: T38Stats | None = None
    t38_refused: str | None = None

    @property
    def ok(self) -> bool:
        return self.fax.ok

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for ``--json``)."""
        out = asdict(self)
        out["ok"] = self.ok
        return out


class SipEndpoint:
    """One SIP user agent and its socket, shared by many calls.

    The user agent reports the events of all its calls on one queue; a task
    here sorts them: each call's go to the queue ``watch`` gave it,
    ``IncomingCall`` to ``incoming``, registration events to ``registration``.
    """

    def __init__(self, sip: SipProtocol) -> None:
        self.sip = sip
        self.incoming: asyncio.Queue[IncomingCall] = asyncio.Queue()
        self.registration: asyncio.Queue[Event] = asyncio.Queue()
        self._calls: dict[str, asyncio.Queue[Event]] = {}
        self._router = asyncio.get_running_loop().create_task(self._route())

    @classmethod
    async def open(cls, local: Address, **ua_options: Any) -> "SipEndpoint":
        """Bind ``local`` (port 0: any free port) and run a user agent there
        (``UserAgent``'s options; its T.38 parameters ``t38`` are
        ``DEFAULT_PARAMS`` unless given: whether a call takes T.38 is then
        the call's ``t38``, None to decline T.38 on every call)."""
        ua_options.setdefault("t38", DEFAULT_PARAMS)
        return cls(await open_sip(local, **ua_options))

    @property
    def host(self) -> str:
        return self.sip.local[0]

    def watch(self, call_id: str) -> asyncio.Queue[Event]:
        """The queue that gets the events of call ``call_id`` from now on."""
        return self._calls.setdefault(call_id, asyncio.Queue())

    def forget(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    async def _route(self) -> None:
        while True:
            event = await self.sip.next_event()
            if isinstance(event, IncomingCall):
                self.incoming.put_nowait(event)
            elif isinstance(event, (Registered, RegistrationFailed)):
                self.registration.put_nowait(event)
            elif event.call_id in self._calls:
                self._calls[event.call_id].put_nowait(event)

    async def register(self, registrar: str, expires: int = 3600, timeout: float = 40.0) -> None:
        """Bind our Contact at ``registrar``.

        Raises:
            ConnectionError: the registrar refused (the status says why) or
                did not answer within ``timeout`` seconds.
        """
        self.sip.register(registrar, expires)
        try:
            event = await asyncio.wait_for(self.registration.get(), timeout)
        except asyncio.TimeoutError:
            raise ConnectionError(f"no answer from registrar {registrar} in {timeout:g} s; "
                                  "check its address") from None
        if isinstance(event, RegistrationFailed):
            raise ConnectionError(f"registrar {registrar} refused: {event.status} {event.reason}; "
                                  "check --user and --password")

    def close(self) -> None:
        self._router.cancel()
        self.sip.close()


class _Recording:
    """A stereo WAV of a call: left what we sent, right what we heard."""

    def __init__(self, path: str | os.PathLike) -> None:
        self._wav = wave.open(os.fspath(path), "wb")
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self._sent: list[np.ndarray] = []
        self._heard: list[np.ndarray] = []

    def __call__(self, sent: np.ndarray | None, heard: np.ndarray | None) -> None:
        if sent is not None:
            self._sent.append(sent)
        if heard is not None:
            self._heard.append(heard)
        if len(self._heard) >= 50:
            self._write()

    def _write(self) -> None:
        n = min(len(self._sent), len(self._heard))
        if n:
            frames = np.column_stack([np.concatenate(self._sent[:n]),
                                      np.concatenate(self._heard[:n])]).astype("<i2")
            self._wav.writeframes(frames.tobytes())
            del self._sent[:n], self._heard[:n]

    def close(self) -> None:
        self._write()
        self._wav.close()


async def serve_calls(endpoint: SipEndpoint, handle: Callable[[IncomingCall], Any],
                      on_result: Any, limit: int | None,
                      wanted: Callable[[IncomingCall], bool] = lambda incoming: True,
                      grace: float = HANGUP_WAIT_S) -> list[Any]:
    """Run ``handle(incoming)`` as a task for each INVITE on ``endpoint`` that is
    ``wanted``, side by side, until ``limit`` calls have ended (None: for
    ever); ``on_result(result)`` after each.  Cancelled, the calls in progress
    are cancelled and given ``grace`` seconds to hang up (DCN, BYE) before the
    endpoint closes."""
    tasks: set[asyncio.Task] = set()
    results: list[Any] = []

    def done(task: asyncio.Task) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a call failed: %r", task.exception())
        elif not task.cancelled():
            results.append(task.result())
            if on_result is not None:
                on_result(task.result())

    started = 0
    try:
        while limit is None or started < limit:
            incoming = await endpoint.incoming.get()
            if not wanted(incoming):
                continue
            task = asyncio.get_running_loop().create_task(handle(incoming))
            task.add_done_callback(done)
            tasks.add(task)
            started += 1
        while tasks:
            await asyncio.wait(set(tasks))
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(set(tasks), timeout=grace)
    return results


def _failed(code: str, detail: str) -> Result:
    return Result(code, f"{CODES[code]} ({detail})")


def _t38_options(t38: bool | None | T38Options) -> T38Options:
    if isinstance(t38, T38Options):
        return t38
    if t38 not in (None, True, False):
        raise TypeError(f"t38 must be None, True, False or T38Options, not {t38!r}")
    return T38Options(offer=bool(t38))


class _Watch:
    """What decides when a call's pacing stops, phase by phase (audio, then
    perhaps T.38): the far end's BYE (then the buffered audio plays out), our
    terminal's end (then ``LINGER_S`` or ``BYE_WAIT_S``), a cancellation (its
    DCN plays out), and for audio the switch to T.38 (``CallUpdated`` with an
    ``Image``) or our re-INVITE's offer (``T38Options.offer``)."""

    def __init__(self, endpoint: SipEndpoint, call_id: str, events: asyncio.Queue[Event], *,
                 calling: bool, progress: Any, t38: T38Options | None) -> None:
        self.endpoint, self.call_id, self.events = endpoint, call_id, events
        self.calling, self.progress, self.t38 = calling, progress, t38
        self.ended: list[CallEnded] = []
        self.switch: Image | None = None        # the T.38 stream agreed: leave audio
        self.refused: ReinviteRefused | None = None
        self.offered = False
        self.marks: dict[str, int] = {}
        self.waits = {"finished": int((LINGER_S if calling else BYE_WAIT_S) * SAMPLE_RATE)}
        self.drain = 0

    def phase(self, drain: int) -> None:
        """A new phase: its own line time from 0."""
        self.marks.clear()
        self.drain = drain

    def until(self, terminal: Any, samples: int, audio: bool) -> bool:
        while not self.events.empty():
            event = self.events.get_nowait()
            if isinstance(event, CallEnded):
                self.ended.append(event)
            elif isinstance(event, CallUpdated) and event.image is not None and audio:
                self.switch = event.image
            elif isinstance(event, ReinviteRefused):
                self.refused = event
                logger.info("call %s: T.38 refused (SIP %s %s), the call goes on in audio",
                            self.call_id, event.status, event.reason)
        if self.progress is not None:
            self.progress(terminal)
        marks = self.marks
        if self.ended:           # the far end hung up: play out what the buffer holds
            return samples - marks.setdefault("ended", samples) >= self.drain
        if "cancelled" in marks and samples - marks["cancelled"] >= self.waits["cancelled"]:
            return True
        if audio and self.switch is not None and "cancelled" not in marks \
                and not terminal.finished:
            return True
        if terminal.finished:
            return samples - marks.setdefault("finished", samples) >= self.waits["finished"]
        if (audio and self.t38 is not None and self.t38.offer and not self.offered
                and (not self.calling or terminal.heard_fax)):   # CED or V.21 heard
            self.offered = True
            try:
                self.endpoint.sip.offer_t38(self.call_id)
            except SipLocalError as exc:
                logger.info("call %s: no T.38 offer: %s", self.call_id, exc)
        return False

    async def run(self, paced: asyncio.Future, terminal: Any, samples: Callable[[], int]) -> bool:
        """Await a phase's pacing; True when the task was cancelled (the
        terminal was aborted and its DCN played out meanwhile)."""
        try:
            await asyncio.shield(paced)
        except asyncio.CancelledError:
            # stop key: DCN out over the line (the pacer keeps stepping the
            # call while its future is not done), then BYE
            uncancel()
            self.marks["cancelled"] = samples()
            self.waits["cancelled"] = int(ABORT_LINE_S * SAMPLE_RATE)
            self.waits["finished"] = min(self.waits["finished"], int(LINGER_S * SAMPLE_RATE))
            terminal.abort()
            try:
                await asyncio.wait_for(asyncio.shield(paced), ABORT_LINE_S + 1.0)
            except asyncio.TimeoutError:
                pass
            return True
        finally:
            paced.cancel()              # done already, or the pacer drops it now
        return False


async def _fax_call(endpoint: SipEndpoint, call_id: str, events: asyncio.Queue[Event],
                    audio: Audio | None, socket: RtpSocket, terminal: FaxTerminal, *,
                    calling: bool, record: str | os.PathLike | None, max_seconds: float,
                    progress: Any = None, jitter_delay: float | None = None,
                    t38: T38Options | None = None, udptl: UdptlSocket | None = None,
                    image: Image | None = None,
                    fresh: Callable[[Image], T38Terminal] | None = None) -> CallResult:
    """Pump an established call to its end (in audio, then in T.38 if the
    call switches, or in T.38 from the start when ``image``); hang up; the
    result.  ``fresh(image)`` makes the T.38 terminal."""
    watch = _Watch(endpoint, call_id, events, calling=calling, progress=progress, t38=t38)
    session: RtpSession | None = None
    cancelled = False
    seconds = 0.0
    if audio is not None:
        options = {} if jitter_delay is None else {"jitter_delay": jitter_delay}
        session = RtpSession(codec(audio.law, audio.payload_type), audio.remote,
                             ptime=audio.ptime_ms / 1000,
                             event_payload_type=audio.event_payload_type, **options)
        recording = _Recording(record) if record else None
        port = RtpPort(session, socket, recording)
        pump = Pump(terminal, port)
        watch.phase(int((session.jitter.delay + 2 * BLOCK / SAMPLE_RATE + BYE_DRAIN_S)
                        * SAMPLE_RATE))
        paced = pace(pump, port, until=lambda: watch.until(terminal, pump.samples, True),
                     max_seconds=max_seconds)
        try:
            cancelled = await watch.run(paced, terminal, lambda: pump.samples)
        finally:
            if recording is not None:
                recording.close()
        seconds = pump.seconds
        image = watch.switch if not (cancelled or watch.ended) else None
    udptl_port: UdptlPort | None = None
    if image is not None and udptl is not None and fresh is not None:
        # T.38 from here: a fresh terminal on both sides (before phase B on
        # a call that was audio; see docs/t38.md "T.38 over SIP")
        logger.info("call %s: T.38 to %s:%s", call_id, *image.remote)
        terminal = fresh(image)
        watch.phase(int(BYE_DRAIN_S * SAMPLE_RATE))     # UDPTL still in the socket
        udptl_port = t38_udptl_port(terminal, udptl, image, t38 or T38Options(),
                                    lambda: watch.until(terminal, udptl_port.samples, False),
                                    max_seconds - seconds)
        cancelled = await watch.run(pace_t38(udptl_port), terminal,
                                    lambda: udptl_port.samples)
        seconds += udptl_port.seconds
    ended = watch.ended
    if not ended:
        ended.append(await hang_up(endpoint, call_id, events, "BYE"))
    endpoint.forget(call_id)
    if not terminal.finished:
        terminal.abort()
        for _ in range(ABORT_BLOCKS):
            if terminal.finished:
                break
            terminal.tx(BLOCK)
    if cancelled:
        logger.info("call %s cancelled: %s; hung up with SIP %s %s", call_id,
                    terminal.result.code if terminal.result else "LOCAL_ABORT",
                    ended[0].status, ended[0].reason)
        raise asyncio.CancelledError
    fax = terminal.result or _failed("LOCAL_ABORT", "the terminal did not end")
    return CallResult(fax, call_id, ended[0].status, ended[0].reason,
                      None if audio is None else ("PCMU" if audio.law == "ulaw" else "PCMA"),
                      session.stats if session is not None else None, seconds,
                      t38=udptl_port is not None,
                      udptl=udptl_port.stats if udptl_port is not None else None,
                      t38_refused=(f"{watch.refused.status} {watch.refused.reason}"
                                   if watch.refused is not None else None))


async def _ended(events: asyncio.Queue[Event]) -> CallEnded:
    while True:
        event = await events.get()
        if isinstance(event, CallEnded):
            return event


async def hang_up(endpoint: SipEndpoint, call_id: str, events: asyncio.Queue[Event],
                  request: str) -> CallEnded:
    """Hang up call ``call_id`` (BYE, or CANCEL while it rings) and await how it
    ended, at most ``HANGUP_WAIT_S``.

    Args:
        endpoint: the ``SipEndpoint`` the call is on.
        call_id: the SIP Call-ID.
        events: the call's queue (``SipEndpoint.watch``): its ``CallEnded`` is awaited.
        request: "BYE" or "CANCEL", for the result when no answer comes.

    Returns:
        The call's ``CallEnded``; status 408 "no answer to our BYE" (or CANCEL)
        when none came in time.
    """
    try:
        endpoint.sip.hangup(call_id)
    except SipLocalError:       # it ended in the agent; its event is on the way
        pass
    try:
        return await asyncio.wait_for(_ended(events), HANGUP_WAIT_S)
    except asyncio.TimeoutError:
        return CallEnded(call_id, 408, f"no answer to our {request}")


def uncancel() -> None:
    """Clear the current task's cancellation request: for a task that goes on
    after a cancellation (to hang up) and raises ``CancelledError`` again
    itself, so the bounded waits of its hang-up are not cancelled at once
    (``asyncio.Task.uncancel``; nothing on Python 3.10, which keeps no count)."""
    task = asyncio.current_task()
    if task is not None and hasattr(task, "uncancel"):      # Python 3.11+; 3.10 keeps no count
        task.uncancel()


async def send_fax(document: Any, to: str, *, endpoint: SipEndpoint | None = None,
                   local: Address = ("127.0.0.1", 0), ecm: bool = True, codec_name: str = "PCMU",
                   username: str | None = None, password: str | None = None,
                   from_user: str = "faxengine", register: str | None = None,
                   record: str | os.PathLike | None = None, progress: Any = None,
                   max_seconds: float = MAX_SECONDS, rtp_advertise: int | None = None,
                   jitter_delay: float | None = None, on_event: Any = None,
                   t38: bool | None | T38Options = None, udptl_advertise: int | None = None) -> CallResult:
    """Call ``to`` (a SIP URI) and send ``document``; the call's result.

    Args:
        document: TIFF paths and/or ``Page`` objects (``FaxTerminal``'s ``send``).
        to: ``sip:NUMBER@HOST[:PORT]``.
        endpoint: a shared ``SipEndpoint``; None opens one on ``local`` for this call
            (offering ``codec_name`` first, with ``username``/``password`` for
            digest challenges, from ``sip:from_user@host``).
        ecm: offer error correction mode.
        register: a registrar URI to bind our Contact at first.
        record: write the call's audio to this stereo WAV file.
        progress: called with the terminal after every wake-up (progress bars).
        max_seconds: line time after which the call is stopped.
        rtp_advertise: the RTP port our SDP gives (a relay in front of our socket);
            None: the socket's own.
        jitter_delay: the jitter buffer's delay in seconds (default 60 ms).
        on_event: given each of the terminal's events as it happens
            (``FaxTerminal``'s ``on_event``).
        t38: None: take T.38 when the far end re-INVITEs to it; True: also
            re-INVITE to T.38 ourselves once a fax answer (CED, V.21) is
            heard; False: audio only (a T.38 offer gets 488); a ``T38Options``
            says whether to offer and the UDPTL redundancy.  An own
            endpoint gets ``DEFAULT_PARAMS``; a shared one's T.38 parameters
            are its own.
        udptl_advertise: the UDPTL port our SDP gives (a relay in front of
            our socket); None: the socket's own.

    Cancelled, the call hangs up first (see "Cancelling a call" above).

    Raises:
        LocalProtocolError: the document cannot be faxed (before any call is made).
        SipLocalError: ``to`` is not a SIP URI.
        ConnectionError: the registrar refused or did not answer.
    """
    terminal = FaxTerminal(True, send=document, ecm=ecm,     # refuse a bad document first
                           on_event=on_event)
    options = _t38_options(t38)
    own = endpoint is None
    if endpoint is None:
        other = ("PCMA" if codec_name.upper() == "PCMU" else "PCMU")
        endpoint = await SipEndpoint.open(local, user=from_user, username=username,
                                          password=password, codecs=(codec_name.upper(), other),
                                          t38=None if t38 is False else DEFAULT_PARAMS)
    socket = await open_rtp_socket(endpoint.host)
    udptl = None if t38 is False else await open_udptl_socket(endpoint.host)
    try:
        if register:
            await endpoint.register(register)
        call_id = endpoint.sip.invite(to, rtp_advertise or socket.port,
                                      udptl_port=(udptl_advertise or udptl.port) if udptl
                                      else None, t38_only=options.t38_only and udptl is not None)
        events = endpoint.watch(call_id)
        try:
            outcome = await _answered(endpoint, call_id, events)
        except asyncio.CancelledError:
            uncancel()
            await hang_up(endpoint, call_id, events, "CANCEL")
            endpoint.forget(call_id)
            raise
        if isinstance(outcome, CallEnded):
            endpoint.forget(call_id)
            fax = _failed("NO_ANSWER", f"SIP {outcome.status} {outcome.reason}")
            return CallResult(fax, call_id, outcome.status, outcome.reason)
        return await _fax_call(
            endpoint, call_id, events, outcome.audio, socket, terminal, calling=True,
            record=record, max_seconds=max_seconds, progress=progress,
            jitter_delay=jitter_delay, t38=options, udptl=udptl,
            image=outcome.image,
            fresh=lambda image: t38_terminal(image, True, document, None, ecm,
                                             on_event=on_event))
    finally:
        socket.close()
        if udptl is not None:
            udptl.close()
        if own:
            endpoint.close()


async def _answered(endpoint: SipEndpoint, call_id: str,
                    events: asyncio.Queue[Event]) -> CallEstablished | CallEnded:
    """Wait for the far end to answer our INVITE (or refuse it); CANCEL after
    ``ANSWER_TIMEOUT_S``."""
    deadline = asyncio.get_running_loop().time() + ANSWER_TIMEOUT_S
    cancelled = False
    while True:
        left = deadline - asyncio.get_running_loop().time()
        try:
            event = await asyncio.wait_for(events.get(), max(left, 0.0) if not cancelled
                                           else HANGUP_WAIT_S * 8)
        except asyncio.TimeoutError:
            if cancelled:
                return CallEnded(call_id, 408, "no answer to our CANCEL")
            endpoint.sip.hangup(call_id)
            cancelled = True
            continue
        if isinstance(event, (CallEstablished, CallEnded)):
            return event


class FaxReceiver:
    """Answers fax calls on an endpoint and writes what they bring.

    Args:
        endpoint: the ``SipEndpoint`` INVITEs arrive at.
        out_dir: one TIFF-F file per call is written here.
        user: answer only INVITEs for this user (others get 404); None: all.
        ecm: offer error correction mode.
        record_dir: write each call's audio as a stereo WAV here, or None.
        max_seconds: line time after which a call is stopped.
        jitter_delay, rtp_advertise, udptl_advertise: as for ``send_fax``.
        t38: None: take T.38 when the caller offers it (re-INVITE, or an
            INVITE with only ``m=image``); True: also re-INVITE to T.38 as
            soon as a call is up (as Asterisk's and FreeSWITCH's receivers
            do); False: audio only (488 to T.38); a ``T38Options`` as for
            ``send_fax``.  T.38 needs T.38
            parameters on the endpoint (``SipEndpoint.open(..., t38=...)``).
    """

    def __init__(self, endpoint: SipEndpoint, out_dir: str | os.PathLike, *,
                 user: str | None = None, ecm: bool = True,
                 record_dir: str | os.PathLike | None = None,
                 max_seconds: float = MAX_SECONDS, jitter_delay: float | None = None,
                 rtp_advertise: int | None = None, t38: bool | None | T38Options = None,
                 udptl_advertise: int | None = None) -> None:
        self.endpoint = endpoint
        self.t38 = t38
        self.udptl_advertise = udptl_advertise
        self.out_dir = Path(out_dir)
        self.user = user
        self.ecm = ecm
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self.max_seconds = max_seconds
        self.jitter_delay = jitter_delay
        self.rtp_advertise = rtp_advertise
        self._count = 0

    async def serve(self, on_result: Any = None, once: bool = False,
                    max_calls: int | None = None) -> list[CallResult]:
        """Answer calls until ``max_calls`` have ended (one with ``once``);
        ``on_result(result)`` after each.  Calls run side by side."""
        return await serve_calls(self.endpoint, self.answer, on_result,
                                 1 if once else max_calls, self._wanted,
                                 ABORT_LINE_S + HANGUP_WAIT_S + 2.0)

    def _wanted(self, incoming: IncomingCall) -> bool:
        call = self.endpoint.sip.ua.calls.get(incoming.call_id) if self.endpoint.sip.ua else None
        if self.user is None or call is None or call.invite is None:
            return True
        if Uri.parse(call.invite.uri).user == self.user:
            return True
        self.endpoint.sip.reject(incoming.call_id, 404)
        return False

    async def answer(self, incoming: IncomingCall) -> CallResult:
        """Answer one call and receive its document."""
        self._count += 1
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"fax-{stamp}-{self._count:04d}"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"{name}.tif"
        record = None
        if self.record_dir is not None:
            self.record_dir.mkdir(parents=True, exist_ok=True)
            record = self.record_dir / f"{name}.wav"
        if incoming.audio is None and self.t38 is False:
            self.endpoint.sip.reject(incoming.call_id, 488)     # T.38 only, and we will not
            return CallResult(_failed("NOT_FAX", "the call offered only T.38 and T.38 is off"),
                              incoming.call_id, 488, "T.38 refused (--no-t38)")
        socket = await open_rtp_socket(self.endpoint.host)
        udptl = None if self.t38 is False else await open_udptl_socket(self.endpoint.host)
        try:
            events = self.endpoint.watch(incoming.call_id)
            self.endpoint.sip.answer(incoming.call_id, self.rtp_advertise or socket.port,
                                     (self.udptl_advertise or udptl.port) if udptl else None)
            terminal = FaxTerminal(False, receive=path, ecm=self.ecm)
            result = await _fax_call(
                self.endpoint, incoming.call_id, events, incoming.audio, socket, terminal,
                calling=False, record=record, max_seconds=self.max_seconds,
                jitter_delay=self.jitter_delay, t38=_t38_options(self.t38),
                udptl=udptl, image=incoming.image,
                fresh=lambda image: t38_terminal(image, False, None, path, self.ecm))
        finally:
            socket.close()
            if udptl is not None:
                udptl.close()
        written = str(path) if path.exists() else None
        return dataclasses.replace(result, path=written)
