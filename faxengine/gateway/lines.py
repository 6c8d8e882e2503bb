"""The line drivers: how a job's pages become a fax call (mail-gateway.md, "Line drivers").

Two drivers with one interface, ``async call(number, pages, *, detail_no,
ecm=True, on_event=None) -> CallOutcome`` and ``async close()``:

* ``SimulatedNetwork``: a telephone network inside the gateway.  Each
  number has a behaviour (``parse_behaviour``): ``answer`` is a real call of
  our sending ``FaxTerminal`` against our receiving one through
  ``faxengine.line`` models of a telephone line (6 dB of loss, the
  telephone band, white noise at ``GOOD_SNR_DB`` and G.711 mu-law), pumped
  block by block by the media layer's ``Pump`` as fast as the CPU allows
  (``realtime=True``: paced to the wall clock, 20 ms per 160 samples).  What
  the far end received is written to ``data_dir/simnet/<number>/<detail_no>.tif``.
  ``busy`` and ``no-answer`` never get past ringing; ``not-fax`` answers with
  a voice, ``noisy:<snr>`` is ``answer`` at that SNR, ``hangup-after:<n>``
  hangs up (DCN, T.30 §5.3.6.2.8) after confirming ``n`` pages.  Every
  result is what the calling terminal really says, never made up, except
  for the two that end before T.30 starts (BUSY, NO_ANSWER).
* ``SipLine``: a SIP trunk: ``faxengine.media.call.send_fax`` to
  ``uri_template.format(number=...)`` on one ``SipEndpoint`` shared by all
  calls (REGISTERed once when a registrar is given).

A call's outcome is a ``CallOutcome``: ``result_code`` is one of
``faxengine.gateway.jobs.CALL_OUTCOMES`` (the T.30 terminal's result code,
or BUSY / LINE_FAILED / NO_ANSWER from the line), ``trace`` the calling
terminal's events as plain dicts (JSON-serialisable: frame names, line
times, decoded words; page events without their images) for the history's
timeline.

The simulated calls are CPU-bound and run off the event loop, each on its
own terminals and line models, nothing shared.  As fast as the CPU allows
they run in a process pool of one worker per CPU: the pump hands the C
kernels one 20 ms block at a time and holds the GIL between them, so
threads would run one call at a time (bench/test_gateway_lines.py measures
both with 8 lines).  In real time (``realtime=True``) a call mostly sleeps,
so there each call has a thread.  A process-pool call reports its events to
``on_event`` when it has ended (a thread's as they happen), and is stopped
through a one-byte shared-memory flag it polls every block.

Cancelling ``call`` (the gateway stopping) hangs up as a fax machine's stop
key does: the calling terminal is aborted (DCN), the DCN is played out (at
most ``ABORT_LINE_S`` of line time), then -- on SIP -- BYE, and
``CancelledError`` is raised; the service puts the job back (LOCAL_ABORT
is not an attempt).
"""
from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import re
import signal
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import shared_memory
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from faxengine import tiff
from faxengine.gateway.errors import GatewayConfigError, GatewayError
from faxengine.levels import SAMPLE_RATE
from faxengine.line import Line
from faxengine.media.call import ABORT_LINE_S, LINGER_S, SipEndpoint, send_fax
from faxengine.media.pump import BLOCK, Leg, Pump
from faxengine.t30 import events as t30events
from faxengine.t30.link import TX_POWER_DBM0
from faxengine.t30.result import CODES
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import Page

__all__ = ["BEHAVIOURS", "Behaviour", "CallOutcome", "SimulatedNetwork", "SipLine",
           "event_dict", "parse_behaviour", "GOOD_SNR_DB"]

logger = logging.getLogger(__name__)

GOOD_SNR_DB = 35.0          # a good telephone line's SNR (our definition: docs/line.md)
LOSS_DB = 6.0               # a local loop's loss each way, dB
BUSY_S = 3.0                # ring-back before the busy tone is recognised, s
RING_TIMEOUT_S = 35.0       # no answer: as long as T.30's T1 (§5.4.3.1), s
MAX_CALL_S = 3600.0         # line time after which a simulated call is stopped (a runaway)
VOICE_DBM0 = -20.0          # the not-fax far end: a voice at a talker's level

