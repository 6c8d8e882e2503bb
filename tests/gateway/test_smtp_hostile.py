"""The SMTP intake against clients that misbehave: memory and time stay bounded and
other clients are served meanwhile."""
from __future__ import annotations

import random
import smtplib
import socket
import threading
import time

import pytest

from _mailio import LoopThread, rss_kib, tls_contexts
from test_smtp import DOMAIN, SENDER, Intake, request


@pytest.fixture
def intake():
    loop = LoopThread()
    i = Intake(loop, max_size=1_000_000, idle_timeout=20)
    yield i
    loop.run(i.server.stop())
    loop.close()


class Raw:
    """A client on a plain socket: sends what it likes, reads reply lines."""

    def __init__(self, i: Intake) -> None:
        self.sock = socket.create_connection(("127.0.0.1", i.server.port), timeout=20)
        self.file = self.sock.makefile("rb")
        assert self.file.readline().startswith(b"220 ")
        self.sendall = self.sock.sendall

    def replies(self, count: int) -> list[bytes]:
        return [self.file.readline().rstrip(b"\r\n") for _ in range(count)]

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def another_client_succeeds(i: Intake) -> None:
    with smtplib.SMTP("127.0.0.1", i.server.port, timeout=10) as c:
        c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request(body="meanwhile"))


def test_100_mb_over_the_limit_is_not_buffered(intake):
    """A 100 MB line without end, then 20 MB of ordinary lines: 552 each, RSS bounded."""
    s = Raw(intake)
    s.sendall(b"EHLO x\r\n")
    s.replies(6)
    before = rss_kib()
    peak = [before]
    for payload in (b"y" * (1 << 20), b"z" * 998 + b"\r\n"):
        s.sendall(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<0921234567@{DOMAIN}>\r\nDATA\r\n".encode())
        assert s.replies(3)[2].startswith(b"354 ")
        chunk = payload * ((1 << 20) // len(payload))
        megabytes = 100 if payload[:1] == b"y" else 20
        for n in range(megabytes):
            s.sendall(chunk)
            if n % 10 == 0:
                peak.append(rss_kib())
                if n == 10:
                    another_client_succeeds(intake)
        s.sendall(b"\r\n.\r\n")
        [reply] = s.replies(1)
        assert reply.startswith(b"552 5.3.4 Message too big: ")
    assert max(peak) - before < 40_000, f"RSS grew by {max(peak) - before} KiB"
    s.sendall(b"QUIT\r\n")
    s.close()
    assert len(intake.accepted) == 2        # the other client's mails


def test_10000_recipients_pipelined_get_452_past_the_bound(intake):
    s = Raw(intake)
    lines = [b"EHLO x", f"MAIL FROM:<{SENDER}>".encode()]
    lines += [f"RCPT TO:<{n:010d}@{DOMAIN}>".encode() for n in range(10_000)]
    s.sendall(b"\r\n".join(lines) + b"\r\n")
    another_client_succeeds(intake)
    replies = s.replies(6 + 1 + 10_000)
    rcpt = [r[:3] for r in replies[7:]]
    assert rcpt == [b"250"] * 1000 + [b"452"] * 9000
    s.sendall(b"DATA\r\n")
    assert s.replies(1)[0].startswith(b"354")
    s.sendall(request() + b".\r\n")
    assert s.replies(1)[0].startswith(b"250 2.0.0 OK")
    assert len(intake.accepted[-1][2]) == 1000
    s.close()


def test_huge_command_lines_and_nul_bytes(intake):
    s = Raw(intake)
    s.sendall(b"EHLO " + b"h" * 5_000_000 + b"\r\n")
    assert s.replies(1) == [b"500 Command line too long"]
    s.sendall(b"MA\x00IL FROM:<x>\r\nEHLO \x00\xff\r\nNOOP\r\n")
    replies = s.replies(1 + 6 + 1)
    assert replies[0] == b'500 Error: command "MA\x00IL" not recognized'
    assert replies[1:3] == [b"250-cl1.faximo.jp", b"250-SIZE 1000000"]
    assert replies[-1] == b"250 OK"
    another_client_succeeds(intake)
    s.close()


def test_a_client_that_never_sends_and_one_that_never_reads(intake):
    silent = Raw(intake)
    deaf = socket.create_connection(("127.0.0.1", intake.server.port), timeout=20)
    deaf.setblocking(False)
    sent = 0
    started = time.monotonic()
    try:                                     # NOOPs until the socket buffers are full
        while time.monotonic() - started < 3:
            sent += deaf.send(b"NOOP\r\n" * 10_000)
    except BlockingIOError:
        pass
    before = rss_kib()
    threads = [threading.Thread(target=another_client_succeeds, args=(intake,))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(intake.accepted) == 3
    assert rss_kib() - before < 20_000
    silent.close()
    deaf.close()


def test_clients_gone_in_the_tls_handshake_free_their_slot(tmp_path):
    server_ctx, _ = tls_contexts(tmp_path)
    loop = LoopThread()
    i = Intake(loop, max_connections=3, tls_context=server_ctx, idle_timeout=1)
    try:
        rng = random.Random(5)
        for _ in range(3):
            s = Raw(i)                  # STARTTLS and, at once, octets that are no handshake
            s.sendall(b"EHLO x\r\nSTARTTLS\r\n" + rng.randbytes(2000))
            time.sleep(0.2)
            s.close()
        assert len(i.server._dialogues) == 3    # each held until its handshake times out
        deadline = time.monotonic() + 5
        while i.server._dialogues and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not i.server._dialogues
        another_client_succeeds(i)
    finally:
        loop.run(i.server.stop())
        loop.close()
