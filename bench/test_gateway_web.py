"""The web admin under load: 200 concurrent history requests on 100 000 records.

Issue 12: on this 2-core machine, 200 history requests made at once against
a database of 100 000 destinations answer with a median under 50 ms and
none above 1 s.  The app runs in a real uvicorn on 127.0.0.1 in a process
of its own (as in the gateway: one process, the store's SQLite in WAL
mode), so the clients do not share its interpreter; 200 clients (httpx,
each its own connection, already logged in) ask for a page of /history at
the same moment, for ``rounds`` rounds; the latencies of every request are
kept.  Three kinds of request: a user's first page (their 10 000 records),
a user's filtered page (number and date range), the operator's first page
(all 100 000); and, for scale, one request at a time.  The figures are printed and written to
bench/results/gateway_web.txt; nothing here fails on a slow neighbour.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "gateway" / "web"))
httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
from gwweb_support import ACCOUNTS, PASSWORDS, T0, csrf_of  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
RECORDS = 100_000
ACCOUNTS_N = 10             # "sample" is one of them: 10 000 records each
CLIENTS = 200
# the web admin in a process of its own: argv[1] the data_dir; prints its port
SERVER = """
import asyncio, socket, sys
sys.path.insert(0, sys.argv[2])
from datetime import datetime, timezone
import uvicorn
from gwweb_support import DOMAIN, SECRET, T0, ZONE
from faxengine.gateway.store import Store
from faxengine.gateway.web import create_app

async def submit(raw, mail_from, rcpt_to):
    raise RuntimeError("nothing is sent here")

store = Store.open("", sys.argv[1])
app = create_app(store, secret_key=SECRET, timezone=ZONE, fax_domain=DOMAIN, submit=submit,
                 now=lambda: T0)
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                              backlog=1024, timeout_keep_alive=300)).run(sockets=[sock])
"""


def populate(store, n: int = RECORDS) -> None:
    """``n`` destinations, two per request, spread over the last 60 days, among
    ``ACCOUNTS_N`` accounts; in bulk (INSERT of many rows), not through accept."""
    from sqlalchemy import insert, select

    from faxengine.gateway.jobs import DONE, FAILED, detail_no
    from faxengine.gateway.store import models as m
    store.sync_accounts(ACCOUNTS + [{"name": f"bulk{i}", "password": "bulk-pass",
                                     "senders": [f"bulk{i}@example.jp"]}
                                    for i in range(ACCOUNTS_N - len(ACCOUNTS))])
    with store.session() as s:
        ids = s.scalars(select(m.Account.id).order_by(m.Account.id)).all()
        requests, jobs = [], []
        for seq in range(1, n // 2 + 1):
            when = T0 - timedelta(seconds=seq * 100)
            account = ids[seq % len(ids)]
            requests.append({"seq": seq, "received_at": when - timedelta(minutes=1),
                             "mail_from": f"a{account}@example.jp", "rcpt_to": [],
                             "spool_path": f"spool/{seq}.eml", "sender": f"a{account}@example.jp",
                             "subject": f"請求書 {seq}", "account_id": account,
                             "state": "expanded", "pages": 1 + seq % 5})
            for index in (1, 2):
                jobs.append({"detail_no": detail_no(seq, index), "request_seq": seq,
                             "index": index, "number": f"0{(seq * 7 + index) % 10**9:09d}",
                             "status": DONE if (seq + index) % 7 else FAILED,
                             "result_code": "OK" if (seq + index) % 7 else "BUSY",
                             "attempts": 1, "sent_at": when, "pages": 1 + seq % 5})
        for i in range(0, len(requests), 5000):
            s.execute(insert(m.RequestRow), requests[i:i + 5000])
        for i in range(0, len(jobs), 5000):
            s.execute(insert(m.JobRow), jobs[i:i + 5000])
        s.commit()


async def _round(clients: list, path: str) -> list[float]:
    async def one(c) -> float:
        t = time.perf_counter()
        r = await c.get(path)
        assert r.status_code == 200, r.status_code
        return time.perf_counter() - t
    return await asyncio.gather(*(one(c) for c in clients))


async def _load(url: str, name: str, paths: dict[str, str], rounds: int) -> dict[str, list[float]]:
    # log in once (one session cookie), then 200 connections share it
    async with httpx.AsyncClient(base_url=url) as c:
        page = await c.get("/login")
        await c.post("/login", data={"username": name, "password": PASSWORDS[name],
                                     "csrf": csrf_of(page.text)})
        cookies = c.cookies
    clients = [httpx.AsyncClient(base_url=url, cookies=cookies, timeout=30,
                                 limits=httpx.Limits(max_connections=1))
               for _ in range(CLIENTS)]
    try:
        await _round(clients, "/login")              # open the 200 connections
        out = {}
        # what one request costs when it has the server to itself
        first = next(iter(paths.values()))
        out["one at a time: " + first] = [t for _ in range(50)
                                          for t in await _round(clients[:1], first)]
        for label, path in paths.items():
            out[label] = [t for _ in range(rounds) for t in await _round(clients, path)]
        return out
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def _line(label: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return (f"{label:34s} n={len(ms):5d}  median {statistics.median(ms):7.1f} ms  "
            f"p90 {ms[int(len(ms) * 0.9)]:7.1f} ms  max {ms[-1]:7.1f} ms")


def test_history_under_200_concurrent_requests(tmp_path):
    from faxengine.gateway.store import Store

    store = Store.open("", tmp_path / "data")
    t = time.perf_counter()
    populate(store)
    made = time.perf_counter() - t

    store.close()
    here = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(here), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "data"),
                              str(here / "tests" / "gateway" / "web")],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        url = f"http://127.0.0.1:{int(child.stdout.readline())}"
        user = asyncio.run(_load(url, "sample", {
            "user, first page": "/history",
            "user, number + dates": "/history?number=0123&from=2026-11-01&to=2026-11-30",
            "user, page 2": "/history?page=2"}, rounds=3))
        operator = asyncio.run(_load(url, "admin", {"operator, first page (all)": "/history"},
                                     rounds=2))
    finally:
        child.terminate()
        child.wait(30)
    lines = [f"web admin: {CLIENTS} concurrent /history requests, {RECORDS} records "
             f"(SQLite, made in {made:.1f} s), uvicorn in a process of its own"]
    lines += [_line(label, times) for label, times in {**user, **operator}.items()]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gateway_web.txt").write_text(text)