BEHAVIOURS = {
    "answer": "a fax machine answers and receives the document",
    "busy": "the number is busy (BUSY)",
    "no-answer": f"it rings and nobody answers (NO_ANSWER after {RING_TIMEOUT_S:g} s)",
    "not-fax": "a person answers (the terminal ends with what it hears: NOT_FAX)",
    "noisy:<snr dB>": "a fax machine answers over a line with noise at this SNR",
    "hangup-after:<pages>": "a fax machine answers and hangs up after this many pages",
}
_USE = "use answer, busy, no-answer, not-fax, noisy:<SNR dB> or hangup-after:<pages>"


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the far end of a simulated number does.

    Attributes:
        kind: "answer", "busy", "no-answer", "not-fax", "noisy" or "hangup-after".
        snr_db: the line's SNR (``GOOD_SNR_DB`` unless "noisy").
        pages: "hangup-after": the pages confirmed before the far end hangs up.
    """

    kind: str
    snr_db: float = GOOD_SNR_DB
    pages: int | None = None

    def __str__(self) -> str:
        if self.kind == "noisy":
            return f"noisy:{self.snr_db:g}"
        if self.kind == "hangup-after":
            return f"hangup-after:{self.pages}"
        return self.kind


def parse_behaviour(text: Any, entry: str = "") -> Behaviour:
    """A behaviour from its text in ``[line.numbers]`` (see ``BEHAVIOURS``).

    Args:
        text: "answer", "busy", "no-answer", "not-fax", "noisy:<snr dB>"
            (-10 to 60) or "hangup-after:<pages>" (0 to 1000).
        entry: the setting's name for the message (``line.numbers."092..."``).

    Raises:
        GatewayConfigError: anything else; the message names ``entry``.
    """
    where = f"{entry} = {text!r}: " if entry else f"{text!r}: "
    if not isinstance(text, str):
        raise GatewayConfigError(f"{where}a behaviour is a string; {_USE}")
    word = text.strip().lower()
    if word in ("answer", "busy", "no-answer", "not-fax"):
        return Behaviour(word)
    kind, colon, arg = word.partition(":")
    if colon and kind == "noisy":
        try:
            snr = float(arg)
        except ValueError:
            snr = math.nan
        if not -10.0 <= snr <= 60.0:
            raise GatewayConfigError(f"{where}noisy takes an SNR in dB from -10 to 60, "
                                     "e.g. noisy:12")
        return Behaviour("noisy", snr_db=snr)
    if colon and kind == "hangup-after":
        if not re.fullmatch(r"\d{1,4}", arg.strip()) or int(arg) > 1000:
            raise GatewayConfigError(f"{where}hangup-after takes a number of pages from 0 to "
                                     "1000, e.g. hangup-after:1")
        return Behaviour("hangup-after", pages=int(arg))
    raise GatewayConfigError(f"{where}not a behaviour; {_USE}")


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How one call of a job went.

    Attributes:
        result_code: a key of ``faxengine.gateway.jobs.CALL_OUTCOMES``.
        pages_sent: pages the far end confirmed.
        line_seconds: line time of the call (ringing included).
        detail: the outcome in words (the terminal's result message).
        trace: the calling terminal's events as plain dicts (``event_dict``).
    """

    result_code: str
    pages_sent: int = 0
    line_seconds: float = 0.0
    detail: str = ""
    trace: list[dict[str, Any]] = field(default_factory=list)


class _Driver:
    """What both drivers share: ``call`` refuses what no call can be made of,
    then ``_dial`` makes the call."""

    async def call(self, number: str, pages: Sequence[Page], *, detail_no: str,
                   ecm: bool = True,
                   on_event: Callable[[dict[str, Any]], None] | None = None) -> CallOutcome:
        """Call ``number`` and send ``pages``; how it went.

        ``on_event`` is given each trace event (a dict) on the event loop as
        the call goes on (from the simulated network's process pool: when the
        call has ended).  Cancelled, the call hangs up (DCN; on SIP then BYE)
        and CancelledError is raised.

        Raises:
            GatewayError: no pages, or a ``detail_no`` that is not 13 digits.
            LocalProtocolError: a page fax cannot carry (no call is made).
        """
        if not isinstance(detail_no, str) or not re.fullmatch(r"[0-9]{13}", detail_no):
            raise GatewayError(f"detail_no must be the 13 digits of jobs.detail_no, "
                               f"not {detail_no!r}")
        if not pages:
            raise GatewayError(f"job {detail_no} has no pages to send; render its documents first")
        if not (isinstance(number, str) and number.isascii() and number.isdigit()):
            return CallOutcome("LINE_FAILED", 0, 0.0,
                               f"{number!r}: not a number that can be dialled (digits only)")
        return await self._dial(number, list(pages), detail_no, ecm, on_event)

    async def _dial(self, number: str, pages: list[Page], detail_no: str, ecm: bool,
                    on_event: Callable[[dict[str, Any]], None] | None) -> CallOutcome:
        raise NotImplementedError


