"""Alembic scripts of the gateway's database (run by ``faxengine.gateway.store.migrate``)."""
