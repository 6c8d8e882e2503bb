"""A fax send request from a mail: MIME in, ``Request`` out, the spec's rules applied.

The rules are those of shared/spec/mail-gateway.md §1 (restated from the
service's Japanese specification, 1.FAX送信要求).  This module is sans-I/O:
``parse_request`` takes the octets of the mail and, when it came by SMTP, the
envelope (MAIL FROM, RCPT TO); the SMTP adapter, the renderer and the job
queue that come later take the ``Request`` from here.

What a request from a registered sender gets wrong is never an exception:
the parser returns the request with a ``Refusal`` (the whole request is
refused: an error result mail, nothing sent) or with an error on a
destination (that destination's error mail, the others are sent).  Malformed
mail, NUL octets, 10 000 recipients, MIME nested without end: a refusal with
status メール形式エラー or the rule's own, in bounded time (at most
``MAX_PARTS`` parts, ``MAX_DEPTH`` levels are looked at).

The rules, in the order they are applied (the first refusal wins):

* From (``check_sender``): the header From, and the envelope MAIL FROM where
  it differs, must both be registered; the SMTP dialogue refuses otherwise
  (550, no mail back), so it is not a ``Refusal``.
* To: the addresses ``<number>@<fax domain>`` (domain compared without
  case) are the destinations, in their order; more than ``MAX_DESTINATIONS``
  → 宛先数超過エラー, none → 宛先指定エラー.  Other addresses in To are
  ignored.
* Cc, Bcc: a fax-domain address in Cc (or in a Bcc header), or an envelope
  recipient of the fax domain that is not in To (a Bcc) → 宛先指定エラー.
* Numbers: ``-`` removed, then one of the forms of ``number_error``;
  otherwise that destination has FAX番号エラー.
* Body: the text parts that are not attachments, decoded in their charset
  (``faxengine.gateway.charsets``): of a multipart/alternative the
  text/plain, or else the HTML as text.  Not faxed when the Subject starts
  with ``===``, nor when it is blank (a blank page is nothing to send).
* Attachments (parts with a file name; RFC 2231 and RFC 2047 names decoded):
  after the body, in ascending code-point order of their names.  Only the
  types of ``FILE_TYPES``, and the octets must be what the name says
  (``%PDF-`` for .pdf, a TIFF header for .tif, ...); anything else →
  添付ファイルエラー naming the file.  The images of an HTML body
  (multipart/related parts with a Content-ID) are not attachments.
* Nothing to send (no body faxed, no attachment) → 送信データなしエラー.
* Pages: the renderer counts them and hands them in with
  ``Request.with_page_counts``; more than ``MAX_PAGES`` in all → 超過枚数エラー.
"""
from __future__ import annotations

import email
import email.header
import email.utils
import html.parser
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.message import Message

from faxengine.gateway import charsets
from faxengine.gateway.jobs import (BAD_ATTACHMENT, BAD_NUMBER, MALFORMED, NOT_IN_TO,
                                    NOTHING_TO_SEND, REFUSALS, TOO_MANY_PAGES,
                                    TOO_MANY_RECIPIENTS, Job, detail_no)

__all__ = ["MAX_DESTINATIONS", "MAX_PAGES", "MAX_DEPTH", "MAX_PARTS", "FILE_TYPES",
           "Refusal", "Destination", "Document", "Request", "parse_request", "check_sender",
           "number_error", "html_to_text"]

MAX_DESTINATIONS = 50       # §1 To: 最大50件
MAX_PAGES = 50              # §1 Pages: 合計枚数は最大50枚
MAX_DEPTH = 32              # MIME levels looked at; mail programs nest 4 or 5
MAX_PARTS = 500             # MIME parts looked at
# multiparts read at all: the stdlib parser checks each line against every open
# boundary (time grows with the square of the nesting), so count them first
MAX_MULTIPARTS = 100
_BOUNDARY = re.compile(rb"(?i)boundary\s*=")

