"""Result mails (mail-gateway.md §3): the exact subjects and bodies, read back from the octets."""
from __future__ import annotations

import email
import email.utils
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage

import pytest

from faxengine.gateway.charsets import decode
from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.jobs import (BAD_ATTACHMENT, BAD_NUMBER, DONE, FAILED, REFUSALS,
                                    TOO_MANY_PAGES, TOO_MANY_RECIPIENTS)
from faxengine.gateway.mail import header_text, parse_request
from faxengine.gateway.results import (FOOTER, REASONS, ResultMail, ResultSettings, Templates,
                                       message_id, refusal_mails, result_mail, sent_at_text)

JST = timezone(timedelta(hours=9))
SENT = datetime(2010, 1, 1, 10, 50, 40, tzinfo=JST)
NOW = datetime(2010, 1, 1, 1, 51, 0, tzinfo=timezone.utc)
SENDER = "sample@edicworks.com"

SUCCESS_TEXT = f"""0312345678宛のFAX送信が正常に完了しました。

送信日時:2010/01/01 10:50:40
送信先FAX番号:0312345678
枚数:10 枚
件名:FAX送信サンプル東京
{FOOTER}"""

ERROR_TEXT = f"""0451234567宛のFAXはエラーのため送信できませんでした。
内容をご確認ください。

送信エラーの原因は、送信先様が話し中である場合や、電話番号間違いなどが考えられます。
送信先様の番号をご確認の上、もう一度お試しください。

送信日時:2010/01/20 10:20:30
送信先FAX番号:0451234567
枚数:10 枚
件名:FAX送信サンプル横浜
{FOOTER}"""


def read_back(mail: ResultMail) -> tuple[email.message.Message, str, str]:
    """The delivered octets as a mail client reads them: the message, Subject and body text."""
    assert all(len(line) <= 998 for line in mail.message.split(b"\r\n"))
    assert mail.message.isascii()                       # 7bit or base64 on the wire
    msg = email.message_from_bytes(mail.message, policy=policy.compat32)
    body = decode(msg.get_payload(decode=True), msg.get_content_charset())
    return msg, header_text(msg["Subject"]), body.replace("\r\n", "\n")


def test_success_mail_is_the_spec_s_text():
    mail = result_mail(ResultSettings(), to=SENDER, number="0312345678", status=DONE,
                       sent_at=SENT, pages=10, subject="FAX送信サンプル東京", date=NOW,
                       message_id="<0000000001001.result@cl1.faximo.jp>")
    msg, subject, body = read_back(mail)
    assert subject == mail.subject == "【faximoSilver】FAXの送信が完了しました"
    assert body == mail.body + "\n" and mail.body == SUCCESS_TEXT
    assert msg["From"] == "fax_sys@cl1.faximo.jp" and msg["To"] == SENDER
    assert msg["Cc"] is None and msg["Bcc"] is None
    assert msg["Message-ID"] == "<0000000001001.result@cl1.faximo.jp>"
    assert email.utils.parsedate_to_datetime(msg["Date"]) == NOW
    assert msg["Date"].endswith("+0900")
    assert msg.get_content_charset() == "iso-2022-jp" and msg["Content-Transfer-Encoding"] == "7bit"
    # a standard client reads it too: Python's own ISO-2022-JP decoder
    std = email.message_from_bytes(mail.message, policy=policy.default)
    assert std["Subject"] == subject and std.get_content().replace("\r\n", "\n") == body


def test_error_mail_is_the_spec_s_text():
    mail = result_mail(ResultSettings(), to=SENDER, number="0451234567", status=FAILED,
                       sent_at=datetime(2010, 1, 20, 1, 20, 30, tzinfo=timezone.utc), pages=10,
                       subject="FAX送信サンプル横浜", date=NOW, result_code="BUSY",
                       message_id=message_id("0000000005001", ResultSettings()))
    msg, subject, body = read_back(mail)
    assert subject == "【faximoSilver】(重要)FAXが送信できませんでした"
    assert body == ERROR_TEXT + "\n"
    assert msg["Message-ID"] == "<0000000005001.result@cl1.faximo.jp>"


def test_utf8_is_configurable_and_emoji_subjects_fall_back_to_it():
    settings = ResultSettings(charset="utf-8", system_address="fax@example.jp", timezone="UTC")
    mail = result_mail(settings, to=SENDER, number="0312345678", status=DONE, sent_at=SENT,
                       pages=None, subject="件名①", date=NOW, message_id="<a@b>")
    msg, subject, body = read_back(mail)
    assert msg.get_content_charset() == "utf-8" and msg["From"] == "fax@example.jp"
    assert "送信日時:2010/01/01 01:50:40\n" in body and "枚数:- 枚\n" in body
    mail = result_mail(ResultSettings(), to=SENDER, number="0312345678", status=DONE,
                       sent_at=SENT, pages=1, subject="祝🎉", date=NOW, message_id="<a@b>")
    msg, subject, body = read_back(mail)
    assert msg.get_content_charset() == "utf-8" and "件名:祝🎉\n" in body


def test_cp932_extension_characters_of_a_subject_stay_in_iso_2022_jp():
    mail = result_mail(ResultSettings(), to=SENDER, number="0312345678", status=DONE,
                       sent_at=SENT, pages=1, subject="①㈱髙橋様", date=NOW, message_id="<a@b>")
    msg, _, body = read_back(mail)
    assert msg.get_content_charset() == "iso-2022-jp" and "件名:①㈱髙橋様\n" in body


