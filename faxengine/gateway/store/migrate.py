"""Alembic, run from the package: no ``alembic.ini``, the scripts in
``faxengine/gateway/migrations`` (shipped with the package).

``upgrade(engine)`` brings a database to head inside one transaction, under
a lock (``pg_advisory_xact_lock`` on PostgreSQL; SQLite's ``BEGIN
IMMEDIATE``), so two gateways opening one database at once migrate it once.
A developer who changes ``models.py`` writes the next revision with
``python -m faxengine.gateway.store.migrate revision -m "what changed" URL``
(autogenerate against a database at head).
"""
from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from faxengine.gateway.store.records import StoreError

__all__ = ["MIGRATIONS", "config", "upgrade", "current", "head"]

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_LOCK = 0x46415845       # "FAXE"


def config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the package's scripts (on ``connection``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> None:
    """Migrate the database of ``engine`` to head (nothing to do when it is there)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK})")
        at = current(conn)
        if at == head():
            return
        scripts = ScriptDirectory.from_config(config())
        if at is not None and at not in {r.revision for r in scripts.walk_revisions()}:
            raise StoreError(f"the database is at revision {at}, which this faxengine does "
                             f"not know (its newest is {head()}): it was made by a newer "
                             f"faxengine; run that one, or upgrade this one")
        command.upgrade(config(conn), "head")


def current(conn: Connection) -> str | None:
    """The revision the database is at (None: empty)."""
    return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    """The newest revision of the scripts."""
    return ScriptDirectory.from_config(config()).get_current_head()


def _main(argv: list[str]) -> int:       # python -m faxengine.gateway.store.migrate ...
    if len(argv) != 4 or argv[0] != "revision" or argv[1] != "-m":
        print("usage: python -m faxengine.gateway.store.migrate revision -m MESSAGE URL",
              file=sys.stderr)
        return 2
    from sqlalchemy import create_engine

    engine = create_engine(argv[3])
    with engine.begin() as conn:
        command.revision(config(conn), message=argv[2], autogenerate=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
