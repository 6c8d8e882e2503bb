"""Two processes claim jobs from one database at the same time: every job is
claimed, none twice (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN
IMMEDIATE and the busy timeout)."""
from __future__ import annotations

import subprocess
import sys

from sqlalchemy import func, select

from faxengine.gateway import jobs
from faxengine.gateway.store import AttemptRow, JobRow

JOBS = 200
CHILD = r"""
import sys, time
from datetime import datetime, timedelta, timezone
from faxengine.gateway.store import AttemptRecord, Store

store = Store.open(sys.argv[1], sys.argv[2])
worker = sys.argv[3]
print("ready", flush=True)
assert sys.stdin.readline() == "go\n"
now = datetime(2026, 12, 2, tzinfo=timezone.utc)
while (c := store.claim(now, worker)) is not None:
    print(c.detail_no, flush=True)
    time.sleep(0.002)                   # a call, very short
    job, _ = c.job.finish("OK", now, c.policy)
    store.finish(c.detail_no, job, AttemptRecord(now, now + timedelta(seconds=1), "OK"), None)
"""


def test_two_processes_never_claim_one_job(store, store_url, data_dir, submit, child_env):
    for r in range(JOBS // 50):         # 4 requests of 50 destinations
        submit(store, [f"031{r:01d}{i:06d}" for i in range(50)])
    children = [subprocess.Popen([sys.executable, "-c", CHILD, store_url, str(data_dir), name],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                 env=child_env) for name in ("host-a/1", "host-b/1")]
    try:
        for child in children:
            assert child.stdout.readline() == "ready\n"
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        claimed = [child.communicate(timeout=300)[0].split() for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [child.returncode for child in children] == [0, 0]
    a, b = claimed
    assert len(a) + len(b) == JOBS and not set(a) & set(b)
    assert a and b, f"one process took all {JOBS} jobs: nothing was contended"
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(JobRow)
                        .where(JobRow.status == jobs.DONE)) == JOBS
        assert s.scalar(select(func.count()).select_from(AttemptRow)) == JOBS
        workers = dict(s.execute(select(JobRow.detail_no, JobRow.claimed_by)).all())
    assert set(workers.values()) == {None}


def test_threads_of_one_process_never_claim_one_job(store, submit):
    """The service's line workers call claim from a thread pool (asyncio.to_thread)."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime, timezone

    submit(store, [f"0312{i:06d}" for i in range(40)])
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)

    def worker(name: str) -> list[str]:
        taken = []
        while (c := store.claim(now, name)) is not None:
            taken.append(c.detail_no)
        return taken

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(worker, [f"host/{i}" for i in range(4)]))
    every = [d for taken in results for d in taken]
    assert len(every) == len(set(every)) == 40


def test_claim_locks_as_each_database_wants(store, store_url, submit):
    """PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED (hosts never wait for each
    other's claims); SQLite: the claim's transaction is BEGIN IMMEDIATE."""
    from datetime import datetime, timezone

    from sqlalchemy import event

    submit(store, ["0921234567"])
    sent: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        assert store.claim(datetime(2026, 12, 2, tzinfo=timezone.utc), "w") is not None
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    select_job = next(s for s in sent if s.startswith("SELECT") and "FROM jobs" in s)
    if store_url:
        assert select_job.endswith("LIMIT %(param_1)s::INTEGER FOR UPDATE SKIP LOCKED")
    else:
        assert sent[0] == "BEGIN IMMEDIATE" and "FOR UPDATE" not in select_job
