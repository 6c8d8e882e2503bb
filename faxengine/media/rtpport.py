"""An RTP stream as one end of the pump, paced by a real clock: ``RtpPort``, ``run_paced``.

The ``Pump`` joins two ends block by block and keeps no clock.  On a
network the far end is an RTP session (``faxengine.media.rtp``): what it
*sends* into the pump (``tx``) is what arrived from the network, played out
by the session's jitter buffer, and what it *hears* (``rx``) goes out as
RTP.  A block of which no packet arrived comes out as None, so the pump
calls the terminal's ``rx_fillin`` for it instead of feeding it silence.

Pacing
------
``run_paced`` advances the pump in real time on the asyncio loop's
monotonic clock: block *j* is due at ``t0 + j * 20 ms``, counted from the
call's start (never by adding intervals, so a late wake-up does not
accumulate).  Each wake-up it runs every block due by ``now`` (catching up
after a late wake-up), queues what the terminal sent and sends the packets
due.  One ``Pacer`` per loop wakes every 20 ms for all its calls, so a
hundred calls cost the loop 50 wake-ups a second, not 5000.  The RTP session's send clock starts at the same
``t0`` and its packet *n* is due with block *n*, so the block is queued
before its packet is due and nothing goes out as an underrun.

Two clocks meet in the port: the pump's blocks (from ``t0``) and the jitter
buffer's play-out (from the first packet's arrival plus its delay).  Both
step 20 ms, at different phases, so when the pump wants a block the buffer
may have handed out one fewer or one more; the port keeps them in a short
queue that starts one block deep (20 ms more latency), so it never runs
dry while packets arrive.  Before the first packet the far end has sent
nothing: the line is silent, and the port says so with silence, not loss.

The port never reads a clock either: ``pull(now)`` and ``flush(now)`` take
the time from ``run_paced``.  ``RtpSocket`` is the thin datagram adapter
that feeds the session what arrives, stamped with the loop's clock.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

import numpy as np

from faxengine.datagram import open_endpoint
from faxengine.levels import SAMPLE_RATE
from faxengine.media.pump import BLOCK, Pump
from faxengine.media.rtp.jitter import Block
from faxengine.media.rtp.protocol import RtpProtocol
from faxengine.media.rtp.session import RtpSession

__all__ = ["Pacer", "RtpPort", "RtpSocket", "open_rtp_socket", "pace", "run_paced"]

Address = tuple[str, int]
BLOCK_SECONDS = BLOCK / SAMPLE_RATE


class RtpSocket(RtpProtocol):
    """``RtpProtocol`` without its timer: it feeds the session what arrives,
    stamped with the loop's clock; sending is ``RtpPort.flush``'s, at the
    pump's pace (a timer of its own would send packets before their block)."""

    def on_datagram(self, data: bytes, addr: Address) -> None:
        if self.session is not None:
            self.session.datagram_received(data, addr[:2], self._loop.time())

    def send(self, datagrams: list[tuple[bytes, Address]]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            for data, addr in datagrams:
                self.transport.sendto(data, addr)


async def open_rtp_socket(host: str) -> RtpSocket:
    """Bind a UDP socket on ``host`` at any free port, for one call's RTP."""
    return await open_endpoint(RtpSocket, (host, 0))


#: the longest run of lost blocks told to the terminal as fill-in.  Fill-in
#: keeps the receivers' carrier and timing across a lost packet or a burst;
#: a far end silent for longer has stopped (killed, unplugged, gone without a
#: BYE), and the terminal must hear that as silence, so its carrier detectors
#: drop and the T.30 timers end the call (told as fill-in for ever, a
#: receiver waited on a dead call until the process was killed).
FILLIN_MAX_BLOCKS = 50          # 1 s of 20 ms blocks


class RtpPort:
    """The far end of a call as a pump ``End``: an RTP session on a socket.

    Args:
        session: the call's ``RtpSession`` (codec and remote from SDP).
        socket: the ``RtpSocket`` it runs on.
        record: called with (sent, heard) int16 blocks for a recording
            (a lost block is heard as silence), or None.
    """

    def __init__(self, session: RtpSession, socket: RtpSocket,
                 record: Callable[[np.ndarray | None, np.ndarray | None], None] | None = None
                 ) -> None:
        self.session = session
        self.socket = socket
        socket.session = session
        self.record = record
        self.finished = False           # set by whoever decides the call is over
        self._heard: deque = deque()    # blocks played out by the jitter buffer, not yet used
        self._playing = False           # the jitter buffer has handed out its first block
        self.starved = 0                # blocks the pump wanted before the buffer had them
        self.silenced = 0               # lost blocks heard as silence (past FILLIN_MAX_BLOCKS)
        self._lost_run = 0              # lost blocks in a row
        # a ptime longer than the pump's block: keep one packet's audio queued ahead
        self._lead = max(0, session.samples_per_packet - BLOCK)

    def start(self, now: float) -> None:
        """Start the send clock: packet 0 goes with block 0, due at ``now``."""
        if self._lead:
            self.session.send(np.zeros(self._lead, np.int16))
        self.session.start(now)

    # -- the End protocol ---------------------------------------------------------

    def tx(self, n: int) -> np.ndarray | None:
        """What arrived from the network for this block; None: it was lost."""
        if self._heard:
            block = self._heard.popleft()
            samples = None if block.lost else block.samples
        elif self._playing:
            self.starved += 1
            samples = None
        else:
            samples = np.zeros(n, np.int16)      # nothing sent to us yet: a quiet line
        if samples is None:
            self._lost_run += 1
            if self._lost_run > FILLIN_MAX_BLOCKS:
                self.silenced += 1
                samples = np.zeros(n, np.int16)
        else:
            self._lost_run = 0
        if self.record is not None:
            self.record(None, samples if samples is not None else np.zeros(n, np.int16))
        return samples

    def rx(self, samples: np.ndarray) -> None:
        """The terminal's block: queued to go out as RTP at its time."""
        self.session.send(samples)
        if self.record is not None:
            self.record(samples, None)

    def rx_fillin(self, n: int) -> None:        # the terminal never loses a block
        self.rx(np.zeros(n, np.int16))

    # -- the clock's side -----------------------------------------------------------

    def pull(self, now: float) -> None:
        """Take the blocks the jitter buffer plays out by ``now``."""
        blocks = self.session.receive(now)
        if blocks and not self._playing:
            self._playing = True
            self._heard.append(Block(np.zeros(BLOCK, np.int16), False))   # the slack
        self._heard.extend(blocks)

    def flush(self, now: float) -> None:
        """Send the packets due by ``now``."""
        self.socket.send(self.session.datagrams_to_send(now))


class _Paced:
    """One call's pump on the clock: ``step(now)`` runs the blocks due by ``now``."""

    def __init__(self, pump: Pump, port: RtpPort, until: Callable[[], bool], t0: float,
                 limit: int, done: asyncio.Future) -> None:
        self.pump, self.port, self.until, self.t0, self.limit = pump, port, until, t0, limit
        self.done = done

    def step(self, now: float) -> bool:
        """Run what is due; True when the call's pump is over."""
        pump, port = self.pump, self.port
        if (self.until() or pump.samples >= self.limit
                or (pump.a.finished and pump.b.finished)):
            return True
        due = (int((now - self.t0) / BLOCK_SECONDS + 1e-9) + 1) * BLOCK
        port.pull(now)
        pump.limit = min(due, self.limit)
        pump.run()
        port.flush(now)
        return False


class Pacer:
    """The one timer of a loop's paced calls: every 20 ms it steps each of them.

    A timer per call would wake the loop 50 times a second per call; one for
    all wakes it 50 times a second whatever the number of calls, and each
    call still runs exactly the blocks its own clock says are due.
    """

    _by_loop: dict[asyncio.AbstractEventLoop, "Pacer"] = {}

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.calls: list[_Paced] = []
        self._timer: asyncio.TimerHandle | None = None
        self._t0 = 0.0

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> "Pacer":
        for other in [lp for lp in cls._by_loop if lp.is_closed()]:
            del cls._by_loop[other]
        return cls._by_loop.setdefault(loop, cls(loop))

    def add(self, paced: _Paced) -> None:
        """Step ``paced`` from the next tick on (its first packet goes out with the
        others, on the same grid, so the far end's jitter buffer does not anchor
        on one packet earlier than the rest)."""
        self.calls.append(paced)
        if self._timer is None:
            self._t0 = paced.t0
            self._timer = self.loop.call_at(self._t0 + BLOCK_SECONDS, self._tick)

    def _run_one(self, paced: _Paced, now: float) -> bool:
        try:
            over = paced.step(now)
        except Exception as exc:            # the call's task gets it; the others go on
            if not paced.done.done():
                paced.done.set_exception(exc)
            return True
        if over and not paced.done.done():
            paced.done.set_result(None)
        return over

    def _tick(self) -> None:
        now = self.loop.time()
        self.calls = [c for c in self.calls if not c.done.done() and not self._run_one(c, now)]
        if not self.calls:
            self._timer = None
            return
        k = int((self.loop.time() - self._t0) / BLOCK_SECONDS) + 1
        self._timer = self.loop.call_at(self._t0 + k * BLOCK_SECONDS, self._tick)


def pace(pump: Pump, port: RtpPort, *, until: Callable[[], bool],
         max_seconds: float) -> asyncio.Future:
    """Start running ``pump`` in real time; the future is done when ``until()``
    is true or after ``max_seconds`` of line time.

    ``port`` is one of the pump's ends; its session's send clock starts now.
    Each wake-up of the loop's ``Pacer`` runs the blocks due by the loop's
    clock: the pump's own loop, with its line-time limit moved on by the
    clock.  Cancelling the future stops the call's pacing for good (the
    clock cannot be restarted: packets already sent fix the RTP timeline);
    a caller that must keep the call running past a cancellation of its
    own task awaits the future through ``asyncio.shield``.
    """
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    port.start(t0)
    done = loop.create_future()
    Pacer.of(loop).add(_Paced(pump, port, until, t0, int(max_seconds * SAMPLE_RATE), done))
    return done


async def run_paced(pump: Pump, port: RtpPort, *, until: Callable[[], bool],
                    max_seconds: float) -> None:
    """Run ``pump`` in real time until ``until()`` is true or ``max_seconds``
    of line time (``pace``, awaited)."""
    await pace(pump, port, until=until, max_seconds=max_seconds)
