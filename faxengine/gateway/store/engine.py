"""The database connection, SQLite or PostgreSQL, set up so both behave alike.

* SQLite (``url`` ""): ``data_dir/gateway.sqlite3`` in WAL mode with
  ``synchronous=FULL`` (a commit is on the disk when it returns), foreign
  keys on.  pysqlite's own transaction handling is off and every transaction
  begins here: ``BEGIN IMMEDIATE`` (the one write lock taken at the start, so
  two transactions never both read, then both try to write, which WAL could
  only refuse; claims are one writer at a time even across processes), or
  ``BEGIN DEFERRED`` on connections with the ``READ_ONLY`` execution option
  (a snapshot; never makes a writer wait).  A busy database is waited for
  (``busy_timeout``, 30 s).
* PostgreSQL (``postgresql://`` or ``postgresql+psycopg://``): psycopg 3,
  READ COMMITTED, connections checked before use (a restarted server costs
  one reconnect, not an error).

``translated`` turns a database failure inside a ``Store`` method into
``StoreError``; ``need`` says plainly when an argument has the wrong type.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.store.records import StoreError

__all__ = ["make_engine", "translated", "need", "first_line", "READ_ONLY", "SQLITE_NAME",
           "BUSY_TIMEOUT_MS"]

SQLITE_NAME = "gateway.sqlite3"
BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "faxengine_read_only"      # execution option: a SQLite transaction that only reads


def translated(method):
    """A database failure inside ``method`` raises ``StoreError`` (the transaction
    was rolled back: nothing of it was done)."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except SQLAlchemyError as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            raise StoreError(f"database {where}: {first_line(exc)}; nothing of "
                             f"{method.__name__} was done") from exc
    return run


def need(value: Any, kind: type | tuple[type, ...], what: str) -> None:
    """``StoreError`` unless ``value`` is a ``kind`` (a caller's mistake, said plainly)."""
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise StoreError(f"{what} is {type(value).__name__}: give a {names}")


def make_engine(url: str, data_dir: Path) -> Engine:
    """The engine of ``url`` ("": SQLite under ``data_dir``), set up as the module says."""
    if not isinstance(url, str):
        raise GatewayConfigError(f"gateway database is {url!r}: give \"\" or a "
                                 f"postgresql:// URL")
    try:
        u = make_url(url or f"sqlite:///{data_dir.resolve() / SQLITE_NAME}")
    except ArgumentError:
        u = None
    if u is not None and u.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return create_engine(u.set(drivername="postgresql+psycopg"), pool_pre_ping=True,
                             connect_args={"connect_timeout": 10})
    if u is None or u.drivername not in ("sqlite", "sqlite+pysqlite") or not u.database:
        raise GatewayConfigError(f"gateway database is {url!r}: give \"\" (SQLite under "
                                 f"data_dir) or postgresql://user:password@host:port/dbname")
    engine = create_engine(u, connect_args={"check_same_thread": False,
                                            "timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _connect(dbapi, _record) -> None:
        dbapi.isolation_level = None        # the transactions are begun below, not by pysqlite
        cur = dbapi.cursor()
        for pragma in (f"busy_timeout={BUSY_TIMEOUT_MS}", "journal_mode=WAL",
                       "synchronous=FULL", "foreign_keys=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        read = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN DEFERRED" if read else "BEGIN IMMEDIATE")

    return engine


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]
