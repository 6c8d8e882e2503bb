"""``faxengine receive`` prints its result lines off the event loop (media.commands.ResultLines).

Issue 13's 150-call bench: the receiver printed each call's JSON line on the
loop that paces every call, into a pipe the bench read only at the end; the
86th line filled the pipe's 64 KiB, the write blocked the loop for 19 s, and
every call then on the loop ended TIMEOUT_T2 (its sender TIMEOUT_T4).  A
reader that is slow or away must hold back the lines, never the calls.
"""
from __future__ import annotations

import fcntl
import os
import sys
import threading

from faxengine.media.commands import ResultLines

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def _pipe(monkeypatch, size=4096):
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, size)      # the least a pipe holds: a page
    out = os.fdopen(w, "w")
    monkeypatch.setattr(sys, "stdout", out)
    return os.fdopen(r, "r"), out


def test_writing_into_a_full_pipe_never_blocks_and_every_line_arrives_in_order(monkeypatch):
    reader, out = _pipe(monkeypatch)
    lines = ResultLines()
    sent = [f'{{"call": {i}, "pad": "{"x" * 500}"}}' for i in range(40)]   # 20 KB: 5 pipes full
    writing = threading.Thread(target=lambda: [lines.write(line) for line in sent], daemon=True)
    writing.start()
    writing.join(5.0)
    assert not writing.is_alive(), "ResultLines.write blocked on a pipe nobody reads"
    got: list[str] = []
    reading = threading.Thread(target=lambda: got.extend(reader), daemon=True)
    reading.start()                         # the reader comes back: everything arrives
    lines.close()
    out.close()
    reading.join(5.0)
    assert [line.rstrip("\n") for line in got] == sent


def test_a_reader_gone_away_ends_the_lines_quietly(monkeypatch):
    reader, out = _pipe(monkeypatch)
    reader.close()                          # e.g. `faxengine receive | head -1` done
    lines = ResultLines()
    for i in range(3):
        lines.write(f"line {i}")
    lines.close()                           # no BrokenPipeError, no hang
    assert not lines._thread.is_alive()
    try:
        out.close()
    except BrokenPipeError:                 # (the test's own file object flushing)
        pass
