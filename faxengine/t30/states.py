"""The T.30 state machine of phases B to E as data (T.30 §5, Figure 5-2; Annex A).

As in h11, every transition lives in one table: ``TABLE[side][state][event]``
gives the ``Transition`` -- the new state, the actions to perform in order,
and for the end of the call its result code.  The terminal engine turns
what happens (a frame heard, a timer run out, a page sent) into an event
name, looks the transition up, performs the actions and moves on.  An event
a state does not list is ignored, as T.30 wants for unexpected frames: the
timer of the state then brings a repeat or the end.  ``diagram`` draws the
table; the tests check it is complete and walk two tables against each
other.

Sides and where they start (phase A, CNG/CED, comes before):

* ``"sender"`` sends documents.  Calling: ``B:WAIT_DIS``.  Answering and
  polled: it sent DIS with bit 9 set, ``B:WAIT_DTC``.
* ``"receiver"`` receives them.  Answering: it sent DIS, ``B:WAIT_DCS``.
  Calling and polling: ``B:WAIT_DIS``, then it sends DTC.

Events:

* a frame heard, by its T.30 name: ``DIS``, ``DCS``, ``CFR``, ``MCF``...;
  PPS and EOR by their post-page command: ``PPS-NULL``, ``EOR-MPS``...
  (the PRI-EOM/MPS/EOP variants map to EOM/MPS/EOP).
* judgements the engine makes when a frame or signal arrives:
  ``INCOMPATIBLE`` (a DIS/DTC with which ``choose_dcs`` finds no mode, or a
  DCS this terminal cannot receive), ``FTT_AT_LOWEST`` (FTT and
  ``fallback`` has no lower rate), ``RTN_EXHAUSTED`` (the page was rejected,
  or met by DIS, ``PAGE_RETRIES`` times), ``PPR_4TH`` (the fourth PPR for the same block:
  continue with CTC) and ``PPR_GIVE_UP`` (stop correcting: EOR),
  ``TCF_GOOD`` / ``TCF_BAD``, ``PAGE_GOOD`` / ``PAGE_POOR`` / ``PAGE_BAD``
  (a non-ECM page judged by its bad lines: MCF, RTP or RTN),
  ``PPS-INCOMPLETE`` (frames are missing), ``PPS-REPEAT`` (a PPS for the
  block already confirmed: our MCF was lost).
* the sender's progress: ``PAGE_SENT-MPS``/``-EOM``/``-EOP`` (non-ECM page
  out, this post-page command follows), ``BLOCK_SENT-NULL``/``-MPS``/
  ``-EOM``/``-EOP`` (ECM block or retransmission out).
* timers, named as in T.30 §5.4.3.2: ``T1`` (35 s to find the other
  terminal), ``T2`` (6 s waiting for a command), ``T4`` (3 s waiting for a
  response; the engine turns the expiry after the ``COMMAND_TRIES``-th
  sending into ``T4_EXHAUSTED``),
  ``T5`` (60 s of RNR).  ``TIMERS`` says which run in each state.
  T1 runs again in the phase B that follows EOM; when it runs out there
  the engine says ``T1_AFTER_EOM``: the other terminal stopped in the
  middle of the document (pages before EOM did get through), which is not
  a number that never answered (``TIMEOUT_T1``, not ``NO_ANSWER``).
* ``LOCAL_ABORT``: the user hung up.

Two states run no timer because the engine always answers them itself:
``C:SEND_PAGE`` ends when the modem has sent the page or block, and
``B:RECEIVE_TCF`` ends with ``TCF_GOOD`` or ``TCF_BAD`` when the TCF
carrier drops or does not come (no TCF is a bad TCF).

Result codes: ``OK``, ``NO_ANSWER``, ``INCOMPATIBLE``, ``TRAINING_FAILED``,
``PAGE_REJECTED``, ``REMOTE_DISCONNECT``, ``TIMEOUT_T1``, ``TIMEOUT_T2``,
``TIMEOUT_T4``, ``TIMEOUT_T5``, ``LOCAL_ABORT``.

``PHASE_D`` says, for each sender state that waits for a post-page
response, what was sent (a non-ECM page's command, a PPS, RR after RNR,
EOR) and with which post-page command, so that the engine asks the table
rather than the state's name.
"""
from __future__ import annotations

from dataclasses import dataclass

from faxengine.levels import SAMPLE_RATE

