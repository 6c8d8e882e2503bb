"""The request rules of mail-gateway.md §1, each on real mails built by Python's email package."""
from __future__ import annotations

import email.header
import io
import time
import tracemalloc
import zipfile
from datetime import datetime, timezone
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from faxengine.gateway import charsets
from faxengine.gateway.jobs import (BAD_ATTACHMENT, BAD_NUMBER, MALFORMED, NOT_IN_TO,
                                    NOTHING_TO_SEND, TOO_MANY_PAGES, TOO_MANY_RECIPIENTS,
                                    WAITING)
from faxengine.gateway.mail import (MAX_PAGES, Document, Refusal, Request, check_sender,
                                    header_text, html_to_text, number_error, parse_request)

DOMAIN = "cl1.faximo.jp"
SENDER = "sample@edicworks.com"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
TIFF = b"II*\x00\x08\x00\x00\x00" + bytes(16)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(8)


def request_mail(to="0312345678@cl1.faximo.jp", subject="FAX送信サンプル東京",
                 body="本文です。", charset="utf-8", **headers) -> EmailMessage:
    m = EmailMessage()
    m["From"] = SENDER
    m["To"] = to
    m["Subject"] = subject
    for name, value in headers.items():
        m[name] = value
    m.set_content(body, charset=charset)
    return m


def parse(m: Message | bytes, **kw) -> Request:
    return parse_request(m if isinstance(m, bytes) else m.as_bytes(), DOMAIN, **kw)


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


# ---- From ----------------------------------------------------------------------

def test_sender_must_be_registered_in_from_and_mail_from():
    r = parse(request_mail(), mail_from=SENDER)
    assert r.sender == SENDER and r.envelope_sender == SENDER
    assert check_sender(r, ["Sample@EdicWorks.com"]) is None          # case does not matter
    assert check_sender(r, ["other@example.com"]) == (
        "From sample@edicworks.com is not registered for fax sending; register it in the "
        "account's settings")
    r = parse(request_mail(), mail_from="bounce@example.com")
    assert check_sender(r, [SENDER]) == ("MAIL FROM bounce@example.com is not registered for "
                                         "fax sending; register it in the account's settings")
    assert check_sender(parse(request_mail(), mail_from=""), [SENDER]) == (
        "MAIL FROM <> is not registered for fax sending; register it in the account's settings")
    m = request_mail()
    del m["From"]
    assert check_sender(parse(m), [SENDER]) == (
        "the mail has no single From address; send from a registered address")


# ---- To, Cc, Bcc ------------------------------------------------------------------

def test_fax_addresses_of_to_are_the_destinations_in_order_others_ignored():
    r = parse(request_mail(to="03-1234-5678@cl1.faximo.jp, boss@example.com, "
                              "\"045-123-4567\"@CL1.FAXIMO.JP"))
    assert r.refusal is None
    assert [(d.number, d.error) for d in r.destinations] == [("0312345678", None),
                                                             ("0451234567", None)]


def test_fifty_destinations_pass_fifty_one_refuse_the_request():
    fifty = ", ".join(f"03{i:08d}@{DOMAIN}" for i in range(50))
    assert len(parse(request_mail(to=fifty)).destinations) == 50
    r = parse(request_mail(to=fifty + f", 0312345678@{DOMAIN}"))
    assert r.refusal == Refusal(TOO_MANY_RECIPIENTS, "To has 51 fax addresses: at most 50 per "
                                "request; split it", "51")
    assert r.destinations == ()


def test_no_fax_address_in_to_is_refused():
    r = parse(request_mail(to="someone@example.com"))
    assert r.refusal.status == NOT_IN_TO
    assert r.refusal.detail == "To has no fax address (<number>@cl1.faximo.jp)"


def test_fax_address_in_cc_refuses_the_whole_request():
    r = parse(request_mail(Cc=f"0451234567@{DOMAIN}"))
    assert r.refusal == Refusal(NOT_IN_TO, f"0451234567@{DOMAIN} is in Cc: fax addresses go "
                                "in To only, and nothing was sent", f"0451234567@{DOMAIN}")
    assert parse(request_mail(Cc="boss@example.com")).refusal is None