# extension -> document type (§1 Attachments: Word, Excel, PDF, TIFF, JPEG/JPE/JFIF, Text)
FILE_TYPES: dict[str, str] = {
    ".doc": "word", ".docx": "word", ".xls": "excel", ".xlsx": "excel", ".pdf": "pdf",
    ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg",
    ".jfif": "jpeg", ".txt": "text",
}
# Outlook's Transport Neutral Encapsulation Format (MS-OXTNEF): winmail.dat
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"     # .doc and .xls (Compound File Binary)
_OOXML_PART = {".docx": "word/", ".xlsx": "xl/"}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the whole request is refused: nothing is sent, an error mail goes back.

    Attributes:
        status: the error status (a key of ``faxengine.gateway.jobs.REFUSALS``).
        detail: what was wrong and what to do, for the log and the history.
        item: the file name, count or address concerned ("" if none), for
            the result mail's templates.
    """

    status: str
    detail: str
    item: str = ""

    def __post_init__(self) -> None:
        if self.status not in REFUSALS:
            raise ValueError(f"{self.status!r} is not a refusal status")


@dataclass(frozen=True, slots=True)
class Destination:
    """A fax address of To: ``number`` is its local part with ``-`` removed;
    ``error`` is FAX番号エラー when that is not a number that can be dialled."""

    address: str
    number: str
    error: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    """What is faxed, in order: the body (``name`` "") and the attachments.

    Attributes:
        name: the decoded file name; "" for the body.
        file_type: a value of ``FILE_TYPES``.
        data: the decoded octets of the attachment (the body: its text in UTF-8).
        text: the text of the body and of .txt files, decoded; None for others.
        pages: the pages it makes, filled in by the renderer; None before.
    """

    name: str
    file_type: str
    data: bytes
    text: str | None = None
    pages: int | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A fax send request as read from a mail.

    Attributes:
        sender: the address of the header From ("" if there is none or several).
        envelope_sender: MAIL FROM, None when the mail did not come by SMTP.
        subject: the decoded Subject ("" if none).
        destinations: the fax addresses of To, in order.
        documents: the body (when faxed) then the attachments in name order.
        refusal: why the whole request is refused, None if it is not.
        message_id: the request's Message-ID header ("" if none).
    """

    sender: str
    envelope_sender: str | None
    subject: str
    destinations: tuple[Destination, ...] = ()
    documents: tuple[Document, ...] = ()
    refusal: Refusal | None = None
    message_id: str = ""

    @property
    def body_faxed(self) -> bool:
        """The body is faxed (Subject does not start with ``===`` and it is not blank)."""
        return bool(self.documents) and self.documents[0].name == ""

    @property
    def pages(self) -> int | None:
        """All pages of the request (body + attachments), None until all are counted
        (and for a request refused before its documents were read)."""
        counts = [d.pages for d in self.documents]
        return None if not counts or None in counts else sum(counts)

    def with_page_counts(self, counts: Sequence[int]) -> Request:
        """The request with each document's page count as the renderer found it,
        refused with 超過枚数エラー when they come to more than ``MAX_PAGES``."""
        if len(counts) != len(self.documents) or any(n < 0 for n in counts):
            raise ValueError(f"{len(counts)} page counts given for {len(self.documents)} "
                             f"documents; give one count of 0 or more per document")
        documents = tuple(replace(d, pages=n) for d, n in zip(self.documents, counts))
        refusal, total = self.refusal, sum(counts)
        if refusal is None and total > MAX_PAGES:
            refusal = Refusal(TOO_MANY_PAGES, f"the request makes {total} pages: at most "
                              f"{MAX_PAGES} pages are sent per request; split it", str(total))
        return replace(self, documents=documents, refusal=refusal)


    def jobs(self, request_seq: int, now: datetime) -> tuple[Job, ...]:
        """One job per destination (明細番号 ``detail_no(request_seq, i)``): waiting
        (送信待ち), or already ended with the request's refusal or the
        destination's FAX番号エラー, refused at ``now`` (their result mails are due)."""
        jobs = []
        for i, d in enumerate(self.destinations, 1):
            job = Job(detail_no(request_seq, i), d.number)
            error = self.refusal.status if self.refusal else d.error
            jobs.append(job.refuse(error, now)[0] if error else job)
        return tuple(jobs)


class _Refuse(Exception):
    """Internal: a rule refuses the request (caught in ``parse_request``)."""

    def __init__(self, status: str, detail: str, item: str = "") -> None:
        super().__init__(detail)
        self.refusal = Refusal(status, detail, item)


