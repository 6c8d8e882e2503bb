"""``Store``: the gateway's database and spool, one object per process.

Every method is one short transaction, synchronous and thread-safe (the
asyncio service calls them through ``asyncio.to_thread``); how SQLite and
PostgreSQL are made to behave alike is in ``engine``.  ``session`` begins
transactions that may write (``BEGIN IMMEDIATE`` on SQLite), ``read_session``
ones that only read (a snapshot: never makes a writer wait; the store's own
look-ups use it, and so should the web pages).  A claim is ``SELECT ... FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so several gateway hosts take different
jobs without waiting for each other; on SQLite the write lock serialises it.

The migrations run to head when a store opens (under an advisory lock on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite: two hosts starting at once
migrate once).  The account methods are in ``accounts.AccountMethods``.
"""
from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from faxengine.gateway import jobs as joblife
from faxengine.gateway.errors import JobStateError
from faxengine.gateway.mail import Request
from faxengine.gateway.results import ResultMail
from faxengine.gateway.store import accounts as acc
from faxengine.gateway.store.accounts import AccountMethods
from faxengine.gateway.store.engine import (READ_ONLY, SQLITE_NAME, first_line, make_engine,
                                            need, translated)
from faxengine.gateway.store.files import remove_stale_temporaries, write_durably
from faxengine.gateway.store.models import (ACCEPTED, EXPANDED, Account, AttemptRow, JobRow,
                                            OutboxRow, RequestRow, Sender)
from faxengine.gateway.store.records import (AttemptRecord, ClaimedJob, ExpiredImage,
                                             OutboxRecord, RequestRecord, StoreError, aware)

__all__ = ["Store", "IMAGE_LIFETIME", "OUTBOX_CLAIM_TIMEOUT", "SQLITE_NAME"]

IMAGE_LIFETIME = timedelta(hours=264)   # mail-gateway.md §4 ダウンロード: 264 hours (11 days)
# A claim on a result mail older than this is taken back by any outbox worker: its
# claimer died (or its host never came back).  The longest a live worker holds one is
# a smarthost delivery: about 11 waits (connect, greeting, EHLO, STARTTLS, EHLO, MAIL,
# RCPT, DATA, the octets, the final reply, QUIT) of at most SmarthostDelivery's 30 s
# each, 5.5 minutes; 15 is well clear of it, so a live claim is never taken, and a
# dead host's mail waits at most that long.
OUTBOX_CLAIM_TIMEOUT = timedelta(minutes=15)
_DETAIL_IN_ID = re.compile(r"^<(\d{13})\.")


