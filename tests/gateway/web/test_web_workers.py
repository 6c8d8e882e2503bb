"""``[web] workers``: the web admin served by child processes (``web.workers``).

The gateway started with ``workers = 2`` serves HTTP from two children on one
port (``SO_REUSEPORT``) and runs its scheduler once; what the processes share
goes through the database and the login-count file: a write, a disabled
account and the login limit are seen by whichever process answers.  Each
test spreads its requests over many fresh connections (the kernel hashes a
connection's addresses to pick the process), so both children answer some.
"""
from __future__ import annotations

import base64
import json
import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import itsdangerous
import pytest
from gateway_harness import PASSWORD, InProcessGateway, mails_of, wait_for, write_config
from gwweb_support import csrf_of
from sqlalchemy import update

from faxengine.gateway.config import load_config
from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.web.security import RememberingSigner, SharedLoginLimiter

CONNECTIONS = 24


@pytest.fixture
def gw(tmp_path):
    path = write_config(tmp_path, retries=0)
    path.write_text(path.read_text(encoding="utf-8").replace(
        '[web]\nlisten = ""', '[web]\nlisten = "127.0.0.1:0"\nworkers = 2'), encoding="utf-8")
    gateway = InProcessGateway(path).start()
    yield gateway
    gateway.stop()
    assert _workers() == [], "a web worker outlived the gateway"


