"""The send history: one record per destination, its filters, and its CSV (spec §4).

The web admin and the REST API read the history through this module; it
owns the three facts they share:

* ``Record``: one destination as the history shows it (送信日時, 明細番号,
  送信先, 枚数, 件名, 発信メールアドレス, 送信状況), and ``Record.json`` in the
  shape pinned by gateway-interfaces.md.  送信日時 is the last attempt, or
  when the request was refused; a job not yet dialled shows when its request
  was received, so that it sorts and filters with the others.  枚数 is the
  request's pages for a destination that was sent (送信完了), ``-`` (None)
  where nothing was sent (the spec's sample shows ``-`` beside 送信エラー).
* ``Filters``: the query parameters of /history, /history.csv and
  /api/history (``from``, ``to``, ``number``, ``status``, ``q``, ``page``),
  read from text that may be anything.  A value that cannot match (a status
  that is not a word of the history, a number with letters in it) is kept
  and matches nothing; a date that is not ``YYYY-MM-DD`` is a
  ``HistoryQueryError`` naming the parameter.
* ``csv_bytes``: the CSV of the spec, byte for byte: its header
  ``送信日時,明細番号,送信先,枚数,件名,発信メールアドレス,発信状況``, rows with
  the subject in single quotes and a trailing comma, ``-`` for no pages,
  lines ending in CRLF (as the spreadsheet programs that read CP932 write
  them).  CP932 by default, UTF-8 with a BOM (Excel's sign to read UTF-8)
  on request.  A subject's ``'`` is doubled (as a CSV reader with ``'`` for
  its quote character expects) and its line breaks become spaces, so each
  record stays one line; a character CP932 cannot hold becomes ``〓``
  (the geta mark, JIS X 0208's own sign for a missing character), never an
  error.  The six characters whose JIS and Microsoft mappings differ
  (WAVE DASH U+301C and the others, as the WHATWG Shift_JIS encoder and
  iconv's CP932 map them) are written as the CP932 characters they stand
  for.  ``csv_window`` keeps a download within 60 days back from today.

The database queries (``query``, ``record``) take a SQLAlchemy session of
``faxengine.gateway.store`` and the account asking; everything else is pure.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from faxengine.gateway.errors import GatewayError
from faxengine.gateway.jobs import DONE, STATUSES

__all__ = ["CSV_HEADER", "CSV_DAYS", "PAGE_SIZE", "GETA", "ENCODINGS", "HistoryQueryError",
           "Record", "Filters", "Viewer", "Attempt", "Detail", "csv_bytes", "csv_row",
           "csv_window", "cp932", "shown_pages", "query", "record", "detail", "image_path"]

CSV_HEADER = "送信日時,明細番号,送信先,枚数,件名,発信メールアドレス,発信状況"
CSV_DAYS = 60               # how far back a CSV goes (spec §4)
PAGE_SIZE = 50              # records per page of /history and /api/history
GETA = "〓"                 # U+3013, CP932 0x81AC: a character that could not be written
ENCODINGS = ("cp932", "utf-8")

# Unicode -> the CP932 character of the same JIS code point: Python's cp932
# codec (as Microsoft's) has only the right-hand ones; text from other
# systems (JIS X 0208 as Unicode maps it, macOS, EUC-JP) has the left-hand ones
_JIS_TO_CP932 = str.maketrans({
    "\u301c": "\uff5e",     # WAVE DASH -> FULLWIDTH TILDE (0x8160)
    "\u2016": "\u2225",     # DOUBLE VERTICAL LINE -> PARALLEL TO (0x8161)
    "\u2212": "\uff0d",     # MINUS SIGN -> FULLWIDTH HYPHEN-MINUS (0x817C)
    "\u00a2": "\uffe0",     # CENT SIGN (0x8191)
    "\u00a3": "\uffe1",     # POUND SIGN (0x8192)
    "\u00ac": "\uffe2",     # NOT SIGN (0x81CA)
    "\u2014": "\u2015",     # EM DASH -> HORIZONTAL BAR (0x815C)
})
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GETA_ERRORS = "faxengine-geta"
codecs.register_error(_GETA_ERRORS,
                      lambda e: (GETA * (e.end - e.start), e.end))   # type: ignore[arg-type]


class HistoryQueryError(GatewayError):
    """A query parameter of the history that cannot be read (the message names it)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One destination in the send history.

    Attributes:
        detail_no: the 13-digit 明細番号.
        sent_at: 送信日時 (aware): the last attempt, the refusal, or -- not yet
            dialled -- when the request was received.
        number: 送信先, the fax number.
        pages: 枚数, None (``-``) where nothing was sent.
        subject: 件名, the request's Subject.
        sender: 発信メールアドレス, the request's From.
        status: 送信状況, a word of ``faxengine.gateway.jobs.STATUSES``.
        result_code: the last call's result code, None before a call.
        attempts: calls made.
        image: the fax image can be downloaded (not yet expired).
        account: the name of the account the request belongs to.
    """

    detail_no: str
    sent_at: datetime
    number: str
    pages: int | None
    subject: str
    sender: str
    status: str
    result_code: str | None = None
    attempts: int = 0
    image: bool = False
    account: str = ""

    def json(self, zone: ZoneInfo) -> dict:
        """The record as the REST API gives it (gateway-interfaces.md, "JSON history record")."""
        return {"detail_no": self.detail_no,
                "sent_at": self.sent_at.astimezone(zone).isoformat(timespec="seconds"),
                "number": self.number, "pages": self.pages, "subject": self.subject,
                "sender": self.sender, "status": self.status, "result_code": self.result_code,
                "attempts": self.attempts,
                "image": f"/faxes/{self.detail_no}.tif" if self.image else None}


def shown_pages(status: str, pages: int | None) -> int | None:
    """枚数 as the history shows it: the pages of a sent destination, else None (``-``)."""
    return pages if status == DONE else None


@dataclass(frozen=True, slots=True)
class Filters:
    """The history's filters, as read from query parameters (``Filters.parse``).

    Attributes:
        start, end: the first and last day (in the gateway's zone), None: open.
        number: digits of the fax number (``-`` removed) it contains, "" for any.
        status: a 送信状況 word, "" for any (a word that is not one matches nothing).
        q: text found in the subject or the sender address, "" for any.
        page: the page of results, 1 = the newest ``PAGE_SIZE``.
    """

    start: date | None = None
    end: date | None = None
    number: str = ""
    status: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, params: dict[str, str]) -> Filters:
        """Filters from query parameters (``from``, ``to``, ``number``, ``status``,
        ``q``, ``page``); unknown parameters are ignored.

        Raises:
            HistoryQueryError: ``from``/``to`` not ``YYYY-MM-DD``, ``page`` not a
                number from 1.
        """
        page_text = (params.get("page") or "1").strip()
        if not page_text.isascii() or not page_text.isdigit() or not 1 <= int(page_text) <= 10**6:
            raise HistoryQueryError(f"page is {page_text[:40]!r}: give a page number from 1")
        return cls(start=_day(params, "from"), end=_day(params, "to"),
                   number=(params.get("number") or "").strip().replace("-", "")[:40],
                   status=(params.get("status") or "").strip()[:40],
                   q=(params.get("q") or "").strip()[:200], page=int(page_text))

    @property
    def impossible(self) -> bool:
        """No record can match (a status that is not a word of the history,
        a number with something other than digits, an empty date range)."""
        return (bool(self.status) and self.status not in STATUSES) \
            or (bool(self.number) and not (self.number.isascii() and self.number.isdigit())) \
            or (self.start is not None and self.end is not None and self.start > self.end)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The range as aware datetimes: [start 00:00, the day after end 00:00) in ``zone``."""
        # the first and last years of the calendar leave no room for a zone: open there
        lo = datetime.combine(self.start, datetime.min.time(), zone) \
            if self.start and self.start.year > 1 else None
        hi = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), zone) \
            if self.end and self.end.year < 9999 else None
        return lo, hi

    def query_string(self, **changes) -> str:
        """These filters as query parameters (for paging links and the CSV link)."""
        f = replace(self, **changes)
        pairs = {"from": f.start.isoformat() if f.start else "",
                 "to": f.end.isoformat() if f.end else "", "number": f.number,
                 "status": f.status, "q": f.q, "page": "" if f.page == 1 else str(f.page)}
        return urlencode({k: v for k, v in pairs.items() if v})


