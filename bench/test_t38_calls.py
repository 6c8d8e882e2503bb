"""How many T.38 fax calls over SIP one host carries at once, and their CPU against G.711.

The harness of ``bench/test_sip_calls.py`` (two processes on 127.0.0.1,
``faxengine receive --calls N`` and a sender making N one-page calls from
one user agent, started evenly over 10 s, real time), with the receiver
run as ``faxengine receive --t38``: it re-INVITEs every call to T.38 as
soon as it is up and the sender (default: take T.38 when offered) switches
with it, so each call is a moment of G.711 and then UDPTL.  For each N
(``T38CALL_N``, default ``50,100,200,300``) N counts as carried when every
call on both sides succeeds in T.38 and no UDPTL datagram was dropped by a
full receive queue.  Then the same calls in G.711 (``T38CALL_G711_N``,
default 50, 0 for none; no ``--t38``) for the CPU per call-second side by side.
Printed and written to ``bench/results/t38_calls.txt``.

    python -m pytest -q -s bench/test_t38_calls.py
    T38CALL_N=20 T38CALL_G711_N=20 python -m pytest -q -s bench/test_t38_calls.py
"""
from __future__ import annotations

import os
import subprocess

import pytest

from test_sip_calls import BENCH_DIR, cpu_ms, machine_line, publish, row_end, run

RESULTS = BENCH_DIR / "results" / "t38_calls.txt"
REQUIRED = 200


def _row(kind: str, n: int, row: dict, cpu: float, load: float, ok: bool) -> str:
    return (f"{kind:<6} {n:>5} {row['sent_ok']:>4}/{row['received_ok']:<4} {row['t38']:>5} "
            f"{row['udptl_lost']:>6} {row['udptl_dropped']:>6} {row['rcvbuf_errors']:>7} "
            f"{row['udptl_late_ms']:>7.0f} {row_end(row, cpu, load, ok)}")


def test_simultaneous_t38_calls(tmp_path):
    sizes = [int(x) for x in os.environ.get("T38CALL_N", "50,100,200,300").split(",")]
    g711_n = int(os.environ.get("T38CALL_G711_N", "50"))
    rows, carried, cpu_before = [], 0, 0.0
    per_call_s: dict[str, float] = {}
    for kind, n in [("T.38", n) for n in sizes] + [("G.711", g711_n)] * (g711_n > 0):
        if kind == "T.38" and carried < (sizes[sizes.index(n) - 1] if sizes.index(n) else 0):
            continue                        # a smaller N failed: no point going bigger
        load = os.getloadavg()[0]
        try:
            row = run(n, tmp_path / f"{kind}-{n}", 60, ("--t38",) if kind == "T.38" else ())
        except subprocess.TimeoutExpired as exc:      # a finding, not a crash of the bench
            rows.append(f"{kind:<6} {n:>5}  did not end in {exc.timeout:g} s  FAIL")
            continue
        cpu = row["cpu_total"] - cpu_before          # RUSAGE_CHILDREN accumulates
        cpu_before = row["cpu_total"]
        ok = (row["sent_ok"] == row["received_ok"] == n and row["udptl_overflow"] == 0
              and (row["t38"] == 2 * n if kind == "T.38" else row["t38"] == 0))
        rows.append(_row(kind, n, row, cpu, load, ok))
        if ok:
            per_call_s[kind] = cpu_ms(row, cpu)
            if kind == "T.38":
                carried = n
    ratio = (f"{per_call_s['G.711'] / per_call_s['T.38']:.1f}x less CPU per call-second in T.38"
             if len(per_call_s) == 2 else "no ratio (a run failed)")
    text = publish(RESULTS, [
        machine_line(),
        "simultaneous fax calls over SIP on 127.0.0.1, ours to ours, samples/letter.png, ECM;",
        "T.38: receive --t38 re-INVITEs each call to UDPTL as it is up; G.711: PCMU throughout;",
        "real-time pacing; sender and receiver in two processes; starts spread over 10 s;",
        "lost: IFP packets UDPTL could not rebuild; kdrop: datagrams our UDPTL sockets' receive",
        "buffers dropped (SO_RXQ_OVFL); rcvbuf: the host's UDP RcvbufErrors in the run (all",
        "processes); late: the most a call's 20 ms step ran after its time (event-loop lag)",
        "kind       N  ok(sent/recv)  t38   lost  kdrop  rcvbuf late ms  wall s    CPU s  "
        "CPU ms/call-s  load1  verdict",
        *rows,
        f"largest N carried in T.38: {carried} (required {REQUIRED}); {ratio}"])
    if carried == 0:
        pytest.fail(f"not even {sizes[0]} simultaneous T.38 calls went through:\n{text}")
