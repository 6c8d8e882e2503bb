"""The gateway on PostgreSQL (a throwaway cluster of the suite, ``pg_cluster``):
a core subset of the end-to-end rules as on SQLite, and two gateway
processes on one database never sending a destination twice."""
from __future__ import annotations

import collections
import time

import psycopg

import pytest

from faxengine.gateway.results import ERROR_SUBJECT, SUCCESS_SUBJECT
from _mailio import LoopThread, Relay
from gateway_harness import (GatewayProcess, InProcessGateway, decode, maildir_files,
                             mails_of, request, send, wait_for, write_config)


@pytest.fixture
def pg_gateway(pg_cluster, tmp_path):
    gw = InProcessGateway(write_config(tmp_path, database=pg_cluster.new_database(),
                                       retries=1, retry_interval="1s")).start()
    yield gw
    gw.stop()


def test_success_busy_retry_and_a_refusal_on_postgresql(pg_gateway):
    send(pg_gateway.smtp, request(["0921234567", "0312345678"], subject="PG"))
    send(pg_gateway.smtp, request("0921234567", subject="===PG"))
    mails = wait_for(lambda: (lambda m: m if len(m) >= 3 else None)(
        mails_of(pg_gateway)), "3 result mails", 120, every=0.2)
    by = {(m.number(), m.subject): m for m in mails}
    assert set(by) == {("0921234567", SUCCESS_SUBJECT), ("0312345678", ERROR_SUBJECT),
                       ("0921234567", ERROR_SUBJECT)}
    assert "送信するデータがありません。" in by[("0921234567", ERROR_SUBJECT)].body
    assert "枚数:1 枚\n" in by[("0921234567", SUCCESS_SUBJECT)].body
    assert "送信先様が話し中である場合" in by[("0312345678", ERROR_SUBJECT)].body


def test_two_gateway_processes_on_one_database_never_send_a_destination_twice(pg_cluster,
                                                                              tmp_path):
    """Two hosts as the docs describe them: one PostgreSQL database, one data_dir
    (a shared file system), a name each, the result mails through one smarthost
    (a real aiosmtpd server): every destination is called once, and every
    result mail reaches the smarthost once (the outbox claim; without it both
    hosts delivered what was due)."""
    url = pg_cluster.new_database()
    data = tmp_path / "data"
    hosts = []
    loop = LoopThread()
    relay = Relay(loop)
    try:
        for name in ("a", "b"):
            d = tmp_path / name
            d.mkdir()
            path = write_config(d, database=url, lines=2, fixed_ports=True,
                                data_dir=str(data), name=f"host-{name}",
                                extra=f'[results]\ndelivery = "smtp"\n'
                                      f'smarthost = "127.0.0.1:{relay.port}"\n')
            hosts.append(GatewayProcess(path, d / "gateway.log").start())
        numbers = [f"092{i:07d}" for i in range(1, 13)]
        for i in range(4):                  # 4 requests of 3, to the two hosts in turn
            send(hosts[i % 2].smtp, request(numbers[3 * i:3 * i + 3], subject=f"host {i}"))
        wait_for(lambda: len(list((data / "simnet").glob("*/*.tif"))) >= 12 and
                 len(relay.received) >= 12, "12 faxes and their result mails", 180,
                 every=0.2)
        time.sleep(1.5)                 # a destination or a mail sent twice would show up now
        received = collections.Counter(p.name for p in (data / "simnet").glob("*/*.tif"))
        assert len(received) == 12 and set(received.values()) == {1}, received
        delivered = collections.Counter(relay.message_ids())
        assert len(delivered) == 12 and set(delivered.values()) == {1}, delivered
        mails = [decode(raw) for _, _, raw in relay.received]
        assert sorted(m.number() for m in mails) == sorted(numbers)
        assert maildir_files(data) == []
        with psycopg.connect(url.replace("+psycopg", "")) as c:
            rows = c.execute("SELECT detail_no, started_at, ended_at, result_code FROM attempts "
                             "ORDER BY detail_no, started_at").fetchall()
            left = c.execute("SELECT count(*) FROM jobs WHERE status <> '送信完了'").fetchone()
            owners = c.execute("SELECT claimed_by FROM outbox WHERE delivered_at IS NOT NULL"
                               ).fetchall()
        assert left == (0,)
        assert len(owners) == 12 and {o.split(":")[0] for o, in owners} <= {"host-a", "host-b"}
        calls = collections.defaultdict(list)
        for detail, started, ended, code in rows:
            calls[detail].append((started, ended, code))
        for detail, made in calls.items():
            # one successful call each; a retry (a call that failed on the loaded machine)
            # only after the call before it ended: never two calls of one job at once
            assert [code for _, _, code in made].count("OK") == 1, (detail, made)
            assert all(a[1] <= b[0] for a, b in zip(made, made[1:])), (detail, made)
        # Which host calls which job is the scheduler's business: on a loaded machine one
        # host may take all 12 before the other's lines look (it happened in a CI-like
        # run at load 8), so that both called is not asserted; that no job was called
        # twice and no result mail sent twice, above, is what the claim guarantees.
    finally:
        for h in hosts:
            assert h.terminate() == 0
        relay.close()
        loop.close()
