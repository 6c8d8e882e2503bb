"""The POP3 server against the stdlib's poplib: every command, exact replies, the lock,
failed logins, STLS, and misbehaving clients."""
from __future__ import annotations

import asyncio
import poplib
import socket
import threading
import time

import pytest

from _mailio import LoopThread, rss_kib, tls_contexts
from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.maildir import MailStore
from faxengine.gateway.pop3 import Pop3Server

USER, PASSWORD = "sample@edicworks.com", "change me"


def mail(n: int, body: bytes = b"body\n") -> bytes:
    return (b"From: fax_sys@cl1.faximo.jp\nTo: sample@edicworks.com\nSubject: result %d\n"
            b"Message-ID: <%d.result@cl1.faximo.jp>\n\n" % (n, n)) + body


class Server:
    def __init__(self, loop: LoopThread, root, **options) -> None:
        self.loop = loop
        self.store = MailStore(root)
        self.logins: list[str] = []
        options.setdefault("failure_delay", 0.01)
        self.pop3 = Pop3Server("127.0.0.1", 0, store=self.store, authenticate=self.authenticate,
                               **options)
        loop.run(self.pop3.start())

    def authenticate(self, user: str, password: str) -> bool:
        self.logins.append(user)
        return user.lower() in (USER, "other@edicworks.com") and password == PASSWORD

    def client(self) -> poplib.POP3:
        return poplib.POP3("127.0.0.1", self.pop3.port, timeout=10)

    def login(self) -> poplib.POP3:
        c = self.client()
        c.user(USER)
        c.pass_(PASSWORD)
        return c


@pytest.fixture
def server(tmp_path):
    loop = LoopThread()
    made: list[Server] = []

    def make(**options) -> Server:
        made.append(Server(loop, tmp_path / "mail", **options))
        return made[-1]
    yield make
    for s in made:
        loop.run(s.pop3.stop())
    loop.close()


def test_a_session_with_every_command(server):
    s = server()
    for n in (1, 2, 3):
        s.store.deliver(USER, mail(n, b".starts with a dot\n" if n == 2 else b"body\n"), f"k{n}")
        time.sleep(0.01)
    octets = sum(m.size for m in MailStore(s.store.root).messages(USER))
    c = s.client()
    assert c.getwelcome() == b"+OK faxengine POP3 server ready"
    assert c.capa() == {"USER": [], "TOP": [], "UIDL": [], "RESP-CODES": [], "AUTH-RESP-CODE": [],
                        "PIPELINING": [], "IMPLEMENTATION": ["faxengine"]}
    assert c.user(USER) == b"+OK send PASS"
    assert c.pass_(PASSWORD) == b"+OK maildrop has 3 messages (%d octets)" % octets
    messages = s.store.messages(USER)
    assert c.stat() == (3, octets)
    assert c.list()[:2] == (b"+OK 3 messages (%d octets)" % octets,
                            [b"%d %d" % (n, m.size) for n, m in enumerate(messages, 1)])
    assert c.list(2) == b"+OK 2 %d" % messages[1].size
    assert c.uidl()[1] == [b"%d %s" % (n, m.uid.encode()) for n, m in enumerate(messages, 1)]
    assert c.uidl(3) == b"+OK 3 " + messages[2].uid.encode()
    resp, lines, _ = c.retr(2)
    assert resp == b"+OK %d octets" % messages[1].size
    assert b"\r\n".join(lines) + b"\r\n" == s.store.read(messages[1])
    assert lines[-1] == b".starts with a dot"
    assert c.top(1, 0)[1][-2:] == [b"Message-ID: <1.result@cl1.faximo.jp>", b""]
    assert c.noop() == b"+OK"
    assert c.dele(1) == b"+OK message 1 deleted"
    with pytest.raises(poplib.error_proto, match="message 1 already deleted"):
        c.retr(1)
    assert c.rset() == b"+OK maildrop has 3 messages (%d octets)" % octets
    c.dele(3)
    assert len(list((s.store.mailbox(USER) / "cur").iterdir())) == 3   # nothing gone yet
    assert c.quit() == b"+OK faxengine POP3 server signing off (2 messages left)"
    assert [m.uid for m in s.store.messages(USER)] == [m.uid for m in messages[:2]]


