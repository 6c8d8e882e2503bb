"""The SIP user agent core, sans-I/O (RFC 3261 §8, §12–§17, RFC 3581, RFC 3264).

Like the T.30 terminal, ``UserAgent`` never opens a socket or reads a
clock.  Feed it what arrived and when (``datagram_received(data, addr,
now)``, ``handle_timer(now)``), give it commands (``invite``, ``answer``,
``reject``, ``hangup``, ``register``), and take out what it produced
(``datagrams_to_send()``, ``events()``) and when it next wants to be woken
(``next_timer()``).  ``faxengine.media.sip.protocol`` is the asyncio adapter.

What it does
------------
* Transactions (``transaction.py``, the tables in ``states.py``): every
  request we send runs in a client transaction, every request we receive
  (except ACK to a 2xx) in a server transaction; they retransmit over UDP
  and time out as RFC 3261 §17 says.
* Calls (``dialog.py``): INVITE out with our SDP offer, CANCEL while it
  rings (sent once a provisional response came, §9.1), ACK for the 2xx,
  BYE; INVITE in (``uas.py``): 100 Trying, 180 Ringing, then the caller ``answer``s
  (200 with our SDP answer, retransmitted until the ACK, §13.3.1.4; BYE if
  it never comes) or ``reject``s.  A re-INVITE is answered from the same
  SDP rules; an ``m=image`` (T.38) offer is taken when the agent has T.38
  parameters (``t38``) and the call a UDPTL port, else it gets 488 and the
  audio call goes on.  ``offer_t38`` sends our re-INVITE to T.38 (deferred
  until the ACK of our 2xx, §14.1); a 2xx taking it is ``CallUpdated`` with
  the ``Image``, anything else ``ReinviteRefused`` and the call goes on
  (§14.1: a failed re-INVITE leaves the session as it was).  BYE and CANCEL from the far end end the call (200, and 487 for the
  INVITE).
* OPTIONS is answered 200 with Allow and Accept; a method we know but do
  not take gets 405, one we do not know 501; ``Require:`` naming an
  extension we lack gets 420 with ``Unsupported`` (§8.2.2.3).
* ``rport`` (RFC 3581): our Via asks for it; a request's top Via gets
  ``received`` and ``rport`` filled in, and responses go back to the
  address and port the request came from.
* Digest authentication (``digest.py``): a 401 or 407 to INVITE or
  REGISTER is answered once with credentials (a new CSeq, a new branch);
  a second challenge for the same request ends it with that status.
* REGISTER (``register.py``): ``register`` binds our Contact; the binding
  is refreshed before it expires (half-way, at most 32 s before the end).

Nothing the far end sends raises: a request that does not parse gets 400
(when its Via can be read), anything else unreadable is dropped and
counted in ``malformed``.

Not yet: TCP/TLS, an INVITE without an SDP offer (answered 488), PRACK,
session timers, re-INVITEs other than to T.38, forking (the first 2xx wins), SRV/NAPTR.
"""
from __future__ import annotations

import random

from faxengine.media.sip import sdp
from faxengine.media.sip.dialog import Call
from faxengine.media.sip.digest import Challenge, authorization
from faxengine.media.sip.errors import SipError, SipLocalError, SipParseError
from faxengine.media.sip.events import (CallEnded, CallEstablished, CallProgress, CallUpdated,
                                        Event, Registered, RegistrationFailed,
                                        ReinviteRefused)
from faxengine.media.sip.message import (BRANCH_MAGIC, MAX_DATAGRAM, NameAddr, Request,
                                         Response, Uri, Via, make_response, parse)
from faxengine.media.sip.register import Registration
from faxengine.media.sip.states import T2
from faxengine.media.sip.transaction import Transaction, client_key
from faxengine.media.sip.uas import ALLOW, Pending2xx, ServerSide
from faxengine.t38.sdp import T38Params

Address = tuple[str, int]
MAX_AUTH_TRIES = 1                        # credentials sent once per request