END = "END"
SIDES = ("sender", "receiver")
START: dict[tuple[str, str], str] = {
    ("sender", "calling"): "B:WAIT_DIS",
    ("sender", "answering"): "B:WAIT_DTC",
    ("receiver", "calling"): "B:WAIT_DIS",
    ("receiver", "answering"): "B:WAIT_DCS",
}
PAGE_RETRIES = 3        # RTN answered by retraining and resending, at most this often
COMMAND_TRIES = 3       # T.30 §5.4.3.2: a command is sent at most 3 times (T4, CRP)

# T.30 §5.4.3.2 timer durations in seconds (T4 of an automatic terminal)
TIMER_SECONDS: dict[str, float] = {"T1": 35.0, "T2": 6.0, "T3": 10.0, "T4": 3.0, "T5": 60.0}


def timer_samples(name: str) -> int:
    """A timer's duration in samples at 8000 samples/s (engines count samples)."""
    return round(TIMER_SECONDS[name] * SAMPLE_RATE)

# what each action asks the engine to do
ACTIONS: dict[str, str] = {
    "send DIS": "send (CSI and) DIS over V.21; repeated DIS too",
    "send DTC": "send (CIG and) DTC over V.21 to poll",
    "choose DCS": "choose_dcs from the remote DIS/DTC and the document",
    "fall back": "fallback() to the next lower rate after FTT",
    "send DCS": "send (TSI and) DCS over V.21",
    "send TCF": "send 1.5 s of zeros with the image modem at the DCS rate",
    "send page": "send the next page (or the same page again after RTN)",
    "send block": "send the next ECM block's FCD frames",
    "resend frames": "send the FCD frames the last PPR asked for",
    "send MPS": "send MPS", "send EOM": "send EOM", "send EOP": "send EOP",
    "send PPS-NULL": "send 3 RCP then PPS-NULL",
    "send PPS-MPS": "send 3 RCP then PPS-MPS",
    "send PPS-EOM": "send 3 RCP then PPS-EOM",
    "send PPS-EOP": "send 3 RCP then PPS-EOP",
    "send CTC": "send CTC (continue to correct, possibly at a lower rate)",
    "send EOR": "send EOR with the pending post-page command",
    "send RR": "send RR (receiver ready?) after RNR",
    "repeat command": "send the last command again (after T4 or CRP)",
    "send CFR": "send CFR", "send FTT": "send FTT",
    "send MCF": "send MCF", "send RTP": "send RTP", "send RTN": "send RTN",
    "send PPR": "send PPR with the map of missing frames",
    "send CTR": "send CTR", "send ERR": "send ERR",
    "repeat response": "send the last response again (the command came again)",
    "save page": "write the received page to the TIFF file",
    "discard page": "drop the page received (RTN: the sender sends it again)",
    "send DCN": "send DCN, then hang up",
    "hang up": "end the call without sending anything",
}


@dataclass(frozen=True, slots=True)
class Transition:
    """Where an event leads: new state, actions in order, result at the end."""

    state: str
    actions: tuple[str, ...] = ()
    result: str | None = None

    def __post_init__(self) -> None:
        unknown = [a for a in self.actions if a not in ACTIONS]
        if unknown:
            raise ValueError(f"unknown T.30 action(s) {unknown}")
        if (self.state == END) != (self.result is not None):
            raise ValueError("a transition ends the call exactly when it has a result")


def _end(result: str, *actions: str) -> Transition:
    return Transition(END, actions or ("hang up",), result)


def _common(timeouts: dict[str, Transition]) -> dict[str, Transition]:
    """What every waiting state does with DCN, a local abort and its timers."""
    return {"DCN": _end("REMOTE_DISCONNECT"),
            "LOCAL_ABORT": _end("LOCAL_ABORT", "send DCN"), **timeouts}


def _t4(state: str) -> dict[str, Transition]:
    """A command waits for its response: repeat it on T4 or CRP, up to 3 times."""
    return {"T4": Transition(state, ("repeat command",)),
            "CRP": Transition(state, ("repeat command",)),
            "T4_EXHAUSTED": _end("TIMEOUT_T4", "send DCN")}


