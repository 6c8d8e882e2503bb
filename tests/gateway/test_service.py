"""The running gateway end to end (mail-gateway.md, every rule once at least):
requests sent by smtplib to the gateway's SMTP port, result mails read back
by poplib from its POP3 port, their subjects and bodies compared with the
spec's texts, what the simulated far ends received compared pixel for pixel.
"""
from __future__ import annotations

import re
import smtplib
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from faxengine import tiff
from faxengine.gateway.results import ERROR_SUBJECT, FOOTER, SUCCESS_SUBJECT
from gateway_harness import (DOMAIN, REPO, SENDER, InProcessGateway, maildir_files, mails_of,
                             request, send, wait_for, write_config)

TOKYO = ZoneInfo("Asia/Tokyo")
BUSY_REASON = ("送信エラーの原因は、送信先様が話し中である場合や、電話番号間違いなどが考えられます。\n"
               "送信先様の番号をご確認の上、もう一度お試しください。")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """One gateway for the tests of this module (each test its own numbers and mails)."""
    directory = tmp_path_factory.mktemp("gateway")
    gw = InProcessGateway(write_config(directory, retries=1, retry_interval="1s",
                                       lines=2)).start()
    yield gw
    gw.stop()


_seen: dict[int, int] = {}


def new_mails(gw: InProcessGateway, count: int, timeout: float = 120) -> list:
    """The next ``count`` result mails of the sample account (mails of earlier
    tests of the module are skipped: POP3 keeps them, nothing is deleted)."""
    start = _seen.get(id(gw), 0)
    mails = wait_for(lambda: (lambda m: m if len(m) >= start + count else None)(
        mails_of(gw)), f"{count} result mail(s)", timeout, every=0.2)
    _seen[id(gw)] = len(mails)
    assert len(mails) == start + count, [m.subject for m in mails[start:]]
    return mails[start:]


def sent_at(body: str, before: datetime) -> datetime:
    """送信日時 of a result mail, checked to be between ``before`` and now."""
    text = re.search(r"送信日時:(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)\n", body).group(1)
    when = datetime.strptime(text, "%Y/%m/%d %H:%M:%S").replace(tzinfo=TOKYO)
    now = datetime.now(timezone.utc)
    assert before - timedelta(seconds=1) <= when <= now + timedelta(seconds=1), (text, now)
    return when


def success_body(number: str, when: str, pages: int, subject: str) -> str:
    return (f"{number}宛のFAX送信が正常に完了しました。\n\n"
            f"送信日時:{when}\n送信先FAX番号:{number}\n枚数:{pages} 枚\n件名:{subject}\n"
            f"{FOOTER}\n")


def error_body(number: str, when: str, pages: int | str, subject: str, reason: str) -> str:
    return (f"{number}宛のFAXはエラーのため送信できませんでした。\n内容をご確認ください。\n\n"
            f"{reason}\n\n"
            f"送信日時:{when}\n送信先FAX番号:{number}\n枚数:{pages} 枚\n件名:{subject}\n"
            f"{FOOTER}\n")


def when_text(body: str) -> str:
    return re.search(r"送信日時:([^\n]+)\n", body).group(1)


def fax_tiff(pages: int = 1, seed: int = 1) -> bytes:
    """A bilevel TIFF-F of ``pages`` A4 fine pages, 1728 pels wide, a pattern per page."""
    import tempfile

    from faxengine.t4 import Page

    rng = np.random.default_rng(seed)
    made = []
    for _ in range(pages):
        image = np.zeros((2286, 1728), dtype=bool)
        for _ in range(40):
            y, x = rng.integers(0, 2200), rng.integers(0, 1600)
            image[y:y + rng.integers(5, 80), x:x + rng.integers(5, 120)] = True
        made.append(Page(image))                    # 204 x 196 dpi: fine
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fax.tif"
        tiff.write(path, made, coding="mmr")
        return path.read_bytes()


# ---- success --------------------------------------------------------------------------

def test_a_text_request_is_faxed_and_its_success_mail_is_the_spec_s(gateway):
    before = datetime.now(timezone.utc)
    send(gateway.smtp, request("0921234567", subject="FAX送信サンプル福岡"))
    (mail,) = new_mails(gateway, 1)
    assert mail.subject == SUCCESS_SUBJECT
    assert mail.sender == "fax_sys@cl1.faximo.jp" and mail.to == SENDER
    when = when_text(mail.body)
    sent_at(mail.body, before)
    assert mail.body == success_body("0921234567", when, 1, "FAX送信サンプル福岡")
    assert list((gateway.data_dir / "simnet" / "0921234567").glob("*.tif"))


