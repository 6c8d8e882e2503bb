"""What the store hands out and takes in besides rows: frozen, plain, picklable.

A worker holds these across a call of minutes, without a database session.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from faxengine.gateway.errors import GatewayError
from faxengine.gateway.jobs import Job, RetryPolicy

__all__ = ["StoreError", "RequestRecord", "ClaimedJob", "AttemptRecord", "OutboxRecord",
           "ExpiredImage", "aware"]


class StoreError(GatewayError):
    """The store cannot do what was asked (no such request, a database or disk failure)."""


def aware(value: datetime, name: str) -> datetime:
    """``value`` if it is an aware datetime, else ``StoreError`` naming ``name``."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise StoreError(f"{name} is {value!r}: the store takes aware datetimes "
                         f"(datetime.now(timezone.utc))")
    return value


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """An accepted request not yet expanded: its envelope and where its mail is."""

    seq: int
    received_at: datetime
    mail_from: str
    rcpt_to: tuple[str, ...]
    spool_path: Path

    def read(self) -> bytes:
        """The mail's octets as accepted.

        Raises:
            StoreError: the spool file is not there (hosts that share a
                database must share data_dir).
        """
        try:
            return self.spool_path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"request {self.seq}: its spool file {self.spool_path} is missing;"
                             f" gateway hosts that share a database must share data_dir") \
                from None


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job a line worker has claimed (送信中), with what the call and the
    result mail need.

    Attributes:
        job: the job as claimed (status 送信中); ``job.finish(code, now,
            policy)`` gives the job to hand to ``Store.finish``.
        request_seq, index: the request and the destination's place in it.
        pages: the request's pages (枚数).
        image_path: the TIFF to send (absolute), None if none was made.
        sender: the request's From (To of the result mail).
        subject: the request's Subject.
        account: the account's name, None if the sender has none any more.
        policy: the account's retries and interval.
        result_mail: the account wants result mails.
        worker: who claimed it; claimed_at: when.
    """

    job: Job
    request_seq: int
    index: int
    pages: int | None
    image_path: Path | None
    sender: str
    subject: str
    account: str | None
    policy: RetryPolicy
    result_mail: bool
    worker: str
    claimed_at: datetime

    @property
    def detail_no(self) -> str:
        return self.job.detail_no

    @property
    def number(self) -> str:
        return self.job.number


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One call, as ``Store.finish`` records it.

    Attributes:
        started_at, ended_at: the call (aware).
        result_code: its result code (``jobs.CALL_OUTCOMES``).
        detail: the result in words.
        pages_sent: pages the far end confirmed.
        trace: the call's events as plain dicts (JSON).
        n: the attempt's number; None counts it (the attempts recorded + 1).
    """

    started_at: datetime
    ended_at: datetime
    result_code: str
    detail: str = ""
    pages_sent: int = 0
    trace: list[dict[str, Any]] = field(default_factory=list)
    n: int | None = None

    def __post_init__(self) -> None:
        aware(self.started_at, "attempt started_at")
        aware(self.ended_at, "attempt ended_at")
        try:
            json.dumps(self.trace)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"attempt trace is not JSON ({exc}): give a list of plain "
                             f"dicts of str, int, float, bool and None") from None


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A result mail still to deliver; ``taken_from``: the worker whose stale claim
    ``Store.outbox_claim`` took over (None when the mail was not claimed)."""

    message_id: str
    to_address: str
    raw: bytes
    detail_no: str | None
    request_seq: int | None
    created_at: datetime
    tries: int
    taken_from: str | None = None


@dataclass(frozen=True, slots=True)
class ExpiredImage:
    """A fax image past its 264 hours: ``Store.drop_image(detail_no)`` removes it."""

    detail_no: str
    path: Path
    expired_at: datetime