def parse_request(raw: bytes, fax_domain: str, *, mail_from: str | None = None,
                  rcpt_to: Iterable[str] | None = None) -> Request:
    """Read a fax send request from the octets of a mail.

    Args:
        raw: the mail as received (RFC 5322, CRLF or LF line ends).
        fax_domain: the domain of the fax addresses (``cl1.faximo.jp``).
        mail_from: the envelope sender (SMTP MAIL FROM), if it came by SMTP.
        rcpt_to: the envelope recipients (SMTP RCPT TO), if it came by SMTP;
            a fax-domain recipient that is not in To is a Bcc.

    Returns:
        The request; ``refusal`` and each destination's ``error`` say what
        the spec's rules found wrong.  Never raises for what the mail holds.
    """
    if len(_BOUNDARY.findall(raw, 0, 1 << 24)) > MAX_MULTIPARTS:
        return _malformed(mail_from, RecursionError())
    try:
        msg = email.message_from_bytes(raw, policy=policy.compat32)
    except Exception as exc:        # noqa: BLE001 - the one boundary: any parser failure
        return _malformed(mail_from, exc)
    sender = ""
    try:
        sender = _single_address(_raw(msg, "From"))
        subject, mid = (header_text(next(iter(_raw(msg, h)), None)) for h in ("Subject",
                                                                              "Message-ID"))
        request = Request(sender, mail_from, subject, message_id=mid.strip())
        try:
            return _apply_rules(msg, request, fax_domain.lower(), rcpt_to)
        except _Refuse as refused:
            return replace(request, refusal=refused.refusal)
    except Exception as exc:        # noqa: BLE001 - a mail our rules cannot read
        return replace(_malformed(mail_from, exc), sender=sender)


def _malformed(mail_from: str | None, exc: BaseException) -> Request:
    what = f"more than {MAX_DEPTH} MIME levels or {MAX_MULTIPARTS} multiparts" \
        if isinstance(exc, RecursionError) else \
        f"{type(exc).__name__}: {exc}"
    return Request("", mail_from, "", refusal=Refusal(
        MALFORMED, f"the mail cannot be read ({what}); send it as an ordinary RFC 5322 mail"))


def _apply_rules(msg: Message, request: Request, domain: str,
                 rcpt_to: Iterable[str] | None) -> Request:
    to = [a for a in _addresses(_raw(msg, "To")) if _in_domain(a, domain)]
    if len(to) > MAX_DESTINATIONS:
        raise _Refuse(TOO_MANY_RECIPIENTS, f"To has {len(to)} fax addresses: at most "
                      f"{MAX_DESTINATIONS} per request; split it", str(len(to)))
    if not to:
        raise _Refuse(NOT_IN_TO, f"To has no fax address (<number>@{domain})")
    for field in ("Cc", "Bcc"):
        for address in _addresses(_raw(msg, field)):
            if _in_domain(address, domain):
                raise _Refuse(NOT_IN_TO, f"{address} is in {field}: fax addresses go in To "
                              f"only, and nothing was sent", address)
    in_to = {a.lower() for a in to}
    for address in rcpt_to or ():
        address = address.strip().strip("<>")
        if _in_domain(address, domain) and address.lower() not in in_to:
            raise _Refuse(NOT_IN_TO, f"{address} is a recipient (Bcc) but not in To: fax "
                          f"addresses go in To only, and nothing was sent", address)
    request = replace(request, destinations=tuple(_destination(a) for a in to))
    try:        # a refusal from here on still names the destinations (their error mails)
        return replace(request, documents=_documents(msg, request.subject))
    except _Refuse as refused:
        return replace(request, refusal=refused.refusal)


def _documents(msg: Message, subject: str) -> tuple[Document, ...]:
    texts: list[str] = []
    attachments: list[tuple[str, Message]] = []
    _collect(msg, 0, [0], texts, attachments)
    documents: list[Document] = []
    body = "\n".join(texts)
    if not subject.lstrip().startswith("===") and body.strip():
        documents.append(Document("", "text", body.encode("utf-8"), body))
    for name, part in sorted(attachments, key=lambda a: a[0]):
        documents.append(_attachment(name, part))
    if not documents:
        raise _Refuse(NOTHING_TO_SEND, "nothing to send: the Subject starts with === (the "
                      "body is not faxed) or the body is blank, and there is no attachment")
    return tuple(documents)