def test_the_sample_request_two_destinations_and_a_tiff_pixel_equal_at_the_far_end(gateway):
    raw = (REPO / "samples" / "request.eml").read_bytes()
    send(gateway.smtp, raw, rcpt_to=["092-123-4567@cl1.faximo.jp", "0451234567@cl1.faximo.jp"])
    mails = new_mails(gateway, 2)
    assert {m.number() for m in mails} == {"0921234567", "0451234567"}
    for m in mails:
        assert m.subject == SUCCESS_SUBJECT, m.body
        # one page each: the body, then 地図.tif, then 見積書.pdf
        assert "\n枚数:3 枚\n件名:FAX送信サンプル福岡\n" in m.body
    attached = tiff.read(REPO / "samples" / "request" / "地図.tif")[0].image
    received = sorted((gateway.data_dir / "simnet" / "0451234567").glob("*.tif"))[-1]
    far = tiff.read(received)
    assert len(far) == 3
    # the attachments follow the body in code-point order: 地図.tif (U+5730) second,
    # pel for pel, before 見積書.pdf (U+898B)
    assert np.array_equal(far[1].image, attached)
    assert not np.array_equal(far[2].image[:attached.shape[0]], attached[:far[2].height])


def test_a_tiff_attachment_arrives_pixel_for_pixel_and_pages_are_counted(gateway, tmp_path):
    data = fax_tiff(pages=2, seed=7)
    send(gateway.smtp, request("0921234567", subject="===添付のみ", body="not faxed",
                               attachments=[("scan.tif", data, "image/tiff")]))
    (mail,) = new_mails(gateway, 1)
    assert mail.subject == SUCCESS_SUBJECT
    assert mail.body == success_body("0921234567", when_text(mail.body), 2, "===添付のみ")
    received = sorted((gateway.data_dir / "simnet" / "0921234567").glob("*.tif"),
                      key=lambda p: p.name)[-1]
    original = tmp_path / "original.tif"
    original.write_bytes(data)
    far = tiff.read(received)
    assert len(far) == 2
    for got, want in zip(far, tiff.read(original)):
        assert np.array_equal(got.image, want.image)


# ---- retries, errors ---------------------------------------------------------------------

def test_busy_is_retried_then_a_send_error_mail(gateway):
    before = datetime.now(timezone.utc)
    send(gateway.smtp, request("03-1234-5678", subject="話し中"))
    (mail,) = new_mails(gateway, 1)
    assert mail.subject == ERROR_SUBJECT
    assert mail.body == error_body("0312345678", when_text(mail.body), 1, "話し中", BUSY_REASON)
    sent_at(mail.body, before)
    job = job_row(gateway, "0312345678")
    assert (job.status, job.result_code, job.attempts) == ("送信エラー", "BUSY", 2)


def test_a_bad_number_gets_its_error_mail_and_the_others_are_sent(gateway):
    send(gateway.smtp, request(["0901234567", "0921234567"], subject="番号違い"))
    mails = sorted(new_mails(gateway, 2), key=lambda m: m.subject)
    bad = [m for m in mails if m.subject == ERROR_SUBJECT][0]
    good = [m for m in mails if m.subject == SUCCESS_SUBJECT][0]
    assert "送信先FAX番号(0901234567)は送信できる番号ではありません。" in bad.body
    assert bad.number() == "0901234567" and good.number() == "0921234567"


PER_DESTINATION = "0921234567宛のFAXはエラーのため送信できませんでした。\n内容をご確認ください。\n\n"
WHOLE_REQUEST = "FAX送信要求はエラーのため処理できませんでした。\n内容をご確認ください。\n\n"
REFUSALS = [        # a fax address in Cc: refused before the destinations are read
    ("cc", dict(to="0921234567", cc=f"0451234567@{DOMAIN}"), WHOLE_REQUEST +
     "FAX送信用のメールアドレスが宛先(TO)以外に指定されていたか、宛先(TO)にありませんでしたので、"
     "送信処理を行いませんでした。\nFAX送信用のメールアドレスは宛先(TO)にのみご指定ください。\n\n"),
    ("nothing", dict(to="0921234567", subject="===本文なし"), PER_DESTINATION +
     "送信するデータがありません。\n件名が===から始まる場合は本文が送信されないため、ファイルを添付してください。"
     "\n\n"),
    ("attachment", dict(to="0921234567", attachments=[("a.zip", b"PK\x03\x04xx",
                                                       "application/zip")]), PER_DESTINATION +
     "添付ファイル(a.zip)は送信できない形式か、内容が形式と一致しないため、送信しませんでした。\n"
     "Word、Excel、PDF、TIFF、JPEG、テキストのファイルを添付してください。\n\n"),
]


