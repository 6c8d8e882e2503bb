"""Result mail delivery: into the Maildirs, and to a real SMTP server (aiosmtpd) as smarthost."""
from __future__ import annotations

import socket
import time
from datetime import datetime, timezone

import pytest

from _mailio import LoopThread, Relay, tls_contexts
from faxengine.gateway.delivery import (DeliveryError, MailboxDelivery, SmarthostDelivery,
                                        message_key)
from faxengine.gateway.jobs import DONE
from faxengine.gateway.maildir import MailStore
from faxengine.gateway.results import ResultSettings, message_id, result_mail

SETTINGS = ResultSettings()
WHEN = datetime(2010, 1, 21, tzinfo=timezone.utc)


def result(to: str = "sample@edicworks.com", detail: str = "0000000007001"):
    return result_mail(SETTINGS, to=to, number="0921234567", status=DONE, sent_at=WHEN, pages=3,
                       subject="FAX送信サンプル福岡", date=WHEN,
                       message_id=message_id(detail, SETTINGS), detail=detail)


def test_mailbox_delivery_once_per_message_id(tmp_path):
    store = MailStore(tmp_path)
    delivery = MailboxDelivery(store)
    mail = result()
    assert message_key(mail.message) == "<0000000007001.result@cl1.faximo.jp>"
    delivery.deliver(mail)
    delivery.deliver(mail)              # the outbox retried after a crash
    delivery.deliver(result(detail="0000000007002"))
    messages = store.messages("Sample@Edicworks.com")
    assert len(messages) == 2
    assert store.read(messages[0]).replace(b"\r\n", b"\n") == mail.message.replace(b"\r\n", b"\n")


def test_mailbox_delivery_errors(tmp_path):
    with pytest.raises(DeliveryError, match="an empty address has no mailbox") as err:
        MailboxDelivery(MailStore(tmp_path)).deliver(result(to=" "))
    assert not err.value.temporary
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(DeliveryError, match="cannot make the mailbox") as err:
        MailboxDelivery(MailStore(tmp_path / "file")).deliver(result())
    assert err.value.temporary


@pytest.fixture
def loop():
    lt = LoopThread()
    yield lt
    lt.close()


def test_smarthost_delivers_the_octets_from_the_system_address(loop):
    relay = Relay(loop)
    mail = result()
    SmarthostDelivery("127.0.0.1", relay.port, timeout=5).deliver(mail)
    SmarthostDelivery("127.0.0.1", relay.port, timeout=5).deliver(result(to="ユーザ@例え.jp"))
    relay.close()
    (sender, rcpt, data), (_, rcpt2, _) = relay.received
    assert (sender, rcpt) == ("fax_sys@cl1.faximo.jp", ["sample@edicworks.com"])
    assert data.replace(b"\r\n", b"\n") == mail.message.replace(b"\r\n", b"\n")
    assert rcpt2 == ["ユーザ@例え.jp"]


def test_smarthost_with_starttls(loop, tmp_path):
    server_ctx, client_ctx = tls_contexts(tmp_path)
    relay = Relay(loop, tls_context=server_ctx)
    SmarthostDelivery("127.0.0.1", relay.port, timeout=5, starttls=client_ctx).deliver(result())
    relay.close()
    assert len(relay.received) == 1


def test_smarthost_4xx_temporary_5xx_permanent(loop):
    relay = Relay(loop)
    delivery = SmarthostDelivery("127.0.0.1", relay.port, timeout=5)
    with pytest.raises(DeliveryError) as err:
        delivery.deliver(result(to="busy@example.jp"))
    assert err.value.temporary
    assert str(err.value) == (f"the smarthost 127.0.0.1:{relay.port} refused busy@example.jp: "
                              f"452 4.2.2 Mailbox full, try later")
    with pytest.raises(DeliveryError) as err:
        delivery.deliver(result(to="nobody@example.jp"))
    assert not err.value.temporary
    assert str(err.value).endswith("refused nobody@example.jp: 550 5.1.1 No such user")
    relay.close()
    assert relay.received == []


def test_smarthost_refused_or_silent_is_temporary():
    with socket.socket() as s:          # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeliveryError, match="cannot be reached") as err:
        SmarthostDelivery("127.0.0.1", port, timeout=2).deliver(result())
    assert err.value.temporary
    with socket.socket() as silent:     # accepts, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        with pytest.raises(DeliveryError, match="cannot be reached") as err:
            SmarthostDelivery("127.0.0.1", silent.getsockname()[1], timeout=0.5).deliver(result())
        assert err.value.temporary
        assert time.monotonic() - started < 3


@pytest.mark.parametrize("to", ["a@x.example\r\nRCPT TO:<victim@x.example>",
                                "\udcff@x.example", "a\x00@x.example"])
def test_an_address_no_smtp_command_can_carry_is_refused_for_good_before_sending(loop, to):
    """A CR LF in the address went to the relay as a second RCPT TO (the mail was
    delivered to both); surrogates raised UnicodeEncodeError, not DeliveryError."""
    relay = Relay(loop)
    with pytest.raises(DeliveryError) as caught:
        SmarthostDelivery("127.0.0.1", relay.port, timeout=5).deliver(result(to=to))
    relay.close()
    assert caught.value.temporary is False and relay.received == []
    assert str(caught.value) == (f"the recipient address {to!r} cannot be written in an SMTP "
                                 f"command (control characters or octets that are not UTF-8); "
                                 f"correct the address")
    with pytest.raises(DeliveryError, match=r"^the sender address 'fax\\r\\n@x' cannot be"):
        SmarthostDelivery("127.0.0.1", 9, timeout=5, mail_from="fax\r\n@x").deliver(result())


@pytest.mark.parametrize("quit_reply", ["221 Bye", "421 4.3.0 going down"])
def test_smarthost_calls_accepted_right_after_the_250_to_data_before_quit(loop, quit_reply):
    """The outbox marks the mail delivered in ``accepted``: right after the relay's
    250 to the end of DATA, before QUIT, so the window in which a crash makes a
    duplicate is that mark alone.  A QUIT answered badly after the 250 is no
    failure: the relay has the mail (sending it again would be the duplicate)."""
    events: list[str] = []
    relay = Relay(loop, quit_reply=quit_reply, events=events)
    SmarthostDelivery("127.0.0.1", relay.port, timeout=5).deliver(
        result(), accepted=lambda: events.append("accepted"))
    relay.close()
    assert events == ["RCPT", "250 to DATA", "accepted", "QUIT"]
    assert len(relay.received) == 1
    refused: list[str] = []
    other = Relay(loop)
    with pytest.raises(DeliveryError):
        SmarthostDelivery("127.0.0.1", other.port, timeout=5).deliver(
            result(to="nobody@example.jp"), accepted=lambda: refused.append("accepted"))
    other.close()
    assert refused == []


def test_mailbox_delivery_calls_accepted_once_the_maildir_has_it(tmp_path):
    store = MailStore(tmp_path)
    seen: list[int] = []
    MailboxDelivery(store).deliver(result(), lambda: seen.append(
        len(store.messages("sample@edicworks.com"))))
    assert seen == [1]