def test_envelope_recipient_not_in_to_is_a_bcc_and_refuses_the_request():
    m = request_mail()
    ok = parse(m, rcpt_to=[f"<0312345678@{DOMAIN.upper()}>", "archive@example.com"])
    assert ok.refusal is None
    r = parse(m, rcpt_to=[f"0312345678@{DOMAIN}", f"0451234567@{DOMAIN}"])
    assert r.refusal.status == NOT_IN_TO
    assert r.refusal.detail.startswith(f"0451234567@{DOMAIN} is a recipient (Bcc) but not in To")
    assert parse(request_mail(Bcc=f"0451234567@{DOMAIN}")).refusal.status == NOT_IN_TO


# ---- numbers ---------------------------------------------------------------------

@pytest.mark.parametrize("number", ["0312345678", "0921234567", "0112345678", "0220123456",
                                    "05012345678", "0120123456", "08001234567",
                                    "0101212345678", "01044201234567", "0108613912345678"])
def test_accepted_number_forms(number):
    assert number_error(number) is None


@pytest.mark.parametrize("number, error", [
    ("03123456", "03123456 is not a number faxes are sent to: a domestic fixed-line number "
                 "(10 digits), 050, 0120, 0800 or 010 + international"),
    ("09012345678", None), ("0570123456", None), ("0990123456", None), ("0012345678", None),
    ("110", None), ("0501234567", "0501234567: a 050 number has 11 digits"),
    ("012012345", "012012345: a 0120 number has 10 digits"),
    ("0800123456", "0800123456: a 0800 number has 11 digits"),
    ("010123", "010123: an international number is 010, the country code and 7-15 digits"),
    ("0100441234567", None), ("+81312345678", "'+81312345678' is not a fax number: digits "
                                              "(and -) only"),
    ("０３１２３４５６７８", None), ("03(1234)5678", None),
])
def test_other_numbers_are_errors(number, error):
    got = number_error(number)
    assert got is not None
    if error:
        assert got == error


def test_a_bad_number_is_an_error_of_that_destination_only():
    r = parse(request_mail(to=f"03-1234-5678@{DOMAIN}, 090-1234-5678@{DOMAIN}"))
    assert r.refusal is None
    assert [(d.number, d.error) for d in r.destinations] == [("0312345678", None),
                                                             ("09012345678", BAD_NUMBER)]


# ---- Subject and body ----------------------------------------------------------

def test_subject_is_decoded_in_any_japanese_charset():
    for cs in ("iso-2022-jp", "shift_jis", "euc-jp", "utf-8"):
        m = request_mail(subject="")
        del m["Subject"]
        m["Subject"] = email.header.Header("FAX送信サンプル福岡", cs).encode()
        assert parse(m).subject == "FAX送信サンプル福岡", cs
    raw = request_mail().as_bytes().replace(
        b"Subject: ", b"Subject: " + "①㈱髙".encode("cp932") + b" ", 1)   # raw 8-bit CP932
    assert parse(raw).subject.startswith("①㈱髙 ")
    assert header_text("=?x-unknown?B?5pel5pys?=") == "日本"       # charset guessed
    assert isinstance(header_text("=?utf-8?B?@@@?= =?iso-2022-jp?Q?=1B=ZZ?="), str)


def test_subject_starting_with_three_equals_keeps_the_body_off_the_fax():
    m = request_mail(subject="===請求書送付")
    m.add_attachment(PDF, maintype="application", subtype="pdf", filename="a.pdf")
    r = parse(m)
    assert r.refusal is None and not r.body_faxed
    assert [d.name for d in r.documents] == ["a.pdf"]


def test_nothing_to_send_is_an_error():
    r = parse(request_mail(subject="===only a subject"))
    assert r.refusal.status == NOTHING_TO_SEND
    assert parse(request_mail(body=" \n\n")).refusal.status == NOTHING_TO_SEND


@pytest.mark.parametrize("charset, cte", [("iso-2022-jp", "7bit"), ("shift_jis", "base64"),
                                          ("euc-jp", "quoted-printable"), ("utf-8", "base64"),
                                          ("utf-8", "quoted-printable"), ("cp932", "8bit")])