@pytest.mark.parametrize("name, kwargs, reason", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_request_is_not_sent_and_gets_an_error_mail(gateway, name, kwargs, reason):
    to = kwargs.pop("to")
    before = len(list((gateway.data_dir / "simnet").glob("*/*.tif")))
    send(gateway.smtp, request(to, **kwargs))
    (mail,) = new_mails(gateway, 1)
    assert mail.subject == ERROR_SUBJECT
    assert mail.body.startswith(reason), mail.body
    assert mail.body.endswith(f"{FOOTER}\n")
    if reason.startswith(PER_DESTINATION):      # nothing was rendered: 枚数 unknown
        assert "\n送信先FAX番号:0921234567\n枚数:- 枚\n" in mail.body
    assert len(list((gateway.data_dir / "simnet").glob("*/*.tif"))) == before


def test_a_bcc_is_refused(gateway):
    msg = request("0921234567", subject="Bcc")
    send(gateway.smtp, msg, rcpt_to=[f"0921234567@{DOMAIN}", f"0451234567@{DOMAIN}"])
    (mail,) = new_mails(gateway, 1)
    assert mail.subject == ERROR_SUBJECT
    assert "FAX送信用のメールアドレスは宛先(TO)にのみご指定ください。" in mail.body


def test_51_recipients_get_one_error_mail(gateway):
    numbers = [f"0921{i:06d}" for i in range(51)]
    send(gateway.smtp, request(numbers, subject="多すぎ"))
    (mail,) = new_mails(gateway, 1)
    assert mail.subject == ERROR_SUBJECT
    assert "宛先の数(51件)が上限の50件を超えたため、送信処理を行いませんでした。" in mail.body


def test_more_than_50_pages_is_a_page_count_error(gateway):
    body = "\n".join(f"{i} 行目のテキストです。" for i in range(60 * 80))
    send(gateway.smtp, request("0921234567", subject="多ページ", body=body))
    (mail,) = new_mails(gateway, 1, timeout=180)
    assert mail.subject == ERROR_SUBJECT
    pages = int(re.search(r"送信データの合計枚数\((\d+)枚\)が上限の50枚を超えたため", mail.body)
                .group(1))
    assert pages > 50
    assert f"枚数:{pages} 枚\n" in mail.body
    assert job_row(gateway, "0921234567", subject="多ページ").status == "超過枚数エラー"


def test_an_unregistered_sender_is_refused_in_the_dialogue_and_nothing_is_stored(gateway):
    spool = gateway.data_dir / "spool"
    before = sorted(spool.iterdir())
    with pytest.raises(smtplib.SMTPSenderRefused) as info:
        send(gateway.smtp, request("0921234567", sender="spam@example.com"),
             mail_from="spam@example.com")
    assert (info.value.smtp_code, info.value.smtp_error) == (
        550, b"5.7.1 MAIL FROM <spam@example.com> is not registered for fax sending; "
             b"register it in the account's settings")
    assert sorted(spool.iterdir()) == before


def test_no_result_mail_when_the_account_turned_them_off(gateway):
    quiet = "quiet@example.jp"
    send(gateway.smtp, request("0451234567", sender=quiet, subject="静か"), mail_from=quiet)
    wait_for(lambda: getattr(job_row(gateway, "0451234567", subject="静か"), "status", "")
             == "送信完了", "the quiet account's fax sent")
    time.sleep(0.5)                 # a result mail, were one made, would be delivered now
    assert maildir_files(gateway.data_dir, quiet) == []
    assert outbox_count(gateway) == outbox_count(gateway, to=SENDER)     # none to quiet


# ---- store access for the assertions ------------------------------------------------

def job_row(gw: InProcessGateway, number: str, subject: str | None = None):
    """The newest job to ``number`` (of a request with ``subject`` when given)."""
    from sqlalchemy import select

    from faxengine.gateway.store import JobRow, RequestRow

    with gw.store.session() as s:
        q = select(JobRow).join(RequestRow).where(JobRow.number == number)
        if subject is not None:
            q = q.where(RequestRow.subject == subject)
        row = s.scalars(q.order_by(JobRow.detail_no.desc())).first()
        s.expunge_all()
        return row


def outbox_count(gw: InProcessGateway, to: str | None = None) -> int:
    from sqlalchemy import func, select

    from faxengine.gateway.store import OutboxRow

    with gw.store.session() as s:
        q = select(func.count()).select_from(OutboxRow)
        if to is not None:
            q = q.where(OutboxRow.to_address == to)
        return s.scalar(q)


# ---- the web admin in the same loop -----------------------------------------------------

def test_the_web_admin_runs_in_the_gateway_and_its_api_sends_through_the_same_path(tmp_path):
    import httpx

    path = write_config(tmp_path, retries=0)
    path.write_text(path.read_text(encoding="utf-8").replace(
        '[web]\nlisten = ""', '[web]\nlisten = "127.0.0.1:0"'), encoding="utf-8")
    gw = InProcessGateway(path).start()
    try:
        base = f"http://127.0.0.1:{gw.gateway.ports['web']}"
        login = httpx.get(f"{base}/login", timeout=30)
        assert login.status_code == 200 and 'name="username"' in login.text
        data = fax_tiff(pages=1, seed=3)
        sent = httpx.post(f"{base}/api/faxes", auth=("sample", "change-me"), timeout=60,
                          data={"to": "0921234567", "subject": "API送信"},
                          files={"files": ("api.tif", data, "image/tiff")})
        assert sent.status_code == 202, sent.text
        (detail,) = sent.json()["detail_nos"]
        (mail,) = wait_for(lambda: mails_of(gw), "the API fax's result mail")
        assert mail.subject == SUCCESS_SUBJECT and "件名:API送信\n" in mail.body
        record = httpx.get(f"{base}/api/faxes/{detail}", auth=("sample", "change-me"),
                           timeout=30).json()
        assert (record["status"], record["result_code"], record["pages"]) == ("送信完了", "OK", 1)
        # the secret key was generated once and kept
        assert len((gw.data_dir / "secret_key").read_text().strip()) >= 32
    finally:
        gw.stop()


def test_a_mail_too_broken_to_read_gets_its_error_mail_at_the_envelope_sender(gateway):
    parts = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'
                    for i in range(120))
    raw = (f"From: {SENDER}\nTo: 0921234567@{DOMAIN}\nSubject: broken\nMIME-Version: 1.0\n"
           f"{parts}").encode()
    send(gateway.smtp, raw, rcpt_to=[f"0921234567@{DOMAIN}"])
    (mail,) = new_mails(gateway, 1)
    assert mail.subject == ERROR_SUBJECT and mail.to == SENDER
    assert mail.body.startswith(WHOLE_REQUEST + "メールの形式を読み取れなかったため、送信処理を行いません"
                                "でした。\n"), mail.body


