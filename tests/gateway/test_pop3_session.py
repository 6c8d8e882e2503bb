"""The sans-I/O POP3 session: octets in, events out, no socket, no clock."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxengine.gateway.maildir import Message
from faxengine.gateway.pop3_session import (AUTHORIZATION, COMMANDS, TRANSACTION, UPDATE,
                                            Authenticate, Close, Commit, Maildrop, Pop3Session,
                                            Send, StartTls)

MESSAGES = {
    "m1": b"Subject: one\r\n\r\nfirst\r\n.dot line\r\n",
    "m2": b"Subject: two\r\nX: y\r\n\r\na\r\nb\r\nc\r\n",
}


def drop() -> Maildrop:
    messages = tuple(Message(uid, Path(uid), len(data)) for uid, data in MESSAGES.items())
    return Maildrop(messages, lambda m: MESSAGES[m.uid])


def sent(events) -> bytes:
    assert all(isinstance(e, Send) for e in events), events
    return b"".join(e.data for e in events)


def logged_in() -> Pop3Session:
    s = Pop3Session()
    [_, auth] = s.receive(b"USER a@x.jp\r\nPASS secret word\r\n")
    assert auth == Authenticate("a@x.jp", "secret word")
    s.accepted(drop())
    return s


def test_every_command_has_a_handler_and_the_states_are_rfc_1939s():
    assert list(COMMANDS) == [AUTHORIZATION, TRANSACTION, UPDATE]
    for table in COMMANDS.values():
        for name in table:
            assert callable(getattr(Pop3Session, f"_{name.lower()}"))


def test_login_waits_for_the_answer_and_keeps_pipelined_lines():
    s = Pop3Session()
    events = s.receive(b"USER a@x.jp\r\nPASS pw\r\nSTAT\r\nLIST\r\n")
    assert events == [Send(b"+OK send PASS\r\n"), Authenticate("a@x.jp", "pw")]
    assert s.receive(b"NOOP\r\n") == []             # still waiting
    out = sent(s.accepted(drop()))
    assert out == (b"+OK maildrop has 2 messages (65 octets)\r\n+OK 2 65\r\n"
                   b"+OK 2 messages (65 octets)\r\n1 34\r\n2 31\r\n.\r\n+OK\r\n")
    assert s.state == TRANSACTION


def test_retr_is_byte_stuffed_and_top_counts_body_lines():
    s = logged_in()
    assert sent(s.receive(b"RETR 1\r\n")) == (b"+OK 34 octets\r\nSubject: one\r\n\r\nfirst\r\n"
                                              b"..dot line\r\n.\r\n")
    assert sent(s.receive(b"TOP 2 2\r\n")) == (b"+OK top of message follows\r\nSubject: two\r\n"
                                               b"X: y\r\n\r\na\r\nb\r\n.\r\n")
    assert sent(s.receive(b"TOP 2 0\r\n")) == (b"+OK top of message follows\r\nSubject: two\r\n"
                                               b"X: y\r\n\r\n.\r\n")


def test_deletions_only_at_quit_in_update():
    s = logged_in()
    assert sent(s.receive(b"DELE 1\r\nDELE 1\r\nLIST 1\r\nSTAT\r\n")) == (
        b"+OK message 1 deleted\r\n-ERR message 1 already deleted\r\n"
        b"-ERR message 1 already deleted\r\n+OK 1 31\r\n")
    assert sent(s.receive(b"RSET\r\nDELE 2\r\n")) == (
        b"+OK maildrop has 2 messages (65 octets)\r\n+OK message 2 deleted\r\n")
    [commit] = s.receive(b"QUIT\r\n")
    assert s.state == UPDATE
    assert commit == Commit((drop().messages[1],))
    assert s.committed(0) == [Send(b"+OK faxengine POP3 server signing off (1 messages left)\r\n"),
                              Close()]
    assert s.receive(b"NOOP\r\n") == []


def test_errors_say_what_is_wrong():
    s = Pop3Session()
    assert sent(s.receive(b"PASS x\r\nSTAT\r\nFOO\r\nUSER\r\nAPOP a b\r\nSTLS\r\n")) == (
        b"-ERR send USER first\r\n-ERR STAT only in the TRANSACTION state\r\n"
        b"-ERR unknown command 'FOO'\r\n-ERR USER takes one argument\r\n"
        b"-ERR APOP is not offered; use USER and PASS\r\n-ERR STLS is not offered here\r\n")
    s = logged_in()
    assert sent(s.receive(b"RETR x\r\nRETR 3\r\nRETR 0\r\nTOP 1 -1\r\nUSER a\r\n")) == (
        b"-ERR message number must be a number, not 'x'\r\n-ERR no such message: 3\r\n"
        b"-ERR no such message: 0\r\n-ERR the number of lines must be a number, not '-1'\r\n"
        b"-ERR USER only in the AUTHORIZATION state\r\n")


def test_failed_logins_close_after_the_third():
    s = Pop3Session(max_failures=3)
    for n in range(2):
        s.receive(b"USER a@x.jp\r\nPASS no\r\n")
        assert s.refused("AUTH") == [Send(b"-ERR [AUTH] wrong address or password\r\n")]
    s.receive(b"USER a@x.jp\r\nPASS no\r\n")
    assert s.refused("AUTH") == [
        Send(b"-ERR [AUTH] wrong address or password; 3 failures, closing the connection\r\n"),
        Close()]
    s = Pop3Session()
    s.receive(b"USER a@x.jp\r\nPASS pw\r\n")
    assert s.refused("IN-USE") == [Send(b"-ERR [IN-USE] the mailbox is open in another session; "
                                        b"try again later\r\n")]
    assert s.failures == 0


def test_stls_drops_what_was_pipelined_in_clear():
    s = Pop3Session(tls=True)
    assert b"STLS" in sent(s.receive(b"CAPA\r\n"))
    events = s.receive(b"STLS\r\nUSER injected@x.jp\r\nPASS x\r\n")
    assert events == [Send(b"+OK begin TLS negotiation\r\n"), StartTls()]
    assert s.tls_started() == []
    assert b"STLS" not in sent(s.receive(b"CAPA\r\n"))
    assert sent(s.receive(b"STLS\r\nPASS x\r\n")) == (b"-ERR TLS is already active\r\n"
                                                      b"-ERR send USER first\r\n")


def test_long_lines_garbage_and_lf_only():
    s = Pop3Session()
    out = sent(s.receive(b"X" * 5000))
    assert out == b"-ERR line too long: commands are at most 1024 octets\r\n"
    assert s.receive(b"Y" * 5000) == []
    assert sent(s.receive(b"\r\nNOOP\r\n\x00\xff\r\nQUIT\n")[:-1]) == (
        b"-ERR NOOP only in the TRANSACTION state\r\n-ERR unknown command '\\x00\\ufffd'\r\n"
        b"+OK faxengine POP3 server signing off\r\n")


@pytest.mark.parametrize("data", [b"", b"\r\n", b".", b"no end", b"a\r\n.\r\n.."])
def test_stuffing_round_trips(data):
    s = Pop3Session()
    s.receive(b"USER a\r\nPASS b\r\n")
    s.accepted(Maildrop((Message("u", Path("u"), len(data)),), lambda m: data))
    out = sent(s.receive(b"RETR 1\r\n"))
    body = out.split(b"\r\n", 1)[1]
    assert body.endswith(b".\r\n")
    lines = body[:-3].split(b"\r\n")
    unstuffed = b"\r\n".join(line[1:] if line.startswith(b".") else line for line in lines)
    expect = data if data.endswith(b"\r\n") or not data else data + b"\r\n"
    assert unstuffed == expect


COMMAND_WORDS = [b"USER a", b"PASS b", b"STAT", b"LIST", b"LIST 1", b"UIDL", b"UIDL 2", b"RETR 1",
                 b"RETR 9", b"TOP 2 1", b"DELE 1", b"RSET", b"NOOP", b"CAPA", b"STLS", b"QUIT",
                 b"APOP x y", b"", b"\x00", b"X" * 2000]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(COMMAND_WORDS), st.binary(max_size=300)), max_size=30),
       st.lists(st.integers(1, 50), max_size=10), st.booleans())
def test_any_octets_give_whole_replies_and_never_raise(parts, splits, tls):
    """Whatever arrives, in whatever pieces: only +OK/-ERR lines (and multi-line bodies
    ended by '.'), never an exception; logins and STLS answered as they come."""
    s = Pop3Session(tls=tls)
    data = b"\r\n".join(parts) + b"\r\n"
    out = bytearray()
    pieces = []
    for n in splits:
        pieces.append(data[:n])
        data = data[n:]
    pieces.append(data)
    for piece in pieces:
        events = s.receive(piece)
        while events:                   # as the adapter does: answer, then ask for more
            event = events.pop(0)
            if isinstance(event, Send):
                out += event.data
            elif isinstance(event, Authenticate):
                events = (s.accepted(drop()) if event.password == "b" else s.refused("AUTH")) \
                    + events
            elif isinstance(event, StartTls):
                events = s.tls_started() + events
            elif isinstance(event, Commit):
                events = s.committed(0) + events
            if not events:
                events = s.receive()
    assert out == b"" or out.endswith(b"\r\n")
    assert bytes(out[:3]) in (b"", b"+OK", b"-ER")
