"""SIP transactions (RFC 3261 §17): the engine that runs ``states.TABLE``.

A transaction is one request and its responses.  It takes the events of
its machine (a response arrived, the TU answered, a timer fired), looks up
the transition in ``faxengine.media.sip.states`` and performs its actions:
sending or resending over UDP, handing responses to the TU (the user agent
core), starting timers.  It never reads a clock: ``now`` comes in with
every event and ``next_timer`` says when it next wants to be woken.

Matching (§17.1.3, §17.2.3): a response belongs to the client transaction
with the branch of its top Via and the method of its CSeq; a request to the
server transaction with the branch, sent-by and method of its top Via (ACK
matches the INVITE's).  Requests from RFC 2543 peers (a branch without the
``z9hG4bK`` cookie) are matched by Call-ID, CSeq, From tag and Via instead.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from faxengine.media.sip import states
from faxengine.media.sip.message import BRANCH_MAGIC, Request, Response, make_response
from faxengine.media.sip.states import START, TERMINATED, TIMERS, Transition

if TYPE_CHECKING:
    from collections.abc import Hashable

Address = tuple[str, int]


class Owner(Protocol):
    """What a transaction needs from the user agent core (its TU and transport)."""

    def transmit(self, data: bytes, addr: Address) -> None: ...
    def tu_response(self, tx: "Transaction", response: Response, now: float) -> None: ...
    def tu_request(self, tx: "Transaction", request: Request, now: float) -> None: ...
    def tu_failure(self, tx: "Transaction", status: int, now: float) -> None: ...


def client_key(branch: str | None, method: str) -> "Hashable":
    return ("client", branch, method)


def server_key(request: Request) -> "Hashable":
    """The server transaction a request (or its ACK, for INVITE) belongs to."""
    via = request.vias[0]
    method = "INVITE" if request.method == "ACK" else request.method
    if via.branch and via.branch.startswith(BRANCH_MAGIC):
        return ("server", via.branch, via.sent_by, method)
    number, _ = request.cseq
    return ("server", request.call_id, number, request.from_.tag, str(via), method)


class Transaction:
    """One client or server transaction of one of the four machines.

    Args:
        machine: ``invite-client``, ``non-invite-client``, ``invite-server``
            or ``non-invite-server``.
        request: the request that starts it.
        dest: where requests (client) or responses (server) go.
        owner: the user agent core.
        now: the time it starts.
    """

    def __init__(self, machine: str, request: Request, dest: Address, owner: Owner,
                 now: float) -> None:
        self.machine = machine
        self.request = request
        self.dest = dest
        self.owner = owner
        self.is_client = machine.endswith("client")
        self.key = (client_key(request.vias[0].branch, request.method) if self.is_client
                    else server_key(request))
        self.state = ""
        self.last_response: Response | None = None
        self._pending: Response | None = None        # the response an action sends
        self._deadlines: dict[str, float] = {}
        self._fired: dict[str, int] = {}
        self._data = request.encode() if self.is_client else b""
        self._apply(START[machine], now)

    @property
    def terminated(self) -> bool:
        return self.state == TERMINATED

    def next_timer(self) -> float | None:
        return min(self._deadlines.values(), default=None)

    # -- events --------------------------------------------------------------

    def receive_response(self, response: Response, now: float) -> None:
        """A response that matched this client transaction."""
        self._pending = response
        self._event(states.response_class(response.status), now)

    def receive_request(self, request: Request, now: float) -> None:
        """The request again (a retransmission), or the ACK of a non-2xx final."""
        self._event("ACK" if request.method == "ACK" else "request", now)

    def respond(self, response: Response, now: float) -> None:
        """The TU's response, sent by this server transaction."""
        self._pending = response
        self._event("TU " + states.response_class(response.status), now)

    def transport_error(self, now: float) -> None:
        self._event("transport error", now)

    def fire_timers(self, now: float) -> None:
        """Fire every timer due by ``now``, earliest first."""
        while not self.terminated:
            due = sorted((t, name) for name, t in self._deadlines.items() if t <= now)
            if not due:
                return
            name = due[0][1]
            del self._deadlines[name]
            self._event(f"timer {name}", now)

    def _event(self, event: str, now: float) -> None:
        if self.terminated:
            return
        t = states.transition(self.machine, self.state, event)
        if t is not None:
            self._apply(t, now)

    # -- actions -------------------------------------------------------------

    def _apply(self, t: Transition, now: float) -> None:
        self.state = t.state
        running = TIMERS[self.machine].get(t.state, ())
        self._deadlines = {n: d for n, d in self._deadlines.items() if n in running}
        for action in t.actions:
            self._perform(action, now)

    def _perform(self, action: str, now: float) -> None:
        if action.startswith("start "):
            name = action[-1]
            fired = self._fired.get(name, 0)
            self._deadlines[name] = now + states.interval(name, fired, self.state)
            self._fired[name] = fired + 1
        elif action in ("send request", "resend request"):
            self.owner.transmit(self._data, self.dest)
        elif action == "send ACK":
            assert self._pending is not None
            self.owner.transmit(self._ack(self._pending).encode(), self.dest)
        elif action == "pass to TU":
            if self.is_client:
                assert self._pending is not None
                self.owner.tu_response(self, self._pending, now)
            else:
                self.owner.tu_request(self, self.request, now)
        elif action == "send 100":
            self._send_response(make_response(self.request, 100))
        elif action == "send response":
            assert self._pending is not None
            self._send_response(self._pending)
        elif action == "resend response":
            if self.last_response is not None:
                self.owner.transmit(self.last_response.encode(), self.dest)
        elif action == "report timeout":
            self.owner.tu_failure(self, 408, now)
        elif action == "report transport error":
            self.owner.tu_failure(self, 503, now)

    def _send_response(self, response: Response) -> None:
        self.last_response = response
        self.owner.transmit(response.encode(), self.dest)

    def _ack(self, response: Response) -> Request:
        """ACK for a non-2xx final response (§17.1.1.3): same branch, the response's To."""
        r = self.request
        number, _ = r.cseq
        headers = [("Via", r.get_all("Via")[0]), ("From", r.get("From") or ""),
                   ("To", response.get("To") or ""), ("Call-ID", r.call_id),
                   ("CSeq", f"{number} ACK"), ("Max-Forwards", "70")]
        headers += [("Route", v) for v in r.get_all("Route")]
        return Request(headers=headers, method="ACK", uri=r.uri)
