"""The SMTP intake against the stdlib's smtplib: the dialogue's checks and replies."""
from __future__ import annotations

import asyncio
import smtplib
import socket
import threading
import time

import pytest

from _mailio import LoopThread, tls_contexts
from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.smtp import SmtpIntake

DOMAIN = "cl1.faximo.jp"
SENDER = "sample@edicworks.com"
REGISTERED = {SENDER, "ユーザ@edicworks.com", "other@edicworks.com"}


def request(sender: str = SENDER, to: str = f"0921234567@{DOMAIN}", body: str = "本文") -> bytes:
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            f"\r\n{body}\r\n").encode()


class Intake:
    """A running SmtpIntake in a loop thread, and what its accept callback got."""

    def __init__(self, loop: LoopThread, fail: bool = False, **options) -> None:
        self.loop = loop
        self.accepted: list[tuple[bytes, str, list[str]]] = []
        self.fail = fail
        self.checked: list[str] = []
        options.setdefault("max_size", 1_000_000)
        self.server = SmtpIntake("127.0.0.1", 0, fax_domain=DOMAIN, is_registered=self.registered,
                                 accept=self.accept, **options)
        loop.run(self.server.start())

    def registered(self, address: str) -> bool:
        self.checked.append(address)
        return address.lower() in REGISTERED

    async def accept(self, raw: bytes, mail_from: str, rcpt_to: list[str]) -> int:
        await asyncio.sleep(0)
        if self.fail:
            raise OSError("disk full")
        self.accepted.append((raw, mail_from, rcpt_to))
        return 6 + len(self.accepted)

    def client(self, **kw) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.server.port, timeout=10, **kw)


@pytest.fixture
def loop():
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture
def intake(loop):
    made: list[Intake] = []

    def make(**options) -> Intake:
        made.append(Intake(loop, **options))
        return made[-1]
    yield make
    for i in made:
        loop.run(i.server.stop())


def test_ehlo_advertises_size_8bitmime_smtputf8_pipelining(intake):
    i = intake(max_size=20_000_000)
    with i.client() as c:
        code, text = c.ehlo("client.example.jp")
    assert code == 250
    assert text.decode().splitlines() == [DOMAIN, "SIZE 20000000", "8BITMIME", "SMTPUTF8",
                                          "PIPELINING", "HELP"]


def test_registered_sender_is_accepted_before_250_with_a_trace_line(intake):
    i = intake()
    raw = request()
    with i.client() as c:
        c.ehlo("client.example.jp")
        c.mail(SENDER)
        c.rcpt(f"0921234567@{DOMAIN}")
        c.rcpt(f"0451234567@{DOMAIN.upper()}")
        assert c.data(raw) == (250, b"2.0.0 OK: queued as 7")
    [(stored, mail_from, rcpt)] = i.accepted
    assert (mail_from, rcpt) == (SENDER, [f"0921234567@{DOMAIN}", f"0451234567@{DOMAIN.upper()}"])
    trace, _, rest = stored.partition(b"\r\n\t;")
    head, _, rest = stored.partition(b"From: ")
    assert b"From: " + rest == raw
    assert head.startswith(b"Received: from client.example.jp ([127.0.0.1])\r\n\tby "
                           b"cl1.faximo.jp (faxengine) with ESMTP;\r\n\t")


def test_unregistered_mail_from_is_refused_at_mail(intake):
    i = intake()
    with i.client() as c:
        c.ehlo("x")
        assert c.mail("stranger@example.com") == (
            550, b"5.7.1 MAIL FROM <stranger@example.com> is not registered for fax sending; "
                 b"register it in the account's settings")
        with pytest.raises(smtplib.SMTPSenderRefused):
            c.sendmail("stranger@example.com", [f"0921234567@{DOMAIN}"], request())
    assert i.accepted == []


def test_header_from_must_be_registered_too_nothing_stored(intake):
    i = intake()
    with i.client() as c:
        with pytest.raises(smtplib.SMTPDataError) as err:
            c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request(sender="spoof@example.com"))
    assert (err.value.smtp_code, err.value.smtp_error) == (
        550, b"5.7.1 From spoof@example.com is not registered for fax sending; "
             b"register it in the account's settings")
    with i.client() as c:       # both registered but different: fine
        c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request(sender="Other@Edicworks.com"))
    with i.client() as c:       # no From at all
        with pytest.raises(smtplib.SMTPDataError) as err:
            c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], b"Subject: none\r\n\r\nbody\r\n")
    assert err.value.smtp_error == (b"5.7.1 the mail has no single From address; "
                                    b"send from a registered address")
    assert len(i.accepted) == 1


def test_recipients_outside_the_fax_domain_and_over_the_bound(intake):
    i = intake(max_recipients=60)
    with i.client() as c:
        c.ehlo("x")
        c.mail(SENDER)
        assert c.rcpt("someone@example.com") == (
            550, b"5.7.1 <someone@example.com>: not a fax address; this gateway takes mail "
                 b"for <number>@cl1.faximo.jp only")
        replies = [c.rcpt(f"09212345{n:02d}@{DOMAIN}")[0] for n in range(61)]
        assert replies == [250] * 60 + [452]
        assert c.rcpt(f"0921234567@{DOMAIN}") == (452, b"4.5.3 Too many recipients: at most 60 "
                                                       b"per mail")
        assert c.data(request())[0] == 250
    assert len(i.accepted[0][2]) == 60      # 51+ is the request's rule (an error mail), not SMTP's