def event_dict(event: t30events.Event) -> dict[str, Any]:
    """A terminal event as JSON-serialisable data: its type, line time and
    fields (a frame's raw octets in hex, a page's size instead of its image)."""
    out: dict[str, Any] = {"event": type(event).__name__, "time_s": round(event.time_s, 3)}
    if isinstance(event, (t30events.FrameSent, t30events.FrameReceived)):
        out.update(name=event.name, words=event.words, raw=event.raw.hex())
    elif isinstance(event, t30events.TrainingResult):
        out.update(modem=event.modem, rate=event.rate, accepted=event.accepted)
    elif isinstance(event, t30events.PageSent):
        out.update(number=event.number, response=event.response)
    elif isinstance(event, t30events.PageReceived):
        out.update(number=event.number, lines=int(event.image.shape[0]),
                   width=int(event.image.shape[1]), x_res=event.x_res, y_res=event.y_res)
    elif isinstance(event, t30events.CallEnded):
        r = event.result
        out.update(code=r.code, message=r.message, pages=r.pages, bit_rate=r.bit_rate,
                   ecm=r.ecm, coding=r.coding)
    return out


class _Trace(list):
    """The calling terminal's ``on_event``: keeps each event as a dict and
    passes it on to ``emit``."""

    def __init__(self, emit: Callable[[dict[str, Any]], None] | None) -> None:
        super().__init__()
        self.emit = emit

    def __call__(self, event: t30events.Event) -> None:
        d = event_dict(event)
        self.append(d)
        if self.emit is not None:
            try:
                self.emit(d)
            except Exception:       # the watcher's fault: the call goes on
                logger.exception("on_event failed on %s", d["event"])


# ----------------------------------------------------------------- simulated


class _Voice:
    """A far end that answers with a voice: syllables of low-passed noise at
    ``VOICE_DBM0`` at their peak, four a second, with a pause every ~3 s
    (a pump ``End`` that never finishes)."""

    finished = False
    _TAPS = np.array([1.0, 0.9, 0.5])           # a gentle low-pass: speech-like spectrum

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._t = 0
        # a sine's rms at VOICE_DBM0 (0 dBm0 is 3.14 dB below full scale), over the
        # filtered noise's own rms
        self._gain = (32768 / math.sqrt(2) * 10 ** ((VOICE_DBM0 - 3.14) / 20)
                      / float(np.sqrt(np.sum(self._TAPS ** 2))))

    def tx(self, n: int) -> np.ndarray:
        t = (self._t + np.arange(n)) / SAMPLE_RATE
        self._t += n
        voiced = np.convolve(self._rng.standard_normal(n + 2), self._TAPS, mode="valid")
        syllables = np.clip(np.sin(2 * math.pi * 4.0 * t), 0.0, None)
        talking = np.sin(2 * math.pi * 0.3 * t) > -0.5
        return np.clip(voiced * syllables * talking * self._gain, -32768, 32767).astype(np.int16)

    def rx(self, samples: np.ndarray) -> None:
        pass

    def rx_fillin(self, n: int) -> None:
        pass


class _FarEnd:
    """What the far end of an answered simulated call keeps: the pages, and
    when to hang up (``hangup-after:n``: it answers the post-page command
    after its ``n``-th confirmed page with DCN instead of a response, as a
    machine out of paper would; T.30 §5.3.6.2.8)."""

    POST_PAGE = frozenset({"PPS", "MPS", "EOP", "EOM", "EOR", "PRI-MPS", "PRI-EOP", "PRI-EOM"})

    def __init__(self, hang_up_after: int | None) -> None:
        self.pages: list[Page] = []
        self.confirmed = 0
        self.hang_up_after = hang_up_after
        self._hang_up = False
        self.hung_up = False
        self.kept: int | None = None    # pages it keeps: those confirmed before it hung up

    def __call__(self, event: t30events.Event) -> None:
        if isinstance(event, t30events.PageReceived):
            self.pages.append(Page(event.image, event.x_res, event.y_res))
        elif isinstance(event, t30events.FrameSent) and event.name in ("MCF", "RTP"):
            self.confirmed += 1
        elif (isinstance(event, t30events.FrameReceived) and event.name in self.POST_PAGE
              and self.hang_up_after is not None and self.confirmed >= self.hang_up_after):
            self._hang_up = True
            self.kept = self.confirmed      # the page just received is never confirmed

    def check(self, terminal: FaxTerminal) -> None:
        """After each block (never inside the terminal's own event call)."""
        if self._hang_up and not self.hung_up and not terminal.finished:
            self.hung_up = True
            terminal.abort()        # its response not sent yet: DCN goes instead


