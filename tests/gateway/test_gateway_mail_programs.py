"""Mails as real mail programs write them (Outlook, Apple Mail, Thunderbird,
mobile carriers), and the odd file names senders put in them."""
from __future__ import annotations

import base64
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email import encoders

import pytest

from faxengine.gateway.charsets import decode, decode_iso2022jp
from faxengine.gateway.jobs import BAD_ATTACHMENT
from faxengine.gateway.mail import parse_request

DOMAIN = "cl1.faximo.jp"
PDF_B64 = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()


def headers(m, subject="s"):
    m["From"], m["To"], m["Subject"] = "a@b.example", f"0312345678@{DOMAIN}", subject
    return m


def raw_mail(part_headers: str, payload: str, ctype="text/plain; charset=UTF-8") -> bytes:
    return (f"From: a@b.example\r\nTo: 0312345678@{DOMAIN}\r\nSubject: s\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n"
            f"--BB\r\nContent-Type: {ctype}\r\n\r\nbody\r\n"
            f"--BB\r\n{part_headers}\r\n\r\n{payload}\r\n--BB--\r\n").encode()


@pytest.mark.parametrize("ctype,name", [("application/ms-tnef", "winmail.dat"),
                                        ("application/ms-tnef", None),
                                        ("application/octet-stream", "WINMAIL.DAT")])
def test_outlook_tnef_winmail_dat_is_a_bad_attachment_saying_what_to_do(ctype, name):
    m = headers(MIMEMultipart("mixed"))
    related, alternative = MIMEMultipart("related"), MIMEMultipart("alternative")
    alternative.attach(MIMEText("本文", "plain", "utf-8"))
    alternative.attach(MIMEText("<p>本文<img src=cid:i1></p>", "html", "utf-8"))
    related.attach(alternative)
    image = MIMEBase("image", "png")
    image.set_payload(b"\x89PNG\r\n\x1a\n")
    image["Content-ID"] = "<i1>"
    related.attach(image)
    m.attach(related)
    tnef = MIMEBase(*ctype.split("/"))
    tnef.set_payload(b"\x78\x9f\x3e\x22\x00\x00")
    encoders.encode_base64(tnef)
    if name:
        tnef.add_header("Content-Disposition", "attachment", filename=name)
    m.attach(tnef)
    r = parse_request(m.as_bytes(), DOMAIN)
    shown = name or "winmail.dat"
    assert r.refusal.status == BAD_ATTACHMENT and r.refusal.item == shown
    assert r.refusal.detail == (f"attachment {shown}: Outlook wrapped the mail in its own TNEF "
                                f"format (Rich Text); send it again in HTML or plain-text format")


@pytest.mark.parametrize("sent,kept", [
    ("../../etc/passwd.pdf", "passwd.pdf"), ("C:\\x\\y.pdf", "y.pdf"),
    ("/tmp/a.pdf", "a.pdf"), ("見積\x00書.pdf", "見積 書.pdf"),
    ("x\r\nBcc: e@vil.example.pdf", "x Bcc: e@vil.example.pdf")])
def test_file_names_keep_only_their_last_component_without_controls(sent, kept):
    word = "=?UTF-8?B?" + base64.b64encode(sent.encode()).decode() + "?="
    for where in (f'Content-Type: application/pdf; name="{word}"',
                  f'Content-Type: application/pdf\r\n'
                  f'Content-Disposition: attachment; filename="{word}"'):
        r = parse_request(raw_mail(where + "\r\nContent-Transfer-Encoding: base64", PDF_B64),
                          DOMAIN)
        assert r.refusal is None and [d.name for d in r.documents] == ["", kept]
    # RFC 2231 form too
    octets = "".join(f"%{b:02X}" for b in sent.encode())
    r = parse_request(raw_mail("Content-Type: application/pdf\r\nContent-Disposition: "
                               f"attachment; filename*=UTF-8''{octets}\r\n"
                               "Content-Transfer-Encoding: base64", PDF_B64), DOMAIN)
    assert [d.name for d in r.documents] == ["", kept]


def test_thunderbird_format_flowed_is_joined_into_paragraphs():
    body = ("This is a long line that \r\nflows over two.\r\n \r\n>quoted and \r\n>flowed\r\n"
            " From stuffed\r\n-- \r\nsig\r\n")
    r = parse_request(raw_mail("Content-Type: text/plain", "x",
                               ctype="text/plain; charset=UTF-8; format=flowed")
                      .replace(b"body\r\n", body.encode()), DOMAIN)
    assert r.documents[0].text == ("This is a long line that flows over two.\n\n"
                                   "> quoted and flowed\nFrom stuffed\n-- \nsig\nx")
    delsp = parse_request(raw_mail("Content-Type: text/plain", "x",
                                   ctype="text/plain; format=Flowed; DelSp=Yes")
                          .replace(b"body\r\n", b"abc \r\ndef\r\n"), DOMAIN)
    assert delsp.documents[0].text == "abcdef\nx"


def test_a_text_attachment_with_the_utf8_signature_prints_no_bom():
    r = parse_request(raw_mail("Content-Type: text/plain\r\nContent-Disposition: attachment; "
                               "filename=a.txt\r\nContent-Transfer-Encoding: base64",
                               base64.b64encode("\ufeff日本語".encode()).decode()), DOMAIN)
    assert r.documents[1].text == "日本語"


def test_damaged_iso_2022_jp_keeps_the_lines_that_are_whole():
    data = b"\x1b$B$3$s$K$A$O\x1b(B\r\nok \x1b$Q broken\r\n\x1b$B$3$s$"
    assert decode_iso2022jp(data) is None
    assert decode_iso2022jp(data, "replace") == "こんにちは\r\nok \ufffd broken\r\nこん\ufffd"
    assert decode(data, "iso-2022-jp") == "こんにちは\r\nok \ufffd broken\r\nこん\ufffd"
    assert decode(data) == "こんにちは\r\nok \ufffd broken\r\nこん\ufffd"
    assert decode(b"\x1b$B$3$s\x1b(B\xff", "iso-2022-jp") == "こん\ufffd"
    # the carrier's Subject, and the body, with a cut escape
    raw = (b"From: a@b.example\r\nTo: 0312345678@cl1.faximo.jp\r\n"
           b"Subject: =?ISO-2022-JP?B?" + base64.b64encode(b"\x1b$B$F$9$H\x1b(B") + b"?=\r\n"
           b"Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
           b"\x1b$B$3$s$K$A$O\r\n\x1b(Bok \x1b$Q broken\r\n")
    r = parse_request(raw, DOMAIN)
    assert r.subject == "てすと"
    assert r.documents[0].text == "こんにちは\nok \ufffd broken\n"


def test_a_number_in_full_width_digits_says_to_write_half_width():
    r = parse_request(f"From: a@b.example\r\nTo: ０３－１２３４－５６７８@{DOMAIN}, "
                      f"０３1234５６７８@{DOMAIN}, ０３ア@{DOMAIN}\r\nSubject: x\r\n\r\nb\r\n"
                      .encode(), DOMAIN)
    assert [(d.number, d.error, d.detail) for d in r.destinations] == [
        ("０３－１２３４－５６７８", "FAX番号エラー", "'０３－１２３４－５６７８' is written in "
         "full-width digits: write the number in half-width digits 0-9 (and -)"),
        ("０３1234５６７８", "FAX番号エラー", "'０３1234５６７８' is written in full-width "
         "digits: write the number in half-width digits 0-9 (and -)"),
        ("０３ア", "FAX番号エラー", "'０３ア' is not a fax number: digits (and -) only")]
