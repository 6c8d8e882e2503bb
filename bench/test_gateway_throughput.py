"""The running gateway's throughput: durable requests accepted per second, calls completed per minute.

* **accepted/s**: ``ACCEPTS`` requests (1 destination, a one-line text body)
  sent one after the other over one SMTP connection (smtplib); each 250 reply
  comes after the spool file and the database row are fsynced.  The expander
  and the line workers run meanwhile, as they would.
* **calls/min, 8 lines**: ``CALLS`` requests of one A4 text page each to the
  simulated network (``answer``), ``lines = 8``, timed from the first request
  to the last result mail in the Maildir: rendering, the T.30 calls through
  the line model, the result mails -- the whole path.

SQLite under a temporary data_dir; PostgreSQL is not measured here.

    python -m pytest -q -s bench/test_gateway_throughput.py
"""
from __future__ import annotations

import smtplib
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "gateway"))

from gateway_harness import (DOMAIN, SENDER, InProcessGateway, maildir_files,  # noqa: E402
                             request, wait_for, write_config)

ACCEPTS = 200
CALLS = 24


@pytest.fixture
def gateway(tmp_path):
    gw = InProcessGateway(write_config(tmp_path, lines=8)).start()
    yield gw
    gw.stop()


def test_requests_accepted_per_second(gateway, speed):
    raw = request("0921234567", subject="bench", body="ベンチマークです。\n").as_bytes()
    with smtplib.SMTP("127.0.0.1", gateway.smtp, timeout=60) as client:
        t0 = time.perf_counter()
        for _ in range(ACCEPTS):
            client.sendmail(SENDER, [f"0921234567@{DOMAIN}"], raw)
        seconds = time.perf_counter() - t0
    speed.record(group="smtp accepted", contender="ours", items=ACCEPTS, seconds=seconds,
                 unit="requests/s")
    print(f"\n{ACCEPTS} requests accepted durably in {seconds:.2f} s: "
          f"{ACCEPTS / seconds:.1f} requests/s")


def test_calls_completed_per_minute_with_8_lines(gateway, speed):
    body = "\n".join(f"{i:02d} ファクス送信のベンチマーク用の本文です。" for i in range(40))
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", gateway.smtp, timeout=60) as client:
        for i in range(CALLS):
            msg = request("0921234567", subject=f"bench {i}", body=body)
            client.sendmail(SENDER, [f"0921234567@{DOMAIN}"], msg.as_bytes())
    wait_for(lambda: len(maildir_files(gateway.data_dir)) >= CALLS,
             f"{CALLS} result mails", 1200, every=0.2)
    seconds = time.perf_counter() - t0
    speed.record(group="calls, 8 lines", contender="ours", items=CALLS * 60, seconds=seconds,
                 unit="calls/min")
    print(f"\n{CALLS} one-page calls completed in {seconds:.1f} s with 8 lines: "
          f"{CALLS * 60 / seconds:.1f} calls/min")
