"""The four SIP transaction state machines of RFC 3261 §17 as data (Figures 5–8).

As ``faxengine.t30.states`` does for T.30, every transition lives in one
table: ``TABLE[machine][state][event]`` gives the ``Transition`` -- the new
state and the actions in order.  ``faxengine.media.sip.transaction`` turns
what happens (a response arrived, the TU answered, a timer fired) into an
event, looks it up and performs the actions.  An event a state does not
list is ignored (a response retransmitted after the transaction moved on,
a request retransmitted while the TU has not answered yet).  ``diagram``
draws a machine; a test keeps docs/media.md equal to it.

Machines: ``invite-client`` (Figure 5), ``non-invite-client`` (6),
``invite-server`` (7), ``non-invite-server`` (8).

Events:

* client: a response arrived, by class: ``1xx``, ``2xx``, ``3xx-6xx``;
* server: ``request`` (the request again: a retransmission), ``ACK`` (for
  a non-2xx final response), and what the TU answers: ``TU 1xx``,
  ``TU 2xx``, ``TU 3xx-6xx``;
* ``timer A`` ... ``timer K`` (§17, Table 4), ``transport error``.

Timers (UDP; T1 = 500 ms the round-trip estimate, T2 = 4 s, T4 = 5 s):
A starts at T1 and doubles each time it fires; B, F, H and J are 64*T1;
D is 32 s; E and G start at T1 and double up to T2 (E stays at T2 once a
provisional response came); I and K are T4.  ``start X`` in a transition
(re)starts timer X with its next interval; entering a state stops every
timer the state does not list in ``TIMERS``.

RFC 3261 is followed as written: an INVITE server transaction ends when the
TU sends a 2xx, and the user agent core retransmits that 2xx itself until
the ACK comes (§13.3.1.4); an INVITE client transaction ends on a 2xx, and
the core sends the ACK (§13.2.2.4).  (RFC 6026's Accepted state is not
used.)
"""
from __future__ import annotations

from dataclasses import dataclass

TERMINATED = "Terminated"
MACHINES = ("invite-client", "non-invite-client", "invite-server", "non-invite-server")

T1, T2, T4 = 0.5, 4.0, 5.0
TIMER_D = 32.0

ACTIONS: dict[str, str] = {
    "send request": "send the request to the transport",
    "resend request": "send the request again",
    "send ACK": "send ACK for the non-2xx final response (same branch)",
    "pass to TU": "hand the response (client) or request (server) to the TU",
    "send 100": "send 100 Trying (the INVITE server's own, §17.2.1)",
    "send response": "send the TU's response, and keep it as the last response",
    "resend response": "send the last response again",
    "report timeout": "tell the TU the transaction timed out (408)",
    "report transport error": "tell the TU the transport failed (503)",
    **{f"start {t}": f"(re)start timer {t}" for t in "ABDEFGHIJK"},
}


@dataclass(frozen=True, slots=True)
class Transition:
    """Where an event leads: the new state and the actions, in order."""

    state: str
    actions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [a for a in self.actions if a not in ACTIONS]
        if unknown:
            raise ValueError(f"unknown SIP transaction action(s) {unknown}")


FAIL = {"transport error": Transition(TERMINATED, ("report transport error",))}

# what a machine does when it is created (its start state and first actions)
START: dict[str, Transition] = {
    "invite-client": Transition("Calling", ("send request", "start A", "start B")),
    "non-invite-client": Transition("Trying", ("send request", "start E", "start F")),
    "invite-server": Transition("Proceeding", ("send 100", "pass to TU")),
    "non-invite-server": Transition("Trying", ("pass to TU",)),
}


def _invite_client() -> dict[str, dict[str, Transition]]:
    responses = {
        "1xx": Transition("Proceeding", ("pass to TU",)),
        "2xx": Transition(TERMINATED, ("pass to TU",)),
        "3xx-6xx": Transition("Completed", ("send ACK", "pass to TU", "start D")),
    }
    return {
        "Calling": {**responses, **FAIL,
                    "timer A": Transition("Calling", ("resend request", "start A")),
                    "timer B": Transition(TERMINATED, ("report timeout",))},
        "Proceeding": responses,
        "Completed": {"3xx-6xx": Transition("Completed", ("send ACK",)), **FAIL,
                      "timer D": Transition(TERMINATED)},
    }