def _sender() -> dict[str, dict[str, Transition]]:
    train = ("send DCS", "send TCF")
    table: dict[str, dict[str, Transition]] = {
        "B:WAIT_DIS": {
            "DIS": Transition("B:WAIT_CFR", ("choose DCS", *train)),
            "INCOMPATIBLE": _end("INCOMPATIBLE", "send DCN"),
            "T1_AFTER_EOM": _end("TIMEOUT_T1", "send DCN"),
            **_common({"T1": _end("NO_ANSWER")}),
        },
        "B:WAIT_DTC": {
            "DTC": Transition("B:WAIT_CFR", ("choose DCS", *train)),
            "INCOMPATIBLE": _end("INCOMPATIBLE", "send DCN"),
            **_common({"T4": Transition("B:WAIT_DTC", ("send DIS",)),
                       "T1": _end("NO_ANSWER", "send DCN")}),
        },
        "B:WAIT_CFR": {
            "CFR": Transition("C:SEND_PAGE", ("send page",)),
            "FTT": Transition("B:WAIT_CFR", ("fall back", *train)),
            "FTT_AT_LOWEST": _end("TRAINING_FAILED", "send DCN"),
            "DIS": Transition("B:WAIT_CFR", train),       # our DCS was not heard
            **_common(_t4("B:WAIT_CFR")),
        },
        "C:SEND_PAGE": {
            **{f"PAGE_SENT-{c}": Transition(f"D:SENT_{c}", (f"send {c}",))
               for c in ("MPS", "EOM", "EOP")},
            **{f"BLOCK_SENT-{c}": Transition(f"D:SENT_PPS-{c}", (f"send PPS-{c}",))
               for c in ("NULL", "MPS", "EOM", "EOP")},
            "LOCAL_ABORT": _end("LOCAL_ABORT", "send DCN"),
        },
        "D:WAIT_CTR": {
            "CTR": Transition("C:SEND_PAGE", ("resend frames",)),
            **_common(_t4("D:WAIT_CTR")),
        },
    }
    after_mcf = {   # the post-page command -> what follows its confirmation
        "MPS": Transition("C:SEND_PAGE", ("send page",)),
        "EOM": Transition("B:WAIT_DIS"),
        "EOP": _end("OK", "send DCN"),
    }
    for cmd in ("MPS", "EOM", "EOP"):
        state = f"D:SENT_{cmd}"
        table[state] = {
            "MCF": after_mcf[cmd],
            # RTP: page accepted, retrain before going on (an EOM goes back to phase B)
            "RTP": {"MPS": Transition("B:WAIT_CFR", train), "EOM": after_mcf["EOM"],
                    "EOP": after_mcf["EOP"]}[cmd],
            # RTN: page not accepted: retrain and send it again
            "RTN": Transition("B:WAIT_CFR", train),
            "RTN_EXHAUSTED": _end("PAGE_REJECTED", "send DCN"),
            **_common(_t4(state)),
        }
    # DIS while a post-page command waits for its response: the receiver is
    # back in phase B (T.30 §5.3.2 / Figure 5-2: DIS is its first command
    # there).  After EOM that is where it should be: our command was taken
    # and its MCF lost (spandsp sends DIS when its T2 runs out after that
    # MCF), so the page counts as confirmed.  After MPS or EOP the page was
    # not confirmed: it is sent again after the retraining.  Either way phase
    # B goes on as with any DIS: DCS from it, TCF.
    # (a page that goes unconfirmed so PAGE_RETRIES times is given up, as after RTN)
    rediscover = {"DIS": Transition("B:WAIT_CFR", ("choose DCS", *train)),
                  "INCOMPATIBLE": _end("INCOMPATIBLE", "send DCN"),
                  "RTN_EXHAUSTED": _end("PAGE_REJECTED", "send DCN")}
    for state in [name for name in table if name.startswith("D:SENT_")]:
        table[state].update(rediscover)
    after_block = {"NULL": Transition("C:SEND_PAGE", ("send block",)),
                   "MPS": Transition("C:SEND_PAGE", ("send block",)),
                   "EOM": after_mcf["EOM"], "EOP": after_mcf["EOP"]}
    for cmd in ("NULL", "MPS", "EOM", "EOP"):
        for state, timers in ((f"D:SENT_PPS-{cmd}", _t4(f"D:SENT_PPS-{cmd}")),
                              (f"D:RNR_{cmd}", {"T5": _end("TIMEOUT_T5", "send DCN"),
                                                "T4": Transition(f"D:RNR_{cmd}", ("send RR",)),
                                                "CRP": Transition(f"D:RNR_{cmd}", ("send RR",))})):
            table[state] = {
                "MCF": after_block[cmd],
                "PPR": Transition("C:SEND_PAGE", ("resend frames",)),
                "PPR_4TH": Transition("D:WAIT_CTR", ("send CTC",)),
                "PPR_GIVE_UP": Transition(f"D:SENT_EOR-{cmd}", ("send EOR",)),
                "RNR": Transition(f"D:RNR_{cmd}", ("send RR",)),
                **_common(timers),
            }
        table[f"D:SENT_EOR-{cmd}"] = {
            "ERR": after_block[cmd],
            "RNR": Transition(f"D:SENT_EOR-{cmd}", ("repeat command",)),
            **_common(_t4(f"D:SENT_EOR-{cmd}")),
        }
        for state in (f"D:SENT_PPS-{cmd}", f"D:RNR_{cmd}", f"D:SENT_EOR-{cmd}"):
            table[state].update(rediscover)
    return table


