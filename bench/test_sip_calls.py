"""How many fax calls over SIP one host carries at once, ours to ours, in real time.

For each N (``SIPCALL_N``, default ``50,100,150,200``) two processes run on
127.0.0.1: ``faxengine receive --calls N`` (``receive_main``) and a sender
that makes N calls at once from one user agent (``send_fax``, one page
each: samples/letter.png, ECM, PCMU, ~34 s of line time), started evenly
over ``RAMP_S`` (10 s; calls that start in the same millisecond reach their
heavy steps, a page coded or decoded, in the same tick), so all N are up
together for 20 s or more; all paced in real time on each process's loop.
N counts as carried when every call on both sides succeeds, pixel-equal
pages aside (the tests check those), and no RTP packet arrived after its
play-out time (``late``: beyond the jitter buffer, 60 ms unless
``SIPCALL_JITTER_MS`` says otherwise).  The sweep stops
at the first N that fails.  Printed and written to
``bench/results/sip_calls.txt``: per N the calls that went through, late and
lost packets, wall time, and the CPU of both processes per call-second
(CPU seconds over N times the line seconds of a call), with the machine's
load average, since the machine may be shared.

    python -m pytest -q -s bench/test_sip_calls.py
    SIPCALL_N=20 python -m pytest -q -s bench/test_sip_calls.py     # one N
    SIPCALL_JITTER_MS=120 ...                                         # a deeper jitter buffer

Bounded: every process has a timeout and is killed at the end.
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "sip_calls.txt"
TIMEOUT = 300.0
REQUIRED, GOAL = 50, 200
RAMP_S = 10.0       # the calls start evenly over this time, as calls do, not in one tick


def _page():
    """samples/letter.png as one fine-resolution fax page."""
    from PIL import Image

    from faxengine.t4 import Page

    with Image.open(BENCH_DIR.parent / "samples" / "letter.png") as img:
        return Page.from_pil(img, resolution="fine")


async def _senders(to: str, n: int, jitter_ms: int) -> list[dict]:
    from faxengine.media.call import SipEndpoint, send_fax

    endpoint = await SipEndpoint.open(("127.0.0.1", 0), user="sender")
    page = _page()

    async def one(i: int):
        await asyncio.sleep(i * RAMP_S / n)
        return await send_fax([page], to, endpoint=endpoint, jitter_delay=jitter_ms / 1000)

    try:
        results = await asyncio.gather(*[one(i) for i in range(n)])
    finally:
        endpoint.close()
    return [r.as_dict() for r in results]


def _child_cpu(proc: subprocess.Popen, timeout: float) -> float:
    """Wait for ``proc`` (bounded) and return its CPU seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        time.sleep(0.2)
    proc.kill()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = -9
    return usage.ru_utime + usage.ru_stime


def _udp_counters() -> dict[str, int]:
    """The kernel's UDP counters (Linux /proc/net/snmp): ``RcvbufErrors`` are
    datagrams dropped because a socket's receive buffer was full -- for the
    whole host, so a neighbour's traffic counts too; {} elsewhere."""
    try:
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
                 if line.startswith("Udp:")]
    except OSError:
        return {}
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))


def _read_all(stream, into: list[str]) -> threading.Thread:
    """Read ``stream`` to its end on a thread of its own.  The receiver prints a
    line per call as it ends; a pipe nobody reads holds 64 KiB (about 85 JSON
    lines), and past that the receiver's writes would wait for us."""
    thread = threading.Thread(target=lambda: into.extend(stream), daemon=True)
    thread.start()
    return thread


