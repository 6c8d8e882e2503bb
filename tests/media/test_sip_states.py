"""The SIP transaction tables on their own: complete, consistent, and drawn in docs/media.md."""
from __future__ import annotations

from pathlib import Path

import pytest

from faxengine.media.sip.states import (ACTIONS, MACHINES, START, TABLE, TERMINATED, TIMERS,
                                        Transition, diagram, interval, markdown, transition)

DOC = Path(__file__).resolve().parents[2] / "docs" / "media.md"


def reachable(machine: str) -> set[str]:
    todo, seen = [START[machine].state], set()
    while todo:
        state = todo.pop()
        if state in seen or state == TERMINATED:
            continue
        seen.add(state)
        todo.extend(t.state for t in TABLE[machine][state].values())
    return seen


@pytest.mark.parametrize("machine", MACHINES)
def test_every_state_is_reachable_and_ends_by_a_timer_or_the_tu(machine):
    assert reachable(machine) == set(TABLE[machine])
    for state, events in TABLE[machine].items():
        for t in events.values():
            assert t.state == TERMINATED or t.state in TABLE[machine]
        # a state that no TU action or response can leave must have a timer
        assert TIMERS[machine][state] or any(e.startswith(("TU", "1xx", "2xx")) for e in events)


def test_retransmission_timers_follow_rfc3261_table_4():
    assert [interval("A", n, "Calling") for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert [interval("E", n, "Trying") for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert interval("E", 0, "Proceeding") == 4.0
    assert [interval("G", n, "Completed") for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert {t: interval(t, 0, "x") for t in "BDFHIJK"} == {
        "B": 32.0, "D": 32.0, "F": 32.0, "H": 32.0, "I": 5.0, "J": 32.0, "K": 5.0}


def test_transitions_check_themselves():
    with pytest.raises(ValueError, match="unknown SIP transaction action"):
        Transition("Calling", ("send nothing",))
    assert transition("invite-client", "Completed", "2xx") is None        # ignored
    assert transition("invite-server", "Completed", "ACK").actions == ("start I",)
    assert all(a in ACTIONS for m in MACHINES for e in TABLE[m].values() for t in e.values()
               for a in t.actions)


def test_diagram_lists_every_transition():
    text = diagram("invite-client")
    assert text.count("-->") == 1 + sum(len(e) for e in TABLE["invite-client"].values())
    assert "    Calling --> Completed: 3xx-6xx / send ACK, pass to TU, start D\n" in text


def test_docs_show_the_tables_as_they_are_now():
    md = DOC.read_text()
    begin = "<!-- BEGIN generated: sip-transactions"
    section = md[md.index("-->", md.index(begin)) + 4:md.index("<!-- END generated: sip-transactions")]
    assert section == markdown(), "run python -m faxengine.media.sip.states --markdown into docs/media.md"
