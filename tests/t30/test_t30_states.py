"""The T.30 transition table on its own: complete, consistent, and two tables talk.

The pairing harness plays a sender's and a receiver's tables against each
other over a fake link: each "send X" action becomes event X at the peer,
and a script decides what the engine would judge (TCF, page quality,
missing ECM frames).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import pytest

from faxengine.t30.states import (ACTIONS, COMMAND_TRIES, END, PAGE_RETRIES, SIDES, START,
                                  TABLE, TIMER_SECONDS, TIMERS, Transition, diagram,
                                  timer_samples, transition)

FRAME_ACTIONS = {"send DIS": "DIS", "send DTC": "DTC", "send DCS": "DCS", "send CFR": "CFR",
                 "send MPS": "MPS", "send EOM": "EOM", "send EOP": "EOP", "send MCF": "MCF",
                 "send RTP": "RTP", "send CTC": "CTC", "send CTR": "CTR",
                 "send ERR": "ERR", "send RR": "RR", "send DCN": "DCN"}


def reachable(side: str) -> set[str]:
    todo = [s for (sd, _), s in START.items() if sd == side]
    seen: set[str] = set()
    while todo:
        state = todo.pop()
        if state in seen or state == END:
            continue
        seen.add(state)
        todo.extend(t.state for t in TABLE[side][state].values())
    return seen


@pytest.mark.parametrize("side", SIDES)
def test_every_state_is_reachable_and_every_target_exists(side):
    assert reachable(side) == set(TABLE[side])
    for state, events in TABLE[side].items():
        for event, t in events.items():
            assert t.state == END or t.state in TABLE[side], (state, event)


@pytest.mark.parametrize("side", SIDES)
def test_every_state_can_end(side):
    for state, events in TABLE[side].items():
        assert "LOCAL_ABORT" in events, state
        # sending, or judging TCF: the engine's own judgement always comes
        if state not in ("C:SEND_PAGE", "B:RECEIVE_TCF"):
            assert "DCN" in events and TIMERS[side][state], state


def test_no_waiting_without_a_way_out_by_timer():
    # a state that waits for the far end must have a timer that ends or repeats
    for side in SIDES:
        for state, timers in TIMERS[side].items():
            for timer in timers:
                t = TABLE[side][state][timer]
                assert t.state == END or t.actions, (side, state, timer)


def test_transition_validation_and_lookup():
    with pytest.raises(ValueError, match="unknown"):
        Transition("X", ("send NOTHING",))
    with pytest.raises(ValueError, match="result"):
        Transition(END)
    assert transition("sender", "B:WAIT_DIS", "NSF") is None       # ignored
    assert transition("sender", "B:WAIT_DIS", "DIS").actions == (
        "choose DCS", "send DCS", "send TCF")
    assert all(a in ACTIONS for s in SIDES for e in TABLE[s].values() for t in e.values()
               for a in t.actions)


def test_diagram_lists_every_transition():
    text = diagram("sender")
    assert text.startswith("stateDiagram-v2\n    [*] --> B_WAIT_DIS\n")
    assert text.count("-->") == 2 + sum(len(e) for e in TABLE["sender"].values())
    assert "D_SENT_PPS_EOP --> [*]: MCF / send DCN (OK)" in text


# --- two tables over a fake link ------------------------------------------

@dataclass
class Script:
    """What the engines would decide; lists are consumed in order, then defaults."""

    pages: int = 1
    ecm: bool = False
    blocks_per_page: int = 1
    tcf: list[bool] = field(default_factory=list)            # False = TCF_BAD
    rates: int = 6                                           # fallbacks available + 1
    quality: list[str] = field(default_factory=list)         # GOOD / POOR / BAD
    incomplete: list[bool] = field(default_factory=list)     # PPS finds frames missing
    give_up_after: int | None = None                         # PPRs before EOR instead of CTC
    eom_after: set[int] = field(default_factory=set)         # pages followed by EOM
    receiver_gone_after: int | None = None                   # events before it falls silent


@dataclass
class Side:
    side: str
    state: str
    sent: list[str] = field(default_factory=list)
    result: str | None = None
    saved: int = 0
    events: list[str] = field(default_factory=list)


def run_call(script: Script, caller: str = "sender", limit: int = 500):
    """Play both tables until both calls end; returns the two sides."""
    sender = Side("sender", START["sender", "calling" if caller == "sender" else "answering"])
    receiver = Side("receiver", START["receiver",
                                       "answering" if caller == "sender" else "calling"])
    peer = {"sender": receiver, "receiver": sender}
    queue: deque[tuple[Side, str]] = deque()
    first = receiver if caller == "sender" else sender     # the answering side's DIS
    first.sent.append("DIS")
    queue.append((peer[first.side], "DIS"))
    tcf, quality, incomplete = deque(script.tcf), deque(script.quality), deque(script.incomplete)
    n = {"page": 0, "block": 0, "ftt": 0, "rtn": 0, "ppr": 0}

    def tag() -> str:            # what follows the current block or page
        if script.ecm and n["block"] < script.blocks_per_page - 1:
            return "NULL"
        if n["page"] == script.pages - 1:
            return "EOP"
        return "EOM" if n["page"] in script.eom_after else "MPS"

    def send(me: Side, name: str, event: str | None = None) -> None:
        me.sent.append(name)
        queue.append((peer[me.side], event or name))

    for _ in range(limit):
        if sender.result and receiver.result:
            break
        if not queue:           # both wait: the shortest timer runs out
            waiting = [(TIMER_SECONDS[t], side, t) for side in (sender, receiver)
                       if side.result is None for t in TIMERS[side.side][side.state]]
            if not waiting:
                break
            _, side, timer = min(waiting, key=lambda w: w[0])
            n[f"{side.side} {timer}"] = n.get(f"{side.side} {timer}", 0) + 1
            if timer == "T4" and n[f"{side.side} {timer}"] >= COMMAND_TRIES:
                timer = "T4_EXHAUSTED"     # the engine counts the repeats
            queue.append((side, timer))
        me, event = queue.popleft()
        if me.result is not None:
            continue
        if me is receiver and script.receiver_gone_after is not None \
                and len(me.events) >= script.receiver_gone_after:
            me.result = "GONE"         # a silent line: it hears and says nothing more
            continue
        t = transition(me.side, me.state, event)
        me.events.append(event)
        if t is None:
            continue
        if me.side == "sender" and event in ("MCF", "RTP", "ERR"):     # confirmed: move on
            if me.state.endswith("NULL"):
                n["block"] += 1
            else:
                n["page"], n["block"], n["rtn"] = n["page"] + 1, 0, 0
        me.state, me.result = t.state, t.result
        for action in t.actions:
            if action in FRAME_ACTIONS:
                send(me, FRAME_ACTIONS[action])
            elif action == "send FTT":
                n["ftt"] += 1
                send(me, "FTT", "FTT" if n["ftt"] < script.rates else "FTT_AT_LOWEST")
            elif action == "send RTN":
                n["rtn"] += 1
                send(me, "RTN", "RTN" if n["rtn"] <= PAGE_RETRIES else "RTN_EXHAUSTED")
            elif action == "send TCF":
                queue.append((receiver, "TCF_GOOD" if not tcf or tcf.popleft() else "TCF_BAD"))
            elif action in ("send page", "send block", "resend frames"):
                if script.ecm:
                    queue.append((sender, f"BLOCK_SENT-{tag()}"))
                else:
                    queue.append((receiver, f"PAGE_{quality.popleft() if quality else 'GOOD'}"))
                    queue.append((sender, f"PAGE_SENT-{tag()}"))
            elif action.startswith("send PPS-"):
                missing = incomplete.popleft() if incomplete else False
                send(me, action[5:], "PPS-INCOMPLETE" if missing else action[5:])
            elif action == "send PPR":
                n["ppr"] += 1
                if script.give_up_after is not None and n["ppr"] >= script.give_up_after:
                    send(me, "PPR", "PPR_GIVE_UP")
                else:
                    send(me, "PPR", "PPR_4TH" if n["ppr"] % 4 == 0 else "PPR")
            elif action == "send EOR":
                send(me, f"EOR-{tag()}")
            elif action in ("repeat command", "repeat response"):
                send(me, me.sent[-1])
            elif action == "save page":
                me.saved += 1
            # choose DCS, fall back, discard page, hang up: the engine's bookkeeping
        if me.side == "receiver" and any(a in t.actions for a in ("send MCF", "send ERR")):
            n["ppr"] = 0
    return sender, receiver


def ecm_script(**kw) -> Script:
    return Script(ecm=True, **kw)


def test_three_pages_non_ecm():
    sender, receiver = run_call(Script(pages=3))
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 3)
    assert sender.sent == ["DCS", "MPS", "MPS", "EOP", "DCN"]
    assert receiver.sent == ["DIS", "CFR", "MCF", "MCF", "MCF"]


def test_ftt_falls_back_then_succeeds():
    sender, receiver = run_call(Script(tcf=[False, False, True]))
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 1)
    assert sender.sent.count("DCS") == 3 and receiver.sent.count("FTT") == 2


def test_training_fails_at_every_rate():
    sender, receiver = run_call(Script(tcf=[False] * 10, rates=6))
    assert sender.result == "TRAINING_FAILED" and receiver.result == "REMOTE_DISCONNECT"
    assert receiver.sent.count("FTT") == 6 and sender.sent[-1] == "DCN"


def test_rtn_answered_by_retrain_and_resend():
    sender, receiver = run_call(Script(pages=3, quality=["GOOD", "BAD", "GOOD", "GOOD"]))
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 3)
    assert receiver.sent == ["DIS", "CFR", "MCF", "RTN", "CFR", "MCF", "MCF"]
    assert sender.sent.count("DCS") == 2


def test_rtp_keeps_the_page_and_retrains():
    sender, receiver = run_call(Script(pages=2, quality=["POOR", "GOOD"]))
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 2)
    assert receiver.sent == ["DIS", "CFR", "RTP", "CFR", "MCF"]


def test_page_rejected_every_time():
    sender, receiver = run_call(Script(quality=["BAD"] * 10))
    assert sender.result == "PAGE_REJECTED" and receiver.result == "REMOTE_DISCONNECT"
    assert receiver.saved == 0 and receiver.sent.count("RTN") == PAGE_RETRIES + 1


def test_eom_goes_back_to_phase_b():
    sender, receiver = run_call(Script(pages=2, eom_after={0}))
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 2)
    assert receiver.sent == ["DIS", "CFR", "MCF", "DIS", "CFR", "MCF"]
    assert sender.sent == ["DCS", "EOM", "DCS", "EOP", "DCN"]


def test_ecm_with_ppr():
    sender, receiver = run_call(ecm_script(pages=2, blocks_per_page=2,
                                           incomplete=[True, False, False, True]))
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 2)
    assert sender.sent == ["DCS", "PPS-NULL", "PPS-NULL", "PPS-MPS", "PPS-NULL", "PPS-NULL",
                           "PPS-EOP", "DCN"]
    assert receiver.sent.count("PPR") == 2


def test_ecm_fourth_ppr_continues_to_correct():
    sender, receiver = run_call(ecm_script(incomplete=[True] * 4))
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 1)
    assert "CTC" in sender.sent and "CTR" in receiver.sent


def test_ecm_gives_up_with_eor():
    sender, receiver = run_call(ecm_script(incomplete=[True] * 3, give_up_after=2))
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 1)
    assert "EOR-EOP" in sender.sent and "ERR" in receiver.sent


def test_polling():
    sender, receiver = run_call(Script(pages=2), caller="receiver")
    assert (sender.result, receiver.result, receiver.saved) == ("OK", "OK", 2)
    assert receiver.sent == ["DTC", "CFR", "MCF", "MCF"]


@pytest.mark.parametrize("side, state", [(s, st) for s in SIDES for st in TABLE[s]])
def test_dcn_or_abort_anywhere_ends_cleanly(side, state):
    for event in ("DCN", "LOCAL_ABORT"):
        t = transition(side, state, event)
        if t is not None:
            assert t.state == END and t.result


@pytest.mark.parametrize("side, state, event, result", [
    ("sender", "B:WAIT_DIS", "T1", "NO_ANSWER"),
    ("sender", "B:WAIT_DIS", "INCOMPATIBLE", "INCOMPATIBLE"),
    ("sender", "D:SENT_MPS", "T4_EXHAUSTED", "TIMEOUT_T4"),
    ("sender", "D:RNR_MPS", "T5", "TIMEOUT_T5"),
    ("sender", "D:SENT_EOP", "DCN", "REMOTE_DISCONNECT"),
    ("receiver", "C:RECEIVE_PAGE", "T2", "TIMEOUT_T2"),
    ("receiver", "B:WAIT_DCS", "T1", "NO_ANSWER"),
    ("receiver", "E:WAIT_DCN", "T2", "OK"),
])
def test_failures_end_with_their_code(side, state, event, result):
    t = transition(side, state, event)
    assert t.state == END and t.result == result


def test_repeats_keep_the_state():
    for state in ("B:WAIT_CFR", "D:SENT_MPS", "D:SENT_PPS-NULL", "D:WAIT_CTR"):
        for event in ("T4", "CRP"):
            assert transition("sender", state, event) == Transition(state, ("repeat command",))
    assert transition("receiver", "B:WAIT_RETRAIN", "MPS").actions == ("repeat response",)
    assert transition("receiver", "E:WAIT_DCN", "EOP").actions == ("repeat response",)


def test_timer_durations_in_samples():
    assert timer_samples("T1") == 280000 and timer_samples("T4") == 24000
    assert timer_samples("T2") == 48000 and timer_samples("T5") == 480000
    assert {t for timers in TIMERS["sender"].values() for t in timers} == {"T1", "T4", "T5"}
    assert {t for timers in TIMERS["receiver"].values() for t in timers} == {"T1", "T2", "T4"}


def test_receiver_silent_after_training_ends_the_sender_by_t4():
    sender, receiver = run_call(Script(receiver_gone_after=1))    # hears DCS, then nothing
    assert sender.result == "TIMEOUT_T4" and sender.sent == ["DCS"] * COMMAND_TRIES + ["DCN"]


def test_receiver_silent_mid_call_after_mps():
    sender, receiver = run_call(Script(pages=3, receiver_gone_after=4))
    assert sender.result == "TIMEOUT_T4" and sender.sent[-COMMAND_TRIES - 1:] == (
        ["MPS"] * COMMAND_TRIES + ["DCN"])



def test_dis_while_waiting_for_a_post_page_response_starts_phase_b_again():
    """The receiver went back to phase B (its DIS): DCS from that DIS and TCF,
    in every state where a post-page command (or RR, EOR) waits."""
    waiting = [s for s in TABLE["sender"] if s.startswith(("D:SENT_", "D:RNR_"))]
    assert len(waiting) == 3 + 3 * 4
    for state in waiting:
        t = transition("sender", state, "DIS")
        assert t == Transition("B:WAIT_CFR", ("choose DCS", "send DCS", "send TCF")), state
        assert transition("sender", state, "INCOMPATIBLE").result == "INCOMPATIBLE"
        assert transition("sender", state, "RTN_EXHAUSTED").result == "PAGE_REJECTED"


def test_phase_d_says_what_each_waiting_state_waits_for():
    from faxengine.t30.states import PHASE_D
    waiting = {s for s in TABLE["sender"] if s.startswith(("D:SENT_", "D:RNR_"))}
    assert set(PHASE_D) == waiting
    assert (PHASE_D["D:SENT_EOM"].sent, PHASE_D["D:SENT_EOM"].post) == ("page", "EOM")
    assert not PHASE_D["D:SENT_MPS"].ecm and PHASE_D["D:RNR_NULL"].ecm
    assert (PHASE_D["D:SENT_EOR-EOP"].sent, PHASE_D["D:SENT_EOR-EOP"].post) == ("eor", "EOP")
    with pytest.raises(ValueError, match="page cannot wait with post-page command 'NULL'"):
        type(PHASE_D["D:SENT_MPS"])("page", "NULL")
    for state, pending in PHASE_D.items():      # the post-page command is the one sent
        if pending.sent in ("page", "pps"):
            [action] = [a for t in TABLE["sender"]["C:SEND_PAGE"].values()
                        if t.state == state for a in t.actions]
            assert action.endswith(pending.post), state


def test_t1_after_eom_is_not_no_answer():
    """Phase B again after EOM: the other end did answer, it stopped mid-document."""
    for side, state in (("sender", "B:WAIT_DIS"), ("receiver", "B:WAIT_DCS")):
        assert transition(side, state, "T1").result == "NO_ANSWER"
        assert transition(side, state, "T1_AFTER_EOM") == Transition(
            END, ("send DCN",), "TIMEOUT_T1")


def test_the_engine_has_a_handler_for_every_action():
    from faxengine.t30.engine import ACTION_HANDLERS
    from faxengine.t30.terminal import FaxTerminal
    assert set(ACTION_HANDLERS) == set(ACTIONS)
    for action, (method, _) in ACTION_HANDLERS.items():
        assert callable(getattr(FaxTerminal, method, None)), action
