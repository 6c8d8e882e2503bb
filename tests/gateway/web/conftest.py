"""Fixtures of the web admin's tests: a real Store on SQLite, the app on a real uvicorn.

``web`` serves the app on 127.0.0.1 (a port the system chooses) in a
thread and stops it when the test ends; ``clock`` is the app's clock, which
tests move.  The helpers (``send``, the accounts, the traces) are in
``gwweb_support``.
"""
from __future__ import annotations

import asyncio

import pytest
from gwweb_support import ACCOUNTS, DOMAIN, SECRET, ZONE, Clock, Web, serve, stop, store_module

from faxengine.gateway.web import create_app


@pytest.fixture(scope="session", autouse=True)
def cheap_argon2():
    """Argon2id at its lowest cost (1 pass, 1 MiB) while these tests run: still the
    real hash and the real checks, but a login costs milliseconds instead of
    0.1-0.5 s on this shared machine.  The store's cost is its own business
    (tests/gateway/test_store*.py)."""
    from argon2 import PasswordHasher

    from faxengine.gateway.store import accounts
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                       parallelism=1))
        mp.setattr(accounts, "_dummy", [])
        yield


@pytest.fixture
def store(request, tmp_path):
    """A Store with the test accounts: SQLite, or PostgreSQL where a test asks for it
    (``@POSTGRES_TOO``: the cluster of tests/gateway/conftest.py)."""
    url = "" if getattr(request, "param", "sqlite") == "sqlite" else \
        request.getfixturevalue("pg_cluster").new_database()
    s = store_module.Store.open(url, tmp_path / "data")
    s.sync_accounts(ACCOUNTS)
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web(store, clock):
    submitted: list = []

    async def submit(raw: bytes, mail_from: str, rcpt_to: list[str]) -> int:
        seq = await asyncio.to_thread(store.accept, raw, mail_from, rcpt_to, clock())
        submitted.append((seq, raw, mail_from, rcpt_to))
        return seq

    app = create_app(store, secret_key=SECRET, timezone=ZONE, fax_domain=DOMAIN,
                     submit=submit, now=clock)
    server, thread, url = serve(app)
    try:
        yield Web(url, clock, store, submitted)
    finally:
        stop(server, thread)