def test_body_is_decoded_in_its_charset_and_transfer_encoding(charset, cte):
    text = "FAX送信サンプル大阪\n二行目です。"
    m = request_mail(body=text, charset=charset, cte=cte) if cte != "8bit" else None
    if m is None:
        m = MIMEText("x", "plain", "utf-8")
        m.set_payload(text.encode("cp932"))
        del m["Content-Transfer-Encoding"], m["Content-Type"]
        m["Content-Type"] = "text/plain; charset=Shift_JIS"
        m["Content-Transfer-Encoding"] = "8bit"
        m["From"], m["To"] = SENDER, f"0312345678@{DOMAIN}"
    r = parse(m)
    assert r.documents[0].text.rstrip("\n") == text


def test_shift_jis_and_iso_2022_jp_bodies_keep_cp932_extension_characters():
    text = "①㈱髙橋様 﨑 Ⅲ №"
    for label, data, cte in (("Shift_JIS", text.encode("cp932"), "8bit"),
                             ("ISO-2022-JP", charsets.encode_iso2022jp(text), "7bit")):
        raw = (f"From: {SENDER}\r\nTo: 0312345678@{DOMAIN}\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
               f"Content-Type: text/plain; charset={label}\r\n"
               f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode() + data + b"\r\n"
        assert parse(raw).documents[0].text == text + "\n", label


def test_html_only_mail_is_faxed_as_its_text():
    m = request_mail(subject="x")
    m.set_content("<html><head><style>p{}</style></head><body><p>御中&amp;様</p>"
                  "<div>二行目<br>三行目</div><script>x()</script></body></html>", subtype="html")
    assert parse(m).documents[0].text == "御中&様\n\n二行目\n三行目"
    assert html_to_text("<pre>a  b</pre>") == "a  b"                # pre keeps its spaces


def test_nested_alternative_and_mixed_take_the_plain_text_and_the_attachments():
    # the shape of Apple Mail and Outlook: mixed[alternative[plain, related[html, img]], pdf]
    m = request_mail(body="プレーン本文")
    m.add_alternative("<p>HTML本文</p><img src='cid:logo'>", subtype="html")
    html_part = m.get_payload()[1]
    html_part.add_related(JPEG, maintype="image", subtype="jpeg", cid="<logo>",
                          filename="logo.jpg")
    m.add_attachment(PDF, maintype="application", subtype="pdf", filename="b.pdf")
    r = parse(m)
    assert r.refusal is None
    assert [(d.name, d.file_type) for d in r.documents] == [("", "text"), ("b.pdf", "pdf")]
    assert r.documents[0].text.strip() == "プレーン本文"


def test_body_split_around_an_inline_attachment_is_one_body():
    outer = MIMEMultipart("mixed")
    outer["From"], outer["To"], outer["Subject"] = SENDER, f"0312345678@{DOMAIN}", "x"
    outer.attach(MIMEText("前半", "plain", "utf-8"))
    pdf = MIMEApplication(PDF, "pdf")
    pdf.add_header("Content-Disposition", "inline", filename="a.pdf")
    outer.attach(pdf)
    outer.attach(MIMEText("後半", "plain", "utf-8"))
    r = parse(outer)
    assert r.documents[0].text == "前半\n後半" and r.documents[1].name == "a.pdf"


# ---- attachments -------------------------------------------------------------------

def test_attachments_follow_the_body_in_code_point_order_of_decoded_names():
    m = request_mail()
    names = ["見積書.pdf", "B.tif", "a.jpg", "請求書.pdf", "A.txt", "ア.pdf"]
    for name, (maintype, subtype, data) in zip(names, [
            ("application", "pdf", PDF), ("image", "tiff", TIFF), ("image", "jpeg", JPEG),
            ("application", "pdf", PDF), ("text", "plain", "テキスト添付"),
            ("application", "pdf", PDF)]):
        if maintype == "text":
            m.add_attachment(data, filename=name, charset="shift_jis")
        else:
            m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    r = parse(m)
    assert [d.name for d in r.documents] == ["", *sorted(names)]
    assert [d.name for d in r.documents][1:] == ["A.txt", "B.tif", "a.jpg", "ア.pdf",
                                                 "見積書.pdf", "請求書.pdf"]
    assert r.documents[1].text.rstrip("\n") == "テキスト添付"


def test_rfc2047_and_rfc2231_file_names_are_decoded():
    m = request_mail()
    m.make_mixed()
    for disposition in (
            'attachment; filename="=?ISO-2022-JP?B?GyRCOCsbKEI=?=.pdf"',        # 見.pdf, RFC 2047
            "attachment; filename*=iso-2022-jp''%1B%24B%3Dq%1B%28B.pdf",           # 書.pdf
            "attachment; filename*0*=shift_jis''%87%40; filename*1=.pdf",       # ①.pdf
            "attachment; filename*=UTF-8''%E9%AB%99.pdf"):                      # 髙.pdf
        part = MIMEApplication(PDF, "pdf")
        part["Content-Disposition"] = disposition
        m.attach(part)
    r = parse(m)
    assert [d.name for d in r.documents[1:]] == sorted(["見.pdf", "書.pdf", "①.pdf", "髙.pdf"])


@pytest.mark.parametrize("name, data, detail", [
    ("run.exe", b"MZ", "attachment run.exe: files of type .exe are not sent; send Word, "
                       "Excel, PDF, TIFF, JPEG or text"),
    ("README", b"x", "attachment README: files of type (none) are not sent; send Word, "
                     "Excel, PDF, TIFF, JPEG or text"),
    ("fake.pdf", b"MZ\x90\x00", "attachment fake.pdf: not a PDF (no %PDF- header in the "
                                "first 1024 octets)"),
    ("fake.tif", PDF, "attachment fake.tif: not a TIFF (no II*/MM* header)"),
    ("fake.jpeg", PDF, "attachment fake.jpeg: not a JPEG (no SOI marker FF D8 FF)"),
    ("fake.doc", PDF, "attachment fake.doc: not a .doc file (no Compound File header)"),
    ("fake.xlsx", b"PK\x03\x04" + bytes(30), None),
    ("bomb.docx", b"PK\x03\x04", None),
    ("wrong.xlsx", docx(), "attachment wrong.xlsx: not a .xlsx file (the package has no xl/ "
                           "part)"),
    ("empty.pdf", b"", "attachment empty.pdf: the file is empty"),
    ("binary.txt", b"ab\x00cd", "attachment binary.txt: not a text file (it has NUL octets)"),
])
def test_only_the_spec_file_types_by_extension_and_magic(name, data, detail):
    m = request_mail()
    m.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    r = parse(m)
    assert r.refusal.status == BAD_ATTACHMENT and r.refusal.item == name
    if detail:
        assert r.refusal.detail == detail


def test_accepted_types_pass_with_any_case_of_extension():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8)
    m = request_mail()
    for name, data in (("a.DOC", ole), ("b.docx", docx()), ("c.xls", ole), ("d.PDF", PDF),
                       ("e.tiff", b"MM\x00*" + bytes(8)), ("f.jpe", JPEG), ("g.jfif", JPEG),
                       ("h.JPG", JPEG)):
        m.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    r = parse(m)
    assert r.refusal is None
    assert [d.file_type for d in r.documents[1:]] == ["word", "word", "excel", "pdf", "tiff",
                                                      "jpeg", "jpeg", "jpeg"]