def test_starttls_and_stls_with_the_configured_certificate(tmp_path):
    import poplib
    import ssl

    from _mailio import self_signed

    cert, key = self_signed(tmp_path)
    tls = f'tls_cert = "{cert}"\ntls_key = "{key}"\n'
    path = write_config(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace('[smtp]\n', f'[smtp]\n{tls}').replace('[pop3]\n', f'[pop3]\n{tls}')
    path.write_text(text, encoding="utf-8")
    gw = InProcessGateway(path).start()
    try:
        client = ssl.create_default_context(cafile=str(cert))
        with smtplib.SMTP("127.0.0.1", gw.smtp, timeout=30) as smtp:
            smtp.starttls(context=client)
            smtp.sendmail(SENDER, [f"0921234567@{DOMAIN}"],
                          request("0921234567", subject="TLS").as_bytes())

        def fetch():
            pop = poplib.POP3("127.0.0.1", gw.pop3, timeout=30)
            try:
                pop.stls(context=client)
                pop.user(SENDER)
                pop.pass_("change-me")
                return pop.stat()[0]
            finally:
                pop.quit()

        assert wait_for(fetch, "the result mail over STLS") == 1
    finally:
        gw.stop()


def test_images_are_deleted_264_hours_after_sending(tmp_path, monkeypatch):
    from sqlalchemy import update

    from faxengine.gateway import service
    from faxengine.gateway.store import JobRow

    monkeypatch.setattr(service, "EXPIRY_EVERY_S", 0.2)
    gw = InProcessGateway(write_config(tmp_path)).start()
    try:
        send(gw.smtp, request(["0921234567", "0451234567"], subject="期限"))
        wait_for(lambda: len(mails_of(gw)) == 2, "both faxes sent")
        images = sorted((gw.data_dir / "images").glob("*.tif"))
        assert [p.name for p in images] == ["0000000001001.tif", "0000000001002.tif"]
        with gw.store.session.begin() as s:     # the first was sent 264 hours ago
            s.execute(update(JobRow).where(JobRow.detail_no == "0000000001001").values(
                image_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        wait_for(lambda: not images[0].exists(), "the expired image deleted", 30)
        assert images[1].exists()
        assert job_row(gw, "0921234567").image_path is None
    finally:
        gw.stop()
