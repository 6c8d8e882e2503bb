"""Durable accepts per second of the gateway store (SQLite and PostgreSQL), beside the bare minimum.

``Store.accept`` of a 4 kB request: the spool file written, fsynced, renamed,
its directory fsynced, the row committed (SQLite WAL ``synchronous=FULL``;
PostgreSQL with fsync on, as in production).  The reference ("bare") does the
same durable work with no ORM: the same file steps, then one INSERT and a
COMMIT through the plain driver (sqlite3, psycopg).  The ratio is what the
store's layers cost; the absolute rate is bounded by the disk's fsyncs.
One thread, one process: the SMTP intake calls accept from a thread pool,
and on PostgreSQL several accepts proceed at once.

    python -m pytest -q -s bench/test_gateway_store.py
"""
from __future__ import annotations

import importlib.util
import os
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from faxengine.gateway.store import Store
from faxengine.gateway.store.files import write_durably

BENCH_DIR = Path(__file__).resolve().parent
N, ROUNDS = 100, 5
RAW = (b"From: sample@edicworks.com\r\nTo: 0921234567@cl1.faximo.jp\r\n"
       b"Subject: bench\r\n\r\n" + b"x" * 4000 + b"\r\n")
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _gateway_conftest():
    path = BENCH_DIR.parent / "tests" / "gateway" / "conftest.py"
    spec = importlib.util.spec_from_file_location("gateway_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _best(run) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    return best


def _ours(store: Store) -> float:
    return _best(lambda: [store.accept(RAW, "sample@edicworks.com",
                                       ["0921234567@cl1.faximo.jp"], NOW) for _ in range(N)])


@pytest.fixture(scope="module")
def pg():
    conftest = _gateway_conftest()
    bindir = conftest.postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    cluster = conftest.PgCluster(bindir, fsync=True)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def test_accepts_per_second_sqlite(tmp_path, speed):
    with Store.open("", tmp_path / "ours") as store:
        seconds = _ours(store)
    speed.record(group="accept sqlite", contender="ours", items=N, seconds=seconds,
                 unit="accepts/s")

    bare = tmp_path / "bare"
    (bare / "spool").mkdir(parents=True)
    db = sqlite3.connect(bare / "gateway.sqlite3", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("CREATE TABLE requests (seq INTEGER PRIMARY KEY, received_at TEXT, "
               "mail_from TEXT, spool_path TEXT)")

    def one() -> None:
        db.execute("BEGIN IMMEDIATE")
        seq = db.execute("INSERT INTO requests (received_at, mail_from, spool_path) "
                         "VALUES ('2026-12-01', 's', '')").lastrowid
        write_durably(bare / "spool" / f"{seq}.eml", RAW)
        db.execute("UPDATE requests SET spool_path = ? WHERE seq = ?", (f"spool/{seq}.eml", seq))
        db.execute("COMMIT")

    speed.record(group="accept sqlite", contender="bare sqlite3", items=N,
                 seconds=_best(lambda: [one() for _ in range(N)]), unit="accepts/s")
    db.close()


def test_accepts_per_second_postgresql(pg, tmp_path, speed):
    import psycopg

    url = pg.new_database()
    with Store.open(url, tmp_path / "ours") as store:
        seconds = _ours(store)
    speed.record(group="accept postgres", contender="ours", items=N, seconds=seconds,
                 unit="accepts/s")

    spool = tmp_path / "bare" / "spool"
    spool.mkdir(parents=True)
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE bare (seq bigserial PRIMARY KEY, received_at timestamptz, "
                      "mail_from text, spool_path text)")
        conn.commit()

        def one() -> None:
            seq = conn.execute("INSERT INTO bare (received_at, mail_from, spool_path) "
                               "VALUES (now(), 's', '') RETURNING seq").fetchone()[0]
            write_durably(spool / f"{seq}.eml", RAW)
            conn.execute("UPDATE bare SET spool_path = %s WHERE seq = %s",
                         (f"spool/{seq}.eml", seq))
            conn.commit()

        speed.record(group="accept postgres", contender="bare psycopg", items=N,
                     seconds=_best(lambda: [one() for _ in range(N)]), unit="accepts/s")
    assert os.listdir(spool)
