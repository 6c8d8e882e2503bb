"""A T.38 terminal on a UDP socket, in real time: ``UdptlSocket``, ``UdptlPort``, ``T38Stats``.

The T.38 terminal (``faxengine.t38.terminal``) and UDPTL
(``faxengine.t38.udptl``) are sans-I/O; this module is the thin asyncio
side that joins them to a network, as ``faxengine.media.rtpport`` joins the
audio terminal to RTP:

* ``UdptlSocket`` is the ``DatagramProtocol``: it queues what arrives
  (a bounded queue: at most ``QUEUE_MAX`` datagrams wait, more are dropped
  and counted, so a flood costs memory no more than a slow loop does) and
  sends what it is given.
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
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from faxengine.levels import SAMPLE_RATE
from faxengine.t38.errors import T38Error
from faxengine.t38.terminal import T38Terminal, copies
from faxengine.t38.udptl import LOST, UdptlReceiver, UdptlSender

__all__ = ["BLOCK", "QUEUE_MAX", "T38Stats", "UdptlPort", "UdptlSocket", "open_udptl_socket"]

Address = tuple[str, int]
BLOCK = 160                     # samples of terminal time per step: 20 ms
BLOCK_SECONDS = BLOCK / SAMPLE_RATE
QUEUE_MAX = 1000                # datagrams waiting for the next step, at most (~20 s of a call)


class UdptlSocket(asyncio.DatagramProtocol):
    """One call's UDP socket for UDPTL: a bounded queue in, ``send`` out."""

    def __init__(self, max_queue: int = QUEUE_MAX) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.queue: deque[bytes] = deque()
        self.max_queue = max_queue
        self.overflow = 0           # datagrams dropped: the queue was full
        self.sent = 0               # datagrams sent (each copy counts)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if len(self.queue) >= self.max_queue:
            self.overflow += 1
            return
        self.queue.append(data)

    def error_received(self, exc: Exception) -> None:   # ICMP unreachable: keep going
        pass

    def take(self) -> list[bytes]:
        """The datagrams that arrived since the last call, oldest first."""
        out = list(self.queue)
        self.queue.clear()
        return out

    def send(self, data: bytes, addr: Address) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)
            self.sent += 1

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_udptl_socket(host: str) -> UdptlSocket:
    """Bind a UDP socket on ``host`` at any free port, for one call's UDPTL."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(UdptlSocket, local_addr=(host, 0))
    return protocol


@dataclass(frozen=True, slots=True)
class T38Stats:
    """A T.38 call's UDPTL counts, for the result line and ``--json``.

    ``sent`` and ``received`` count datagrams (each copy of an indicator
    too); ``lost`` IFP packets handed to the terminal as lost; ``recovered``
    packets rebuilt from redundancy or FEC; ``duplicates`` datagrams whose
    packet was already there (copies, late ones); ``malformed`` datagrams or
    IFP packets that did not decode; ``overflow`` datagrams dropped because
    the receive queue was full.
    """

    sent: int
    received: int
    lost: int
    recovered: int
    duplicates: int
    malformed: int
    overflow: int


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

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    @property
    def stats(self) -> T38Stats:
        r = self.receiver.stats
        return T38Stats(self.socket.sent, r.datagrams + self.undecodable, r.lost,
                        r.redundancy + r.fec, r.duplicates + r.late,
                        r.malformed + self.undecodable, self.socket.overflow)

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
                    self.terminal.rx(packet)

    def run_until(self, due: int) -> None:
        """Run the terminal's clock to ``due`` samples, sending what it sends."""
        while self.samples + BLOCK <= due:
            for packet in self.terminal.tx(BLOCK):
                datagram = self.sender.send(packet)
                for _ in range(copies(packet)):
                    self.socket.send(datagram, self.remote)
            self.samples += BLOCK

    def step(self, now: float) -> bool:
        """Run what is due by ``now``; True when the call is over."""
        if self.until() or self.samples >= self.limit:
            return True
        self.receive()
        due = (int((now - self.t0) / BLOCK_SECONDS + 1e-9) + 1) * BLOCK
        self.run_until(min(due, self.limit))
        return False
