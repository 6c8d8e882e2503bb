"""Result mails: one per destination, the subjects and bodies of the spec (§3).

``result_mail`` makes the mail of one destination when it finishes (sent, or
failed after its last retry, or refused); ``refusal_mails`` the mails of a
refused request -- one per destination, or, when the request has no
destination to name (none in To, or more than 50: one mail each would be
backscatter), one mail for the request (``Templates.refusal_body``).

The subjects, bodies and footer are templates (``Templates``, Python
``str.format`` fields of ``FIELDS``) whose defaults are the spec's text;
``REASONS`` is the reason paragraph of each error status (the spec's for
送信エラー, ours in the same manner for the others).  The mail is From the
system address, To the request's From, no Cc or Bcc, with Date and
Message-ID; its Subject is MIME encoded (RFC 2047, B encoding) and its body
ISO-2022-JP (RFC 1468, 7bit) by default or UTF-8 (base64).  Text that
ISO-2022-JP cannot carry even with CP932's extensions (an emoji in the
request's Subject) makes that one mail UTF-8.  Lines end in CRLF.

Nothing here reads a clock or a host name: ``date`` and ``message_id`` are
given (``message_id`` derives the id from the 明細番号, so a mail made again
after a restart has the same id).
"""
from __future__ import annotations

import base64
import email.utils
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from faxengine.gateway.charsets import encode_iso2022jp
from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.jobs import (BAD_ATTACHMENT, BAD_NUMBER, DONE, FAILED, MALFORMED,
                                    NOT_IN_TO, NOTHING_TO_SEND, REFUSALS, RENDER_FAILED,
                                    TOO_MANY_PAGES, TOO_MANY_RECIPIENTS, detail_no)
from faxengine.gateway.mail import Request

__all__ = ["SUCCESS_SUBJECT", "ERROR_SUBJECT", "SUCCESS_BODY", "ERROR_BODY", "REFUSAL_BODY",
           "FOOTER", "REASONS", "FIELDS", "Templates", "ResultSettings", "ResultMail",
           "result_mail", "refusal_mails", "message_id", "sent_at_text"]

SUCCESS_SUBJECT = "【faximoSilver】FAXの送信が完了しました"
ERROR_SUBJECT = "【faximoSilver】(重要)FAXが送信できませんでした"
SUCCESS_BODY = ("{number}宛のFAX送信が正常に完了しました。\n\n"
                "送信日時:{sent_at}\n送信先FAX番号:{number}\n枚数:{pages} 枚\n件名:{subject}\n{footer}")
ERROR_BODY = ("{number}宛のFAXはエラーのため送信できませんでした。\n内容をご確認ください。\n\n"
              "{reason}\n\n"
              "送信日時:{sent_at}\n送信先FAX番号:{number}\n枚数:{pages} 枚\n件名:{subject}\n{footer}")
REFUSAL_BODY = ("FAX送信要求はエラーのため処理できませんでした。\n内容をご確認ください。\n\n"
                "{reason}\n\n受付日時:{sent_at}\n件名:{subject}\n{footer}")
# the seed's samples (3.結果確認)
FOOTER = ("※このEメールは受信確認専用アドレスから送信されています。\n"
          "このメールに直接返信いただきましても回答いたしかねますので何卒ご了承ください。\n"
          "ご不明な点があれば、オンラインマニュアルをご参照いただくか、"
          "エディックワークスサポートセンターまでお問い合わせください。\n\n"
          "---------------------------------------------\n"
          "エディックワークスサポートセンター\n<お問い合わせ先>\nEmail:sv-support@faximo.jp")
# error status -> the reason paragraph of the error mail ({item}: the file, number or count)
REASONS: Mapping[str, str] = MappingProxyType({
    FAILED: "送信エラーの原因は、送信先様が話し中である場合や、電話番号間違いなどが考えられます。\n"
            "送信先様の番号をご確認の上、もう一度お試しください。",
    TOO_MANY_PAGES: "送信データの合計枚数({item}枚)が上限の50枚を超えたため、送信しませんでした。\n"
                    "原稿を分けて、もう一度お試しください。",
    BAD_NUMBER: "送信先FAX番号({item})は送信できる番号ではありません。\n"
                "国内の一般電話番号、海外の電話番号(010から始まる番号)、050から始まる番号、"
                "着信課金番号(0120、0800)をご指定ください。",
    BAD_ATTACHMENT: "添付ファイル({item})は送信できない形式か、内容が形式と一致しないため、"
                    "送信しませんでした。\n"
                    "Word、Excel、PDF、TIFF、JPEG、テキストのファイルを添付してください。",
    NOTHING_TO_SEND: "送信するデータがありません。\n"
                     "件名が===から始まる場合は本文が送信されないため、ファイルを添付してください。",
    NOT_IN_TO: "FAX送信用のメールアドレスが宛先(TO)以外に指定されていたか、宛先(TO)に"
               "ありませんでしたので、送信処理を行いませんでした。\n"
               "FAX送信用のメールアドレスは宛先(TO)にのみご指定ください。",
    TOO_MANY_RECIPIENTS: "宛先の数({item}件)が上限の50件を超えたため、送信処理を行いませんでした。\n"
                         "宛先を50件以内に分けて、もう一度お試しください。",
    MALFORMED: "メールの形式を読み取れなかったため、送信処理を行いませんでした。\n"
               "通常のメール形式で、もう一度お試しください。",
    RENDER_FAILED: "添付ファイル({item})をFAX原稿に変換できませんでした。\n"
                   "ファイルの内容をご確認ください。",
})
# what a template may name
FIELDS = frozenset({"number", "sent_at", "pages", "subject", "footer", "reason", "item",
                    "status", "result_code", "detail_no"})