def test_size_over_the_limit_552_at_mail_and_after_data(intake):
    i = intake(max_size=10_000)
    with i.client() as c:
        c.ehlo("x")
        assert c.mail(SENDER, ["SIZE=10001"])[0] == 552
        c.rset()
        c.mail(SENDER)              # no SIZE given: found out while reading DATA
        c.rcpt(f"0921234567@{DOMAIN}")
        big = request(body="x" * 10_000)
        assert c.data(big) == (552, b"5.3.4 Message too big: %d octets, the limit is 10000; "
                                    b"send smaller attachments" % len(big))
        # the dialogue goes on: the next mail in the same connection is taken
        c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request(body="x" * 9000))
    assert len(i.accepted) == 1


def test_8bitmime_and_smtputf8_mails_arrive_octet_for_octet(intake):
    i = intake()
    raw = request(sender="ユーザ@edicworks.com", body="ｶﾅ 日本語 ①㈱ \x00 NUL")
    raw = raw.replace(b"Subject: test", "Subject: 件名".encode())
    with i.client() as c:
        c.sendmail("ユーザ@edicworks.com", [f"0921234567@{DOMAIN}"], raw,
                   mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request(body="é"),
                   mail_options=["BODY=8BITMIME"])
    (first, mail_from, _), (second, *_) = i.accepted
    assert mail_from == "ユーザ@edicworks.com"
    assert first.endswith(raw) and b"with UTF8SMTP;" in first
    assert second.endswith(request(body="é"))


def test_starttls_then_mail(intake, tmp_path):
    server_ctx, client_ctx = tls_contexts(tmp_path)
    i = intake(tls_context=server_ctx)
    with i.client() as c:
        c.ehlo("x")
        assert c.has_extn("starttls")
        assert c.starttls(context=client_ctx)[0] == 220
        c.ehlo("x")
        assert not c.has_extn("starttls")
        c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request())
    assert b"with ESMTPS;" in i.accepted[0][0]


def test_accept_failing_answers_451_and_the_retry_is_stored_once(intake):
    i = intake(fail=True)
    with i.client() as c:
        with pytest.raises(smtplib.SMTPDataError) as err:
            c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request())
        assert (err.value.smtp_code, err.value.smtp_error) == (
            451, b"4.3.0 The mail could not be stored; nothing was kept, try again later")
        i.fail = False
        c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request())
    assert len(i.accepted) == 1


def test_concurrent_clients(intake):
    i = intake()
    errors = []

    def send(n: int) -> None:
        try:
            with i.client() as c:
                for k in range(3):
                    c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request(body=f"{n}-{k}"))
        except Exception as exc:    # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=send, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(raw.rsplit(b"\r\n\r\n", 1)[1] for raw, *_ in i.accepted) == \
        sorted(f"{n}-{k}\r\n".encode() for n in range(10) for k in range(3))


def test_stop_finishes_the_mail_in_progress_and_sends_421_to_idle_ones(intake, loop):
    i = intake()
    idle = i.client()
    idle.ehlo("idle")
    busy = i.client()
    busy.ehlo("busy")
    busy.mail(SENDER)
    busy.rcpt(f"0921234567@{DOMAIN}")
    stopping = asyncio.run_coroutine_threadsafe(i.server.stop(), loop.loop)
    time.sleep(0.2)
    assert busy.data(request()) == (250, b"2.0.0 OK: queued as 7")
    stopping.result(10)
    assert idle.noop() == (421, b"4.3.2 Service shutting down; try again later")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        idle.noop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", i.server.port), timeout=2).close()
    assert len(i.accepted) == 1
    idle.close()
    busy.close()


def test_connection_limit_and_idle_timeout(intake):
    i = intake(max_connections=2, idle_timeout=0.5)
    first = socket.create_connection(("127.0.0.1", i.server.port), timeout=5)
    second = socket.create_connection(("127.0.0.1", i.server.port), timeout=5)
    assert first.recv(100).startswith(b"220 ")
    assert second.recv(100).startswith(b"220 ")
    third = socket.create_connection(("127.0.0.1", i.server.port), timeout=5)
    assert third.recv(100) == b"421 4.7.0 Too many connections; try again later\r\n"
    third.close()
    started = time.monotonic()
    assert first.recv(100) == b""           # never said anything: closed after the timeout
    assert time.monotonic() - started < 3
    first.close()
    second.close()


def test_a_failing_sender_check_is_451_and_bad_setup_says_what_is_wrong(intake, loop):
    i = intake()

    def broken(address: str) -> bool:
        raise ConnectionError("database down")
    i.server.is_registered = broken
    with i.client() as c:
        c.ehlo("x")
        assert c.mail(SENDER) == (451, b"4.3.0 Local error in processing; try again later")
    with pytest.raises(GatewayConfigError, match="the SMTP max_size is '20MB': give a positive"):
        SmtpIntake("127.0.0.1", 0, fax_domain=DOMAIN, max_size="20MB", is_registered=bool,
                   accept=i.accept)
    taken = SmtpIntake("127.0.0.1", i.server.port, fax_domain=DOMAIN, max_size=1,
                       is_registered=bool, accept=i.accept)
    with pytest.raises(GatewayConfigError, match=f"the SMTP intake cannot listen on 127.0.0.1:"
                                           f"{i.server.port}: Address already in use; give"):
        loop.run(taken.start())


def test_helo_clients_and_async_sender_checks(intake):
    i = intake()

    async def registered(address: str) -> bool:
        return address == SENDER
    i.server.is_registered = registered
    with i.client() as c:
        c.helo("old.example.jp")
        c.sendmail(SENDER, [f"0921234567@{DOMAIN}"], request())
    assert b"from old.example.jp ([127.0.0.1])\r\n\tby cl1.faximo.jp (faxengine) with SMTP;" \
        in i.accepted[0][0]
