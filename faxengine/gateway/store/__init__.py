"""faxengine.gateway.store: the gateway's database (SQLAlchemy 2) and spool.

``Store.open(url, data_dir)`` opens SQLite (WAL) under ``data_dir`` or a
PostgreSQL database shared by several gateway hosts, and migrates it to head
(Alembic, scripts in ``faxengine/gateway/migrations``).  docs/gateway.md,
"Storage", describes the tables and the durability the store guarantees.

* ``core``: ``Store`` (accept, expand, claim, finish, requeue, outbox, images, spool).
* ``engine``: SQLite and PostgreSQL made to behave alike; database errors as ``StoreError``.
* ``models``: the ORM classes (the web admin reads them through ``Store.session``).
* ``records``: the plain records the store hands out and takes in.
* ``accounts``: Argon2 passwords, API tokens, ``[[accounts]]`` entries, and the
  account methods of ``Store``.
* ``files``: durable files (write, fsync, rename, fsync the directory).
* ``migrate``: Alembic without ``alembic.ini``.
"""
from __future__ import annotations

from faxengine.gateway.store.accounts import hash_password, verify_password
from faxengine.gateway.store.core import IMAGE_LIFETIME, OUTBOX_CLAIM_TIMEOUT, Store
from faxengine.gateway.store.models import (ACCEPTED, EXPANDED, Account, ApiToken, AttemptRow,
                                            Base, JobRow, OutboxRow, RequestRow, Sender)
from faxengine.gateway.store.records import (AttemptRecord, ClaimedJob, ExpiredImage,
                                             OutboxRecord, RequestRecord, StoreError)

__all__ = ["Store", "StoreError", "IMAGE_LIFETIME", "OUTBOX_CLAIM_TIMEOUT", "RequestRecord",
           "ClaimedJob", "AttemptRecord", "OutboxRecord", "ExpiredImage", "Base", "Account",
           "Sender", "ApiToken", "RequestRow", "JobRow", "AttemptRow", "OutboxRow", "ACCEPTED",
           "EXPANDED", "hash_password", "verify_password"]