def _receiver() -> dict[str, dict[str, Transition]]:
    t2 = {"T2": _end("TIMEOUT_T2", "send DCN")}
    table: dict[str, dict[str, Transition]] = {
        "B:WAIT_DIS": {
            "DIS": Transition("B:WAIT_DCS", ("send DTC",)),
            "INCOMPATIBLE": _end("INCOMPATIBLE", "send DCN"),
            **_common({"T1": _end("NO_ANSWER")}),
        },
        "B:WAIT_DCS": {
            "DCS": Transition("B:RECEIVE_TCF"),
            "INCOMPATIBLE": _end("INCOMPATIBLE", "send DCN"),
            "CRP": Transition("B:WAIT_DCS", ("repeat command",)),
            "T1_AFTER_EOM": _end("TIMEOUT_T1", "send DCN"),
            **_common({"T4": Transition("B:WAIT_DCS", ("repeat command",)),
                       "T1": _end("NO_ANSWER", "send DCN")}),
        },
        "B:RECEIVE_TCF": {
            "TCF_GOOD": Transition("C:RECEIVE_PAGE", ("send CFR",)),
            "TCF_BAD": Transition("B:WAIT_RETRAIN", ("send FTT",)),
            **_common({}),
        },
        # after EOM was answered: back to phase B.  The sender may send DCS at
        # once; when T2 runs out first, we send DIS again (spandsp does the same)
        "B:AFTER_EOM": {
            "DCS": Transition("B:RECEIVE_TCF"),
            "T2": Transition("B:WAIT_DCS", ("send DIS",)),
            **{c: Transition("B:AFTER_EOM", ("repeat response",))
               for c in ("EOM", "PPS-REPEAT", "CRP")},
            **_common({}),
        },
        # after FTT, RTP or RTN: the sender trains again with DCS
        "B:WAIT_RETRAIN": {
            "DCS": Transition("B:RECEIVE_TCF"),
            "INCOMPATIBLE": _end("INCOMPATIBLE", "send DCN"),
            **{c: Transition("B:WAIT_RETRAIN", ("repeat response",))
               for c in ("MPS", "EOM", "EOP", "CRP")},
            **_common(t2),
        },
        "C:RECEIVE_PAGE": {
            "DCS": Transition("B:RECEIVE_TCF"),                 # our CFR was not heard
            "PAGE_GOOD": Transition("D:PAGE_GOOD"),
            "PAGE_POOR": Transition("D:PAGE_POOR"),
            "PAGE_BAD": Transition("D:PAGE_BAD"),
            # ECM: a block ends with PPS
            "PPS-INCOMPLETE": Transition("C:RECEIVE_PAGE", ("send PPR",)),
            "PPS-REPEAT": Transition("C:RECEIVE_PAGE", ("repeat response",)),
            "PPS-NULL": Transition("C:RECEIVE_PAGE", ("send MCF",)),
            "PPS-MPS": Transition("C:RECEIVE_PAGE", ("save page", "send MCF")),
            "PPS-EOM": Transition("B:AFTER_EOM", ("save page", "send MCF")),
            "PPS-EOP": Transition("E:WAIT_DCN", ("save page", "send MCF")),
            "CTC": Transition("C:RECEIVE_PAGE", ("send CTR",)),
            "EOR-NULL": Transition("C:RECEIVE_PAGE", ("send ERR",)),
            "EOR-MPS": Transition("C:RECEIVE_PAGE", ("save page", "send ERR")),
            "EOR-EOM": Transition("B:AFTER_EOM", ("save page", "send ERR")),
            "EOR-EOP": Transition("E:WAIT_DCN", ("save page", "send ERR")),
            "RR": Transition("C:RECEIVE_PAGE", ("repeat response",)),
            # non-ECM: our MCF to MPS was lost, the command comes again
            **{c: Transition("C:RECEIVE_PAGE", ("repeat response",)) for c in ("MPS", "CRP")},
            **_common(t2),
        },
        "E:WAIT_DCN": {
            "EOP": Transition("E:WAIT_DCN", ("repeat response",)),
            "PPS-REPEAT": Transition("E:WAIT_DCN", ("repeat response",)),
            "CRP": Transition("E:WAIT_DCN", ("repeat response",)),
            "DCN": _end("OK"),
            "T2": _end("OK"),
            "LOCAL_ABORT": _end("OK", "send DCN"),
        },
    }
    # non-ECM page judged; the post-page command decides what follows the answer
    answers = {"D:PAGE_GOOD": "MCF", "D:PAGE_POOR": "RTP", "D:PAGE_BAD": "RTN"}
    for state, answer in answers.items():
        keep = ("discard page",) if answer == "RTN" else ("save page",)
        send = keep + (f"send {answer}",)
        if answer == "RTN":
            rows = {c: Transition("B:WAIT_RETRAIN", send) for c in ("MPS", "EOM", "EOP")}
        else:
            rows = {"MPS": Transition("C:RECEIVE_PAGE" if answer == "MCF" else "B:WAIT_RETRAIN",
                                      send),
                    "EOM": Transition("B:AFTER_EOM", send),
                    "EOP": Transition("E:WAIT_DCN", send)}
        table[state] = {**rows, **_common(t2)}
    return table


