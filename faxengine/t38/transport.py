"""A T.38 terminal on a UDP socket, in real time: ``UdptlSocket``, ``UdptlPort``, ``T38Stats``.

The T.38 terminal (``faxengine.t38.terminal``) and UDPTL
(``faxengine.t38.udptl``) are sans-I/O; this module is the thin asyncio
side that joins them to a network, as ``faxengine.media.rtpport`` joins the
audio terminal to RTP:

* ``UdptlSocket`` is the call's ``faxengine.datagram.DatagramEndpoint``: it
  queues what arrives (a bounded queue: at most ``QUEUE_MAX`` datagrams
  wait, more are dropped and counted, so a flood costs memory no more than a
  slow loop does), and ``take()`` adds what still waits in the socket
  (``drain``): asyncio reads one datagram per socket per turn of the loop,
  too few when a turn runs a hundred calls' steps, and the kernel would drop
  the rest once the socket's buffer is full.  It sends what it is given.
* ``UdptlPort`` runs one call: each ``step(now)`` feeds the terminal the IFP
  packets the ``UdptlReceiver`` hands up (``rx``; a gap UDPTL could not fill
  as ``rx_lost``), then runs the terminal's clock in 20 ms blocks up to
  ``now`` and sends each IFP packet it gives in a UDPTL datagram
  (``UdptlSender``: redundancy, or parity FEC), ``copies(packet)`` times
  (indicators and signal ends three times, T.38 §9.1 practice, as spandsp).

Pacing
------
The terminal's clock is the number of samples given to ``tx``; ``step(now)``
runs every block due by ``now`` counted from the call's start ``t0`` (block
*j* is due at ``t0 + j * 20 ms``, never by adding intervals, so late
wake-ups do not accumulate: drift correction), as ``rtpport``'s pump does.
The port has the shape of the media layer's paced calls (``t0``,
``step(now) -> over``, ``done``), so one ``faxengine.media.rtpport.Pacer``
per loop wakes every 20 ms for all calls, audio and T.38 alike
(``faxengine.media.t38call.pace_t38``).  The port itself never reads a clock.
Each step hands the terminal every datagram that came by ``now`` before it
runs the terminal's clock, so the terminal's T.30 timers (counted in its
samples) never expire on a packet that is already here.  ``late`` keeps the
most a step ran after its block was due: the loop's lag as the call saw it.
"""
from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from faxengine.datagram import DatagramEndpoint, open_endpoint
from faxengine.levels import SAMPLE_RATE
from faxengine.t38.errors import T38Error
from faxengine.t38.ifp import Data, Indicator
from faxengine.t38.terminal import T38Terminal, copies
from faxengine.t38.udptl import LOST, UdptlReceiver, UdptlSender

__all__ = ["BLOCK", "QUEUE_MAX", "T38Stats", "UdptlPort", "UdptlSocket", "open_udptl_socket"]

Address = tuple[str, int]
BLOCK = 160                     # samples of terminal time per step: 20 ms
BLOCK_SECONDS = BLOCK / SAMPLE_RATE
QUEUE_MAX = 1000                # datagrams waiting for the next step, at most (~20 s of a call)


def _kind(packet: Indicator | Data) -> str:
    return packet.kind.value


class UdptlSocket(DatagramEndpoint):
    """One call's UDP socket for UDPTL: a bounded queue in, ``send`` out."""

    def __init__(self, max_queue: int = QUEUE_MAX) -> None:
        super().__init__()
        self.queue: deque[bytes] = deque()
        self.max_queue = max_queue
        self.overflow = 0           # datagrams dropped: the queue was full
        self.sent = 0               # datagrams sent (each copy counts)

    def on_datagram(self, data: bytes, addr: Address) -> None:
        if len(self.queue) >= self.max_queue:
            self.overflow += 1
            return
        self.queue.append(data)

    def take(self) -> list[bytes]:
        """The datagrams that arrived since the last call, oldest first: those
        the loop read, then those still waiting in the socket (``drain``: at
        most ``max_queue``; the rest wait for the next call)."""
        out = list(self.queue)
        self.queue.clear()
        out += [data for data, _ in self.drain(self.max_queue)]
        return out

    def send(self, data: bytes, addr: Address) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)
            self.sent += 1


async def open_udptl_socket(host: str) -> UdptlSocket:
    """Bind a UDP socket on ``host`` at any free port, for one call's UDPTL."""
    return await open_endpoint(UdptlSocket, (host, 0))