def test_a_nameless_binary_part_or_a_forwarded_mail_is_a_bad_attachment():
    m = request_mail()
    m.add_attachment(PDF, maintype="application", subtype="pdf")
    assert parse(m).refusal.detail == ("attachment (a application/pdf part without a file "
                                       "name): give the file a name ending in .doc, .docx, "
                                       ".xls, .xlsx, .pdf, .tif, .tiff, .jpg, .jpeg, .jpe, "
                                       ".jfif, .txt")
    m = request_mail()
    m.add_attachment(request_mail())                    # message/rfc822
    assert parse(m).refusal.status == BAD_ATTACHMENT


def test_jobs_of_a_request_wait_or_carry_their_error():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    r = parse(request_mail(to=f"03-1234-5678@{DOMAIN}, 0312@{DOMAIN}"))
    jobs = r.jobs(7, now)
    assert [(j.detail_no, j.number, j.status, j.sent_at) for j in jobs] == [
        ("0000000007001", "0312345678", WAITING, None),
        ("0000000007002", "0312", BAD_NUMBER, now)]
    refused = r.with_page_counts([51]).jobs(7, now)
    assert [j.status for j in refused] == [TOO_MANY_PAGES, TOO_MANY_PAGES]


# ---- pages -------------------------------------------------------------------------