def test_deletions_are_lost_without_quit_and_uidl_is_stable(server):
    s = server()
    s.store.deliver(USER, mail(1), "k1")
    c = s.login()
    uidl = c.uidl()[1]
    c.dele(1)
    s.store.deliver(USER, mail(2), "k2")        # arrives during the session: not seen yet
    assert c.stat()[0] == 0
    c.close()                                  # the client dies: no UPDATE
    time.sleep(0.2)
    c = s.login()
    assert c.stat()[0] == 2
    assert c.uidl()[1][0] == uidl[0]
    c.quit()


def test_second_session_on_a_maildrop_gets_in_use(server):
    s = server()
    first = s.login()
    second = s.client()
    second.user(USER.upper())
    with pytest.raises(poplib.error_proto) as err:
        second.pass_(PASSWORD)
    assert err.value.args[0] == (b"-ERR [IN-USE] the mailbox is open in another session; "
                                 b"try again later")
    other = s.client()                          # another address is not locked
    other.user("other@edicworks.com")
    other.pass_(PASSWORD)
    other.quit()
    first.quit()
    time.sleep(0.1)
    second.user(USER)
    assert second.pass_(PASSWORD).startswith(b"+OK maildrop has")
    second.quit()


def test_failed_logins_are_delayed_per_address_and_close_after_three(server):
    s = server(failure_delay=0.2)
    c = s.client()
    times = []
    for n in range(3):
        c.user(USER)
        started = time.monotonic()
        with pytest.raises(poplib.error_proto) as err:
            c.pass_("wrong")
        times.append(time.monotonic() - started)
    assert err.value.args[0] == (b"-ERR [AUTH] wrong address or password; 3 failures, "
                                 b"closing the connection")
    assert times[0] >= 0.2 and times[1] >= 0.4 and times[2] >= 0.6
    with pytest.raises((poplib.error_proto, OSError)):
        c.noop()
    ok = s.login()                      # the right password still works, and resets the count
    ok.quit()
    c = s.client()
    c.user(USER)
    started = time.monotonic()
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\] wrong address or password"):
        c.pass_("wrong")
    assert 0.2 <= time.monotonic() - started < 0.4
    c.quit()


def test_stls(server, tmp_path):
    server_ctx, client_ctx = tls_contexts(tmp_path)
    s = server(tls_context=server_ctx)
    s.store.deliver(USER, mail(1), "k1")
    c = s.client()
    assert "STLS" in c.capa()
    assert c.stls(client_ctx) == b"+OK begin TLS negotiation"
    assert "STLS" not in c.capa()
    c.user(USER)
    c.pass_(PASSWORD)
    assert c.retr(1)[1][2] == b"Subject: result 1"
    c.quit()
    # commands sent in clear behind STLS are dropped, not run under TLS (RFC 2595 §4)
    raw = socket.create_connection(("127.0.0.1", s.pop3.port), timeout=5)
    assert raw.recv(100).startswith(b"+OK")
    raw.sendall(f"STLS\r\nUSER {USER}\r\n".encode())
    assert raw.recv(100) == b"+OK begin TLS negotiation\r\n"
    tls = client_ctx.wrap_socket(raw, server_hostname="localhost")
    tls.sendall(f"PASS {PASSWORD}\r\n".encode())
    assert tls.recv(100) == b"-ERR send USER first\r\n"
    tls.close()


def test_idle_timeout_and_connection_limit(server):
    s = server(idle_timeout=0.5, max_connections=1)
    first = socket.create_connection(("127.0.0.1", s.pop3.port), timeout=5)
    assert first.recv(100) == b"+OK faxengine POP3 server ready\r\n"
    second = socket.create_connection(("127.0.0.1", s.pop3.port), timeout=5)
    assert second.recv(100) == b"-ERR [SYS/TEMP] too many connections; try again later\r\n"
    second.close()
    assert first.recv(100) == b"-ERR [SYS/TEMP] idle too long; closing the connection\r\n"
    assert first.recv(100) == b""
    first.close()


def test_stop_closes_logins_in_progress_and_lets_sessions_quit(server):
    s = server()
    s.store.deliver(USER, mail(1), "k1")
    waiting = s.client()
    busy = s.login()
    busy.dele(1)
    stopping = asyncio.run_coroutine_threadsafe(s.pop3.stop(), s.loop.loop)
    assert waiting.sock.recv(200) == b"-ERR [SYS/TEMP] server shutting down; try again later\r\n"
    assert busy.quit().startswith(b"+OK")
    stopping.result(10)
    assert s.store.messages(USER) == []