def _workers() -> list[int]:
    """The pids of this process's children that are web workers."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:       # a thread that ended after the listing
            continue
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"faxengine.gateway.web.workers" in cmdline:
                pids.append(int(pid))
    return sorted(pids)


def _sockets(pid: int) -> int:
    return sum(1 for fd in Path(f"/proc/{pid}/fd").iterdir()
               if os.readlink(fd).startswith("socket:"))


def _fresh(base: str, **kwargs) -> httpx.Client:
    """A client that opens a new connection for every request (``Connection: close``)."""
    return httpx.Client(base_url=base, headers={"Connection": "close"}, timeout=60, **kwargs)


def _login(c: httpx.Client, user: str = "sample", password: str = PASSWORD) -> httpx.Response:
    return c.post("/login", data={"username": user, "password": password,
                                  "csrf": csrf_of(c.get("/login").text)})


def test_two_children_serve_the_port_and_the_scheduler_runs_once(gw):
    base = f"http://127.0.0.1:{gw.gateway.ports['web']}"
    children = _workers()
    assert len(children) == 2
    before = {pid: _sockets(pid) for pid in children}
    # connections kept open: each child holds those the kernel gave it
    held = [socket.create_connection(("127.0.0.1", gw.gateway.ports["web"]))
            for _ in range(CONNECTIONS)]
    try:
        for s in held:
            s.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(12) == b"HTTP/1.1 200"
        assert all(_sockets(pid) > before[pid] for pid in children), \
            "one child accepted none of the connections"
    finally:
        for s in held:
            s.close()
    # faxes posted through either child are sent once each, by the gateway's lines
    detail_nos = []
    with _fresh(base, auth=("sample", PASSWORD)) as api:
        for i in range(3):
            r = api.post("/api/faxes", data={"to": "0921234567", "subject": f"並列{i}"},
                         files={"files": ("a.txt", f"{i}通目の本文".encode(), "text/plain")})
            assert r.status_code == 202, r.text
            detail_nos += r.json()["detail_nos"]
        wait_for(lambda: len(mails_of(gw)) == 3, "the three result mails")
        for detail_no in detail_nos:
            record = api.get(f"/api/faxes/{detail_no}").json()
            assert (record["status"], record["attempts"]) == ("送信完了", 1)


def test_a_disabled_account_is_refused_by_every_process_at_once(gw):
    from faxengine.gateway.store.models import Account

    base = f"http://127.0.0.1:{gw.gateway.ports['web']}"
    with _fresh(base) as c:
        assert _login(c).status_code == 303
        for _ in range(CONNECTIONS):        # both processes keep the page and the account
            assert c.get("/history").status_code == 200
        with gw.store.session.begin() as s:
            s.execute(update(Account).where(Account.name == "sample").values(disabled=True))
        for _ in range(CONNECTIONS):
            r = c.get("/history")
            assert (r.status_code, r.headers.get("location")) == (303, "/login?next=/history")


def test_the_login_limit_counts_failures_in_every_process_together(gw):
    base = f"http://127.0.0.1:{gw.gateway.ports['web']}"
    with _fresh(base) as c:
        for _ in range(5):
            assert _login(c, password="wrong").status_code == 401
        for _ in range(CONNECTIONS):
            r = _login(c)                   # the right password: still too many failures
            assert r.status_code == 429 and int(r.headers["retry-after"]) > 800


def test_workers_is_a_whole_number_from_1_to_16(tmp_path):
    path = tmp_path / "gw.toml"
    path.write_text("[web]\nworkers = 2\n")
    assert load_config(path).web.workers == 2
    path.write_text("[web]\n")
    assert load_config(path).web.workers == 1
    for value, why in (("0", "0 is outside 1..16 (the processes serving the web admin; one "
                             "per core is enough)"),
                       ('"2"', '"2" is not a whole number')):
        path.write_text(f"[web]\nworkers = {value}\n")
        with pytest.raises(GatewayConfigError) as e:
            load_config(path)
        assert str(e.value).endswith(f"[web] workers: {why}"), str(e.value)


def test_the_shared_login_limit_is_one_count_for_every_opener(tmp_path):
    t0 = datetime(2026, 12, 6, tzinfo=timezone.utc)
    one, two = SharedLoginLimiter(tmp_path / "l.db"), SharedLoginLimiter(tmp_path / "l.db")
    for i in range(4):
        (one if i % 2 else two).failed(["ip:1", "user:a"], t0 + timedelta(minutes=i))
    assert one.retry_after(["user:a"], t0 + timedelta(minutes=4)) == 0
    two.failed(["ip:1", "user:a"], t0 + timedelta(minutes=4))
    # five failures: closed until 15 minutes after the first of them, for both
    assert one.retry_after(["user:a"], t0 + timedelta(minutes=5)) == 600
    assert two.retry_after(["ip:1", "user:b"], t0 + timedelta(minutes=5)) == 600
    assert two.retry_after(["user:a"], t0 + timedelta(minutes=14)) == 60
    assert one.retry_after(["user:a"], t0 + timedelta(minutes=15)) == 0
    two.failed(["user:a"], t0 + timedelta(minutes=17))
    one.succeeded(["user:a"])
    assert two.retry_after(["user:a"], t0 + timedelta(minutes=5)) == 0


def test_the_shared_login_limit_stays_bounded_whatever_is_sent(tmp_path):
    limiter = SharedLoginLimiter(tmp_path / "l.db", max_keys=10)
    t0 = datetime(2026, 12, 6, tzinfo=timezone.utc)
    for i in range(200):
        limiter.failed([f"user:{i}"], t0)
    (rows,) = limiter._db.execute("SELECT count(*) FROM login_failures").fetchone()
    assert rows == 10 * 5


class _Clock(itsdangerous.TimestampSigner):
    now = 1_800_000_000

    def get_timestamp(self) -> int:
        return self.now


def test_a_prepared_login_file_opens_while_another_process_writes_it(tmp_path):
    """Two workers starting at once each switched the file to WAL, which needs it
    alone: one got "database is locked" and the gateway did not start (a fresh-clone
    run).  The gateway prepares the file first; a worker then opens it while another
    holds its write lock, without waiting."""
    import sqlite3
    import time
    path = tmp_path / "logins.db"
    SharedLoginLimiter.prepare(path)
    SharedLoginLimiter.prepare(path)                    # again: nothing to do
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")                   # another worker counting a failure
    try:
        start = time.monotonic()
        limiter = SharedLoginLimiter(path)
        assert time.monotonic() - start < 5.0
        assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    t0 = datetime(2026, 12, 6, tzinfo=timezone.utc)
    limiter.failed(["k"], t0)                           # and counts once the writer is done
    assert limiter.retry_after(["k"], t0) == 0


def test_a_remembered_cookie_still_ends_at_its_age_and_a_forged_one_never_passes():
    plain = _Clock("test-secret-key-0123456789abcdef")
    signer = RememberingSigner(plain)
    cookie = plain.sign(base64.b64encode(json.dumps({"uid": 1}).encode()))
    assert json.loads(base64.b64decode(signer.unsign(cookie, max_age=3600))) == {"uid": 1}
    _Clock.now += 3600
    assert signer.unsign(cookie, max_age=3600)             # remembered, and young enough
    _Clock.now += 1
    with pytest.raises(itsdangerous.SignatureExpired):
        signer.unsign(cookie, max_age=3600)
    i = len(cookie) - 10        # inside the signature (its last character has unused bits)
    forged = cookie[:i] + (b"A" if cookie[i:i + 1] != b"A" else b"B") + cookie[i + 1:]
    with pytest.raises(itsdangerous.BadSignature):
        signer.unsign(forged, max_age=3600)
    _Clock.now = 1_800_000_000


def test_a_worker_that_cannot_start_is_an_error_that_names_the_way_out(tmp_path):
    import asyncio

    from faxengine.gateway.errors import GatewayError
    from faxengine.gateway.web.workers import WebWorkers, listen_sockets

    socks = listen_sockets("127.0.0.1", 0, 2)
    workers = WebWorkers(socks, {"database": "", "logins": str(tmp_path / "logins.db")},
                         accepted=lambda seq: None)          # settings lacking the rest
    with pytest.raises(GatewayError) as e:
        asyncio.run(workers.start())
    # its exit status and its own words (it said nothing on stdout: the error named
    # neither in the fresh-clone run where a child died at start-up)
    assert str(e.value) == (
        "web worker 1 exited with status 2 before it served: faxengine web worker: started "
        "wrongly (the settings line lacks data_dir, fax_domain, max_upload, secret_key, "
        "timezone); the gateway starts it for [web] workers > 1; set [web] workers = 1 to "
        "serve from one process")
    assert all(p.returncode == 2 for p in workers.processes)
    assert all(s.fileno() == -1 for s in socks)


def _start(workers):
    import asyncio

    async def go():
        try:
            await workers.start()
            return [p.pid for p in workers.processes]
        finally:
            await workers.stop()
    return asyncio.run(go())


def _children(tmp_path, command, count=1):
    from faxengine.gateway.web.workers import LOGINS_FILE, WebWorkers, listen_sockets

    (tmp_path / "data").mkdir(exist_ok=True)
    workers = WebWorkers(listen_sockets("127.0.0.1", 0, count), {
        "database": "", "data_dir": str(tmp_path / "data"), "secret_key": "k" * 32,
        "timezone": "Asia/Tokyo", "fax_domain": "fax.example", "max_upload": 1 << 20,
        "logins": str(tmp_path / "data" / LOGINS_FILE)}, accepted=lambda seq: None)
    workers.command = command
    return workers


def test_a_worker_killed_at_start_up_is_named_with_its_signal(tmp_path):
    import signal
    import sys

    from faxengine.gateway.errors import GatewayError

    workers = _children(tmp_path, (sys.executable, "-c",
                                  "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    with pytest.raises(GatewayError) as e:
        _start(workers)
    assert str(e.value) == ("web worker 1 was killed by signal 9 before it served (it wrote "
                            "nothing on stderr); set [web] workers = 1 to serve from one process")
    assert workers.processes[0].returncode == -signal.SIGKILL


# a child that starts slowly but works meanwhile: it burns CPU for 3 s of wall time
# (an import on a loaded machine), then is the real worker
SLOW_BUT_BUSY = """
import runpy, sys, time
until = time.monotonic() + 3.0
while time.monotonic() < until:
    pass
