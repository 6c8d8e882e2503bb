"""The web admin served by more than one process: ``[web] workers``.

One Python process renders pages on one core at a time (the GIL), so with
``workers`` above 1 the gateway serves HTTP from that many child processes
running only the web application (``python -m
faxengine.gateway.web.workers``, on uvloop when it is installed) instead
of from its own loop (``workers = 1``, the default: uvicorn in the
gateway's loop, no other process).  Everything else -- SMTP, the
expander, the line workers, the outbox, image expiry -- runs once, in the
gateway process, whose loop the web's load then no longer slows.

* Sockets: the gateway binds one listening socket per process to the same
  address with ``SO_REUSEPORT`` (Linux socket(7): the kernel spreads
  incoming connections over the sockets of a group, and only processes of
  the same user can join it) and hands each child its own by descriptor;
  a port 0 is chosen once and shared.
* What the processes share goes through the database: each reads the
  store's data version (``web.cache``), so a page kept by one process ends
  with a write made by any other; the session is a signed cookie (the same
  ``secret_key`` everywhere, no session table); the login rate limit is
  ``security.SharedLoginLimiter``, one SQLite file in data_dir, so failures
  count together whichever process answered them.
* The child reads its settings as one JSON line on stdin and serves until
  stdin ends (the gateway closes it to stop the child, and a gateway that
  died closes it too: no orphan serves on).  On stdout it says ``ready``
  once it serves and ``accepted <seq>`` after ``POST /api/faxes`` stored a
  request, so the gateway expands it at once (it would find it in its
  next poll anyway: the request is durable in the database).  It ignores
  SIGINT: a Ctrl-C on the terminal stops the gateway, which stops it.
* Start-up: the gateway waits for each ``ready`` as long as the child lives
  and uses CPU (``START_STALL_S``, ``START_LIMIT_S``); its stderr is piped,
  passed on to the gateway's stderr line by line, and the last lines are
  quoted with its exit status when it ends before serving (a child that
  died at start-up used to leave only "it said b''").
"""
from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import sys
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from faxengine.gateway.errors import GatewayError

__all__ = ["WebWorkers", "listen_sockets", "LOGINS_FILE"]

log = logging.getLogger("faxengine.gateway")

LOGINS_FILE = "web-logins.sqlite3"      # the login rate limit the processes share
BACKLOG = 1024                          # 200 connections at once are not refused or delayed
# Start-up: a child imports FastAPI, uvicorn and SQLAlchemy (0.7 s of CPU, measured), which
# on a 2-core machine at load 8 takes many times that.  It is waited for as long as it
# lives and uses CPU; one that used none for START_STALL_S is stuck, and one not
# serving after START_LIMIT_S is given up whatever it does (where /proc cannot be
# read, only START_LIMIT_S holds).
START_STALL_S = 60.0
START_LIMIT_S = 600.0
START_POLL_S = 0.25
STDERR_LINES = 5                        # of a child that ended, quoted in the error
STOP_TIMEOUT_S = 10
SETTINGS = frozenset({"database", "data_dir", "secret_key", "timezone", "fax_domain",
                      "max_upload", "logins"})


