"""Durability of accept: a process accepting mails in a loop is killed (SIGKILL,
then Ctrl-C: SIGINT) at a random moment; every request it saw accepted is in the
database with its spool file, byte for byte, and no row points at a missing or
partial file."""
from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

from faxengine.gateway.store import RequestRow, Store

CHILD = r"""
import sys
from datetime import datetime, timezone
from faxengine.gateway.store import Store

def mail(i):
    return b"Subject: %d\r\n\r\n" % i + (b"%d " % i) * (i % 40 * 997)

store = Store.open(sys.argv[1], sys.argv[2])
print("ready", flush=True)
i = int(sys.argv[3])
while True:
    seq = store.accept(mail(i), f"s{i}@x.jp", [f"{i}@cl1.faximo.jp"], datetime.now(timezone.utc))
    print(i, seq, flush=True)
    i += 1
"""


def mail(i: int) -> bytes:
    return b"Subject: %d\r\n\r\n" % i + (b"%d " % i) * (i % 40 * 997)


def _accept_until_killed(url, data_dir, first, env, rng, sig) -> list[tuple[int, int]]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(data_dir), str(first)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=env)
    try:
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.2, 0.8))
        child.send_signal(sig)
        out = child.communicate(timeout=60)[0]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # SIGINT: KeyboardInterrupt, a traceback and exit status 1 (or death by the signal)
    assert child.returncode == -sig or (sig == signal.SIGINT and child.returncode == 1)
    # the last line may be cut by the kill: only whole lines were reported
    return [tuple(map(int, ln.split())) for ln in out.split("\n")[:-1]]


def test_every_request_reported_accepted_survives_a_kill(store_url, data_dir, child_env):
    rng = random.Random()
    Store.open(store_url, data_dir).close()
    reported: list[tuple[int, int]] = []
    for round_, sig in enumerate((signal.SIGKILL, signal.SIGINT)):
        reported += _accept_until_killed(store_url, data_dir, 100_000 * round_, child_env, rng,
                                         sig)
    print(f"{len(reported)} requests reported accepted before the kills")
    assert len(reported) > 5, "the child accepted almost nothing before the kill"
    with Store.open(store_url, data_dir) as store:
        rows = {r.seq: r for r in store.unexpanded()}
        for i, seq in reported:
            assert seq in rows, f"request {seq} was reported accepted and is lost"
            assert rows[seq].mail_from == f"s{i}@x.jp"
            assert rows[seq].read() == mail(i), f"spool file of request {seq} differs"
        # rows the child committed without living to report them are whole too
        for record in rows.values():
            i = int(record.mail_from[1:].split("@")[0])
            assert record.read() == mail(i)
        with store.session() as s:
            assert s.query(RequestRow).count() == len(rows)
    assert len(set(seq for _, seq in reported)) == len(reported)