TABLE: dict[str, dict[str, dict[str, Transition]]] = {
    "sender": _sender(), "receiver": _receiver()}


@dataclass(frozen=True, slots=True)
class Pending:
    """What a sender state in phase D waits to have answered.

    ``sent`` is ``"page"`` (a non-ECM page's MPS/EOM/EOP), ``"pps"`` (an
    ECM block's PPS), ``"rnr"`` (RR after the receiver said RNR) or
    ``"eor"`` (EOR after giving up on a block); ``post`` is the post-page
    command: ``"MPS"``, ``"EOM"``, ``"EOP"``, or ``"NULL"`` for a block
    inside a page.
    """

    sent: str
    post: str

    def __post_init__(self) -> None:
        if self.sent not in ("page", "pps", "rnr", "eor"):
            raise ValueError(f"unknown phase-D wait {self.sent!r}")
        if self.post not in ("MPS", "EOM", "EOP") + (("NULL",) if self.ecm else ()):
            raise ValueError(f"{self.sent} cannot wait with post-page command {self.post!r}")

    @property
    def ecm(self) -> bool:
        """An ECM block's answer (MCF/ERR confirm a block, not a page)."""
        return self.sent != "page"


# sender state -> what it waits to have answered (the states named D:SENT_x,
# D:SENT_PPS-x, D:RNR_x, D:SENT_EOR-x above); D:WAIT_CTR waits for CTR only
PHASE_D: dict[str, Pending] = {
    **{f"D:SENT_{c}": Pending("page", c) for c in ("MPS", "EOM", "EOP")},
    **{state: Pending(sent, c) for c in ("NULL", "MPS", "EOM", "EOP")
       for sent, state in (("pps", f"D:SENT_PPS-{c}"), ("rnr", f"D:RNR_{c}"),
                           ("eor", f"D:SENT_EOR-{c}"))},
}

# timers that run in each state (the engine starts them on entry)
TIMERS: dict[str, dict[str, tuple[str, ...]]] = {
    side: {state: tuple(t for t in ("T1", "T2", "T4", "T5") if t in events)
           for state, events in states.items()}
    for side, states in TABLE.items()
}


def transition(side: str, state: str, event: str) -> Transition | None:
    """The transition for ``event`` in ``state``, or None: ignore the event."""
    return TABLE[side][state].get(event)


def diagram(side: str) -> str:
    """The side's state machine as a Mermaid ``stateDiagram-v2``."""
    lines = ["stateDiagram-v2"]
    for (s, _), start in START.items():
        if s == side:
            lines.append(f"    [*] --> {_node(start)}")
    for state, events in TABLE[side].items():
        for event, t in events.items():
            target = "[*]" if t.state == END else _node(t.state)
            label = event + (f" / {', '.join(t.actions)}" if t.actions else "")
            if t.result:
                label += f" ({t.result})"
            lines.append(f"    {_node(state)} --> {target}: {label}")
    return "\n".join(lines) + "\n"


def _node(state: str) -> str:
    return state.replace(":", "_").replace("-", "_")


if __name__ == "__main__":     # python -m faxengine.t30.states [sender|receiver]
    import sys

    for name in sys.argv[1:] or SIDES:
        print(f"%% T.30 {name}\n{diagram(name)}")
