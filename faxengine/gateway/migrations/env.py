"""Alembic's entry point: always online, on the connection the store hands in
(``faxengine.gateway.store.migrate.config``), never from a URL of its own."""
from __future__ import annotations

from alembic import context

from faxengine.gateway.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the gateway's migrations through faxengine.gateway.store.migrate "
                       "(Store.open does it), not the alembic command")
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
