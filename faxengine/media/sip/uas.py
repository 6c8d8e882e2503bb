"""The user agent server side (RFC 3261 §8.2, §12.1.1, §13.3, §9.2, §15.1.2):
what ``UserAgent`` does with a request from the far end.

Every request but an ACK to a 2xx gets a server transaction; a repeat goes
to its transaction, which answers it again.  ``tu_request`` is the policy
for a new one: 420 for a ``Require`` we lack, a new call (100 from the
transaction, then 180, then the application answers), a re-INVITE (200
with our answer, T.38 when we take it; 488 when the offer has nothing we take), CANCEL
(200, and 487 for the INVITE), BYE (200; 481 outside a dialog), OPTIONS
(200 with Allow and Accept), 405 for a method we know and do not take, 501
for one we do not know.  Our 2xx to an INVITE is sent again at T1, 2*T1...
(at most T2 apart) until the ACK comes, and after 64*T1 without it the call
ends with BYE (§13.3.1.4).  A request that does not parse gets 400 with a
``Warning`` naming the fault, when its Via can be read.  ``rport`` and
``received`` (RFC 3581, §18.2.1) are filled into the top Via, and responses
go back where the request came from.

``ServerSide`` is a part of ``UserAgent`` kept in its own module; it uses the
user agent's calls, transactions and output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from faxengine.media.sip import sdp
from faxengine.media.sip.dialog import Call
from faxengine.media.sip.errors import SipError, SipParseError
from faxengine.media.sip.events import CallUpdated, IncomingCall
from faxengine.media.sip.message import NameAddr, Request, Response, Via, make_response
from faxengine.media.sip.states import T1
from faxengine.media.sip.transaction import Transaction, server_key

if TYPE_CHECKING:
    from faxengine.media.sip.events import Event
    from faxengine.t38.sdp import T38Params

Address = tuple[str, int]
ALLOW = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS")
KNOWN = ALLOW + ("REGISTER", "INFO", "PRACK", "SUBSCRIBE", "NOTIFY", "UPDATE", "MESSAGE",
                 "REFER", "PUBLISH")
SUPPORTED: tuple[str, ...] = ()           # option tags we implement (none yet)


@dataclass(slots=True)
class Pending2xx:
    """Our 2xx to an INVITE, sent again until the ACK comes (§13.3.1.4).

    ``bye_after_ack``: we hung up meanwhile; the BYE waits for the ACK or for
    64*T1 (§15: the callee sends no BYE before the ACK of its 2xx)."""
    data: bytes
    dest: Address
    cseq: int
    interval: float
    due: float
    give_up: float
    bye_after_ack: bool = False


class ServerSide:
    """The request-handling half of ``UserAgent``."""

    local: Address
    calls: dict[str, Call]
    malformed: int
    bad_requests: int
    _transactions: dict[object, Transaction]
    _pending_2xx: dict[str, Pending2xx]
    _events: list["Event"]
    t38: "T38Params | None"

    # provided by UserAgent
    def transmit(self, data: bytes, addr: Address) -> None: ...
    def _token(self, n: int) -> str: ...
    def _contact(self) -> str: ...
    def _session_id(self, call: Call) -> int: ...
    def _start(self, machine: str, request: Request, dest: Address, now: float) -> Transaction: ...
    def _end(self, call: Call, status: int, reason: str) -> None: ...
    def _bye(self, call: Call, now: float) -> None: ...
    def _send_reinvite(self, call: Call, now: float) -> None: ...

    def _unparsable(self, error: SipParseError, addr: Address) -> None:
        request = error.partial
        self.malformed += 1
        if not isinstance(request, Request) or request.method == "ACK":
            return
        try:
            vias = request.vias
            if not vias:
                return
            via = vias[0]
            response = Response(headers=[(n, v) for n, v in request.headers
                                         if n.lower() in ("via", "v", "from", "f", "to", "t",
                                                          "call-id", "i", "cseq")],
                                status=400, reason="Bad Request")
            response.headers.append(("Warning", self._warning(error)))
        except SipError:
            return
        self.bad_requests += 1
        self.transmit(response.encode(), self._reply_address(via, addr))

    @staticmethod
    def _reply_address(via: Via, source: Address) -> Address:
        """§18.2.2 with RFC 3581: the received address, the rport or sent-by port."""
        # the packet's source, never the Via's host: a malformed request's 400
        # (no received= added) must not go to a host the sender merely named
        host = via.param("received") or source[0]
        rport = via.param("rport")
        port = int(rport) if rport and rport.isdigit() else (via.port or 5060)
        return host.strip("[]"), port

    def _incoming_request(self, request: Request, addr: Address, now: float) -> None:
        vias = request.vias
        top = vias[0]
        if top.has("rport") or top.host != addr[0]:     # §18.2.1, RFC 3581 §4
            top = top.with_params(received=addr[0])
            if top.has("rport"):
                top = top.with_params(rport=str(addr[1]))
            request.remove("Via")
            request.headers[0:0] = [("Via", str(v)) for v in [top, *vias[1:]]]
        tx = self._transactions.get(server_key(request))
        if tx is not None and not tx.terminated:
            tx.receive_request(request, now)
        elif self._invite_again(request):
            pass
        elif request.method == "ACK":
            self._ack_for_2xx(request, now)
        else:
            machine = "invite-server" if request.method == "INVITE" else "non-invite-server"
            self._start(machine, request, self._reply_address(top, addr), now)

    def _invite_again(self, request: Request) -> bool:
        """An INVITE repeated after its server transaction ended with our 2xx
        (§13.3.1.4: the core, not the transaction, answers it): send the 2xx again
        while it waits for the ACK, else absorb it."""
        call = self.calls.get(request.call_id)
        if (request.method != "INVITE" or call is None or call.invite is None
                or call.invite.vias[0].branch != request.vias[0].branch
                or call.invite.cseq != request.cseq):
            return False
        pending = self._pending_2xx.get(call.call_id)
        if pending is not None:
            self.transmit(pending.data, pending.dest)
        return True

    def tu_request(self, tx: Transaction, request: Request, now: float) -> None:
        """A new request, from its server transaction: the UA core's policy."""
        method = request.method
        required = [t for t in request.get_all("Require") if t not in SUPPORTED]
        if required and method != "CANCEL":
            response = make_response(request, 420, to_tag=self._token(8))
            response.headers.append(("Unsupported", ", ".join(required)))
            tx.respond(response, now)
        elif method == "INVITE":
            self._invite_in(tx, request, now)
        elif method == "CANCEL":
            self._cancel_in(tx, request, now)
        elif method == "BYE":
            call = self._dialog_of(request)
            if call is None:
                tx.respond(make_response(request, 481), now)
            else:
                tx.respond(make_response(request, 200), now)
                self._pending_2xx.pop(call.call_id, None)
                self._end(call, 200, "BYE from the far end")
        elif method == "OPTIONS":
            response = make_response(request, 200, to_tag=self._token(8))
            response.headers += [("Allow", ", ".join(ALLOW)), ("Accept", "application/sdp")]
            tx.respond(response, now)
        else:
            response = make_response(request, 405 if method in KNOWN else 501,
                                     to_tag=self._token(8))
            response.headers.append(("Allow", ", ".join(ALLOW)))
            tx.respond(response, now)

    def _dialog_of(self, request: Request) -> Call | None:
        call = self.calls.get(request.call_id)
        if (call is None or call.state == "ended" or request.to.tag != call.local_tag
                or request.from_.tag != call.remote_tag):
            return None
        return call

    def _invite_in(self, tx: Transaction, request: Request, now: float) -> None:
        if request.to.tag is not None:
            self._reinvite_in(tx, request, now)
            return
        tag = self._token(8)
        known = self.calls.get(request.call_id)
        if known is not None and known.state != "ended":      # §8.2.2.2: merged request
            tx.respond(make_response(request, 482, to_tag=tag), now)
            return
        try:
            if not request.body:
                raise sdp.NotAcceptable("INVITE without an SDP offer is not supported")
            offer = sdp.parse(request.body)
            _, audio, image = sdp.answer_media(offer, self.local[0], 9, 0, udptl_port=9,
                                               ours=self.t38)     # acceptable at all?
            contact = request.get("Contact")
            if contact is None:
                raise SipParseError("SIP INVITE lacks Contact")
            remote_target = NameAddr.parse(contact).uri
        except sdp.NotAcceptable:
            tx.respond(make_response(request, 488, to_tag=tag), now)
            return
        except SipError as e:
            response = make_response(request, 400, to_tag=tag)
            response.headers.append(("Warning", self._warning(e)))
            self.bad_requests += 1
            tx.respond(response, now)
            return
        call = Call(call_id=request.call_id, role="uas", local=request.to.with_tag(tag),
                    remote=request.from_, remote_target=remote_target,
                    dest=remote_target.address, rtp_port=0, state="incoming",
                    remote_cseq=request.cseq[0], offer=offer, invite=request, invite_tx=tx)
        call.learn_route(request.get_all("Record-Route"), contact, reverse=False)
        self.calls[call.call_id] = call
        tx.respond(make_response(request, 180, to_tag=tag), now)
        self._events.append(IncomingCall(call.call_id, str(request.from_), audio, image))

    def _reinvite_in(self, tx: Transaction, request: Request, now: float) -> None:
        call = self._dialog_of(request)
        if call is None or call.state != "established":
            tx.respond(make_response(request, 481), now)
            return
        if call.invite_tx is not None and call.invite_tx.is_client and not call.invite_tx.terminated:
            tx.respond(make_response(request, 491), now)     # §14.2: ours is in progress
            return
        call.remote_cseq = request.cseq[0]
        try:
            body, audio, image = sdp.answer_media(
                sdp.parse(request.body), self.local[0], call.rtp_port, self._session_id(call),
                call.sdp_version + 1, udptl_port=call.udptl_port, ours=self.t38, prefer_t38=True)
        except sdp.NotAcceptable:        # e.g. m=image without T.38: decline, the call goes on
            tx.respond(make_response(request, 488), now)
            return
        call.sdp_version += 1
        call.invite, call.invite_tx = request, tx
        self._answer_2xx(call, tx, body, now)
        if image is not None and image != call.image:
            call.image, call.t38_wanted = image, False
            self._events.append(CallUpdated(call.call_id, None, image))
        elif audio is not None and (audio != call.audio or call.image is not None):
            call.audio, call.image = audio, None
            self._events.append(CallUpdated(call.call_id, audio))

    def _answer_2xx(self, call: Call, tx: Transaction, body: bytes, now: float) -> None:
        assert call.invite is not None
        response = make_response(call.invite, 200, to_tag=call.local_tag)
        response.headers += [("Contact", self._contact()), ("Allow", ", ".join(ALLOW)),
                             ("Content-Type", "application/sdp")]
        response.body = body
        tx.respond(response, now)
        self._pending_2xx[call.call_id] = Pending2xx(response.encode(), tx.dest,
                                                      call.invite.cseq[0], T1, now + T1,
                                                      now + 64 * T1)

    def _ack_for_2xx(self, request: Request, now: float) -> None:
        p = self._pending_2xx.get(request.call_id)
        if p is not None and request.cseq[0] == p.cseq:
            del self._pending_2xx[request.call_id]
            call = self.calls[request.call_id]
            if p.bye_after_ack:
                self._bye(call, now)
            elif call.t38_wanted and call.state == "established" and call.image is None:
                self._send_reinvite(call, now)      # offer_t38 waited for this ACK

    def _cancel_in(self, tx: Transaction, request: Request, now: float) -> None:
        via = request.vias[0]
        invite_tx = self._transactions.get(("server", via.branch, via.sent_by, "INVITE"))
        call = self.calls.get(request.call_id)
        if invite_tx is None or invite_tx.state != "Proceeding" or call is None:
            tx.respond(make_response(request, 481), now)
            return
        tx.respond(make_response(request, 200, to_tag=call.local_tag), now)
        assert call.invite is not None
        invite_tx.respond(make_response(call.invite, 487, to_tag=call.local_tag), now)
        self._end(call, 487, "cancelled by the caller")

    def _warning(self, error: Exception) -> str:
        text = str(error).replace('"', "'")
        return f'399 {self.local[0]} "{text}"'