def test_long_subjects_fold_into_encoded_words_of_at_most_75_characters():
    subject = "【至急】" + "見積書の送付について" * 12
    settings = ResultSettings(templates=Templates(error_subject="{subject}"))
    mail = result_mail(settings, to=SENDER, number="0312345678", status=FAILED,
                       sent_at=SENT, pages=3, subject=subject, date=NOW, message_id="<a@b>")
    assert read_back(mail)[1] == subject
    head = mail.message.split(b"\r\n\r\n")[0].decode()
    words = [w for w in head.replace("\r\n ", " ").split() if w.startswith("=?")]
    assert len(words) > 3 and all(len(w) <= 75 for w in words)
    assert read_back(mail)[2].count(f"件名:{subject}\n") == 1


def test_error_mails_of_each_refusal_name_what_was_wrong():
    settings = ResultSettings()
    for status in REFUSALS:
        mail = result_mail(settings, to=SENDER, number="0312345678", status=status,
                           sent_at=SENT, pages=None, subject="s", date=NOW,
                           message_id="<a@b>", item="請求書.exe")
        assert mail.subject == "【faximoSilver】(重要)FAXが送信できませんでした"
        assert REASONS[status].format(item="請求書.exe") in mail.body
    with pytest.raises(ValueError, match="no result mail for status '送信中'"):
        result_mail(settings, to=SENDER, number="1", status="送信中", sent_at=SENT, pages=1,
                    subject="", date=NOW, message_id="<a@b>")


def request(to: str, attach: tuple[str, bytes] | None = None) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = SENDER, to, "FAX送信サンプル"
    m.set_content("本文")
    if attach:
        m.add_attachment(attach[1], maintype="application", subtype="octet-stream",
                         filename=attach[0])
    return m.as_bytes()


def test_refused_request_gets_one_error_mail_per_destination():
    r = parse_request(request("0312345678@cl1.faximo.jp, 0451234567@cl1.faximo.jp",
                              ("ウイルス.exe", b"MZ")), "cl1.faximo.jp")
    assert r.refusal.status == BAD_ATTACHMENT
    mails = refusal_mails(ResultSettings(), r, request_seq=7, date=NOW)
    assert [m.to for m in mails] == [SENDER, SENDER]
    assert [read_back(m)[0]["Message-ID"] for m in mails] == [
        "<0000000007001.result@cl1.faximo.jp>", "<0000000007002.result@cl1.faximo.jp>"]
    assert mails[1].body.startswith("0451234567宛のFAXはエラーのため送信できませんでした。\n")
    assert "添付ファイル(ウイルス.exe)は送信できない形式か" in mails[1].body
    assert "枚数:- 枚\n" in mails[0].body


def test_page_rule_refusal_mail_shows_the_page_count():
    r = parse_request(request("0312345678@cl1.faximo.jp"), "cl1.faximo.jp").with_page_counts([51])
    assert r.refusal.status == TOO_MANY_PAGES
    (mail,) = refusal_mails(ResultSettings(), r, request_seq=1, date=NOW)
    assert "送信データの合計枚数(51枚)が上限の50枚を超えたため" in mail.body
    assert "枚数:51 枚\n" in mail.body


def test_fifty_one_destinations_get_one_mail_for_the_request():
    to = ", ".join(f"03{i:08d}@cl1.faximo.jp" for i in range(51))
    r = parse_request(request(to), "cl1.faximo.jp")
    assert r.refusal.status == TOO_MANY_RECIPIENTS
    (mail,) = refusal_mails(ResultSettings(), r, request_seq=3, date=NOW)
    assert mail.body == (
        "FAX送信要求はエラーのため処理できませんでした。\n内容をご確認ください。\n\n"
        "宛先の数(51件)が上限の50件を超えたため、送信処理を行いませんでした。\n"
        "宛先を50件以内に分けて、もう一度お試しください。\n\n"
        f"受付日時:2010/01/01 10:51:00\n件名:FAX送信サンプル\n{FOOTER}")
    assert read_back(mail)[0]["Message-ID"] == "<0000000003.refusal@cl1.faximo.jp>"
    with pytest.raises(ValueError, match="not refused"):
        refusal_mails(ResultSettings(), parse_request(request("0312345678@cl1.faximo.jp"),
                                                      "cl1.faximo.jp"), request_seq=1, date=NOW)


def test_templates_are_configurable_and_checked():
    t = Templates(success_subject="[fax] {number} OK", footer="-- \nfax gateway")
    mail = result_mail(ResultSettings(templates=t), to=SENDER, number="0312345678",
                       status=DONE, sent_at=SENT, pages=2, subject="s", date=NOW,
                       message_id="<a@b>")
    assert mail.subject == "[fax] 0312345678 OK" and mail.body.endswith("件名:s\n-- \nfax gateway")
    assert read_back(mail)[1] == "[fax] 0312345678 OK"
    with pytest.raises(GatewayConfigError, match=r"results template error_body names \{nummer\}"):
        Templates(error_body="{nummer}")
    with pytest.raises(GatewayConfigError, match="results template success_subject: Single"):
        Templates(success_subject="{")
    with pytest.raises(GatewayConfigError, match="results reasons: no text for"):
        Templates(reasons={FAILED: "x"})
    with pytest.raises(GatewayConfigError, match="results charset is 'shift_jis'"):
        ResultSettings(charset="shift_jis")
    with pytest.raises(GatewayConfigError, match="gateway timezone is 'Mars/Olympus'"):
        ResultSettings(timezone="Mars/Olympus")


def test_sent_at_is_written_in_the_gateway_s_zone_and_needs_a_zone():
    assert sent_at_text(NOW, ResultSettings()) == "2010/01/01 10:51:00"
    with pytest.raises(ValueError, match="pass an aware datetime"):
        sent_at_text(datetime(2010, 1, 1), ResultSettings())
    assert BAD_NUMBER in REASONS