def _line(snr_db: float, seed: int) -> Line:
    """One direction of a telephone line: its loss, the telephone band
    (300-3400 Hz), white noise ``snr_db`` below the signal as it arrives, and
    the network's G.711 mu-law (Japan's, as North America's)."""
    return Line(gain_db=-LOSS_DB, bandpass=True, g711="ulaw",
                noise_dbm0=TX_POWER_DBM0 - LOSS_DB - snr_db, seed=seed)


class _StopFlag:
    """A call's stop key across a process boundary: one byte of shared memory
    (an ``is_set``/``set`` pair like ``threading.Event``'s, polled every block)."""

    def __init__(self) -> None:
        self._memory = shared_memory.SharedMemory(create=True, size=1)
        self._memory.buf[0] = 0
        self.name = self._memory.name

    def __getstate__(self) -> dict:
        return {"name": self.name}

    def __setstate__(self, state: dict) -> None:
        self.name = state["name"]
        self._memory = None         # attached on first use, in the worker

    def _buf(self) -> Any:
        if self._memory is None:
            # (the pool's workers share the creator's resource tracker, so
            # attaching registers the name a second time, harmlessly; the
            # creator's unlink unregisters it)
            self._memory = shared_memory.SharedMemory(name=self.name)
        return self._memory.buf

    def is_set(self) -> bool:
        return bool(self._buf()[0])

    def set(self) -> None:
        self._buf()[0] = 1

    def close(self, unlink: bool = False) -> None:
        if self._memory is not None:
            self._memory.close()
            if unlink:
                self._memory.unlink()