_WORD_OCTETS = {"iso-2022-jp": 42, "utf-8": 45}     # raw octets per encoded-word: <= 75 chars


@dataclass(frozen=True)
class Templates:
    """The texts of result mails (``str.format`` templates naming ``FIELDS``)."""

    success_subject: str = SUCCESS_SUBJECT
    error_subject: str = ERROR_SUBJECT
    success_body: str = SUCCESS_BODY
    error_body: str = ERROR_BODY
    refusal_body: str = REFUSAL_BODY
    footer: str = FOOTER
    reasons: Mapping[str, str] = field(default_factory=lambda: REASONS)

    def __post_init__(self) -> None:
        missing = sorted(set(REASONS) - set(self.reasons))
        if missing:
            raise GatewayConfigError(f"results reasons: no text for {', '.join(missing)}; "
                                     f"give one for every error status")
        named = [(n, getattr(self, n)) for n in ("success_subject", "error_subject",
                                                 "success_body", "error_body", "refusal_body")]
        for name, text in named + [(f"reasons[{s}]", t) for s, t in self.reasons.items()]:
            try:
                used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            except ValueError as exc:
                raise GatewayConfigError(f"results template {name}: {exc}; write a literal "
                                         f"brace as {{{{ or }}}}") from None
            wrong = sorted(f for f in used if f not in FIELDS)
            if wrong:
                raise GatewayConfigError(f"results template {name} names {{{wrong[0]}}}: a "
                                         f"template may name {', '.join(sorted(FIELDS))}")


@dataclass(frozen=True)
class ResultSettings:
    """Where result mails come from and how they are written ([gateway], [results])."""

    system_address: str = "fax_sys@cl1.faximo.jp"
    charset: str = "iso-2022-jp"
    timezone: str = "Asia/Tokyo"
    templates: Templates = field(default_factory=Templates)

    def __post_init__(self) -> None:
        if self.charset not in _WORD_OCTETS:
            raise GatewayConfigError(f"results charset is {self.charset!r}: "
                                     f"\"iso-2022-jp\" or \"utf-8\"")
        if "@" not in self.system_address:
            raise GatewayConfigError(f"gateway system_address is {self.system_address!r}: "
                                     f"give a mail address (fax_sys@<fax domain>)")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise GatewayConfigError(f"gateway timezone is {self.timezone!r}: give an IANA "
                                     f"zone name such as \"Asia/Tokyo\"") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class ResultMail:
    """A result mail: its text (what the tests compare) and its octets (what is delivered)."""

    to: str
    subject: str
    body: str
    message: bytes


def sent_at_text(when: datetime, settings: ResultSettings) -> str:
    """送信日時 as the spec writes it, ``YYYY/MM/DD hh:mm:ss`` in the gateway's zone."""
    if when.tzinfo is None:
        raise ValueError("a time without a zone: pass an aware datetime (UTC or local)")
    return when.astimezone(settings.zone).strftime("%Y/%m/%d %H:%M:%S")


def message_id(detail: str, settings: ResultSettings) -> str:
    """The Message-ID of the result mail of 明細番号 ``detail`` (stable across restarts)."""
    return f"<{detail}.result@{settings.system_address.rpartition('@')[2]}>"