def _day(params: dict[str, str], name: str) -> date | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise HistoryQueryError(f"{name} is {text[:40]!r}: give a date as YYYY-MM-DD") from None


def csv_window(filters: Filters, today: date) -> Filters:
    """The filters of a CSV download: ``from`` defaults to 60 days before ``today``,
    ``to`` to ``today``.

    Raises:
        HistoryQueryError: ``from`` more than 60 days back (the spec keeps the
            CSV to 60 days; the message says the first day allowed).
    """
    first = today - timedelta(days=CSV_DAYS)
    start = filters.start or first
    if start < first:
        raise HistoryQueryError(f"from is {start.isoformat()}: the CSV goes back at most "
                                f"{CSV_DAYS} days, give {first.isoformat()} or later")
    return replace(filters, start=start, end=filters.end or today)


def _field(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text)


def _quoted(text: str) -> str:
    return "'" + _field(text).replace("'", "''") + "'"


def csv_row(record: Record, zone: ZoneInfo) -> str:
    """One line of the CSV (without its CRLF), e.g.
    ``2010-01-21 00:00:00,0000000007001,0921234567,3,'FAX送信サンプル福岡',sample@edicworks.com,送信完了,``."""
    sender = record.sender
    if any(c in sender for c in ",'\r\n"):
        sender = _quoted(sender)
    return ",".join((record.sent_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                     record.detail_no, _field(record.number),
                     "-" if record.pages is None else str(record.pages),
                     _quoted(record.subject), sender, record.status, ""))


