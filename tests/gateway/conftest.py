"""Fixtures of the gateway tests: a throwaway PostgreSQL cluster, stores on both databases.

``store_url`` is parametrised over ``sqlite`` ("" : SQLite under the test's
data_dir) and ``postgresql`` (a fresh database of a cluster this session made),
so a test that takes it (or ``store``) runs on both.  The cluster:

* ``initdb`` + ``pg_ctl start`` from ``/usr/lib/postgresql/<newest>/bin``, once per
  session; PostgreSQL refuses to run as root, so as root it runs as the system
  user ``faxpg`` (made with ``useradd --system`` if missing) through ``runuser``;
* data directory and Unix socket in a temporary directory that user owns,
  TCP on 127.0.0.1 at a free port, ``trust`` authentication (local tests only),
  fsync off (the tests kill clients, never the server);
* one template database migrated to head; ``new_database()`` is ``CREATE
  DATABASE ... TEMPLATE`` of it (0.2-1 s), ``store_url`` one shared database
  emptied before each test (``TRUNCATE``, a few ms);
* stopped with ``pg_ctl stop -m immediate`` and removed at the end of the session.

Without PostgreSQL binaries the ``postgresql`` cases skip, saying so.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PG_USER = "faxpg"           # the system user the cluster runs as when the tests run as root
DB_USER = "faxengine"       # the database superuser initdb makes
FAX_DOMAIN = "cl1.faximo.jp"
T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=timezone.utc)
TABLES = ("outbox", "attempts", "jobs", "requests", "api_tokens", "senders", "accounts")


def postgres_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb, or None."""
    dirs = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin") if Path(d, "initdb").exists()]
    dirs.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return dirs[-1] if dirs else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """A PostgreSQL cluster made, started and removed by the tests."""

    def __init__(self, bindir: Path, fsync: bool = False) -> None:
        self.bindir, self.fsync = bindir, fsync
        self.root = Path(tempfile.mkdtemp(prefix="faxpg-"))
        self.port = free_port()
        self._names = itertools.count(1)
        self._shared: str | None = None
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(PG_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                                "/usr/sbin/nologin", PG_USER], check=True, capture_output=True)
            shutil.chown(self.root, PG_USER, PG_USER)
            self._as = ["runuser", "-u", PG_USER, "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run(self._as + [str(self.bindir / args[0]), *args[1:]],
                              capture_output=True, text=True, timeout=120)
        if done.returncode:
            log = self.root / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}"
                               f"\n{tail}")

    def start(self) -> None:
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-U", DB_USER, "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")
        opts = (f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=200"
                + ("" if self.fsync else " -c fsync=off -c synchronous_commit=off"
                                         " -c full_page_writes=off"))
        self._run("pg_ctl", "-D", str(data), "-l", str(self.root / "log"), "-w", "-t", "60",
                  "-o", opts, "start")
        self.admin("CREATE DATABASE faxtemplate")
        from faxengine.gateway.store import Store

        with tempfile.TemporaryDirectory() as tmp:
            Store.open(self.url("faxtemplate"), tmp).close()

    def url(self, database: str) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=DB_USER,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self, migrated: bool = True) -> str:
        """The URL of a new database: with the gateway's tables (no rows), or
        (``migrated=False``) with no tables at all."""
        name = f"fax{os.getpid()}_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {'faxtemplate' if migrated else 'template0'}")
        return self.url(name)

    def emptied_database(self) -> str:
        """The URL of this session's shared test database, emptied (every table
        truncated, sequences from 1): faster than a new database per test.  A
        new one when a test left locks on it."""
        import psycopg

        if self._shared is None:
            self._shared = self.new_database()
        try:
            with psycopg.connect(self._shared, autocommit=True) as conn:
                conn.execute("SET lock_timeout = '5s'")
                conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        except psycopg.errors.LockNotAvailable:
            self._shared = self.new_database()
        return self._shared

    def stop(self) -> None:
        try:
            if (self.root / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w",
                          "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A running PostgreSQL cluster for this session (skips without PostgreSQL)."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
                    "apt-get install postgresql")
    cluster = PgCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request) -> str:
    """The database URL of a store: "" (SQLite under data_dir) or an empty PostgreSQL
    database (the session's, truncated)."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("pg_cluster").emptied_database()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(store_url: str, data_dir: Path):
    """An open ``Store`` on each database, closed at the end of the test."""
    from faxengine.gateway.store import Store

    s = Store.open(store_url, data_dir)
    try:
        yield s
    finally:
        s.close()


def request_mail(numbers: Sequence[str], *, sender: str = "sample@edicworks.com",
                 subject: str = "FAX送信サンプル", body: str = "本文です。") -> bytes:
    """A request as a mail program writes it: To the numbers at the fax domain."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(f"{n}@{FAX_DOMAIN}" for n in numbers)
    msg["Subject"] = subject
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def submit() -> Callable[..., int]:
    """``submit(store, numbers, now=T0, pages=1, image=None)``: accept a request for
    ``numbers`` and expand it as the service does; returns the request seq."""
    from faxengine.gateway import results
    from faxengine.gateway.mail import parse_request

    settings = results.ResultSettings()

    def run(store, numbers: Sequence[str], now: datetime = T0, pages: int = 1,
            image: str | None = None, sender: str = "sample@edicworks.com") -> int:
        raw = request_mail(numbers, sender=sender)
        rcpt = [f"{n}@{FAX_DOMAIN}" for n in numbers]
        seq = store.accept(raw, sender, rcpt, now)
        req = parse_request(raw, FAX_DOMAIN, mail_from=sender, rcpt_to=rcpt)
        req = req.with_page_counts([pages] * len(req.documents))
        jobs = req.jobs(seq, now)
        mails = results.refusal_mails(settings, req, request_seq=seq, date=now) \
            if req.refusal else \
            [results.result_mail(settings, to=req.sender, number=j.number, status=j.status,
                                 sent_at=now, pages=req.pages, subject=req.subject, date=now,
                                 message_id=results.message_id(j.detail_no, settings))
             for j in jobs if j.final]
        assert store.expand(seq, req, jobs, image, mails)
        return seq

    return run


@pytest.fixture
def sync_sample():
    """``sync_sample(store, **fields)``: the demo account ``sample`` (sender
    sample@edicworks.com, password ``change-me``) with ``fields`` over it."""
    def run(store, **fields) -> None:
        store.sync_accounts([{"name": "sample", "password": "change-me",
                              "senders": ["sample@edicworks.com"], **fields}])
    return run


@pytest.fixture
def child_env() -> dict[str, str]:
    """The environment for a child Python that imports this worktree's faxengine."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env