def check_sender(request: Request, registered: Iterable[str]) -> str | None:
    """Why the SMTP dialogue refuses this sender (550 5.7.1), None if it may send.

    The header From and, where it differs, the envelope MAIL FROM must both
    be registered addresses (compared without case).
    """
    known = {a.strip().lower() for a in registered}
    if not request.sender:
        return "the mail has no single From address; send from a registered address"
    for what, address in (("From", request.sender), ("MAIL FROM", request.envelope_sender)):
        if address is not None and address.strip().strip("<>").lower() not in known:
            return (f"{what} {address.strip() or '<>'} is not registered for fax sending; "
                    f"register it in the account's settings")
    return None


# ---- numbers -----------------------------------------------------------------

# JIS prefixes that are neither fixed lines nor the forms the spec accepts
_NOT_DIALLED = ("0170", "0180", "0570", "0990")


def number_error(number: str) -> str | None:
    """Why ``number`` (``-`` already removed) cannot be dialled, None if it can.

    Accepted (§2 送信可能電話番号): domestic fixed-line numbers (10 digits,
    ``0AB…`` with A and B not 0: 国内の一般電話番号, so not mobile
    070/080/090 nor the service prefixes 0170/0180/0570/0990), ``050`` + 8
    digits, ``0120`` + 6 digits, ``0800`` + 7 digits, and international
    numbers: ``010``, the country code and number, 7 to 15 digits (E.164).
    """
    if not number.isascii() or not number.isdigit():
        if number and unicodedata.normalize("NFKC", number).replace("-", "").isdigit() and \
                unicodedata.normalize("NFKC", number).isascii():
            # a phone's input method writes ０３ and －: the address is not ours to rewrite
            # (another mail system would not deliver it either), but say what is wrong
            return (f"{number!r} is written in full-width digits: write the number in "
                    f"half-width digits 0-9 (and -)")
        return f"{number!r} is not a fax number: digits (and -) only"
    if number.startswith("010"):
        if 7 <= len(number) - 3 <= 15 and number[3] != "0":
            return None
        return f"{number}: an international number is 010, the country code and 7-15 digits"
    forms = (("050", 11), ("0120", 10), ("0800", 11))
    for prefix, length in forms:
        if number.startswith(prefix):
            return None if len(number) == length else \
                f"{number}: a {prefix} number has {length} digits"
    if len(number) == 10 and number[0] == "0" and number[1] != "0" and number[2] != "0" \
            and not number.startswith(_NOT_DIALLED):
        return None
    return (f"{number} is not a number faxes are sent to: a domestic fixed-line number "
            f"(10 digits), 050, 0120, 0800 or 010 + international")


def _destination(address: str) -> Destination:
    local = address.rpartition("@")[0].strip('"')
    number = local.replace("-", "")
    error = number_error(number)
    return Destination(address, number, BAD_NUMBER if error else None, error or "")


# ---- headers and addresses -----------------------------------------------------

def header_text(value: object) -> str:
    """A header's value as text: unfolded, RFC 2047 encoded-words decoded, raw
    8-bit or ISO-2022-JP octets decoded by their charset (never raises)."""
    if value is None:
        return ""
    text = re.sub(r"\r?\n(?=[ \t])", "", str(value))
    if any("\udc80" <= ch <= "\udcff" for ch in text) or "\x1b" in text:
        text = charsets.decode(text.encode("ascii", "surrogateescape"))
    if "=?" not in text:
        return text
    # white space between two encoded-words is not part of the text (RFC 2047 §6.2)
    text = re.sub(r"(?<=\?=)[ \t]+(?==\?)", "", text)
    return _ENCODED_WORD.sub(_decode_word, text)


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")


def _decode_word(m: re.Match[str]) -> str:
    try:
        chunks = email.header.decode_header(m.group())
    except Exception:               # noqa: BLE001 - a broken encoded-word stays as written
        return m.group()
    return "".join(c if isinstance(c, str) else charsets.decode(c, cs) for c, cs in chunks)