def result_mail(settings: ResultSettings, *, to: str, number: str, status: str,
                sent_at: datetime, pages: int | None, subject: str, date: datetime,
                message_id: str, item: str = "", result_code: str | None = None,
                detail: str = "") -> ResultMail:
    """The result mail of one destination.

    Args:
        to: the request's From.
        number: the fax number (digits).
        status: ``DONE`` for the success mail, else an error status.
        sent_at: the last attempt (or the refusal), for 送信日時.
        pages: the request's pages, None where they are not known (written ``-``).
        subject: the request's Subject.
        date: the Date of the mail.
        message_id: its Message-ID (``message_id()``).
        item: what the error concerns (file name, number, count), for the reason.
        result_code: the call's result code, for templates that show it.
        detail: the 明細番号, for templates that show it.
    """
    t = settings.templates
    values = {"number": number, "sent_at": sent_at_text(sent_at, settings),
              "pages": "-" if pages is None else pages, "subject": subject,
              "footer": t.footer, "item": item or number, "status": status,
              "result_code": result_code or "", "detail_no": detail}
    if status == DONE:
        head, body = t.success_subject, t.success_body
    else:
        if status not in t.reasons:
            raise ValueError(f"no result mail for status {status!r}: {DONE} or an error "
                             f"status ({', '.join(t.reasons)})")
        head, body = t.error_subject, t.error_body
        values["reason"] = t.reasons[status].format(**values)
    values.setdefault("reason", "")
    return _mail(settings, to, head.format(**values), body.format(**values), date, message_id)


def refusal_mails(settings: ResultSettings, request: Request, *, request_seq: int,
                  date: datetime) -> list[ResultMail]:
    """The error mails of a refused request (``request.refusal`` set), made at ``date``.

    One per destination (明細番号 from ``request_seq``), or one for the
    request when it names no destination or more than 50.
    """
    refusal = request.refusal
    if refusal is None:
        raise ValueError("the request is not refused: it has no error mail of its own")
    if request.destinations:
        return [result_mail(settings, to=request.sender, number=d.number,
                            status=refusal.status, sent_at=date, pages=request.pages,
                            subject=request.subject, date=date, item=refusal.item,
                            message_id=message_id(detail_no(request_seq, i), settings),
                            detail=detail_no(request_seq, i))
                for i, d in enumerate(request.destinations, 1)]
    t = settings.templates
    values = {"sent_at": sent_at_text(date, settings), "subject": request.subject,
              "footer": t.footer, "item": refusal.item, "status": refusal.status,
              "number": "", "pages": "-", "result_code": "", "detail_no": ""}
    values["reason"] = t.reasons[refusal.status].format(**values)
    domain = settings.system_address.rpartition("@")[2]
    return [_mail(settings, request.sender, t.error_subject.format(**values),
                  t.refusal_body.format(**values), date,
                  f"<{request_seq:010d}.refusal@{domain}>")]


def _mail(settings: ResultSettings, to: str, subject: str, body: str, date: datetime,
          mid: str) -> ResultMail:
    charset = settings.charset
    lines = body.replace("\r\n", "\n").split("\n")
    encoded = [encode_iso2022jp(ln) for ln in lines] if charset == "iso-2022-jp" else None
    words = _encoded_words(subject, charset)
    if encoded is not None and (None in encoded or words is None):
        charset, encoded, words = "utf-8", None, _encoded_words(subject, "utf-8")
    if encoded is not None and max(len(e) for e in encoded) <= 998:
        cte, payload = "7bit", b"\r\n".join(encoded) + b"\r\n"
    else:
        raw = b"".join(e + b"\r\n" for e in encoded) if encoded is not None else \
            "".join(ln + "\r\n" for ln in lines).encode("utf-8")
        cte, payload = "base64", base64.encodebytes(raw).replace(b"\n", b"\r\n")
    headers = [("From", settings.system_address), ("To", to), ("Subject", words),
               ("Date", email.utils.format_datetime(date.astimezone(settings.zone))),
               ("Message-ID", mid), ("MIME-Version", "1.0"),
               ("Content-Type", f'text/plain; charset="{charset.upper()}"'),
               ("Content-Transfer-Encoding", cte)]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    # an address with non-ASCII characters is written in UTF-8 (RFC 6532, SMTPUTF8)
    return ResultMail(to, subject, body, head.encode("utf-8", "replace") + b"\r\n" + payload)


def _encoded_words(text: str, charset: str) -> str | None:
    """``text`` as RFC 2047 B-encoded words of at most 75 characters, folded; ASCII
    text as it is; None when ``charset`` cannot carry it."""
    if text.isascii() and all(" " <= ch <= "~" for ch in text) and len(text) <= 900:
        return text
    limit, chunks, chunk = _WORD_OCTETS[charset], [], ""
    for ch in text:
        raw = _word_octets(chunk + ch, charset)
        if raw is None:
            return None
        if chunk and len(raw) > limit:
            chunks.append(chunk)
            chunk = ch
        else:
            chunk += ch
    chunks.append(chunk)
    words = []
    for c in chunks:
        raw = _word_octets(c, charset)
        if raw is None:
            return None
        words.append(f"=?{charset.upper()}?B?{base64.b64encode(raw).decode('ascii')}?=")
    return "\r\n ".join(words)


def _word_octets(text: str, charset: str) -> bytes | None:
    if charset == "iso-2022-jp":
        return encode_iso2022jp(text)
    return text.encode("utf-8", "replace")
