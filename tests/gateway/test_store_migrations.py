"""The Alembic migrations and the ORM models agree: a database migrated to head
has exactly the tables, columns, types, indexes and unique keys of
``faxengine.gateway.store.models`` (autogenerate finds nothing to do)."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, text

import faxengine.gateway.migrations as migrations
from faxengine.gateway.store import Base, Store, StoreError
from faxengine.gateway.store.engine import make_engine
from faxengine.gateway.store.migrate import config, current, head

HEAD = "0002_outbox_claim"


def _diff(store, metadata):
    with store.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                metadata)


def test_the_models_and_the_migrations_agree(store):
    assert _diff(store, Base.metadata) == []
    with store.engine.connect() as conn:
        assert current(conn) == head() == HEAD


def test_the_comparison_sees_a_model_the_migrations_lack(store):
    drifted = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["jobs"].append_column(Column("fax_header", String(80)))
    drifted.tables["accounts"].c.retries.type = String(3)
    kinds = sorted(d[0] if isinstance(d, tuple) else d[0][0] for d in _diff(store, drifted))
    assert kinds == ["add_column", "modify_type"]


def test_opening_again_leaves_a_database_at_head_alone(store_url, data_dir):
    with Store.open(store_url, data_dir) as first:
        first.accept(b"kept", "a@b", [], datetime.now(timezone.utc))
    with Store.open(store_url, data_dir) as again:
        assert [r.read() for r in again.unexpanded()] == [b"kept"]
        with again.engine.connect() as conn:
            assert current(conn) == HEAD


def test_the_migrations_are_shipped_inside_the_package():
    root = Path(migrations.__file__).parent
    assert (root / "env.py").exists() and (root / "versions" / "0001_initial.py").exists()
    assert not list(root.parents[2].glob("alembic.ini"))


OPEN = r"""
import sys
from faxengine.gateway.store import Store
assert sys.stdin.readline() == "go\n"
Store.open(sys.argv[1], sys.argv[2]).close()
print("opened", flush=True)
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_hosts_opening_a_new_database_at_once_migrate_it_once(backend, request, tmp_path,
                                                                   child_env):
    url = "" if backend == "sqlite" else \
        request.getfixturevalue("pg_cluster").new_database(migrated=False)
    children = [subprocess.Popen([sys.executable, "-c", OPEN, url, str(tmp_path / "data")],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                 env=child_env) for _ in range(2)]
    try:
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        assert [child.communicate(timeout=120)[0] for child in children] == ["opened\n"] * 2
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    with Store.open(url, tmp_path / "data") as store:
        assert _diff(store, Base.metadata) == []
        with store.engine.connect() as conn:
            assert current(conn) == HEAD


def test_a_database_of_a_newer_faxengine_is_refused(store_url, data_dir):
    with Store.open(store_url, data_dir) as store, store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    try:
        with pytest.raises(StoreError, match=r"^the database is at revision 0099, which this "
                                             r"faxengine does not know \(its newest is 0002_outbox_claim\): "
                                             r"it was made by a newer faxengine; run that one, "
                                             r"or upgrade this one$"):
            Store.open(store_url, data_dir)
    finally:                # the shared test database: back to this revision
        engine = make_engine(store_url, data_dir)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{HEAD}'")
        engine.dispose()


def _columns(engine, table: str) -> list[str]:
    from sqlalchemy import inspect

    return [c["name"] for c in inspect(engine).get_columns(table)]


@pytest.fixture
def blank_url(request, tmp_path):
    """A database with no tables: SQLite under tmp_path, or a new PostgreSQL one."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("pg_cluster").new_database(migrated=False)


@pytest.mark.parametrize("blank_url", ["sqlite", "postgresql"], indirect=True)
def test_0002_upgrades_a_0001_database_with_rows_and_downgrades_again(blank_url, tmp_path):
    """A database made by 0001, with a result mail waiting in its outbox: 0002 adds
    the claim columns, the waiting mail comes through unclaimed and is claimed
    as any other; the downgrade drops the columns and keeps the rows."""
    from alembic import command

    data = tmp_path / "data"
    data.mkdir()
    engine = make_engine(blank_url, data)
    try:
        with engine.begin() as conn:
            command.upgrade(config(conn), "0001")
            at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
            conn.execute(text(
                "INSERT INTO outbox (message_id, to_address, raw, created_at, tries, last_error)"
                " VALUES ('<0000000007001.result@cl1.faximo.jp>', 'sample@edicworks.com', "
                ":raw, :at, 0, '')"),
                {"raw": b"x", "at": at.replace(tzinfo=None) if blank_url == "" else at})
        assert "claimed_by" not in _columns(engine, "outbox")
        with Store.open(blank_url, data) as store:          # migrates to head
            with store.engine.connect() as conn:
                assert current(conn) == HEAD
            assert _diff(store, Base.metadata) == []
            now = datetime(2026, 12, 1, 9, 1, tzinfo=timezone.utc)
            mail = store.outbox_claim(now, "host-a:1/outbox")
            assert (mail.message_id, bytes(mail.raw), mail.taken_from) == \
                ("<0000000007001.result@cl1.faximo.jp>", b"x", None)
            assert store.outbox_claim(now, "host-b:2/outbox") is None
        with engine.begin() as conn:
            command.downgrade(config(conn), "0001")
            assert current(conn) == "0001"
            assert conn.exec_driver_sql("SELECT message_id, tries FROM outbox").all() == \
                [("<0000000007001.result@cl1.faximo.jp>", 0)]
        assert [c for c in _columns(engine, "outbox") if c.startswith("claimed")] == []
        with engine.begin() as conn:
            command.upgrade(config(conn), "head")
            assert conn.exec_driver_sql("SELECT claimed_by, claimed_at FROM outbox").all() == \
                [(None, None)]
    finally:
        engine.dispose()