def csv_bytes(records: Iterable[Record], zone: ZoneInfo, encoding: str = "cp932") -> bytes:
    """The CSV of ``records`` (in the order given) in ``encoding``: "cp932" or "utf-8"
    (written with a BOM).

    Raises:
        HistoryQueryError: another encoding.
    """
    text = "".join(line + "\r\n" for line in
                   (CSV_HEADER, *(csv_row(r, zone) for r in records)))
    if encoding == "utf-8":
        # only a lone surrogate (a header read with surrogateescape) has no UTF-8
        return b"\xef\xbb\xbf" + text.encode("utf-8", _GETA_ERRORS)
    if encoding != "cp932":
        raise HistoryQueryError(f"encoding is {encoding[:40]!r}: \"cp932\" (the default) "
                                f"or \"utf-8\"")
    return cp932(text)


def cp932(text: str) -> bytes:
    """``text`` in CP932, each character it cannot hold written as ``〓``."""
    return text.translate(_JIS_TO_CP932).encode("cp932", _GETA_ERRORS)


# --- the database side: queries on the store's models (faxengine.gateway.store) ---

@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: an account; an operator sees every account's history."""

    account_id: int
    name: str
    operator: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call of a destination, as the detail page shows it."""

    n: int
    started_at: datetime | None
    ended_at: datetime | None
    result_code: str | None
    detail: str
    pages_sent: int | None
    trace: list


@dataclass(frozen=True, slots=True)
class Detail:
    """One destination with everything the detail page shows."""

    record: Record
    received_at: datetime | None
    due_at: datetime | None
    attempts: tuple[Attempt, ...]
    result_mail: bytes | None
    image_expires_at: datetime | None
    total_pages: int | None


def _like(text: str) -> str:
    """``text`` as a LIKE pattern that matches it anywhere, its wildcards escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(m, viewer: Viewer, filters: Filters, zone: ZoneInfo) -> tuple[list, bool]:
    """The WHERE terms of the history's query, and whether they need the request's
    columns (the join to ``requests``)."""
    from sqlalchemy import func, or_

    terms, on_request = [], False
    if not viewer.operator:
        terms.append(m.RequestRow.account_id == viewer.account_id)
        on_request = True
    lo, hi = filters.bounds(zone)
    when = func.coalesce(m.JobRow.sent_at, m.RequestRow.received_at)
    if lo is not None:
        terms.append(when >= lo.astimezone(timezone.utc))
        on_request = True
    if hi is not None:
        terms.append(when < hi.astimezone(timezone.utc))
        on_request = True
    if filters.number:
        terms.append(m.JobRow.number.like(_like(filters.number), escape="\\"))
    if filters.status:
        terms.append(m.JobRow.status == filters.status)
    if filters.q:
        pattern = _like(filters.q)
        terms.append(or_(m.RequestRow.subject.ilike(pattern, escape="\\"),
                         m.RequestRow.sender.ilike(pattern, escape="\\")))
        on_request = True
    return terms, on_request


def _columns(m) -> tuple:
    """What a record is made of: plain columns, not ORM objects (a page of 50 rows
    needs no identity map, and the request's JSON columns are never read)."""
    return (m.JobRow.detail_no, m.JobRow.sent_at, m.JobRow.number, m.JobRow.status,
            m.JobRow.result_code, m.JobRow.attempts, m.JobRow.pages, m.JobRow.image_path,
            m.JobRow.image_expires_at, m.JobRow.due_at, m.RequestRow.received_at,
            m.RequestRow.pages.label("request_pages"), m.RequestRow.subject,
            m.RequestRow.sender, m.RequestRow.mail_from, m.Account.name.label("account"))