@dataclass(frozen=True, slots=True)
class T38Stats:
    """A T.38 call's UDPTL counts, for the result line and ``--json``.

    ``sent`` and ``received`` count datagrams (each copy of an indicator
    too); ``lost`` IFP packets handed to the terminal as lost; ``recovered``
    packets rebuilt from redundancy or FEC; ``duplicates`` datagrams whose
    packet was already there (copies, late ones); ``malformed`` datagrams or
    IFP packets that did not decode; ``overflow`` datagrams dropped because
    the receive queue was full; ``dropped`` datagrams the kernel dropped
    because the socket's receive buffer was full (Linux only; see
    ``faxengine.datagram``); ``late_ms`` the most a 20 ms step of the call
    ran after its time (the event loop's lag as this call saw it).
    """

    sent: int
    received: int
    lost: int
    recovered: int
    duplicates: int
    malformed: int
    overflow: int
    dropped: int = 0
    late_ms: float = 0.0


class UdptlPort:
    """A ``T38Terminal`` on a ``UdptlSocket``, stepped in real time.

    Args:
        terminal: the call's ``T38Terminal``.
        socket: its ``UdptlSocket``.
        remote: where the peer's UDPTL is (its SDP ``c=`` address and
            ``m=image`` port).
        redundancy_control, redundancy_image, fec, max_datagram: the
            ``UdptlSender``'s (``max_datagram``: the peer's
            ``T38FaxMaxDatagram``).
        reorder_window: the ``UdptlReceiver``'s.
        until: the call is over when this returns true (checked each step).
        max_seconds: line time after which the call is over anyway.

    Raises:
        T38Error: a bad setting.
    """

    def __init__(self, terminal: T38Terminal, socket: UdptlSocket, remote: Address, *,
                 redundancy_control: int = 3, redundancy_image: int = 1,
                 fec: tuple[int, int] | None = None, max_datagram: int | None = None,
                 reorder_window: int = 2, until: Callable[[], bool] = lambda: False,
                 max_seconds: float = 600.0) -> None:
        self.terminal = terminal
        self.socket = socket
        self.remote = remote
        self.sender = UdptlSender(terminal.version, redundancy_control=redundancy_control,
                                  redundancy_image=redundancy_image, fec=fec,
                                  max_datagram=max_datagram)
        self.receiver = UdptlReceiver(terminal.version, reorder_window=reorder_window)
        self.until = until
        self.limit = int(max_seconds * SAMPLE_RATE)
        self.samples = 0                # terminal time run so far
        self.undecodable = 0            # datagrams that were not UDPTL
        self.t0 = 0.0
        self.done: asyncio.Future | None = None
        self.late = 0.0                 # the most a step came after its block was due, s
        self.ifp_sent: Counter[str] = Counter()         # IFP packets by type (for diagnosis)
        self.ifp_received: Counter[str] = Counter()

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    @property
    def stats(self) -> T38Stats:
        r = self.receiver.stats
        return T38Stats(self.socket.sent, r.datagrams + self.undecodable, r.lost,
                        r.redundancy + r.fec, r.duplicates + r.late,
                        r.malformed + self.undecodable, self.socket.overflow,
                        self.socket.dropped, round(self.late * 1000, 1))

    def start(self, now: float, done: asyncio.Future) -> None:
        """Block 0 is due at ``now``; ``done`` is set when the call is over."""
        self.t0, self.done = now, done

    def receive(self) -> None:
        """Hand the terminal what arrived: packets in order, gaps as lost."""
        for data in self.socket.take():
            try:
                delivered = self.receiver.receive(data)
            except T38Error:            # not UDPTL: counted, the call goes on
                self.undecodable += 1
                continue
            for _, packet in delivered:
                if packet is LOST:
                    self.terminal.rx_lost(1)
                else:
                    self.ifp_received[_kind(packet)] += 1
                    self.terminal.rx(packet)

    def run_until(self, due: int) -> None:
        """Run the terminal's clock to ``due`` samples, sending what it sends."""
        while self.samples + BLOCK <= due:
            for packet in self.terminal.tx(BLOCK):
                self.ifp_sent[_kind(packet)] += 1
                datagram = self.sender.send(packet)
                for _ in range(copies(packet)):
                    self.socket.send(datagram, self.remote)
            self.samples += BLOCK

    def step(self, now: float) -> bool:
        """Run what is due by ``now``; True when the call is over."""
        if self.until() or self.samples >= self.limit:
            return True
        self.late = max(self.late, now - self.t0 - self.samples / SAMPLE_RATE)
        self.receive()
        due = (int((now - self.t0) / BLOCK_SECONDS + 1e-9) + 1) * BLOCK
        self.run_until(min(due, self.limit))
        return False
