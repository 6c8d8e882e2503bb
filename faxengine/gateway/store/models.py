"""The gateway's tables as SQLAlchemy 2 ORM classes (one schema, SQLite and PostgreSQL).

The initial Alembic migration (``faxengine/gateway/migrations/versions``)
creates exactly these tables; ``tests/gateway/test_store_migrations.py``
fails when the two drift apart.  Every time is a ``UTCDateTime``: aware UTC
in Python, ``timestamp with time zone`` on PostgreSQL, UTC text on SQLite.

Row classes end in ``Row`` where the sans-I/O core has a class of the same
idea (``mail.Request`` -> ``RequestRow``, ``jobs.Job`` -> ``JobRow``), so the
two never shadow each other in a module that uses both.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey,
                        Index, Integer, LargeBinary, String, Text, TypeDecorator)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from faxengine.gateway.jobs import STATUSES, RetryPolicy

__all__ = ["Base", "UTCDateTime", "Account", "Sender", "ApiToken", "RequestRow", "JobRow",
           "AttemptRow", "OutboxRow", "ROLES", "ACCEPTED", "EXPANDED"]

ROLES = ("user", "operator")
ACCEPTED = "accepted"       # spooled, not yet read into jobs
EXPANDED = "expanded"       # its jobs (and any refusal mails) exist


class UTCDateTime(TypeDecorator):
    """An aware datetime, kept in UTC.  A naive one is refused: a time without
    a zone cannot be compared with the others (pass ``datetime.now(timezone.utc)``)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{value!r} is not an aware datetime: the store keeps times "
                             f"in UTC; pass one with a zone (datetime.now(timezone.utc))")
        value = value.astimezone(timezone.utc)
        # SQLite has no zone type: UTC text, fixed width, so text order is time order
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _statuses() -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")"


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A customer account: its login, its retry policy and its result mails.

    ``from_config``: the account is one of the TOML's ``[[accounts]]``
    (``Store.sync_accounts``); one made in the web admin is not.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'operator')", name="ck_accounts_role"),
        CheckConstraint("retries BETWEEN 0 AND 3", name="ck_accounts_retries"),
        CheckConstraint("retry_interval_s >= 0", name="ck_accounts_retry_interval"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10), default="user")
    retries: Mapped[int] = mapped_column(Integer, default=2)
    retry_interval_s: Mapped[int] = mapped_column(Integer, default=60)
    result_mail: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    from_config: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    senders: Mapped[list[Sender]] = relationship(
        back_populates="account", lazy="selectin", order_by="Sender.id",
        cascade="all, delete-orphan")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="account",
                                                  cascade="all, delete-orphan")

    @property
    def retry_policy(self) -> RetryPolicy:
        """The account's retries and interval as the job life cycle takes them."""
        return RetryPolicy(self.retries, timedelta(seconds=self.retry_interval_s))

    @property
    def addresses(self) -> list[str]:
        """The registered sender addresses (lower case)."""
        return [s.address for s in self.senders]

    def __repr__(self) -> str:
        return f"<Account {self.name!r} {self.role}{' disabled' if self.disabled else ''}>"


class Sender(Base):
    """A registered From address.  Kept in lower case: the spec compares
    addresses case-insensitively (§1 From), so the unique key does too."""

    __tablename__ = "senders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    account: Mapped[Account] = relationship(back_populates="senders")


class ApiToken(Base):
    """A bearer token of the web API.  Only its SHA-256 is kept: the token is
    256 random bits, so a fast hash suffices and it can be looked up."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    account: Mapped[Account] = relationship(back_populates="tokens")


class RequestRow(Base):
    """A fax send request as accepted: the envelope and the spool file, then
    (once expanded) what the mail said.  ``seq`` is the request sequence of
    the 明細番号 (``jobs.detail_no``)."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint("state IN ('accepted', 'expanded')", name="ck_requests_state"),
        Index("ix_requests_state", "state"),
        {"sqlite_autoincrement": True},     # a sequence number is never used twice
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mail_from: Mapped[str] = mapped_column(Text)
    rcpt_to: Mapped[list[str]] = mapped_column(JSON)
    spool_path: Mapped[str] = mapped_column(Text)     # relative to data_dir
    sender: Mapped[str | None] = mapped_column(Text, nullable=True)   # header From
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(10), default=ACCEPTED)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)

    account: Mapped[Account | None] = relationship()
    jobs: Mapped[list[JobRow]] = relationship(back_populates="request",
                                              order_by="JobRow.index")


class JobRow(Base):
    """One destination of a request (one line of the send history)."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_statuses(), name="ck_jobs_status"),
        Index("ix_jobs_due", "status", "due_at"),
        Index("ix_jobs_sent_at", "sent_at"),
    )

    detail_no: Mapped[str] = mapped_column(String(13), primary_key=True)
    request_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("requests.seq", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    result_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    image_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    image_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    request: Mapped[RequestRow] = relationship(back_populates="jobs")
    attempt_rows: Mapped[list[AttemptRow]] = relationship(back_populates="job",
                                                          order_by="AttemptRow.id")


class AttemptRow(Base):
    """One call made for a job: when, how it ended, and the T.30 trace."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detail_no: Mapped[str] = mapped_column(ForeignKey("jobs.detail_no", ondelete="CASCADE"),
                                           index=True)
    n: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result_code: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    pages_sent: Mapped[int] = mapped_column(Integer, default=0)
    trace: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    job: Mapped[JobRow] = relationship(back_populates="attempt_rows")


class OutboxRow(Base):
    """A result mail to deliver: kept until delivered, keyed by its Message-ID
    so that the same mail queued twice is one mail.  ``claimed_by`` and
    ``claimed_at``: the outbox worker delivering it now (``Store.outbox_claim``;
    migration 0002)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "next_try_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    detail_no: Mapped[str | None] = mapped_column(String(13), nullable=True, index=True)
    request_seq: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True, index=True)
    to_address: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
