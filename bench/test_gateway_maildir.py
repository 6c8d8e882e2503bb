"""Filling one Maildir with 10 000 result mails: ``MailStore.deliver`` beside the bare minimum.

Each delivery is durable (written to ``tmp/``, fsynced, linked into ``new/``,
``new/`` fsynced) and checks that its key is not delivered already.  The
reference ("bare") does the same file steps with no duplicate check at all,
so the ratio is what the check costs.  The check must not grow with the
mailbox: the rate of the last 1000 deliveries is printed beside the first
1000, and the check alone (a key delivered again into the full box) in
microseconds (issue 11: a check that scanned the box took 151 s for 10 000).
One round (the fill is the measurement), one thread.

    python -m pytest -q -s bench/test_gateway_maildir.py
"""
from __future__ import annotations

import os
import time

from faxengine.gateway.maildir import MailStore

N = 10_000
ADDRESS = "sample@edicworks.com"


def _mail(i: int) -> tuple[bytes, str]:
    key = f"<{i:013d}.result@cl1.faximo.jp>"
    raw = (f"From: fax@cl1.faximo.jp\r\nTo: {ADDRESS}\r\nMessage-ID: {key}\r\n"
           f"Subject: =?ISO-2022-JP?B?GyRCQXc/LjQwTjsbKEI=?=\r\n\r\n").encode() + b"x" * 1200
    return raw, key


def test_fill_one_mailbox_with_10000_result_mails(tmp_path, speed):
    store = MailStore(tmp_path / "ours")
    marks = [time.perf_counter()]
    for i in range(N):
        raw, key = _mail(i)
        store.deliver(ADDRESS, raw, key)
        if (i + 1) % 1000 == 0:
            marks.append(time.perf_counter())
    seconds = marks[-1] - marks[0]
    first, last = marks[1] - marks[0], marks[-1] - marks[-2]
    print(f"\nmaildir fill: {N} deliveries in {seconds:.1f} s; first 1000 {first:.2f} s, "
          f"last 1000 {last:.2f} s")
    speed.record(group="maildir fill", contender="ours", items=N, seconds=seconds,
                 unit="deliveries/s")
    assert len(os.listdir(tmp_path / "ours" / ADDRESS / "new")) == N
    # the duplicate check alone, in the full box: each key delivered again (the
    # outbox after a crash) finds its message and writes nothing, no fsync
    t = time.perf_counter()
    for i in range(0, N, N // 1000):
        raw, key = _mail(i)
        store.deliver(ADDRESS, raw, key)
    check = (time.perf_counter() - t) / 1000
    print(f"duplicate check in a box of {N}: {check * 1e6:.0f} us per delivery")
    assert len(os.listdir(tmp_path / "ours" / ADDRESS / "new")) == N

    box = tmp_path / "bare"
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(parents=True)
    marks = [time.perf_counter()]
    for i in range(N):
        if i and i % 1000 == 0:
            marks.append(time.perf_counter())
        raw, _ = _mail(i)
        tmp, new = box / "tmp" / f"{i}", box / "new" / f"{i}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, raw.replace(b"\r\n", b"\n"))
        os.fsync(fd)
        os.close(fd)
        os.link(tmp, new)
        os.unlink(tmp)
        fd = os.open(box / "new", os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    marks.append(time.perf_counter())
    print(f"bare fill: {N} in {marks[-1] - marks[0]:.1f} s; first 1000 "
          f"{marks[1] - marks[0]:.2f} s, last 1000 {marks[-1] - marks[-2]:.2f} s")
    speed.record(group="maildir fill", contender="bare os calls", items=N,
                 seconds=marks[-1] - marks[0], unit="deliveries/s")
