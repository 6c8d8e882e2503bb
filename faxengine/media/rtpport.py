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
start (never by adding intervals, so a late wake-up does not accumulate).
Each wake-up it runs every block due by ``now`` (catching up after a late
wake-up), queues what the terminal sent, sends the packets due and sleeps
until the next block.  The RTP session's send clock starts at the same
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

from faxengine.levels import SAMPLE_RATE
from faxengine.media.pump import BLOCK, Pump
from faxengine.media.rtp.jitter import Block
from faxengine.media.rtp.protocol import RtpProtocol
from faxengine.media.rtp.session import RtpSession

__all__ = ["RtpPort", "RtpSocket", "open_rtp_socket", "run_paced"]

Address = tuple[str, int]
BLOCK_SECONDS = BLOCK / SAMPLE_RATE


class RtpSocket(RtpProtocol):
    """``RtpProtocol`` without its timer: it feeds the session what arrives,
    stamped with the loop's clock; sending is ``RtpPort.flush``'s, at the
    pump's pace (a timer of its own would send packets before their block)."""

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if self.session is not None:
            self.session.datagram_received(data, addr[:2], self._loop.time())

    def send(self, datagrams: list[tuple[bytes, Address]]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            for data, addr in datagrams:
                self.transport.sendto(data, addr)


async def open_rtp_socket(host: str) -> RtpSocket:
    """Bind a UDP socket on ``host`` at any free port, for one call's RTP."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(RtpSocket, local_addr=(host, 0))
    return protocol


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


async def run_paced(pump: Pump, port: RtpPort, *, until: Callable[[], bool],
                    max_seconds: float) -> None:
    """Run ``pump`` in real time until ``until()`` is true or ``max_seconds`` of line time.

    ``port`` is one of the pump's ends; its session's send clock starts now.
    Each wake-up runs the blocks due by the loop's clock, then sleeps until
    the next one: the pump's own loop, with its line-time limit moved on by
    the clock.
    """
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    port.start(t0)
    limit = int(max_seconds * SAMPLE_RATE)
    while not until() and pump.samples < limit and not (pump.a.finished and pump.b.finished):
        now = loop.time()
        due = (int((now - t0) / BLOCK_SECONDS + 1e-9) + 1) * BLOCK
        port.pull(now)
        pump.limit = min(due, limit)
        pump.run()
        port.flush(now)
        await asyncio.sleep(max(0.0, t0 + pump.samples / SAMPLE_RATE - loop.time()))