def test_page_counts_from_the_renderer_and_the_fifty_page_rule():
    m = request_mail()
    m.add_attachment(PDF, maintype="application", subtype="pdf", filename="a.pdf")
    r = parse(m)
    assert r.pages is None
    ok = r.with_page_counts([1, MAX_PAGES - 1])
    assert ok.pages == 50 and ok.refusal is None and [d.pages for d in ok.documents] == [1, 49]
    over = r.with_page_counts([1, MAX_PAGES])
    assert over.refusal == Refusal(TOO_MANY_PAGES, "the request makes 51 pages: at most 50 "
                                   "pages are sent per request; split it", "51")
    with pytest.raises(ValueError, match="1 page counts given for 2 documents"):
        r.with_page_counts([3])
    assert Document("", "text", b"").pages is None


# ---- hostile mail -----------------------------------------------------------------

def _bounded(raw: bytes, seconds: float = 5.0, megabytes: float = 200.0) -> Request:
    """The request, read within ``seconds`` (untraced) and ``megabytes`` (traced)."""
    t0 = time.perf_counter()
    r = parse(raw)
    assert time.perf_counter() - t0 < seconds
    tracemalloc.start()
    try:
        assert parse(raw) == r
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < megabytes * 1e6
    return r


def test_ten_thousand_recipients_are_refused_quickly():
    to = ",\r\n ".join(f"03{i:08d}@{DOMAIN}" for i in range(10_000))
    r = _bounded(f"From: {SENDER}\r\nTo: {to}\r\nSubject: x\r\n\r\nbody\r\n".encode())
    assert r.refusal.status == TOO_MANY_RECIPIENTS and r.refusal.item == "10000"


def test_deep_mime_nesting_is_refused():
    head = (f"From: {SENDER}\r\nTo: 0312345678@{DOMAIN}\r\nSubject: deep\r\n"
            f"MIME-Version: 1.0\r\n").encode()
    for depth in (40, 3000):
        body = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                        for i in range(depth))
        r = _bounded(head + body + b"Content-Type: text/plain\r\n\r\nhi\r\n")
        assert r.refusal.status == MALFORMED, depth
        assert r.refusal.detail.startswith("the mail ")


@pytest.mark.parametrize("raw", [
    b"", b"\x00" * 1000, b"From: \x00\x00\r\nTo: \x00@cl1.faximo.jp\r\n\r\n\x00\x00",
    b"From: a@b\r\nTo: 0312345678@cl1.faximo.jp\r\nContent-Type: multipart/mixed\r\n\r\nx",
    b"From: a@b\r\nTo: 0312345678@cl1.faximo.jp\r\nSubject: =?iso-2022-jp?B?####?=\r\n"
    b"Content-Type: text/plain; charset=\"x-unknown\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\x00\xff\r\n",
    b"From: a@b\r\nTo: 0312345678@cl1.faximo.jp\r\nContent-Type: text/plain; charset=\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=E3=81=\r\n=ZZ\r\n",
    b"From: a@b\r\nTo: 0312345678@cl1.faximo.jp\r\nContent-Type: multipart/mixed; "
    b"boundary=\"b\"\r\n\r\n--b\r\nContent-Disposition: attachment; filename*=bogus''%ZZ%\r\n"
    b"\r\n%PDF\r\n--b--\r\n",
    b"\xff\xfe\x00From: broken\r\n:::\r\n\r\n" + bytes(range(256)) * 50,
])
def test_malformed_mail_gives_a_result_never_an_exception(raw):
    r = _bounded(raw)
    assert isinstance(r, Request)
    assert r.refusal is not None or r.documents


def test_nul_bytes_in_a_body_do_not_reach_the_text():
    raw = (f"From: {SENDER}\r\nTo: 0312345678@{DOMAIN}\r\nSubject: x\r\n\r\n").encode() + \
        b"a\x00b\r\nc\x01\r\n"
    assert parse(raw).documents[0].text == "ab\nc\n"