def _raw(msg: Message, name: str) -> list[str]:
    """The values of header ``name`` as received (8-bit octets kept as surrogates;
    ``Message.get`` would turn them into U+FFFD)."""
    name = name.lower()
    return [v for k, v in msg.raw_items() if k.lower() == name]


def _addresses(values: list[str]) -> list[str]:
    """The addresses of address headers; 8-bit octets read as UTF-8 (RFC 6532)."""
    found = email.utils.getaddresses([str(v) for v in values])
    return [a.strip().encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            for _, a in found if "@" in a]


def _single_address(values: list[str]) -> str:
    found = _addresses(values)
    return found[0] if len(found) == 1 else ""


def _in_domain(address: str, domain: str) -> bool:
    return address.rpartition("@")[2].lower() == domain


# ---- MIME structure ------------------------------------------------------------

def _collect(part: Message, depth: int, count: list[int], texts: list[str],
             attachments: list[tuple[str, Message]]) -> None:
    """Body texts and attachments of ``part``, in mail order."""
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_PARTS:
        raise _Refuse(MALFORMED, f"the mail has more than {MAX_DEPTH} MIME levels or "
                      f"{MAX_PARTS} parts; send the documents in a plain multipart/mixed")
    ctype = part.get_content_type()
    name = _filename(part)
    if ctype.startswith("message/") or (name is None and not part.is_multipart()
                                        and part.get_content_disposition() == "attachment"):
        attachments.append((name or "", part))
        return
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype == "multipart/alternative" and children:
            rank = {"text/plain": 0, "text/html": 2}
            children = [min(children, key=lambda c: rank.get(
                c.get_content_type(), 1 if c.is_multipart() else 3))]
        elif ctype == "multipart/related" and children:
            # the root, then what the HTML does not show by Content-ID (RFC 2387)
            children = children[:1] + [c for c in children[1:] if not c.get("Content-ID")]
        for child in children:
            _collect(child, depth + 1, count, texts, attachments)
        return
    if name is None and ctype in ("text/plain", "text/html"):
        text = _part_text(part)
        texts.append(html_to_text(text) if ctype == "text/html" else text)
    elif name is not None or part.get_payload():    # a nameless empty part is nothing
        attachments.append((name or "", part))


def _filename(part: Message) -> str | None:
    """The decoded file name of a part (RFC 2231 parameters, RFC 2047 words in
    them as Japanese mail programs write, raw 8-bit octets), None if it has none."""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        value = part.get_param(param, header=header)
        if value is None:
            continue
        if isinstance(value, tuple):                    # RFC 2231: (charset, language, octets)
            cs, _, text = value
            return _base_name(charsets.decode(text.encode("latin-1", "surrogateescape"),
                                              cs or None))
        return _base_name(header_text(email.utils.unquote(value)))
    return None


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


def _base_name(name: str) -> str:
    """The last component of a suggested file name, without control characters:
    RFC 2183 §2.3 -- the directories a sender puts in it (``../../etc/x.pdf``,
    ``C:\\x\\y.pdf``) are not the receiver's, and a CR LF in a name would end
    up in the result mail's and the history's lines."""
    name = _CONTROLS.sub(" ", name).strip()
    return re.split(r"[/\\]", name)[-1].strip()


