"""What the pages may reuse while the database has not changed: ``DataVersion`` and ``Reuse``.

Issue 12's load target (200 history requests at once, median under 50 ms on
2 cores) leaves about 0.5 ms of CPU per request, and counting a user's
10 000 records alone costs several ms.  Identical history pages asked for
while nothing was written are therefore answered from memory:

* ``DataVersion``: a token that is equal at two moments only if no
  transaction changed the database in between, whoever made it (this
  process, the gateway's other tasks, another process).  SQLite: ``PRAGMA
  data_version`` on a connection of its own that never writes (SQLite's
  "pragma data_version": it changes whenever another connection has
  committed a change; a few microseconds, no lock).  PostgreSQL: the text of
  ``pg_current_snapshot()`` (xmin, xmax and the transactions in progress):
  equal snapshots see the same committed transactions, and a transaction
  that changes anything takes a transaction id, so moves xmax or leaves the
  in-progress list when it ends (PostgreSQL manual §9.27.5, "Transaction ID
  and Snapshot Information Functions").  Changes in other databases of the
  cluster change it too: a needless recomputation, never a stale page.
* ``Reuse``: values keyed by what was asked (an account, filters), each
  kept with the version it was computed at and a time until which it holds
  (``until``: a TIFF link disappears when its 264 hours end, without a
  write); the least recently used go first beyond ``size`` entries.  When
  many requests ask for the same missing value at once, one computes it and
  the others wait for it (one database query for 200 identical requests).

The version is read *before* the query it labels: a change committed in
between gives a newer answer under the older version, which the next
request, seeing the newer version, does not reuse.
"""
from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any

from sqlalchemy import text

from faxengine.gateway.store import StoreError

__all__ = ["DataVersion", "Reuse"]


class DataVersion:
    """The store's data version (see the module text); ``version()`` returns a token."""

    def __init__(self, engine) -> None:
        self.engine = engine
        # read without waiting on the database (SQLite); PostgreSQL's needs a round trip
        self.cheap = engine.dialect.name == "sqlite"
        self._lock = threading.Lock()
        self._sqlite: sqlite3.Connection | None = None
        if engine.dialect.name == "sqlite":
            # a connection of its own that never writes: every commit is "another connection's"
            self._sqlite = sqlite3.connect(engine.url.database, check_same_thread=False,
                                           isolation_level=None)

    def __call__(self) -> Hashable:
        if self._sqlite is not None:
            try:
                with self._lock:
                    return self._sqlite.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error as exc:
                raise StoreError(f"database {self.engine.url.database}: {exc}") from exc
        with self.engine.connect() as c:
            return c.execute(text("SELECT pg_current_snapshot()::text")).scalar()

    def close(self) -> None:
        if self._sqlite is not None:
            with self._lock:
                self._sqlite.close()


class Reuse:
    """Values computed from the database, reused while its version and their time hold."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Hashable, datetime, datetime, Any]] = \
            OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def peek(self, key: Hashable, version: Hashable, now: datetime) -> tuple[bool, Any]:
        """(True, the value of ``key``) if one is kept for ``version`` at ``now``, else
        (False, None); never waits."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version and entry[1] <= now < entry[2]:
                self._entries.move_to_end(key)
                self.hits += 1
                return True, entry[3]
        return False, None

    def put(self, key: Hashable, version: Hashable, now: datetime, until: datetime,
            value: Any) -> None:
        """Keep ``value`` for ``key`` at ``version`` from ``now`` until ``until``."""
        with self._lock:
            self._entries[key] = (version, now, until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get(self, key: Hashable, version: Hashable, now: datetime,
            compute: Callable[[], tuple[Any, datetime]]) -> Any:
        """The value of ``key`` at ``version``: kept, or ``compute()`` -> (value, until),
        kept for requests at ``version`` from ``now`` until ``until``."""
        found, value = self.peek(key, version, now)
        if found:
            return value
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:                  # the same value asked for at once: computed once
            found, value = self.peek(key, version, now)
            if found:
                return value
            try:
                value, until = compute()
                with self._lock:
                    self.misses += 1
                self.put(key, version, now, until, value)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return value