class Store(AccountMethods):
    """The gateway's database and spool.  Make one with ``Store.open``."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.spool_dir = data_dir / "spool"
        # Session factories: ``session`` for transactions that write (``with
        # store.session.begin() as s``), ``read_session`` for those that only read
        self.session = sessionmaker(engine, expire_on_commit=False)
        self.read_session = sessionmaker(engine.execution_options(**{READ_ONLY: True}),
                                         expire_on_commit=False)

    # -- opening ----------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, data_dir: Path | str) -> Store:
        """Open (and create or migrate to head) the store.

        Args:
            url: "" for SQLite at ``data_dir/gateway.sqlite3``;
                ``postgresql://user:pw@host:port/db`` (or ``postgresql+psycopg://``).
            data_dir: the gateway's directory (spool, images); made if missing.

        Raises:
            GatewayConfigError: the URL is not one of these.
            StoreError: the database cannot be reached or migrated.
        """
        from faxengine.gateway.store.migrate import upgrade

        data_dir = Path(data_dir)
        try:
            (data_dir / "spool").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"data_dir {data_dir}: cannot make {data_dir / 'spool'} "
                             f"({exc.strerror}); check the path and its permissions") from None
        engine = make_engine(url, data_dir)
        try:
            upgrade(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            where = engine.url.render_as_string(hide_password=True)
            if engine.dialect.name == "sqlite":     # a file: no server, user or password
                raise StoreError(f"database {where}: {first_line(exc)}; check that the file "
                                 f"is a database and that it and {data_dir} can be written "
                                 f"(not read-only, space left)") from None
            raise StoreError(f"database {where}: {first_line(exc)}; check that it runs and "
                             f"the URL (user, password, database name)") from None
        except BaseException:
            engine.dispose()
            raise
        remove_stale_temporaries(data_dir / "spool")
        return cls(engine, data_dir)

    def close(self) -> None:
        """Close the connections (the store cannot be used afterwards)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------
    @translated
    def accept(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str],
               received_at: datetime) -> int:
        """Store a request durably and return its sequence number.

        When this returns, the mail is in ``data_dir/spool/<seq>.eml``
        (written, fsynced, renamed into place, the directory fsynced) and its
        row is committed: a crash from then on loses nothing (SMTP may
        answer 250).  A failure raises and leaves no row, at most a spool
        file no row names (overwritten when its number comes again).
        """
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raise StoreError(f"accept takes the mail as bytes, not {type(raw).__name__}")
        if isinstance(rcpt_to, (str, bytes)) or not isinstance(mail_from, str):
            raise StoreError("accept takes MAIL FROM as a str and RCPT TO as a list of str")
        aware(received_at, "received_at")
        path = None
        # the file is never removed here on failure: an interrupt (Ctrl-C) that comes
        # during the commit cannot tell whether the row is in
        try:
            with self.session.begin() as s:
                row = RequestRow(received_at=received_at, mail_from=mail_from,
                                 rcpt_to=[str(r) for r in rcpt_to], spool_path="",
                                 state=ACCEPTED)
                s.add(row)
                s.flush()
                row.spool_path = f"spool/{row.seq}.eml"
                path = self.data_dir / row.spool_path
                write_durably(path, bytes(raw))
                seq = row.seq
        except OSError as exc:
            raise StoreError(f"cannot write the spool file {path} ({exc.strerror}); "
                             f"check the disk space and permissions of {self.spool_dir}") \
                from None
        return seq

    @translated
    def unexpanded(self) -> list[RequestRecord]:
        """The accepted requests whose jobs are not made yet, oldest first."""
        with self.read_session() as s:
            rows = s.scalars(select(RequestRow).where(RequestRow.state == ACCEPTED)
                             .order_by(RequestRow.seq)).all()
            return [RequestRecord(r.seq, r.received_at, r.mail_from, tuple(r.rcpt_to),
                                  self.data_dir / r.spool_path) for r in rows]

    @translated
    def expand(self, seq: int, request: Request, jobs: Sequence[joblife.Job],
               image_path: str | Path | Mapping[str, str | Path] | None,
               mails: Sequence[ResultMail]) -> bool:
        """Record what request ``seq`` said: its jobs and its immediate result mails
        (refusals), in one transaction.

        Args:
            request: the parsed request (sender, subject, pages).
            jobs: ``request.jobs(seq, now)``: waiting, or ended with a refusal.
            image_path: the TIFF the waiting jobs send (relative to data_dir or
                absolute), or a mapping 明細番号 -> path, or None.
            mails: result mails to queue now (``refusal_mails``, and those of
                jobs that ended at once).

        Returns:
            False (and nothing changes) when the request was expanded already,
            by this process before a crash or by another host.
        """
        need(request, Request, "expand's request")
        for job in jobs:
            need(job, joblife.Job, "a job of expand")
        for mail in mails:
            need(mail, ResultMail, "a mail of expand")
        with self.session.begin() as s:
            row = s.get(RequestRow, seq, with_for_update=True)
            if row is None:
                raise StoreError(f"no request {seq}: expand only what accept returned")
            if row.state != ACCEPTED:
                return False
            account = s.scalar(select(Account).join(Sender).where(
                Sender.address == acc.normalise_address(request.sender or "")))
            row.sender, row.subject, row.pages = request.sender, request.subject, request.pages
            row.account_id = account.id if account else None
            row.state = EXPANDED
            for job in jobs:
                number = int(job.detail_no)
                if number // 1000 != seq:
                    raise StoreError(f"job {job.detail_no} is not of request {seq}")
                image = image_path.get(job.detail_no) if isinstance(image_path, Mapping) \
                    else image_path
                waiting = job.status == joblife.WAITING
                s.add(JobRow(detail_no=job.detail_no, request_seq=seq, index=number % 1000,
                             number=job.number, status=job.status, result_code=job.result_code,
                             attempts=job.attempts, sent_at=job.sent_at, pages=request.pages,
                             due_at=(job.due or row.received_at) if waiting else None,
                             image_path=self._relative(image) if waiting else None))
            s.flush()
            now = datetime.now(timezone.utc)
            for mail in mails:
                _queue(s, mail, now, request_seq=seq)
        return True

    def _relative(self, path: str | Path | None) -> str | None:
        """``path`` as kept in the database: relative to data_dir when it is inside
        (hosts may mount a shared data_dir at different places)."""
        if path is None:
            return None
        p = Path(path)
        if p.is_absolute():
            try:
                return str(p.relative_to(self.data_dir.resolve()))
            except ValueError:
                try:
                    return str(p.relative_to(self.data_dir.absolute()))
                except ValueError:
                    return str(p)
        return str(p)

    @translated
    def purge_spool(self, before: datetime) -> int:
        """Delete the spool files of requests expanded already and received before
        ``before`` (their jobs, images and mails hold all that is still needed);
        their ``spool_path`` becomes "".  Returns how many.  Requests not yet
        expanded keep theirs whatever their age."""
        aware(before, "before")
        with self.session.begin() as s:
            rows = s.execute(select(RequestRow.seq, RequestRow.spool_path).where(
                RequestRow.state == EXPANDED, RequestRow.spool_path != "",
                RequestRow.received_at < before)).all()
            if rows:
                s.execute(update(RequestRow).where(RequestRow.seq.in_([r.seq for r in rows]))
                          .values(spool_path=""))
        for _, path in rows:       # after the commit: a crash here leaves only a stray file
            (self.data_dir / path).unlink(missing_ok=True)
        return len(rows)

    # -- jobs -------------------------------------------------------------------------
    @translated
    def claim(self, now: datetime, worker: str) -> ClaimedJob | None:
        """Take the oldest due 送信待ち job for ``worker`` (it becomes 送信中), or None.

        Two workers, in one process or on two hosts, never take the same job.
        """
        aware(now, "now")
        if not isinstance(worker, str) or not worker:
            raise StoreError(f"worker is {worker!r}: name the worker (\"<host>/<n>\"), so "
                             f"that requeue_stale can find its calls")
        with self.session.begin() as s:
            row = s.scalars(
                select(JobRow)
                .where(JobRow.status == joblife.WAITING,
                       or_(JobRow.due_at.is_(None), JobRow.due_at <= now))
                .order_by(JobRow.due_at, JobRow.detail_no).limit(1)
                .with_for_update(skip_locked=True)).first()
            if row is None:
                return None
            job, _ = _job(row).claim(now)
            row.status, row.claimed_by, row.claimed_at = job.status, worker, now
            req = row.request
            account = req.account
            image = None if row.image_path is None else self.data_dir / row.image_path
            return ClaimedJob(
                job=job, request_seq=row.request_seq, index=row.index, pages=row.pages,
                image_path=image, sender=req.sender or "", subject=req.subject or "",
                account=account.name if account else None,
                policy=account.retry_policy if account else joblife.RetryPolicy(),
                result_mail=account.result_mail if account else True,
                worker=worker, claimed_at=now)

    @translated
    def finish(self, detail_no: str, job: joblife.Job, attempt: AttemptRecord,
               mail: ResultMail | None) -> None:
        """Record the end of a call in one transaction: the job's new state
        (``ClaimedJob.job.finish(...)``), the attempt, and the result mail (if any)
        into the outbox.

        Raises:
            JobStateError: the job is not 送信中 (requeued as stale meanwhile?)
                or ``job`` is still 送信中.
        """
        need(job, joblife.Job, "finish's job")
        need(attempt, AttemptRecord, "finish's attempt")
        need(mail, (ResultMail, type(None)), "finish's mail")
        if job.status == joblife.SENDING or job.detail_no != detail_no:
            raise JobStateError(f"finish job {detail_no} with the job that Job.finish "
                                f"returned, not one {job.status} or of {job.detail_no}")
        with self.session.begin() as s:
            row = s.get(JobRow, detail_no, with_for_update=True)
            if row is None:
                raise StoreError(f"no job {detail_no}")
            if row.status != joblife.SENDING:
                raise JobStateError(f"job {detail_no} is {row.status}, not {joblife.SENDING}: "
                                    f"it was requeued or finished meanwhile; drop this call's "
                                    f"result")
            n = attempt.n or 1 + s.scalar(select(func.count()).select_from(AttemptRow)
                                          .where(AttemptRow.detail_no == detail_no))
            row.status, row.attempts, row.result_code = job.status, job.attempts, job.result_code
            row.due_at = (job.due or attempt.ended_at) if job.status == joblife.WAITING else None
            row.sent_at, row.claimed_by, row.claimed_at = job.sent_at, None, None
            if job.sent_at is not None and row.image_path is not None:
                row.image_expires_at = job.sent_at + IMAGE_LIFETIME
            s.add(AttemptRow(detail_no=detail_no, n=n, started_at=attempt.started_at,
                             ended_at=attempt.ended_at, result_code=attempt.result_code,
                             detail=attempt.detail, pages_sent=attempt.pages_sent,
                             trace=list(attempt.trace)))
            if mail is not None:
                _queue(s, mail, attempt.ended_at, detail_no=detail_no,
                       request_seq=row.request_seq)

    @translated
    def requeue_stale(self, worker_prefix: str | None = None) -> int:
        """Put 送信中 jobs of workers whose name starts with ``worker_prefix`` (None or
        "": every worker) back to 送信待ち, due at once, the attempt not counted
        (their worker died during the call).  Returns how many."""
        stmt = update(JobRow).where(JobRow.status == joblife.SENDING)
        if worker_prefix:
            stmt = stmt.where(JobRow.claimed_by.startswith(worker_prefix, autoescape=True))
        with self.session.begin() as s:
            result = s.execute(stmt.values(status=joblife.WAITING, claimed_by=None,
                                           claimed_at=None))
            return result.rowcount

    # -- outbox -----------------------------------------------------------------------
    @translated
    def queue_mail(self, mail: ResultMail, now: datetime, *, detail_no: str | None = None,
                   request_seq: int | None = None) -> bool:
        """Put a result mail into the outbox; False if one with its Message-ID is there."""
        need(mail, ResultMail, "queue_mail's mail")
        with self.session.begin() as s:
            return _queue(s, mail, aware(now, "now"), detail_no=detail_no,
                          request_seq=request_seq)

    @translated
    def outbox_due(self, now: datetime, limit: int = 100) -> list[OutboxRecord]:
        """Result mails to deliver now (not delivered, not given up, due, not claimed
        by a live worker), oldest first."""
        with self.read_session() as s:
            rows = s.scalars(select(OutboxRow).where(*_deliverable(now, OUTBOX_CLAIM_TIMEOUT))
                             .order_by(OutboxRow.id).limit(limit)).all()
            return [_outbox_record(r) for r in rows]

    @translated
    def outbox_claim(self, now: datetime, owner: str,
                     stale_after: timedelta = OUTBOX_CLAIM_TIMEOUT) -> OutboxRecord | None:
        """Take the oldest result mail to deliver now for ``owner``, or None.

        Two outbox workers, in one process or on two hosts, never hold the same
        mail (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write
        lock on SQLite).  A claim older than ``stale_after`` is taken over: its
        claimer died; the record's ``taken_from`` then names it.  The claim ends
        with ``outbox_delivered`` or ``outbox_failed``, or ``requeue_outbox``
        when the owner's gateway starts again.
        """
        aware(now, "now")
        need(stale_after, timedelta, "outbox_claim's stale_after")
        if not isinstance(owner, str) or not owner:
            raise StoreError(f"owner is {owner!r}: name the outbox worker (\"<host>:<pid>/"
                             f"outbox\"), so that requeue_outbox can find its claims")
        with self.session.begin() as s:
            row = s.scalars(select(OutboxRow).where(*_deliverable(now, stale_after))
                            .order_by(OutboxRow.id).limit(1)
                            .with_for_update(skip_locked=True)).first()
            if row is None:
                return None
            taken_from = row.claimed_by
            row.claimed_by, row.claimed_at = owner, now
            return _outbox_record(row, taken_from)

    @translated
    def requeue_outbox(self, owner_prefix: str | None = None) -> int:
        """End the claims of outbox workers whose name starts with ``owner_prefix``
        (None or "": every worker) on mails not delivered: their worker died
        during the delivery.  Returns how many."""
        stmt = update(OutboxRow).where(OutboxRow.delivered_at.is_(None),
                                       OutboxRow.claimed_by.is_not(None))
        if owner_prefix:
            stmt = stmt.where(OutboxRow.claimed_by.startswith(owner_prefix, autoescape=True))
        with self.session.begin() as s:
            return s.execute(stmt.values(claimed_by=None, claimed_at=None)).rowcount

    @translated
    def outbox_delivered(self, message_id: str, now: datetime) -> None:
        """The mail ``message_id`` was delivered at ``now`` (its claimer stays
        recorded: who delivered it)."""
        with self.session.begin() as s:
            s.execute(update(OutboxRow).where(OutboxRow.message_id == message_id,
                                              OutboxRow.delivered_at.is_(None))
                      .values(delivered_at=aware(now, "now"), tries=OutboxRow.tries + 1))

    @translated
    def outbox_failed(self, message_id: str, now: datetime, retry_at: datetime | None,
                      error: str = "") -> None:
        """Delivering ``message_id`` failed at ``now``: try again at ``retry_at``, or
        (None) never again -- the failure was permanent.  Its claim ends: any
        worker may try it again."""
        values: dict[str, Any] = {"tries": OutboxRow.tries + 1, "last_error": error[:2000],
                                  "claimed_by": None, "claimed_at": None}
        if retry_at is None:
            values["failed_at"] = aware(now, "now")
        else:
            values["next_try_at"] = aware(retry_at, "retry_at")
        with self.session.begin() as s:
            s.execute(update(OutboxRow).where(OutboxRow.message_id == message_id,
                                              OutboxRow.delivered_at.is_(None)).values(**values))

    # -- images -----------------------------------------------------------------------
    @translated
    def expired_images(self, now: datetime) -> list[ExpiredImage]:
        """Fax images of ended jobs sent more than 264 hours before ``now`` (§4)."""
        aware(now, "now")
        ended = [st for st in joblife.STATUSES if st not in (joblife.WAITING, joblife.SENDING)]
        with self.read_session() as s:
            rows = s.execute(select(JobRow.detail_no, JobRow.image_path, JobRow.image_expires_at)
                             .where(JobRow.image_path.is_not(None),
                                    JobRow.image_expires_at <= now, JobRow.status.in_(ended))
                             .order_by(JobRow.image_expires_at)).all()
        return [ExpiredImage(d, self.data_dir / p, t) for d, p, t in rows]

    @translated
    def drop_image(self, detail_no: str) -> bool:
        """Forget job ``detail_no``'s image and delete its file unless another job
        sends the same file.  Returns whether the job had one."""
        need(detail_no, str, "detail_no")
        with self.session.begin() as s:
            row = s.get(JobRow, detail_no, with_for_update=True)
            if row is None or row.image_path is None:
                return False
            path, row.image_path, row.image_expires_at = row.image_path, None, None
            s.flush()
            shared = s.scalar(select(func.count()).select_from(JobRow)
                              .where(JobRow.image_path == path))
        if not shared:
            (self.data_dir / path).unlink(missing_ok=True)
        return True


