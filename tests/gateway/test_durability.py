"""Durability (issue 11): ``kill -9`` of a ``faxengine gateway`` process right
after the 250 reply, during a call, and during result-mail delivery; after a
restart every accepted request is finished and every result mail is in the
Maildir exactly once, or at the smarthost at least once (at most one
duplicate: the one in the commit after the 250 to DATA).  Also the clean stop: SIGTERM during a call exits 0
and the call's job is sent after the restart, its attempt not counted.
"""
from __future__ import annotations

import collections
import sqlite3
import time

import pytest

from _mailio import LoopThread, Relay
from faxengine.gateway.results import SUCCESS_SUBJECT
from gateway_harness import (GatewayProcess, decode, maildir_files, request, send, wait_for,
                             write_config)


@pytest.fixture
def processes():
    started: list[GatewayProcess] = []
    yield started
    for p in started:
        p.close()


def start(processes, directory, **kwargs) -> GatewayProcess:
    path = directory / "gateway.toml"
    if not path.exists() or kwargs:
        write_config(directory, fixed_ports=True, **kwargs)
    p = GatewayProcess(path, directory / f"gateway-{len(processes)}.log")
    processes.append(p)
    return p.start()


def statuses(directory) -> dict[str, str]:
    """detail_no -> status, read from the SQLite file as any tool would."""
    db = directory / "data" / "gateway.sqlite3"
    if not db.exists():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        try:
            return dict(c.execute("SELECT detail_no, status FROM jobs"))
        except sqlite3.OperationalError:
            return {}


def result_mails(directory) -> list:
    return [decode(p.read_bytes()) for p in maildir_files(directory / "data")]


def assert_each_once(directory, expected: int) -> None:
    mails = wait_for(lambda: (lambda m: m if len(m) >= expected else None)(
        result_mails(directory)), f"{expected} result mails in the Maildir", 120)
    time.sleep(0.5)             # a mail delivered twice would show up now
    mails = result_mails(directory)
    ids = collections.Counter(m.message_id for m in mails)
    assert len(mails) == expected and set(ids.values()) == {1}, ids
    assert all(m.subject == SUCCESS_SUBJECT for m in mails), [m.body for m in mails]


def test_kill_9_right_after_250_and_during_result_mail_delivery(processes, tmp_path):
    gw = start(processes, tmp_path, lines=4)
    send(gw.smtp, request(["0921234567", "0451234567"], subject="直後"))
    gw.kill()                                       # the 250 came: the request is ours
    gw = start(processes, tmp_path)
    assert_each_once(tmp_path, 2)
    numbers = [f"092{i:07d}" for i in range(1, 11)]
    send(gw.smtp, request(numbers, subject="配信中"))
    # a result mail of this request in the Maildir: the others are being delivered now
    wait_for(lambda: len(maildir_files(tmp_path / "data")) > 2, "a result mail", 120,
             every=0.005)
    gw.kill()
    start(processes, tmp_path)
    assert_each_once(tmp_path, 2 + len(numbers))


def test_kill_9_and_sigterm_during_a_call_then_the_job_completes_once(processes, tmp_path):
    gw = start(processes, tmp_path, realtime=True, stop_timeout="1s")   # calls of tens of s
    send(gw.smtp, request("0921234567", subject="通話中"))
    wait_for(lambda: "送信中" in statuses(tmp_path).values(), "a call in progress", 60)
    gw.kill()
    assert list(statuses(tmp_path).values()) == ["送信中"]
    gw = start(processes, tmp_path)                 # the call is made again ...
    wait_for(lambda: "送信中" in statuses(tmp_path).values(), "the call made again", 60)
    t0 = time.monotonic()
    assert gw.terminate() == 0                      # ... and cut short by SIGTERM
    assert time.monotonic() - t0 < 30
    assert list(statuses(tmp_path).values()) == ["送信待ち"]     # requeued, not failed
    start(processes, tmp_path, realtime=False)      # the same data, calls fast
    assert_each_once(tmp_path, 1)
    with sqlite3.connect(tmp_path / "data" / "gateway.sqlite3") as c:
        assert c.execute("SELECT status, attempts FROM jobs").fetchall() == [("送信完了", 1)]


def test_kill_9_during_smarthost_delivery_then_each_mail_reaches_the_relay(processes, tmp_path):
    """Result mails through a smarthost (a real, slow aiosmtpd relay): kill -9 while
    the relay is in the middle of one (RCPT sent, no reply yet).  The restarted
    gateway (the same name, another pid) ends its dead claim at once instead of
    waiting OUTBOX_CLAIM_TIMEOUT, and every mail reaches the relay.  SMTP allows
    no better than at least once (RFC 1047): the mark follows the 250 to DATA
    by one commit, so a duplicate needs the kill inside that commit -- at most
    one here."""
    loop = LoopThread()
    relay = Relay(loop, rcpt_delay=0.3)
    try:
        extra = f'[results]\ndelivery = "smtp"\nsmarthost = "127.0.0.1:{relay.port}"\n'
        gw = start(processes, tmp_path, lines=4, extra=extra)
        numbers = [f"092{i:07d}" for i in range(1, 9)]
        send(gw.smtp, request(numbers, subject="中継"))
        wait_for(lambda: len(relay.received) >= 1 and relay.events[-1] == "RCPT",
                 "a result mail delivered and the next one in progress", 120, every=0.01)
        gw.kill()
        with sqlite3.connect(tmp_path / "data" / "gateway.sqlite3") as c:
            held = c.execute("SELECT claimed_by FROM outbox WHERE delivered_at IS NULL "
                             "AND claimed_by IS NOT NULL").fetchall()
        assert [o.split(":")[0] for o, in held] == [gw.config.gateway.name], held
        start(processes, tmp_path)
        wait_for(lambda: len(set(relay.message_ids())) >= len(numbers),
                 f"{len(numbers)} result mails at the relay", 120)
        time.sleep(0.5)                 # a mail delivered again would show up now
        ids = collections.Counter(relay.message_ids())
        assert len(ids) == len(numbers) and sum(ids.values()) - len(ids) <= 1, ids
        assert maildir_files(tmp_path / "data") == []
        with sqlite3.connect(tmp_path / "data" / "gateway.sqlite3") as c:
            assert c.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
                             ).fetchone() == (0,)
    finally:
        relay.close()
        loop.close()