def _select_records(m):
    from sqlalchemy import select

    return (select(*_columns(m))
            .join(m.RequestRow, m.JobRow.request_seq == m.RequestRow.seq)
            .outerjoin(m.Account, m.RequestRow.account_id == m.Account.id))


def _record(row, now: datetime) -> Record:
    expires = row.image_expires_at
    return Record(detail_no=row.detail_no, sent_at=row.sent_at or row.received_at,
                  number=row.number, pages=shown_pages(row.status, row.pages or row.request_pages),
                  subject=row.subject or "", sender=row.sender or row.mail_from or "",
                  status=row.status, result_code=row.result_code, attempts=row.attempts or 0,
                  image=bool(row.image_path) and expires is not None and now < expires,
                  account=row.account or "")


def query(session, m, viewer: Viewer, filters: Filters, zone: ZoneInfo, now: datetime, *,
          limit: int | None = PAGE_SIZE) -> tuple[int, list[Record]]:
    """The records ``viewer`` may see that match ``filters``, newest first: the
    count of all matches and the page ``filters.page`` of them (all of them
    when ``limit`` is None).

    Newest first is the order the requests came in (the request sequence,
    then the destination: the 明細番号), not 送信日時: a page does not change
    under the reader when a job is retried, and an index gives the first page
    without sorting every record -- the request's ``(account_id, seq)`` for
    a user, the jobs' ``request_seq`` for an operator (the two sequence
    columns are equal by the join; each is the one the database walks).
    The count joins only what its filters need.
    """
    from sqlalchemy import func, select

    if filters.impossible:
        return 0, []
    terms, on_request = _conditions(m, viewer, filters, zone)
    count = select(func.count()).select_from(m.JobRow)
    if on_request:
        count = count.join(m.RequestRow, m.JobRow.request_seq == m.RequestRow.seq)
    total = session.scalar(count.where(*terms))
    sequence = m.JobRow.request_seq if viewer.operator else m.RequestRow.seq
    stmt = _select_records(m).where(*terms).order_by(sequence.desc(), m.JobRow.index.desc())
    if limit is not None:
        stmt = stmt.limit(limit).offset((filters.page - 1) * limit)
    return total, [_record(row, now) for row in session.execute(stmt)]


def _own_job(session, m, viewer: Viewer, detail_no: str):
    """The row (``_columns``) of 明細番号 ``detail_no`` if ``viewer`` may see it, else None."""
    if not (len(detail_no) == 13 and detail_no.isascii() and detail_no.isdigit()):
        return None
    stmt = _select_records(m).where(m.JobRow.detail_no == detail_no)
    if not viewer.operator:
        stmt = stmt.where(m.RequestRow.account_id == viewer.account_id)
    return session.execute(stmt).first()


def record(session, m, viewer: Viewer, detail_no: str, now: datetime) -> Record | None:
    """The record of ``detail_no``, None when there is none ``viewer`` may see."""
    row = _own_job(session, m, viewer, detail_no)
    return None if row is None else _record(row, now)


def detail(session, m, viewer: Viewer, detail_no: str, now: datetime) -> Detail | None:
    """Everything about ``detail_no`` for its page, None when ``viewer`` may not see it."""
    from sqlalchemy import select

    row = _own_job(session, m, viewer, detail_no)
    if row is None:
        return None
    attempts = tuple(
        Attempt(a.n, a.started_at, a.ended_at, a.result_code, a.detail or "", a.pages_sent,
                a.trace if isinstance(a.trace, list) else [])
        for a in session.scalars(select(m.AttemptRow).where(m.AttemptRow.detail_no == detail_no)
                                 .order_by(m.AttemptRow.n)))
    mail = session.scalars(select(m.OutboxRow.raw).where(m.OutboxRow.detail_no == detail_no)
                           .order_by(m.OutboxRow.created_at.desc()).limit(1)).first()
    return Detail(_record(row, now), row.received_at, row.due_at, attempts, mail,
                  row.image_expires_at, row.pages or row.request_pages)


def image_path(session, m, viewer: Viewer, detail_no: str, now: datetime) -> str | None:
    """The file of ``detail_no``'s fax image (relative to the data directory, or
    absolute) while it may be downloaded (264 hours after sending), None
    otherwise or when ``viewer`` may not see it."""
    row = _own_job(session, m, viewer, detail_no)
    if row is None or not row.image_path or row.image_expires_at is None \
            or now >= row.image_expires_at:
        return None
    return row.image_path