def run(n: int, out: Path, jitter_ms: int, receive_options: tuple[str, ...] = ()) -> dict:
    """N calls; ``receive_options``: more for ``faxengine receive`` (``--t38``)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    udp_before = _udp_counters()
    receiver = subprocess.Popen(
        [sys.executable, "-c", "import sys; from faxengine.media.commands import receive_main; "
         "sys.exit(receive_main(sys.argv[1:]))", "--listen", "127.0.0.1:0", "--out", str(out),
         "--calls", str(n), "--jitter-ms", str(jitter_ms), "--json", *receive_options],
        stdout=subprocess.PIPE, text=True, env=env)
    sender = None
    received_lines: list[str] = []
    try:
        to = receiver.stdout.readline().split()[2]
        reading = _read_all(receiver.stdout, received_lines)
        start = time.monotonic()
        sender = subprocess.Popen([sys.executable, __file__, to, str(n), str(jitter_ms)],
                                  stdout=subprocess.PIPE, text=True, env=env)
        sent_text, _ = sender.communicate(timeout=TIMEOUT)
        wall = time.monotonic() - start
        receiver.wait(timeout=60)
        reading.join(timeout=10)
    finally:
        for proc in (receiver, sender):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    udp_after = _udp_counters()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    sent = json.loads(sent_text)
    received = [json.loads(line) for line in received_lines if line.startswith("{")]
    both = sent + received
    udptl = [r["udptl"] for r in both if r.get("udptl")]
    line = sum(r["line_seconds"] for r in sent) or 1.0
    return {"n": n, "sent_ok": sum(r["ok"] for r in sent), "received_ok": sum(r["ok"] for r in received),
            "late": sum(r["rtp"]["late"] for r in both if r["rtp"]),
            "lost": sum(r["rtp"]["lost"] for r in both if r["rtp"]),
            "wall": wall, "cpu_total": usage.ru_utime + usage.ru_stime, "line": line,
            "failed": sorted({r["fax"]["code"] for r in both if not r["ok"]}),
            "t38": sum(bool(r.get("t38")) for r in both),
            "udptl_lost": sum(u["lost"] for u in udptl),
            "udptl_overflow": sum(u["overflow"] for u in udptl),
            "udptl_dropped": sum(u.get("dropped", 0) for u in udptl),
            "udptl_late_ms": max((u.get("late_ms", 0.0) for u in udptl), default=0.0),
            "rcvbuf_errors": (udp_after.get("RcvbufErrors", 0)
                              - udp_before.get("RcvbufErrors", 0))}


def machine_line() -> str:
    """When and on what a table was measured."""
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}")


def cpu_ms(row: dict, cpu: float) -> float:
    """CPU of both processes per call-second, in ms."""
    return cpu / row["line"] * 1000


def row_end(row: dict, cpu: float, load: float, ok: bool) -> str:
    """The columns every calls table ends with: wall, CPU, CPU per call-second,
    load, verdict and the failure codes."""
    return (f"{row['wall']:>7.1f} {cpu:>8.1f} {cpu_ms(row, cpu):>10.2f} {load:>6.2f}  "
            f"{'ok' if ok else 'FAIL'}{' ' + ','.join(row['failed']) if row['failed'] else ''}")


def publish(path: Path, lines: list[str]) -> str:
    """Print a results table and write it to ``path``."""
    text = "\n".join(lines)
    print("\n" + text)
    path.parent.mkdir(exist_ok=True)
    path.write_text(text + "\n")
    return text


def test_simultaneous_sip_fax_calls(tmp_path):
    sizes = [int(x) for x in os.environ.get("SIPCALL_N", "50,100,150,200").split(",")]
    jitter_ms = int(os.environ.get("SIPCALL_JITTER_MS", "60"))
    rows, carried = [], 0
    cpu_before = 0.0
    for n in sizes:
        load = os.getloadavg()[0]
        row = run(n, tmp_path / f"n{n}", jitter_ms)
        cpu = row["cpu_total"] - cpu_before          # RUSAGE_CHILDREN accumulates
        cpu_before = row["cpu_total"]
        ok = row["sent_ok"] == row["received_ok"] == n and row["late"] == 0
        rows.append(f"{n:>5} {row['sent_ok']:>4}/{row['received_ok']:<4} {row['late']:>6} "
                    f"{row['lost']:>6} {row_end(row, cpu, load, ok)}")
        if not ok:
            break
        carried = n
    text = publish(RESULTS, [
        machine_line(),
        "simultaneous fax calls over SIP on 127.0.0.1, ours to ours, samples/letter.png, ECM, PCMU,",
        f"real-time pacing; sender and receiver in two processes; starts spread over {RAMP_S:g} s;",
        f"jitter buffer {jitter_ms} ms (late: packets that came after their play-out)",
        "    N  ok(sent/recv)  late   lost  wall s    CPU s  CPU ms/call-s  load1  verdict",
        *rows,
        f"largest N carried: {carried} (required {REQUIRED}, goal {GOAL})"])
    if carried == 0:
        pytest.fail(f"not even {sizes[0]} simultaneous calls went through:\n{text}")


if __name__ == "__main__":          # the sender process: N calls at once, results as JSON
    print(json.dumps(asyncio.run(_senders(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))))
