"""The T.38 gateway over SIP: a back-to-back user agent with ``T38Gateway`` between its legs.

A call arrives on one leg (the incoming INVITE) and the gateway places the
other (an INVITE to ``to``).  One leg is audio (G.711 RTP, into and out of
our modems), the other T.38 (UDPTL, IFP packets); ``faxengine.t38.gateway.
T38Gateway`` converts between them, as a T.38 emitting and receiving
gateway does (T.38 §6).  ``T38GatewayServer`` answers INVITEs on one SIP
endpoint and runs each call as its own task; ``faxengine t38gateway`` is its
command (``faxengine.media.commands``).

Which leg is which (``legs_for``, a pure decision):

* ``auto`` (the default): the leg that offers or accepts ``m=image udptl
  t38`` is the T.38 leg.  An INVITE that offers only ``m=image`` makes the
  incoming leg T.38 and the outgoing one audio; an INVITE with audio makes
  the incoming leg audio and the outgoing INVITE offer only ``m=image``;
* ``incoming``: the incoming leg must be T.38 (an INVITE with audio gets
  488 Not Acceptable Here);
* ``outgoing``: the outgoing leg is T.38 (an INVITE with only ``m=image``
  gets 488).

The audio leg stays audio.  A re-INVITE to T.38 on it is refused with 488
(the user agent does so for a call without a UDPTL port): the gateway
already converts, so passing T.38 through would only leave the T.38 leg
facing a T.38 peer with nothing to convert; the far end's own rule (T.38
Annex D and every SIP fax stack) is to go on in audio after a 488.  A
re-INVITE on the T.38 leg back to audio ends the call (it cannot be
carried).

Life of a call:

1. the incoming INVITE rings (180) while the outgoing INVITE goes out;
2. a failure of the outgoing leg is answered on the incoming leg with the
   same class of failure (``failure_for``: 486 for 486, a 3xx as 480, a
   challenge as 403, 503 as 500 as RFC 3261 §16.7 says a proxy does);
   no answer in ``ANSWER_TIMEOUT_S``: CANCEL and 408;
3. when the outgoing leg answers, the incoming one is answered (200), and
   the gateway runs on the loop's ``Pacer`` in 20 ms blocks: RTP heard ->
   ``rx_audio``, ``tx_audio`` -> RTP, UDPTL -> ``rx_ifp``/``rx_lost``,
   ``tx_ifp`` -> UDPTL (redundancy 3 for control, 1 for image data);
4. BYE (or CANCEL while it rings) on either leg ends both: the gateway
   plays out what it still has for the other side (at most ``DRAIN_S`` of
   line time, so a DCN relayed just before the BYE is heard), then BYE.
   The gateway's own end (DCN passed, ``T38Gateway.finished``) hangs up
   both legs too; ``max_seconds`` of line time bounds every call.

Cancelling a call's task (Ctrl-C on ``faxengine t38gateway``) sends BYE on
both legs (CANCEL on a leg still ringing) and awaits the answers, at most
``HANGUP_WAIT_S``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.media.call import (ANSWER_TIMEOUT_S, HANGUP_WAIT_S, SipEndpoint, hang_up,
                                  serve_calls, uncancel)
from faxengine.media.pump import BLOCK, MAX_SECONDS
from faxengine.media.rtp.session import RtpSession, RtpStats, codec
from faxengine.media.rtpport import BLOCK_SECONDS, Pacer, RtpPort, RtpSocket, open_rtp_socket
from faxengine.media.sip.errors import SipLocalError
from faxengine.media.sip.events import CallEnded, CallEstablished, CallUpdated, Event, IncomingCall
from faxengine.media.sip.message import Uri
from faxengine.media.sip.sdp import Audio, Image
from faxengine.media.t38call import T38Options, largest_packet, udptl_port
from faxengine.t38.gateway import GatewayResult, T38Gateway
from faxengine.t38.ifp import IfpPacket
from faxengine.t38.transport import T38Stats, UdptlPort, UdptlSocket, open_udptl_socket

__all__ = ["DRAIN_S", "GatewayCallResult", "T38GatewayServer", "T38_LEGS", "failure_for",
           "legs_for"]

logger = logging.getLogger(__name__)

T38_LEGS = ("auto", "incoming", "outgoing")
DRAIN_S = 2.0               # after one leg's BYE: line time for the other side's last signal
LINGER_S = 0.5              # after the gateway finished: line time before BYE


def legs_for(t38_leg: str, offers_audio: bool) -> str | None:
    """Which leg carries T.38 for an INVITE (``offers_audio``: it offers
    audio we take; False: only ``m=image``): "incoming" or "outgoing", or
    None when the setting refuses this offer (answer 488).

    Raises:
        ValueError: ``t38_leg`` is not one of ``T38_LEGS``.
    """
    if t38_leg not in T38_LEGS:
        raise ValueError(f"the T.38 leg is one of {', '.join(T38_LEGS)}, not {t38_leg!r}")
    wanted = "outgoing" if offers_audio else "incoming"
    return wanted if t38_leg in ("auto", wanted) else None


def failure_for(status: int) -> int:
    """The final status for the incoming INVITE when the outgoing leg failed
    with ``status``: the same class of failure.  A redirect we do not follow
    is 480 Temporarily Unavailable; a challenge for our own credentials is
    403 (the caller cannot answer it); 503 becomes 500 (RFC 3261 §16.7: a
    503 is about the next hop, not the call); 487 (our CANCEL) is 487; any
    other 4xx, 5xx, 6xx is passed on as it is."""
    if 300 <= status < 400:
        return 480
    if status in (401, 407):
        return 403
    if status == 503:
        return 500
    if 400 <= status < 700:
        return status
    return 500


@dataclass(frozen=True, slots=True)
class GatewayCallResult:
    """How one call through the SIP T.38 gateway went.

    Attributes:
        gateway: the ``T38Gateway``'s result, None when no media ran (the
            outgoing leg failed, the call was refused).
        incoming_call_id, outgoing_call_id: the SIP Call-IDs of the legs
            (``outgoing_call_id`` None when no INVITE went out).
        t38_leg: "incoming" or "outgoing", None when the call was refused.
        sip_status: 200 when both legs were set up (and hung up), else the
            final status the incoming INVITE got.
        sip_reason: the SIP outcome in words.
        codec: the audio leg's "PCMU" or "PCMA".
        rtp, udptl: the audio and T.38 legs' counts.
        line_seconds: line time the gateway ran.
        cpu_seconds: CPU time the gateway's 20 ms steps took (this call's
            share of the process).
    """

    gateway: GatewayResult | None
    incoming_call_id: str
    outgoing_call_id: str | None
    t38_leg: str | None
    sip_status: int
    sip_reason: str
    codec: str | None = None
    rtp: RtpStats | None = None
    udptl: T38Stats | None = None
    line_seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.gateway is not None and self.gateway.ok

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for ``--json``)."""
        return {**asdict(self), "ok": self.ok}

    def line(self) -> str:
        """The result line ``faxengine t38gateway`` prints per call."""
        g = self.gateway
        if g is None:
            return f"gateway: REFUSED -- SIP {self.sip_status} {self.sip_reason}"
        from faxengine.t4.document import plural

        out = (f"gateway: {g.code} -- {g.message}; {plural(g.pages, 'page')}"
               f"{f', {g.bit_rate} bit/s, ' + ('ECM' if g.ecm else 'no ECM') if g.bit_rate else ''}"
               f"; SIP {self.sip_status} {self.sip_reason}; T.38 leg {self.t38_leg}")
        if self.rtp is not None:
            out += f"; {self.codec}, RTP sent {self.rtp.sent} received {self.rtp.received} " \
                   f"lost {self.rtp.lost}"
        if self.udptl is not None:
            u = self.udptl
            out += f"; UDPTL sent {u.sent} received {u.received} lost {u.lost} " \
                   f"recovered {u.recovered}"
        per = self.cpu_seconds / self.line_seconds * 1000 if self.line_seconds else 0.0
        return out + f"; {self.line_seconds:.1f} s, CPU {per:.1f} ms per call-second"