def _simulate(behaviour: Behaviour, pages: list[Page], ecm: bool, out: Path | None, seed: int,
              realtime: bool, stop: Any, emit: Callable[[dict], None] | None,
              log: logging.Logger | logging.LoggerAdapter) -> CallOutcome:
    """One answered simulated call, in a worker thread or process: our caller against
    the far end, block by block; ``stop`` (set: hang up) is polled every block."""
    trace = _Trace(emit)
    caller = FaxTerminal(True, send=pages, ecm=ecm, logger=log, on_event=trace)
    far = _FarEnd(behaviour.pages if behaviour.kind == "hangup-after" else None)
    if behaviour.kind == "not-fax":
        answerer: Any = _Voice(seed)
    else:
        answerer = FaxTerminal(False, ecm=ecm, logger=log, on_event=far)
    legs = (Leg(_line(behaviour.snr_db, seed)), Leg(_line(behaviour.snr_db, seed + 1)))
    pump = Pump(caller, answerer, *legs, max_seconds=MAX_CALL_S)
    started = time.monotonic()
    stopped_at: int | None = None
    limit = int(MAX_CALL_S * SAMPLE_RATE)
    while pump.samples < limit:
        if stopped_at is None and stop.is_set():
            stopped_at = pump.samples       # stop key: DCN, played out below
            caller.abort()
        if stopped_at is not None and (caller.finished or
                                       pump.samples - stopped_at >= ABORT_LINE_S * SAMPLE_RATE):
            break
        if caller.finished:                 # the far end hears our DCN, then we hang up
            break
        pump.limit = pump.samples + BLOCK
        pump.run()
        if isinstance(answerer, FaxTerminal):
            far.check(answerer)
        if realtime:
            ahead = started + pump.samples / SAMPLE_RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    for term in (caller, answerer):
        if isinstance(term, FaxTerminal) and not term.finished:
            term.abort()
            for _ in range(int(ABORT_LINE_S * SAMPLE_RATE) // BLOCK):
                if term.finished:
                    break
                term.tx(BLOCK)
    kept = far.pages[:far.kept]
    if kept and out is not None:
        _write_atomically(out, kept)
    if isinstance(stop, _StopFlag):
        stop.close()
    result = caller.result
    code = result.code if result is not None else "LOCAL_ABORT"
    message = result.message if result is not None else CODES["LOCAL_ABORT"]
    seconds = pump.seconds + (LINGER_S if stopped_at is None else 0.0)    # till we hang up
    return CallOutcome(code, result.pages if result is not None else 0, round(seconds, 2),
                       message, list(trace))


def _worker_ignores_ctrl_c() -> None:
    """A pool worker leaves Ctrl-C to the gateway: the SIGINT a terminal sends
    to the whole process group would kill it mid-call (and count the call
    as an attempt); the gateway stops its calls itself (stop flag, DCN)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _write_atomically(path: Path, pages: list[Page]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    tiff.write(part, pages)
    os.replace(part, path)


class SimulatedNetwork(_Driver):
    """A telephone network inside the gateway (see the module's doc).

    Args:
        numbers: number -> behaviour text (``parse_behaviour``); the key
            "default" is for every other number.  A number with neither
            fails as LINE_FAILED (no such number).
        data_dir: the gateway's data directory; what far ends receive is
            written under ``simnet/``.
        realtime: pace calls to the wall clock instead of running them as
            fast as the CPU allows.
        processes: the process pool's workers when not ``realtime``
            (default: one per CPU); 0 runs the calls in threads instead.
        workers: threads calls run in at most, in real time or with
            ``processes=0`` (more calls wait).

    Raises:
        GatewayConfigError: a bad number or behaviour; the message names it.
    """

    def __init__(self, numbers: dict[str, str], data_dir: str | os.PathLike, *,
                 realtime: bool = False, processes: int | None = None,
                 workers: int = 16) -> None:
        if not isinstance(numbers, dict):
            raise GatewayConfigError("line.numbers must be a table of number = behaviour")
        self.behaviours: dict[str, Behaviour] = {}
        for number, text in numbers.items():
            entry = f'line.numbers."{number}"'
            if number != "default" and not (isinstance(number, str) and number.isdigit()
                                            and number.isascii()):
                raise GatewayConfigError(f"{entry}: not a number; give the fax number in "
                                         "digits (or \"default\" for every other number)")
            self.behaviours[number] = parse_behaviour(text, entry)
        self.root = Path(data_dir) / "simnet"
        self.realtime = bool(realtime)
        if processes is None:
            processes = os.cpu_count() or 1
        self.processes = 0 if self.realtime else max(0, int(processes))
        self._workers = workers
        self._executor: Executor | None = None     # made at the first call
        self._calls = 0

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.processes:      # spawn: never fork a process that runs an event loop
                self._executor = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_ignores_ctrl_c)
            else:
                self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="simnet")
        return self._executor

    def behaviour(self, number: str) -> Behaviour | None:
        """What ``number`` does (its own entry, else "default"), None: no such number."""
        return self.behaviours.get(number, self.behaviours.get("default"))

    def received_path(self, number: str, detail_no: str) -> Path:
        """Where the far end of ``number`` writes what call ``detail_no`` brought."""
        return self.root / number / f"{detail_no}.tif"

    async def _dial(self, number: str, pages: list[Page], detail_no: str, ecm: bool,
                    on_event: Callable[[dict[str, Any]], None] | None) -> CallOutcome:
        behaviour = self.behaviour(number)
        if behaviour is None:
            return CallOutcome("LINE_FAILED", 0, 0.0,
                               f"{number}: no such number on the simulated network")
        if behaviour.kind in ("busy", "no-answer"):
            code, seconds = (("BUSY", BUSY_S) if behaviour.kind == "busy"
                             else ("NO_ANSWER", RING_TIMEOUT_S))
            if self.realtime:
                await asyncio.sleep(seconds)
            words = "the number was busy" if code == "BUSY" else CODES["NO_ANSWER"]
            return CallOutcome(code, 0, seconds, words)
        self._calls += 1
        seed = zlib.crc32(f"{number}:{detail_no}:{self._calls}".encode())
        loop = asyncio.get_running_loop()
        emit = None if on_event is None else partial(loop.call_soon_threadsafe, on_event)
        out = None if behaviour.kind == "not-fax" else self.received_path(number, detail_no)
        log = logging.LoggerAdapter(logging.getLogger("faxengine.t30"),
                                    {"detail_no": detail_no})
        stop: Any = _StopFlag() if self.processes else threading.Event()
        pool = self._pool()
        work = loop.run_in_executor(pool, _simulate, behaviour, pages, ecm, out,
                                    seed, self.realtime, stop, None if self.processes else emit,
                                    log)
        try:
            outcome = await asyncio.shield(work)
        except BrokenProcessPool as exc:    # a worker died (killed, out of memory)
            if self._executor is pool:      # (not one a call since has started anew)
                pool.shutdown(wait=False)
                self._executor = None       # the next call starts a new pool
            return CallOutcome("LINE_FAILED", 0, 0.0,
                               f"the simulated network's worker process died ({exc}); "
                               "the call is tried again")
        except asyncio.CancelledError:
            stop.set()          # the worker aborts its caller (DCN) at the next block
            work.cancel()       # or it never starts, when it still waits for a worker
            try:
                await asyncio.wait_for(asyncio.shield(work), ABORT_LINE_S + 5.0)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
            raise
        finally:
            if isinstance(stop, _StopFlag):
                stop.close(unlink=True)
        if self.processes and on_event is not None:
            for d in outcome.trace:
                on_event(d)
        return outcome

    async def close(self) -> None:
        """Wait for the calls in their workers to end (cancel ``call`` first to
        stop them) and let the workers go."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown, True)


# ----------------------------------------------------------------------- SIP


class SipLine(_Driver):
    """A SIP trunk: every call is ``send_fax`` to ``uri_template`` with the number.

    Args:
        uri_template: e.g. ``"sip:{number}@127.0.0.1:5062"``.
        user, password: our SIP user (From, REGISTER) and the digest password.
        registrar: a registrar URI to REGISTER at when the line opens; "" none.
        local: the address our user agent binds (port 0: any free one).

    Raises:
        GatewayConfigError: a template that does not make a SIP URI of a number.
    """

    def __init__(self, uri_template: str, *, user: str = "", password: str = "",
                 registrar: str = "", local: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        try:
            sample = uri_template.format(number="0123456789")
        except (KeyError, IndexError, ValueError, AttributeError):
            sample = ""
        if "{number}" not in str(uri_template) or not sample.startswith(("sip:", "sips:")):
            raise GatewayConfigError(f"line.sip.uri = {uri_template!r}: give a SIP URI with "
                                     "{number} where the number goes, e.g. "
                                     "\"sip:{number}@127.0.0.1:5062\"")
        self.uri_template = uri_template
        self.user, self.password, self.registrar = user, password, registrar
        self.local = local
        self._endpoint: SipEndpoint | None = None
        self._opening = asyncio.Lock()

    async def _open(self) -> SipEndpoint:
        async with self._opening:
            if self._endpoint is None:
                endpoint = await SipEndpoint.open(self.local, user=self.user or "faxengine",
                                                  username=self.user or None,
                                                  password=self.password or None)
                if self.registrar:
                    try:
                        await endpoint.register(self.registrar)
                    except BaseException:
                        endpoint.close()
                        raise
                self._endpoint = endpoint
            return self._endpoint

    async def _dial(self, number: str, pages: list[Page], detail_no: str, ecm: bool,
                    on_event: Callable[[dict[str, Any]], None] | None) -> CallOutcome:
        trace = _Trace(on_event)
        try:
            endpoint = await self._open()
            result = await send_fax(pages, self.uri_template.format(number=number),
                                    endpoint=endpoint, ecm=ecm, on_event=trace)
        except (ConnectionError, OSError) as exc:
            return CallOutcome("LINE_FAILED", 0, 0.0, f"the SIP line failed: {exc}", list(trace))
        if result.codec is None:        # never answered: the SIP final response says why
            return CallOutcome(sip_result_code(result.sip_status), 0, 0.0,
                               f"SIP {result.sip_status} {result.sip_reason}", list(trace))
        return CallOutcome(result.fax.code, result.fax.pages, round(result.line_seconds, 2),
                           result.fax.message, list(trace))

    async def close(self) -> None:
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint = None


def sip_result_code(status: int) -> str:
    """The result code of a call that was not answered, from its SIP final
    status (RFC 3261 §21): busy (486 Busy Here, 600 Busy Everywhere), not
    answered (408 Request Timeout, 480 Temporarily Unavailable, 487 Request
    Terminated: our CANCEL after ringing too long), else the line failed."""
    if status in (486, 600):
        return "BUSY"
    if status in (408, 480, 487):
        return "NO_ANSWER"
    return "LINE_FAILED"