def listen_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening TCP sockets on ``host``:``port`` (port 0: one free port for
    all); with more than one, in one ``SO_REUSEPORT`` group.  Raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(family, socket.SOCK_STREAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind((host, port))
            port = s.getsockname()[1]
            s.listen(BACKLOG)
            s.setblocking(False)
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks


class WebWorkers:
    """The child processes serving the web admin beside the gateway's own server.

    ``settings``: database (URL, "" for SQLite), data_dir, secret_key, timezone,
    fax_domain, max_upload, logins (the SharedLoginLimiter's file).
    ``accepted(seq)`` is called in the gateway's loop when a child stored a request.
    """

    #: how a child is run; its listening socket's descriptor is appended
    command: tuple[str, ...] = (sys.executable, "-m", "faxengine.gateway.web.workers")

    def __init__(self, sockets: list[socket.socket], settings: dict,
                 accepted: Callable[[int], None]) -> None:
        self.sockets = sockets
        self.settings = settings
        self.accepted = accepted
        self.processes: list[asyncio.subprocess.Process] = []
        self._readers: list[asyncio.Task] = []
        self._stderr: list[deque[str]] = []     # each child's last lines on stderr
        self._stderr_readers: list[asyncio.Task] = []
        self._stopping = False

    async def start(self) -> None:
        """Start the children and wait until each serves; GatewayError if one cannot."""
        package_root = str(Path(__file__).resolve().parents[3])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)}
        from faxengine.gateway.web.security import SharedLoginLimiter
        try:
            try:
                SharedLoginLimiter.prepare(Path(self.settings["logins"]))
            except sqlite3.Error as exc:
                raise GatewayError(f"the web workers' login counts in {self.settings['logins']}: "
                                   f"{exc}; check that data_dir can be written") from exc
            for number, sock in enumerate(self.sockets, start=1):   # all at once
                proc = await asyncio.create_subprocess_exec(
                    *self.command, str(sock.fileno()),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, pass_fds=(sock.fileno(),), env=env)
                self.processes.append(proc)
                self._stderr.append(deque(maxlen=STDERR_LINES))
                self._stderr_readers.append(asyncio.create_task(
                    self._errors(proc, self._stderr[-1]), name=f"web worker {number} stderr"))
                proc.stdin.write(json.dumps(self.settings).encode() + b"\n")
                with contextlib.suppress(ConnectionError):     # one that died is told below
                    await proc.stdin.drain()
            for number, proc in enumerate(self.processes, start=1):
                await self._ready(number, proc)
                self._readers.append(asyncio.create_task(self._read(number, proc),
                                                         name=f"web worker {number}"))
        except BaseException:
            await self.stop()
            raise
        finally:
            for sock in self.sockets:       # the children hold their own copies
                sock.close()

    async def _ready(self, number: int, proc: asyncio.subprocess.Process) -> None:
        """Wait until child ``number`` says ``ready``: as long as it lives and uses CPU
        (see START_STALL_S, START_LIMIT_S); GatewayError saying how it ended if not."""
        loop = asyncio.get_running_loop()
        started = progressed = loop.time()
        cpu = _cpu_seconds(proc.pid)
        line = asyncio.ensure_future(proc.stdout.readline())
        try:
            while not (await asyncio.wait({line}, timeout=START_POLL_S))[0]:
                now, used = loop.time(), _cpu_seconds(proc.pid)
                if used is None or cpu is None or used > cpu:
                    cpu, progressed = used, now
                if now - progressed >= START_STALL_S or now - started >= START_LIMIT_S:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    how = (f"used no CPU for {START_STALL_S:g} s" if now - started <
                           START_LIMIT_S else f"was not serving after {START_LIMIT_S:g} s")
                    raise GatewayError(f"web worker {number} did not start: it {how} and "
                                       f"was stopped{self._said(number)}; set [web] workers "
                                       f"= 1 to serve from one process")
            try:
                said = line.result()
                what = repr(said.strip()[:200])
            except ValueError:          # asyncio's line limit (64 KiB) without a newline
                said, what = b"?", "a line of more than 64 KiB"
        finally:
            line.cancel()
        if said.strip() == b"ready":
            return
        if said:
            raise GatewayError(f"web worker {number} said {what} instead of 'ready'"
                               f"{self._said(number)}; set [web] workers = 1 to serve from "
                               f"one process")
        try:                            # its stdout ended: it exited, or is about to
            status = await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            await asyncio.wait_for(asyncio.shield(self._stderr_readers[number - 1]),
                                   STOP_TIMEOUT_S)
        except asyncio.TimeoutError:
            status = None
        how = ("closed its output" if status is None else f"was killed by signal {-status}"
               if status < 0 else f"exited with status {status}")
        raise GatewayError(f"web worker {number} {how} before it served"
                           f"{self._said(number)}; set [web] workers = 1 to serve from one "
                           f"process")

    def _said(self, number: int) -> str:
        lines = [line for line in self._stderr[number - 1] if line.strip()]
        return (": " + " / ".join(line.strip()[:300] for line in lines[-3:])
                if lines else " (it wrote nothing on stderr)")

    @staticmethod
    async def _errors(proc: asyncio.subprocess.Process, kept: deque[str]) -> None:
        """A child's stderr: on to ours as it comes, the last lines kept for an error."""
        decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        pending = ""            # read in blocks: a line of any length is passed on
        while block := await proc.stderr.read(1 << 16):
            text = decode(block)
            sys.stderr.write(text)
            *lines, pending = (pending + text).split("\n")
            kept.extend(line[:1000] for line in lines)
            pending = pending[-1000:]
        if pending:
            kept.append(pending)

    async def _read(self, number: int, proc: asyncio.subprocess.Process) -> None:
        while line := await proc.stdout.readline():
            what, _, seq = line.decode("ascii", "replace").partition(" ")
            if what == "accepted" and seq.strip().isdigit():
                self.accepted(int(seq))
        status = await proc.wait()
        if not self._stopping:
            log.error("web worker %d ended (status %s); the other processes serve its "
                      "share of the web admin", number, status)

    async def stop(self) -> None:
        """Close the children's stdin (they finish the requests in progress and exit),
        then kill those still running after STOP_TIMEOUT_S."""
        self._stopping = True
        for proc in self.processes:
            if proc.stdin is not None and not proc.stdin.is_closing():
                proc.stdin.close()
        for proc in self.processes:
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        # stderr ends with the children; cancelled only if one outlived the kill
        if self._stderr_readers:
            await asyncio.wait(self._stderr_readers, timeout=STOP_TIMEOUT_S)
        for task in self._stderr_readers:
            task.cancel()
        await asyncio.gather(*self._stderr_readers, return_exceptions=True)