def _job(row: JobRow) -> joblife.Job:
    return joblife.Job(row.detail_no, row.number, row.status, row.attempts, row.result_code,
                       row.due_at, row.sent_at)


def _deliverable(now: datetime, stale_after: timedelta) -> tuple[Any, ...]:
    """Where an outbox row is to deliver at ``now``: not delivered, not given up,
    due, and not claimed, or claimed more than ``stale_after`` ago."""
    aware(now, "now")
    return (OutboxRow.delivered_at.is_(None), OutboxRow.failed_at.is_(None),
            or_(OutboxRow.next_try_at.is_(None), OutboxRow.next_try_at <= now),
            or_(OutboxRow.claimed_at.is_(None), OutboxRow.claimed_at < now - stale_after))


def _outbox_record(r: OutboxRow, taken_from: str | None = None) -> OutboxRecord:
    return OutboxRecord(r.message_id, r.to_address, r.raw, r.detail_no, r.request_seq,
                        r.created_at, r.tries, taken_from)


def _queue(s: Session, mail: ResultMail, now: datetime, *, detail_no: str | None = None,
           request_seq: int | None = None) -> bool:
    head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(mail.message)
    message_id = (head.get("Message-ID") or "").strip()
    if not message_id:
        raise StoreError(f"result mail to {mail.to} has no Message-ID: make it with "
                         f"results.result_mail (the outbox is keyed by it)")
    if detail_no is None and (m := _DETAIL_IN_ID.match(message_id)):
        detail_no = m.group(1)
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = s.execute(insert(OutboxRow).values(
        message_id=message_id, detail_no=detail_no, request_seq=request_seq,
        to_address=mail.to, raw=mail.message, created_at=now, tries=0, last_error="")
        .on_conflict_do_nothing(index_elements=["message_id"]).returning(OutboxRow.id))
    return result.first() is not None