def _part_text(part: Message) -> str:
    data = part.get_payload(decode=True) or b""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16", "replace")
    elif data[:3] == b"\xef\xbb\xbf":        # Notepad's UTF-8 signature: no character to print
        text = data[3:].decode("utf-8", "replace")
    else:
        text = charsets.decode(data, part.get_content_charset())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if (part.get_param("format") or "").lower() == "flowed":
        text = _unflow(text, (part.get_param("delsp") or "").lower() == "yes")
    return re.sub(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", "", text)   # keep \t \n \f


def _unflow(text: str, delsp: bool) -> str:
    """format=flowed text (RFC 3676 §4.2) as its paragraphs: a line ending in a
    space goes on in the next line of the same quote depth; the space-stuffing
    of §4.4 is removed; "-- " (the signature separator, §4.3) is never flowed.
    Thunderbird writes this: faxed as sent, its paragraphs would be cut at 72."""
    out: list[str] = []
    joining = False
    prev_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        quote, line = line[:depth], line[depth:]
        if line.startswith(" "):
            line = line[1:]                                     # §4.4 space-stuffing
        if joining and depth == prev_depth:
            out[-1] += line
        else:
            out.append(f"{quote} {line}" if quote and line else quote + line)
        joining = line.endswith(" ") and line != "-- "
        if joining and delsp:
            out[-1] = out[-1][:-1]
        prev_depth = depth
    return "\n".join(out)


def _attachment(name: str, part: Message) -> Document:
    """The document of an attachment, or a 添付ファイルエラー naming it."""
    shown = name or f"(a {part.get_content_type()} part without a file name)"
    if part.get_content_type() in _TNEF_TYPES or name.lower() == "winmail.dat":
        raise _Refuse(BAD_ATTACHMENT, f"attachment {name or 'winmail.dat'}: Outlook wrapped the "
                      f"mail in its own TNEF format (Rich Text); send it again in HTML or "
                      f"plain-text format", name or "winmail.dat")
    if not name:
        raise _Refuse(BAD_ATTACHMENT, f"attachment {shown}: give the file a name ending in "
                      f"{', '.join(FILE_TYPES)}", shown)
    ext = "." + name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in FILE_TYPES:
        raise _Refuse(BAD_ATTACHMENT, f"attachment {name}: files of type {ext or '(none)'} "
                      f"are not sent; send Word, Excel, PDF, TIFF, JPEG or text", name)
    data = part.get_payload(decode=True) or b""
    wrong = _content_error(ext, data)
    if wrong:
        raise _Refuse(BAD_ATTACHMENT, f"attachment {name}: {wrong}", name)
    file_type = FILE_TYPES[ext]
    return Document(name, file_type, data, _part_text(part) if file_type == "text" else None)


def _content_error(ext: str, data: bytes) -> str | None:
    """Why ``data`` is not a file of extension ``ext``, by its magic octets; None if it is."""
    kind = FILE_TYPES[ext]
    if not data:
        return "the file is empty"
    if kind == "pdf" and b"%PDF-" not in data[:1024]:
        return "not a PDF (no %PDF- header in the first 1024 octets)"
    if kind == "tiff" and data[:4] not in (b"II*\x00", b"MM\x00*"):
        return "not a TIFF (no II*/MM* header)"
    if kind == "jpeg" and data[:3] != b"\xff\xd8\xff":
        return "not a JPEG (no SOI marker FF D8 FF)"
    if ext in (".doc", ".xls") and data[:8] != _OLE2:
        return f"not a {ext} file (no Compound File header)"
    if ext in _OOXML_PART:
        return _ooxml_error(ext, data)
    if kind == "text" and b"\x00" in data and data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        return "not a text file (it has NUL octets)"
    return None


def _ooxml_error(ext: str, data: bytes) -> str | None:
    """A .docx/.xlsx is a ZIP package with [Content_Types].xml and its word/ or xl/
    part (ECMA-376 Part 2); only the ZIP directory is read, nothing is inflated."""
    if data[:4] != b"PK\x03\x04":
        return f"not a {ext} file (not a ZIP package)"
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        return f"not a {ext} file (a broken ZIP package: {exc})"
    if "[Content_Types].xml" not in names or \
            not any(n.startswith(_OOXML_PART[ext]) for n in names):
        return f"not a {ext} file (the package has no {_OOXML_PART[ext]} part)"
    return None


class _HtmlText(html.parser.HTMLParser):
    _BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "blockquote", "pre", "hr", "ul", "ol", "dd", "dt"}
    _HIDDEN = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._tag(tag, +1)

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag, -1)

    def _tag(self, tag: str, step: int) -> None:
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden + step)
        if tag == "pre":
            self.pre = max(0, self.pre + step)
        if tag in self._BLOCK and (step > 0 or tag != "br"):
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data if self.pre else re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(markup: str) -> str:
    """The text an HTML body shows: tags dropped, blocks and <br> as line breaks."""
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = [ln.strip(" ") for ln in "".join(parser.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