def _cpu_seconds(pid: int) -> float | None:
    """CPU time process ``pid`` used so far (Linux proc(5): utime + stime of
    /proc/PID/stat), or None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()     # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tell(line: str, lock=threading.Lock()) -> None:
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


async def _serve(sock: socket.socket, settings: dict) -> None:
    import uvicorn

    from faxengine.gateway.store import Store
    from faxengine.gateway.store.engine import make_engine
    from faxengine.gateway.web import create_app
    from faxengine.gateway.web.security import SharedLoginLimiter

    data_dir = Path(settings["data_dir"])
    # not Store.open: the gateway has migrated the database, and cleaning the spool
    # of temporaries would remove a file the gateway is writing
    store = Store(make_engine(settings["database"], data_dir), data_dir)

    async def submit(raw: bytes, mail_from: str, rcpt_to: list[str]) -> int:
        seq = await asyncio.to_thread(store.accept, raw, mail_from, list(rcpt_to),
                                      datetime.now(timezone.utc))
        _tell(f"accepted {seq}")
        return seq

    app = create_app(store, secret_key=settings["secret_key"], timezone=settings["timezone"],
                     fax_domain=settings["fax_domain"], submit=submit,
                     max_upload=settings["max_upload"],
                     limiter=SharedLoginLimiter(Path(settings["logins"])))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    sock.setblocking(False)
    await server.startup(sockets=[sock])

    def watch() -> None:            # stdin's end: the gateway stops us (or is gone)
        sys.stdin.buffer.read()
        server.should_exit = True
    threading.Thread(target=watch, daemon=True, name="stdin").start()
    _tell("ready")
    try:
        await server.main_loop()
    finally:
        await server.shutdown(sockets=[sock])
        store.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m faxengine.gateway.web.workers FD``: serve the web admin on the
    listening socket FD with the settings of stdin's first line (see the module)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    argv = sys.argv[1:] if argv is None else argv
    try:
        sock = socket.socket(fileno=int(argv[0]))
        settings = json.loads(sys.stdin.buffer.readline())
        missing = SETTINGS - set(settings) if isinstance(settings, dict) else SETTINGS
        if missing:
            raise ValueError(f"the settings line lacks {', '.join(sorted(missing))}")
    except (IndexError, ValueError, OSError) as exc:
        print(f"faxengine web worker: started wrongly ({exc}); the gateway starts it "
              f"for [web] workers > 1", file=sys.stderr)
        return 2
    try:
        import uvloop               # the [gateway] extra installs it: a cheaper loop
        run = uvloop.run
    except ImportError:
        run = asyncio.run
    run(_serve(sock, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