class _IfpSide:
    """The gateway as the "terminal" of a ``UdptlPort``: each 20 ms block the
    port runs is one block of the audio leg too (RTP heard -> ``rx_audio``,
    ``tx_audio`` -> RTP), and what the block made goes out as IFP."""

    def __init__(self, gateway: T38Gateway, rtp: RtpPort) -> None:
        self.gateway, self.rtp = gateway, rtp
        self.version = gateway.version
        self._silence = np.zeros(BLOCK, np.int16)

    def tx(self, n: int) -> list[IfpPacket]:
        gw = self.gateway
        heard = self.rtp.tx(n)
        self.rtp.rx(gw.tx_audio(n))
        gw.rx_audio(heard if heard is not None else self._silence[:n])    # a lost block: silence
        return gw.tx_ifp()

    def rx(self, packet: IfpPacket) -> None:
        self.gateway.rx_ifp(packet)

    def rx_lost(self, n: int) -> None:
        self.gateway.rx_lost(n)


class _Paced:
    """One gateway call on the loop's ``Pacer``: UDPTL in, the blocks due, RTP out."""

    def __init__(self, rtp: RtpPort, udptl: UdptlPort, until: Any) -> None:
        self.rtp, self.udptl, self.until = rtp, udptl, until
        self.t0 = 0.0
        self.done: asyncio.Future | None = None
        self.cpu = 0.0

    def start(self, now: float, done: asyncio.Future) -> None:
        self.t0, self.done = now, done
        self.rtp.start(now)
        self.udptl.start(now, done)

    def step(self, now: float) -> bool:
        began = time.process_time()
        try:
            if self.until():
                return True
            self.rtp.pull(now)
            return self.udptl.step(now)
        finally:
            self.rtp.flush(now)
            self.cpu += time.process_time() - began