sys.argv = ["faxengine.gateway.web.workers", sys.argv[1]]
runpy.run_module("faxengine.gateway.web.workers", run_name="__main__")
"""


def test_a_worker_slow_to_start_is_waited_for_while_it_works(tmp_path, monkeypatch):
    import sys

    from faxengine.gateway.web import workers as module

    monkeypatch.setattr(module, "START_STALL_S", 1.0)   # 3 s of start-up: three times it
    workers = _children(tmp_path, (sys.executable, "-c", SLOW_BUT_BUSY))
    assert len(_start(workers)) == 1
    assert workers.processes[0].returncode == 0         # it served, and stopped when told


def test_a_worker_stuck_at_start_up_is_stopped_and_named(tmp_path, monkeypatch):
    import sys

    from faxengine.gateway.errors import GatewayError
    from faxengine.gateway.web import workers as module

    monkeypatch.setattr(module, "START_STALL_S", 1.0)
    workers = _children(tmp_path, (sys.executable, "-c", "import time; time.sleep(60)"))
    with pytest.raises(GatewayError) as e:
        _start(workers)
    assert str(e.value) == ("web worker 1 did not start: it used no CPU for 1 s and was "
                            "stopped (it wrote nothing on stderr); set [web] workers = 1 to "
                            "serve from one process")
    assert workers.processes[0].returncode == -9


def test_a_worker_that_writes_a_huge_line_on_stderr_and_dies_is_still_named(tmp_path):
    import sys

    from faxengine.gateway.errors import GatewayError

    workers = _children(tmp_path, (sys.executable, "-c", (
        "import sys; sys.stderr.write('e' * 300000 + '\\nlast words\\n'); sys.exit(3)")))
    with pytest.raises(GatewayError) as e:
        _start(workers)
    assert str(e.value) == ("web worker 1 exited with status 3 before it served: "
                            + "e" * 300 + " / last words; set [web] workers = 1 to serve "
                            "from one process")