def _non_invite_client() -> dict[str, dict[str, Transition]]:
    final = Transition("Completed", ("pass to TU", "start K"))
    table = {}
    for state in ("Trying", "Proceeding"):
        table[state] = {
            "1xx": Transition("Proceeding", ("pass to TU",)),
            "2xx": final, "3xx-6xx": final, **FAIL,
            "timer E": Transition(state, ("resend request", "start E")),
            "timer F": Transition(TERMINATED, ("report timeout",)),
        }
    table["Completed"] = {"timer K": Transition(TERMINATED)}
    return table


def _invite_server() -> dict[str, dict[str, Transition]]:
    return {
        "Proceeding": {
            "request": Transition("Proceeding", ("resend response",)),
            "TU 1xx": Transition("Proceeding", ("send response",)),
            "TU 2xx": Transition(TERMINATED, ("send response",)),
            "TU 3xx-6xx": Transition("Completed", ("send response", "start G", "start H")),
            **FAIL,
        },
        "Completed": {
            "request": Transition("Completed", ("resend response",)),
            "timer G": Transition("Completed", ("resend response", "start G")),
            "timer H": Transition(TERMINATED, ("report timeout",)),
            "ACK": Transition("Confirmed", ("start I",)),
            **FAIL,
        },
        "Confirmed": {"timer I": Transition(TERMINATED)},
    }


def _non_invite_server() -> dict[str, dict[str, Transition]]:
    final = Transition("Completed", ("send response", "start J"))
    return {
        "Trying": {"TU 1xx": Transition("Proceeding", ("send response",)),
                   "TU 2xx": final, "TU 3xx-6xx": final},
        "Proceeding": {"request": Transition("Proceeding", ("resend response",)),
                       "TU 1xx": Transition("Proceeding", ("send response",)),
                       "TU 2xx": final, "TU 3xx-6xx": final, **FAIL},
        "Completed": {"request": Transition("Completed", ("resend response",)),
                      "timer J": Transition(TERMINATED), **FAIL},
    }


TABLE: dict[str, dict[str, dict[str, Transition]]] = {
    "invite-client": _invite_client(), "non-invite-client": _non_invite_client(),
    "invite-server": _invite_server(), "non-invite-server": _non_invite_server()}

# timers that run in each state: the ones its events name
TIMERS: dict[str, dict[str, tuple[str, ...]]] = {
    machine: {state: tuple(e[-1] for e in events if e.startswith("timer "))
              for state, events in states.items()}
    for machine, states in TABLE.items()
}


def response_class(status: int) -> str:
    """The event name of a response status: ``1xx``, ``2xx`` or ``3xx-6xx``."""
    return "1xx" if status < 200 else "2xx" if status < 300 else "3xx-6xx"


def interval(timer: str, fired: int, state: str) -> float:
    """Seconds until ``timer`` fires, after it fired ``fired`` times (§17 Table 4)."""
    if timer == "A":
        return T1 * 2 ** fired
    if timer in "EG":
        return T2 if state == "Proceeding" and timer == "E" else min(T1 * 2 ** fired, T2)
    if timer in "BFHJ":
        return 64 * T1
    if timer == "D":
        return TIMER_D
    return T4                      # I, K


def transition(machine: str, state: str, event: str) -> Transition | None:
    """The transition for ``event`` in ``state``, or None: ignore the event."""
    return TABLE[machine][state].get(event)


def diagram(machine: str) -> str:
    """The machine as a Mermaid ``stateDiagram-v2``."""
    start = START[machine]
    lines = ["stateDiagram-v2", f"    [*] --> {start.state}: {', '.join(start.actions)}"]
    for state, events in TABLE[machine].items():
        for event, t in events.items():
            target = "[*]" if t.state == TERMINATED else t.state
            label = event + (f" / {', '.join(t.actions)}" if t.actions else "")
            lines.append(f"    {state} --> {target}: {label}")
    return "\n".join(lines) + "\n"


TITLES = {"invite-client": "INVITE client transaction (Figure 5)",
          "non-invite-client": "Non-INVITE client transaction (Figure 6)",
          "invite-server": "INVITE server transaction (Figure 7)",
          "non-invite-server": "Non-INVITE server transaction (Figure 8)"}


def markdown() -> str:
    """The four diagrams as the generated section of docs/media.md."""
    return "\n".join(f"### {TITLES[m]}\n\n```mermaid\n{diagram(m)}```\n" for m in MACHINES)


if __name__ == "__main__":     # python -m faxengine.media.sip.states [--markdown | machine ...]
    import sys

    if sys.argv[1:] == ["--markdown"]:
        print(markdown(), end="")
    else:
        for name in sys.argv[1:] or MACHINES:
            print(f"%% SIP {name} transaction\n{diagram(name)}")