class _Legs:
    """The two calls' events while the gateway runs, and when to stop."""

    def __init__(self, gateway: T38Gateway, incoming: asyncio.Queue[Event],
                 outgoing: asyncio.Queue[Event], udptl: UdptlPort) -> None:
        self.gateway, self.udptl = gateway, udptl
        self.queues = {"incoming": incoming, "outgoing": outgoing}
        self.ended: dict[str, CallEnded] = {}
        self.mark: int | None = None
        self.cancelled = False

    def until(self, t38_leg: str) -> bool:
        for leg, queue in self.queues.items():
            while not queue.empty():
                event = queue.get_nowait()
                if isinstance(event, CallEnded):
                    self.ended[leg] = event
                elif isinstance(event, CallUpdated) and leg == t38_leg and event.image is None:
                    logger.info("the %s leg went back to audio: not carried, the call ends", leg)
                    self.ended.setdefault(leg, CallEnded(event.call_id, 488,
                                                         "T.38 leg re-INVITEd to audio"))
        now = self.udptl.samples
        if self.cancelled:
            return True
        if self.ended or self.gateway.finished:
            if self.mark is None:
                self.mark = now
            wait = DRAIN_S if self.ended else LINGER_S
            return now - self.mark >= wait * SAMPLE_RATE or (
                bool(self.ended) and not self.gateway.playing and now - self.mark >= BLOCK)
        return False