def test_garbage_and_a_client_that_never_reads_while_others_are_served(server):
    s = server()
    for n in range(5):
        s.store.deliver(USER, mail(n, b"x" * 100_000 + b"\n"), f"k{n}")
    greedy = socket.create_connection(("127.0.0.1", s.pop3.port), timeout=5)
    greedy.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
    greedy.setblocking(False)
    before = rss_kib()
    started = time.monotonic()
    sent = 0
    try:                            # RETRs until its socket buffers are full
        while time.monotonic() - started < 3:
            sent += greedy.send(b"RETR 1\r\n" * 1000)
    except BlockingIOError:
        pass
    garbage = socket.create_connection(("127.0.0.1", s.pop3.port), timeout=5)
    garbage.sendall(b"\x00\xff" * 100_000 + b"\r\n" + b"A" * 3000 + b"\n")
    results = []

    def other() -> None:
        c = s.client()
        c.user("other@edicworks.com")
        results.append(c.pass_(PASSWORD))
        c.quit()
    threads = [threading.Thread(target=other) for _ in range(3)]
    for t in threads:
        t.start()
        t.join(10)
    assert results == [b"+OK maildrop has 0 messages (0 octets)"] * 3
    assert rss_kib() - before < 30_000
    assert garbage.recv(200).startswith(b"+OK faxengine POP3 server ready\r\n")
    garbage.close()
    greedy.close()


def test_a_failing_password_check_is_sys_temp_and_a_taken_port_says_so(server):
    s = server()

    def broken(user: str, password: str) -> bool:
        raise ConnectionError("database down")
    s.pop3.authenticate = broken
    c = s.client()
    c.user(USER)
    with pytest.raises(poplib.error_proto) as err:
        c.pass_(PASSWORD)
    assert err.value.args[0] == (b"-ERR [SYS/TEMP] the password cannot be checked now; "
                                 b"try again later")
    c.user(USER)                        # not counted as a failure: the connection stays
    with pytest.raises(poplib.error_proto, match="SYS/TEMP"):
        c.pass_(PASSWORD)
    c.quit()
    taken = Pop3Server("127.0.0.1", s.pop3.port, store=s.store, authenticate=broken)
    with pytest.raises(GatewayConfigError, match=f"the POP3 server cannot listen on 127.0.0.1:"
                                           f"{s.pop3.port}: Address already in use; give"):
        s.loop.run(taken.start())


def test_a_client_that_stops_reading_is_closed_and_frees_its_mailbox(server):
    s = server(idle_timeout=1)
    s.store.deliver(USER, mail(1, (b"y" * 900 + b"\n") * 2000), "big")
    stuck = socket.create_connection(("127.0.0.1", s.pop3.port), timeout=5)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode() + b"RETR 1\r\n" * 50)
    time.sleep(0.3)
    c = s.client()
    c.user(USER)
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        c.pass_(PASSWORD)
    deadline = time.monotonic() + 10
    while s.pop3._locked and time.monotonic() < deadline:
        time.sleep(0.1)
    c.user(USER)
    assert c.pass_(PASSWORD).startswith(b"+OK maildrop has 1 messages")
    c.quit()
    stuck.close()


def test_a_message_another_reader_deleted_is_a_final_err_not_sys_temp(server):
    """Dovecot or a Maildir tool deleted a message during our session: RETR says
    so without [SYS/TEMP] (RFC 3206 §4: temporary), which would have the client
    retry for ever; the other messages are still read."""
    s = server()
    s.store.deliver(USER, mail(1), "k1")
    s.store.deliver(USER, mail(2), "k2")
    c = s.login()
    assert c.stat()[0] == 2
    for path in (s.store.root).rglob("*"):
        if path.is_file() and b"Subject: result 1" in path.read_bytes():
            path.unlink()
    with pytest.raises(poplib.error_proto) as err:
        c.retr(1)
    reply = err.value.args[0].decode()
    assert reply.startswith("-ERR message ") and "another reader of this mailbox deleted it" \
        in reply and "[SYS/TEMP]" not in reply
    assert b"Subject: result 2" in b"\n".join(c.retr(2)[1])
    c.quit()
