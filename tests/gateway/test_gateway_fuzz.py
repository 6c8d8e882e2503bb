"""Bounded fuzz: mutated request mails give a Request (refused or not), never an exception,
and the mails made from what they hold can be written."""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxengine.gateway.charsets import encode_iso2022jp
from faxengine.gateway.jobs import DONE
from faxengine.gateway.mail import Request, parse_request
from faxengine.gateway.results import ResultSettings, refusal_mails, result_mail

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _seed(charset: str) -> bytes:
    m = EmailMessage()
    m["From"], m["To"] = "sample@edicworks.com", "03-1234-5678@cl1.faximo.jp, x@example.com"
    m["Subject"] = "FAX送信サンプル①"
    m.set_content("本文です。\n二行目", charset=charset)
    m.add_alternative("<p>本文</p>", subtype="html")
    m.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="請求書.pdf")
    m.add_attachment("テキスト", filename="メモ.txt", charset="shift_jis")
    return m.as_bytes()


SEEDS = [_seed("utf-8"), _seed("iso-2022-jp"), _seed("euc-jp"),
         b"From: a@b\r\nTo: 0312345678@cl1.faximo.jp\r\nSubject: \x1b$B%F%9%H\x1b(B\r\n\r\n"
         + encode_iso2022jp("①㈱髙") + b"\r\n"]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.integers(0, 3))
        i = draw(st.integers(0, len(data) - 1))
        if op == 0:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            data.insert(i, draw(st.sampled_from([0, 0x1B, ord("-"), ord("="), ord("\n"), 0xFF])))
        elif op == 2:
            del data[i:i + draw(st.integers(1, 40))]
        else:
            data[i:i] = draw(st.sampled_from([b"--", b"=?utf-8?B?", b"?=", b"boundary=",
                                              b"\r\n\r\n", b"*0*=", b"%"]))
        if not data:
            data = bytearray(b"\n")
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_mail_gives_a_request_and_its_mails(raw):
    r = parse_request(raw, "cl1.faximo.jp", mail_from="a@b", rcpt_to=["0312345678@cl1.faximo.jp"])
    assert isinstance(r, Request)
    to = r.sender or "a@b"
    if r.refusal:
        mails = refusal_mails(ResultSettings(), r, request_seq=1, date=NOW)
        assert mails and all(m.message.isascii() for m in mails if m.to.isascii())
    for d in r.destinations:
        m = result_mail(ResultSettings(), to=to, number=d.number, status=DONE, sent_at=NOW,
                        pages=1, subject=r.subject, date=NOW, message_id="<a@b>")
        assert m.message.isascii() or not to.isascii()