class T38GatewayServer:
    """Answers INVITEs on ``endpoint`` and puts each call through a ``T38Gateway``
    to ``to``.

    Args:
        endpoint: the ``SipEndpoint`` INVITEs arrive at and the outgoing
            INVITEs leave from (it needs T.38 parameters: ``SipEndpoint.open``
            gives them).
        to: where the outgoing leg goes (``sip:NUMBER@HOST[:PORT]``); without
            a user part the incoming INVITE's user is used.
        t38_leg: "auto", "incoming" or "outgoing" (see the module docstring).
        ecm: let error correction through the gateway.
        nsx_suppression: drop NSF/NSC/NSS (``T38Gateway``'s).
        max_seconds: line time after which a call is stopped.
        jitter_delay: the audio leg's jitter buffer delay in seconds.
        t38: the T.38 leg's UDPTL redundancy.

    Raises:
        SipLocalError: ``to`` is not a SIP URI, or is the endpoint itself (a loop).
        ValueError: a bad ``t38_leg``.
    """

    def __init__(self, endpoint: SipEndpoint, to: str, *, t38_leg: str = "auto",
                 ecm: bool = True, nsx_suppression: bool = True,
                 max_seconds: float = MAX_SECONDS, jitter_delay: float | None = None,
                 t38: T38Options | None = None) -> None:
        self.target = Uri.parse(to)
        legs_for(t38_leg, True)                 # refuse a bad setting now
        if endpoint.sip.ua is None or endpoint.sip.ua.t38 is None:
            raise SipLocalError("the T.38 gateway's endpoint needs T.38 parameters "
                                "(SipEndpoint.open gives them)")
        if self.target.address == tuple(endpoint.sip.local[:2]):
            raise SipLocalError(f"{to} is this gateway's own address: every call would call "
                                f"the gateway again; give the far end's")
        self.endpoint, self.t38_leg, self.ecm = endpoint, t38_leg, bool(ecm)
        self.nsx_suppression = bool(nsx_suppression)
        self.max_seconds, self.jitter_delay = max_seconds, jitter_delay
        self.t38 = t38 or T38Options()

    async def serve(self, on_result: Any = None, max_calls: int | None = None
                    ) -> list[GatewayCallResult]:
        """Put calls through until ``max_calls`` have ended (None: for ever);
        ``on_result(result)`` after each.  Calls run side by side; cancelled,
        every call in progress hangs up both legs first."""
        return await serve_calls(self.endpoint, self.put_through, on_result, max_calls,
                                 grace=2 * HANGUP_WAIT_S + 2.0)

    def _target(self, incoming_id: str) -> str:
        if self.target.user:
            return str(self.target)
        ua = self.endpoint.sip.ua
        call = ua.calls.get(incoming_id) if ua is not None else None
        user = Uri.parse(call.invite.uri).user if call is not None and call.invite else ""
        return str(Uri(self.target.host, user, self.target.port, self.target.params,
                       self.target.scheme))

    async def put_through(self, incoming: IncomingCall) -> GatewayCallResult:
        """One call: the outgoing leg, then both legs through the gateway."""
        sip, cid = self.endpoint.sip, incoming.call_id
        in_events = self.endpoint.watch(cid)
        t38_leg = legs_for(self.t38_leg, incoming.audio is not None)
        if t38_leg is None:
            _reject(sip, cid, 488)
            self.endpoint.forget(cid)
            return GatewayCallResult(None, cid, None, None, 488,
                                     f"the T.38 leg is {self.t38_leg}: this offer is not "
                                     f"acceptable")
        rtp = await open_rtp_socket(self.endpoint.host)
        udptl = await open_udptl_socket(self.endpoint.host)
        out_id: str | None = None
        try:
            try:
                out_id = sip.invite(self._target(cid), rtp.port,
                                    udptl_port=udptl.port if t38_leg == "outgoing" else None,
                                    t38_only=t38_leg == "outgoing")
            except (OSError, SipLocalError) as exc:     # e.g. the --to host does not resolve
                _reject(sip, cid, 500)
                return GatewayCallResult(None, cid, None, t38_leg, 500,
                                         f"the outgoing INVITE could not be sent: {exc}")
            out_events = self.endpoint.watch(out_id)
            outcome = await self._outgoing(cid, in_events, out_id, out_events)
            if isinstance(outcome, GatewayCallResult):
                return outcome
            try:
                sip.answer(cid, rtp.port, udptl.port if t38_leg == "incoming" else None)
            except SipLocalError:               # the caller gave up as the far end answered
                await hang_up(self.endpoint, out_id, out_events, "BYE")
                return GatewayCallResult(None, cid, out_id, t38_leg, 487,
                                         "the caller hung up before the answer")
            audio = incoming.audio if t38_leg == "outgoing" else outcome.audio
            image = outcome.image if t38_leg == "outgoing" else incoming.image
            if audio is None or image is None:      # the far end took the other kind
                await self._hang_up_both(cid, in_events, out_id, out_events)
                return GatewayCallResult(None, cid, out_id, t38_leg, 488,
                                         "the outgoing leg answered without the stream offered")
            return await self._run(cid, in_events, out_id, out_events, t38_leg, audio, image,
                                   rtp, udptl)
        finally:
            rtp.close()
            udptl.close()
            self.endpoint.forget(cid)
            if out_id is not None:
                self.endpoint.forget(out_id)

    async def _outgoing(self, cid: str, in_events: asyncio.Queue[Event], out_id: str,
                        out_events: asyncio.Queue[Event]
                        ) -> CallEstablished | GatewayCallResult:
        """Wait for the outgoing leg's answer while the incoming one rings."""
        sip = self.endpoint.sip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_TIMEOUT_S
        in_get = loop.create_task(_next_end(in_events))
        out_get: asyncio.Task | None = None
        try:
            while True:
                out_get = out_get or loop.create_task(out_events.get())
                left = max(0.0, deadline - loop.time())
                await asyncio.wait({in_get, out_get}, timeout=left,
                                   return_when=asyncio.FIRST_COMPLETED)
                if in_get.done():       # the caller gave up (CANCEL) while the far end rang
                    ended = in_get.result()
                    await hang_up(self.endpoint, out_id, out_events, "CANCEL")
                    return GatewayCallResult(None, cid, out_id, None, ended.status, ended.reason)
                if not out_get.done():  # no answer in time
                    ended = await hang_up(self.endpoint, out_id, out_events, "CANCEL")
                    _reject(sip, cid, 408)
                    return GatewayCallResult(None, cid, out_id, None, 408,
                                             f"no answer on the outgoing leg in "
                                             f"{ANSWER_TIMEOUT_S:g} s")
                event, out_get = out_get.result(), None
                if isinstance(event, CallEstablished):
                    return event
                if isinstance(event, CallEnded):
                    status = failure_for(event.status)
                    _reject(sip, cid, status)
                    logger.info("outgoing leg %s failed: %s %s; incoming %s answered %s",
                                out_id, event.status, event.reason, cid, status)
                    return GatewayCallResult(None, cid, out_id, None, status,
                                             f"outgoing leg: {event.status} {event.reason}")
        except asyncio.CancelledError:
            uncancel()
            await hang_up(self.endpoint, out_id, out_events, "CANCEL")
            _reject(sip, cid, 480)
            raise
        finally:
            in_get.cancel()
            if out_get is not None:
                out_get.cancel()

    async def _hang_up_both(self, cid: str, in_events: asyncio.Queue[Event], out_id: str,
                            out_events: asyncio.Queue[Event],
                            ended: dict[str, CallEnded] | None = None) -> dict[str, CallEnded]:
        ended = dict(ended or {})
        waits = {}
        for leg, call_id, queue in (("incoming", cid, in_events), ("outgoing", out_id, out_events)):
            if leg not in ended:
                waits[leg] = asyncio.ensure_future(hang_up(self.endpoint, call_id, queue, "BYE"))
        for leg, wait in waits.items():
            ended[leg] = await wait
        return ended

    async def _run(self, cid: str, in_events: asyncio.Queue[Event], out_id: str,
                   out_events: asyncio.Queue[Event], t38_leg: str, audio: Audio, image: Image,
                   rtp_socket: RtpSocket, udptl_socket: UdptlSocket) -> GatewayCallResult:
        options = {} if self.jitter_delay is None else {"jitter_delay": self.jitter_delay}
        session = RtpSession(codec(audio.law, audio.payload_type), audio.remote,
                             ptime=audio.ptime_ms / 1000,
                             event_payload_type=audio.event_payload_type, **options)
        rtp = RtpPort(session, rtp_socket)
        gateway = T38Gateway(version=image.params.version, max_datagram=largest_packet(image),
                             ecm=self.ecm, nsx_suppression=self.nsx_suppression,
                             rate_management=image.params.rate_management,
                             logger=logging.LoggerAdapter(
                                 logging.getLogger("faxengine.t38.gateway"), {"call": cid}))
        legs: _Legs
        port = udptl_port(_IfpSide(gateway, rtp), udptl_socket, image,     # type: ignore[arg-type]
                          self.t38, lambda: legs.until(t38_leg), self.max_seconds)
        legs = _Legs(gateway, in_events, out_events, port)
        paced = _Paced(rtp, port, lambda: False)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        paced.start(loop.time(), done)
        Pacer.of(loop).add(paced)               # type: ignore[arg-type]  # a paced call's shape
        logger.info("call %s (%s leg T.38) <-> %s: gateway running", cid, t38_leg, out_id)
        cancelled = False
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            uncancel()
            cancelled = legs.cancelled = True
        finally:
            done.cancel()
        ended = await self._hang_up_both(cid, in_events, out_id, out_events, legs.ended)
        if cancelled:
            logger.info("call %s cancelled: both legs hung up", cid)
            raise asyncio.CancelledError
        first = legs.ended.get("incoming") or legs.ended.get("outgoing") or ended["incoming"]
        result = gateway.result or gateway.end_now()
        return GatewayCallResult(result, cid, out_id, t38_leg, first.status, first.reason,
                                 "PCMU" if audio.law == "ulaw" else "PCMA", session.stats,
                                 port.stats, port.seconds, paced.cpu)


def _reject(sip: Any, call_id: str, status: int) -> None:
    """Refuse the incoming INVITE, unless it ended meanwhile (CANCEL crossed us)."""
    try:
        sip.reject(call_id, status)
    except SipLocalError:
        pass


async def _next_end(events: asyncio.Queue[Event]) -> CallEnded:
    """The incoming leg's end while it rings (CANCEL); other events are dropped
    (it has none before our answer)."""
    while True:
        event = await events.get()
        if isinstance(event, CallEnded):
            return event