def check_local(local: Address) -> None:
    """Refuse an address the user agent cannot be reached at: it goes into Via,
    Contact and SDP (RFC 3261 §18.2.1, RFC 4566 §5.7), where a wildcard means nothing."""
    if local[0] in ("0.0.0.0", "::", ""):
        raise SipLocalError(f"bind the user agent to the address peers reach, not {local[0]!r}: "
                            "it goes into Via, Contact and SDP")


class UserAgent(ServerSide):
    """A SIP user agent over UDP, sans-I/O.

    Args:
        local: the address our socket is bound to (host, port): Via, Contact, SDP.
        user: the user part of our URI.
        username, password: credentials for digest challenges (None: give up).
        seed: draw tags, branches and Call-IDs from ``random.Random(seed)``.
        codecs: the G.711 codecs our INVITEs offer, preferred first ("PCMU", "PCMA").
        t38: our T.38 parameters (T.38 Annex D): T.38 offers are taken and
            ``offer_t38`` may be used on calls that have a UDPTL port; None:
            T.38 is declined with 488.
    """

    def __init__(self, local: Address, *, user: str = "faxengine", display: str = "",
                 username: str | None = None, password: str | None = None,
                 user_agent: str = "faxengine", seed: int | None = None,
                 codecs: tuple[str, ...] = ("PCMU", "PCMA"),
                 t38: T38Params | None = None) -> None:
        check_local(local)
        self.local = local
        self.user = user
        self.display = display
        self.username = username or user
        self.password = password
        self.user_agent = user_agent
        sdp.offer(local[0], 9, 0, codecs=codecs)       # refuse an unknown codec now
        self.codecs = tuple(codecs)
        if t38 is not None and not isinstance(t38, T38Params):
            raise SipLocalError(f"t38 must be T38Params or None, not {type(t38).__name__}")
        self.t38 = t38
        self._rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self.calls: dict[str, Call] = {}
        self._transactions: dict[object, Transaction] = {}
        self._pending_2xx: dict[str, Pending2xx] = {}
        self._registration: Registration | None = None
        self._out: list[tuple[bytes, Address]] = []
        self._events: list[Event] = []
        self.malformed = 0          # datagrams dropped: not SIP, or not for us
        self.bad_requests = 0       # requests answered 400

    # -- the sans-I/O interface ----------------------------------------------

    def datagrams_to_send(self) -> list[tuple[bytes, Address]]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def transmit(self, data: bytes, addr: Address) -> None:
        self._out.append((data, addr))

    def next_timer(self) -> float | None:
        times = [t for t in (tx.next_timer() for tx in self._transactions.values()) if t is not None]
        times += [p.due for p in self._pending_2xx.values()]
        if self._registration and self._registration.refresh_at is not None:
            times.append(self._registration.refresh_at)
        return min(times, default=None)

    def handle_timer(self, now: float) -> None:
        for tx in list(self._transactions.values()):
            tx.fire_timers(now)
        for call_id, p in list(self._pending_2xx.items()):
            if p.due > now:
                continue
            if now >= p.give_up:           # §13.3.1.4: no ACK in 64*T1: end with BYE
                del self._pending_2xx[call_id]
                self._bye(self.calls[call_id], now)
                self._end(self.calls[call_id], 408, "no ACK for our 2xx")
                continue
            self.transmit(p.data, p.dest)
            p.interval = min(2 * p.interval, T2)
            p.due = min(now + p.interval, p.give_up)
        reg = self._registration
        if reg and reg.refresh_at is not None and reg.refresh_at <= now:
            reg.refresh_at = None
            self._send_register(now)
        self._collect()

    def datagram_received(self, data: bytes, addr: Address, now: float) -> None:
        """Take one datagram; never raises for anything the far end sends."""
        if not data.strip(b"\r\n") or len(data) > MAX_DATAGRAM:   # RFC 5626 keep-alives
            return
        try:
            message = parse(data)
        except SipParseError as e:
            self._unparsable(e, addr)
            return
        try:
            if isinstance(message, Request):
                self._incoming_request(message, addr, now)
            else:
                self._response(message, now)
        except SipError:
            self.malformed += 1
        self._collect()

    def _collect(self) -> None:
        self._transactions = {k: tx for k, tx in self._transactions.items() if not tx.terminated}

    # -- commands --------------------------------------------------------------

    def invite(self, target: str, now: float, rtp_port: int, dest: Address | None = None,
               udptl_port: int | None = None, t38_only: bool = False) -> str:
        """Call ``target`` (a SIP URI); returns the Call-ID.  ``dest``: outbound proxy;
        ``udptl_port``: our UDPTL socket (T.38 may be taken on this call);
        ``t38_only``: offer only ``m=image udptl t38`` (as some trunks do).

        Raises:
            SipLocalError: ``target`` is not a SIP URI; ``t38_only`` without
                a UDPTL port or T.38 parameters.
        """
        if t38_only and (udptl_port is None or self.t38 is None):
            raise SipLocalError("an INVITE offering only T.38 needs a UDPTL port and the "
                                "user agent's t38 parameters")
        uri = Uri.parse(target)
        call = Call(call_id=self._token(16) + "@" + self.local[0], role="uac",
                    local=self._our_address().with_tag(self._token(8)), remote=NameAddr(uri),
                    remote_target=uri, dest=dest or uri.address, rtp_port=rtp_port,
                    udptl_port=udptl_port, t38_only=t38_only)
        self.calls[call.call_id] = call
        self._send_invite(call, now)
        return call.call_id

    def answer(self, call_id: str, now: float, rtp_port: int,
               udptl_port: int | None = None) -> None:
        """Accept an incoming call: 200 with our SDP answer (T.38 when it offers
        only that and we take it: ``udptl_port`` given and the agent's ``t38``)."""
        call = self._call(call_id, "incoming")
        assert call.offer is not None and call.invite_tx is not None
        call.rtp_port, call.udptl_port = rtp_port, udptl_port
        body, audio, image = sdp.answer_media(call.offer, self.local[0], rtp_port,
                                              self._session_id(call), call.sdp_version,
                                              udptl_port=udptl_port, ours=self.t38)
        self._answer_2xx(call, call.invite_tx, body, now)
        call.audio, call.image, call.state = audio, image, "established"
        self._events.append(CallEstablished(call.call_id, audio, image))

    def offer_t38(self, call_id: str, now: float) -> None:
        """Re-INVITE to T.38 (an ``m=image udptl t38`` offer with our ``t38``
        parameters); sent once the ACK of our 2xx came (§14.1: one INVITE
        transaction at a time).  The outcome is ``CallUpdated`` or
        ``ReinviteRefused``.

        Raises:
            SipLocalError: the call is not up, has no UDPTL port, or the
                agent has no T.38 parameters.
        """
        call = self._call(call_id, "established")
        if self.t38 is None or call.udptl_port is None:
            raise SipLocalError(f"call {call_id} cannot offer T.38: give the user agent t38 "
                                "parameters and the call a UDPTL port")
        if call.image is not None:
            return
        if call_id in self._pending_2xx or (call.invite_tx is not None
                                            and not call.invite_tx.terminated
                                            and call.invite_tx.is_client):
            call.t38_wanted = True
            return
        self._send_reinvite(call, now)

    def _send_reinvite(self, call: Call, now: float) -> None:
        assert self.t38 is not None and call.udptl_port is not None
        call.t38_wanted = False
        call.sdp_version += 1
        body = sdp.offer_t38(self.local[0], call.udptl_port, self._session_id(call),
                             call.sdp_version, self.t38)
        request = self._new_request("INVITE", str(call.remote_target), call.local, call.remote,
                                    call.call_id, call.next_cseq(), call.route_set, body)
        call.invite = request
        call.invite_tx = self._start("invite-client", request, call.dest, now)

    def reject(self, call_id: str, now: float, status: int = 486) -> None:
        """Refuse an incoming call with a final status (486 Busy Here by default)."""
        call = self._call(call_id, "incoming")
        if not 300 <= status <= 699:
            raise SipLocalError(f"a call is rejected with 300..699, not {status}")
        assert call.invite_tx is not None and call.invite is not None
        call.invite_tx.respond(make_response(call.invite, status, to_tag=call.local_tag), now)
        self._end(call, status, "rejected")

    def hangup(self, call_id: str, now: float) -> None:
        """End a call: BYE when it is up, CANCEL while ours rings, 486 when it is theirs."""
        call = self.calls.get(call_id)
        if call is None or call.state == "ended":
            raise SipLocalError(f"call {call_id} has ended or never was: nothing to hang up")
        if call.state == "incoming":
            self.reject(call_id, now, 486)
        elif call.state == "established":
            pending = self._pending_2xx.get(call_id)
            if pending is not None:         # §15: no BYE before the ACK of our 2xx
                pending.bye_after_ack = True
            else:
                self._bye(call, now)
            self._end(call, 200, "local hangup")
        elif not call.hangup_requested:
            call.hangup_requested = True
            if call.provisional:
                self._cancel(call, now)
            else:
                call.cancel_pending = True
        self._collect()

    def register(self, registrar: str, now: float, expires: int = 3600,
                 dest: Address | None = None) -> None:
        """Bind our Contact at ``registrar`` (a SIP URI) and keep it bound."""
        uri = Uri.parse(registrar)
        self._registration = Registration(uri, dest or uri.address,
                                           self._token(16) + "@" + self.local[0], expires)
        self._send_register(now)

    # -- building requests -----------------------------------------------------

    def _token(self, n: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(n))

    def _our_address(self, host: str | None = None) -> NameAddr:
        return NameAddr(Uri(host or self.local[0], self.user), self.display)

    def _contact(self) -> str:
        return f"<sip:{self.user}@{self.local[0]}:{self.local[1]}>"

    def _via(self) -> str:
        return str(Via(self.local[0], self.local[1],
                       (("branch", BRANCH_MAGIC + self._token(16)), ("rport", None))))

    def _new_request(self, method: str, uri: str, from_: NameAddr, to: NameAddr, call_id: str,
                     cseq: int, route: list[str] = (), body: bytes = b"") -> Request:
        headers = [("Via", self._via()), ("Max-Forwards", "70"), ("From", str(from_)),
                   ("To", str(to)), ("Call-ID", call_id), ("CSeq", f"{cseq} {method}")]
        headers += [("Route", r) for r in route]
        if method in ("INVITE", "REGISTER"):
            headers.append(("Contact", self._contact()))
        if method == "INVITE":
            headers.append(("Allow", ", ".join(ALLOW)))
        headers.append(("User-Agent", self.user_agent))
        if body:
            headers.append(("Content-Type", "application/sdp"))
        return Request(headers=headers, method=method, uri=uri, body=body)

    def _in_dialog(self, call: Call, method: str, cseq: int | None = None) -> Request:
        number = cseq if cseq is not None else call.next_cseq()
        return self._new_request(method, str(call.remote_target), call.local, call.remote,
                                 call.call_id, number, call.route_set)

    def _start(self, machine: str, request: Request, dest: Address, now: float) -> Transaction:
        tx = Transaction(machine, request, dest, self, now)
        self._transactions[tx.key] = tx
        return tx

    def _send_invite(self, call: Call, now: float, auth: tuple[str, str] | None = None) -> None:
        if call.t38_only:
            assert self.t38 is not None and call.udptl_port is not None
            body = sdp.offer_t38(self.local[0], call.udptl_port, self._session_id(call),
                                 call.sdp_version, self.t38)
        else:
            body = sdp.offer(self.local[0], call.rtp_port, self._session_id(call),
                             call.sdp_version, self.codecs)
        request = self._new_request("INVITE", str(call.remote_target), call.local, call.remote,
                                    call.call_id, call.local_cseq, call.route_set, body)
        if auth:
            request.headers.insert(-2, auth)
        call.invite = request
        call.invite_tx = self._start("invite-client", request, call.dest, now)

    def _session_id(self, call: Call) -> int:
        return int.from_bytes(call.call_id.encode()[:6].ljust(6, b"0"), "big") % 10**12

    def _cancel(self, call: Call, now: float) -> None:
        """CANCEL (§9.1): the INVITE's Request-URI, Via and CSeq number, method CANCEL."""
        inv = call.invite
        assert inv is not None
        headers = [("Via", inv.get_all("Via")[0]), ("Max-Forwards", "70"),
                   ("From", inv.get("From") or ""), ("To", inv.get("To") or ""),
                   ("Call-ID", inv.call_id), ("CSeq", f"{inv.cseq[0]} CANCEL")]
        headers += [("Route", r) for r in inv.get_all("Route")]
        self._start("non-invite-client", Request(headers=headers, method="CANCEL", uri=inv.uri),
                    call.dest, now)
        call.cancel_pending = False

    def _bye(self, call: Call, now: float) -> None:
        self._start("non-invite-client", self._in_dialog(call, "BYE"), call.dest, now)

    def _send_register(self, now: float, auth: tuple[str, str] | None = None) -> None:
        reg = self._registration
        assert reg is not None
        reg.cseq += 1
        aor = self._our_address(reg.uri.host)
        request = self._new_request("REGISTER", reg.request_uri, aor, aor, reg.call_id, reg.cseq)
        request.set("Contact", f"{self._contact()};expires={reg.expires}")
        request.headers.append(("Expires", str(reg.expires)))
        if auth:
            request.headers.append(auth)
        self._start("non-invite-client", request, reg.dest, now)

    def _credentials(self, request: Request, response: Response) -> tuple[str, str] | None:
        """The Authorization header answering a 401/407, or None when we cannot."""
        if self.password is None:
            return None
        name = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        challenge = Challenge.parse(response.get(name) or "")
        header = "Authorization" if response.status == 401 else "Proxy-Authorization"
        return header, authorization(challenge, username=self.username, password=self.password,
                                     method=request.method, uri=request.uri,
                                     cnonce=self._token(16))

    # -- responses -------------------------------------------------------------

    def _response(self, response: Response, now: float) -> None:
        top = response.vias[0]
        if top.sent_by != (self.local[0], self.local[1]):    # §18.1.2: not ours
            self.malformed += 1
            return
        tx = self._transactions.get(client_key(top.branch, response.cseq[1]))
        if tx is not None:
            tx.receive_response(response, now)
            return
        call = self.calls.get(response.call_id)   # a 2xx repeated: our ACK was lost
        if (call is not None and call.ack is not None and response.status // 100 == 2
                and response.cseq[1] == "INVITE"):
            self.transmit(call.ack, call.dest)

    def tu_response(self, tx: Transaction, response: Response, now: float) -> None:
        method = tx.request.method
        if method == "REGISTER":
            self._register_response(tx, response, now)
        elif method == "INVITE":
            call = self.calls.get(tx.request.call_id)
            if call is not None and call.state != "ended":
                self._invite_response(call, tx, response, now)

    def tu_failure(self, tx: Transaction, status: int, now: float) -> None:
        reason = "timed out" if status == 408 else "transport failed"
        if tx.request.method == "INVITE" and tx.is_client:
            call = self.calls.get(tx.request.call_id)
            if call is not None and call.state == "established":     # a re-INVITE's
                self._events.append(ReinviteRefused(call.call_id, status, f"INVITE {reason}"))
            elif call is not None and call.state != "ended":
                self._end(call, status, f"INVITE {reason}")
        elif tx.request.method == "REGISTER":
            self._events.append(RegistrationFailed(status, f"REGISTER {reason}"))

    def _invite_response(self, call: Call, tx: Transaction, response: Response,
                         now: float) -> None:
        status = response.status
        if call.state == "established":
            self._reinvite_response(call, response)
            return
        if status < 200:
            call.provisional = True
            if call.cancel_pending:
                self._cancel(call, now)
            if status in (180, 183) and call.state == "calling":
                call.state = "ringing"
                self._events.append(CallProgress(call.call_id, status))
        elif status < 300:
            call.remote = response.to
            try:
                call.learn_route(response.get_all("Record-Route"), response.get("Contact"),
                                 reverse=True)
            except SipParseError:          # a bad Contact: ACK and BYE go to the Request-URI
                self.malformed += 1
            self._ack_2xx(call)
            try:
                stream = sdp.accepted_media(sdp.parse(response.body))
                if call.t38_only and not isinstance(stream, sdp.Image):
                    raise sdp.NotAcceptable("the answer to our T.38 offer has no T.38 stream")
            except SipError as e:
                self._bye(call, now)
                self._end(call, 488, f"SDP answer not usable: {e}")
                return
            if call.hangup_requested:               # the 2xx crossed our CANCEL
                self._bye(call, now)
                self._end(call, 487, "cancelled")
                return
            call.state = "established"
            if isinstance(stream, sdp.Image):
                call.image = stream
                self._events.append(CallEstablished(call.call_id, None, stream))
            else:
                call.audio = stream
                self._events.append(CallEstablished(call.call_id, stream))
        elif status in (401, 407) and call.auth_tries < MAX_AUTH_TRIES:
            auth = self._credentials(tx.request, response)
            if auth is None:
                self._end(call, status, response.reason)
                return
            call.auth_tries += 1
            call.next_cseq()
            self._send_invite(call, now, auth)
        else:
            self._end(call, status, response.reason or "rejected")

    def _ack_2xx(self, call: Call) -> None:
        """ACK a 2xx to our INVITE (§13.2.2.4), kept to answer its repeats."""
        call.ack = self._in_dialog(call, "ACK", call.local_cseq).encode()
        self.transmit(call.ack, call.dest)

    def _reinvite_response(self, call: Call, response: Response) -> None:
        """The answer to our re-INVITE to T.38: a 2xx is ACKed (§13.2.2.4) and
        its SDP read; a non-2xx (ACKed by the transaction) leaves the call as
        it was (§14.1)."""
        if response.status < 200:
            return
        if response.status >= 300:
            self._events.append(ReinviteRefused(call.call_id, response.status,
                                                response.reason or "refused"))
            return
        self._ack_2xx(call)
        try:
            stream = sdp.accepted_media(sdp.parse(response.body))
        except SipError as e:
            self._events.append(ReinviteRefused(call.call_id, 488, f"SDP answer not usable: {e}"))
            return
        if not isinstance(stream, sdp.Image):
            self._events.append(ReinviteRefused(call.call_id, 488, "answered without T.38"))
            return
        call.image = stream
        self._events.append(CallUpdated(call.call_id, None, stream))

    def _register_response(self, tx: Transaction, response: Response, now: float) -> None:
        reg = self._registration
        if reg is None or response.status < 200:
            return
        if response.status in (401, 407) and reg.auth_tries < MAX_AUTH_TRIES:
            auth = self._credentials(tx.request, response)
            if auth is not None:
                reg.auth_tries += 1
                self._send_register(now, auth)
                return
        if response.status >= 300:
            self._events.append(RegistrationFailed(response.status, response.reason))
            return
        expires = reg.granted(response, self.local, now)
        self._events.append(Registered(expires))

    # -- helpers ---------------------------------------------------------------

    def _call(self, call_id: str, state: str) -> Call:
        call = self.calls.get(call_id)
        if call is None or call.state != state:
            raise SipLocalError(f"call {call_id} is not {state}: "
                                f"{call.state if call else 'unknown'}")
        return call

    def _end(self, call: Call, status: int, reason: str) -> None:
        if call.state != "ended":
            call.state = "ended"
            self._events.append(CallEnded(call.call_id, status, reason))
