"""A UDP relay on 127.0.0.1 for one RTP stream both ways, with jitter, reordering and loss.

The relay sits between two RTP sockets, A and B.  It has a socket facing
each: A's SDP gives ``port_for_b`` (so B sends there), B's SDP gives
``port_for_a``.  It learns each side's address from the first packet that
side sends (symmetric RTP) and holds what the other side sent until then.
Every packet is delayed by a random 0..``jitter`` seconds, in order; a
share ``reorder`` of them is held back until the one after it has gone
(the two swap places); a share ``loss`` is dropped.  All draws come from
``seed``, each direction its own.  Only loopback, only the asyncio loop's timers: closing the relay
stops everything.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

Address = tuple[str, int]
HOST = "127.0.0.1"


@dataclass
class Direction:
    """What happened to the packets one way."""

    forwarded: int = 0
    dropped: int = 0
    reordered: int = 0
    held: list = field(default_factory=list)     # packets waiting for their peer's address
    last_due: float = 0.0
    swap: bytes | None = None                    # a packet held back to follow the next


class _Side(asyncio.DatagramProtocol):
    def __init__(self, relay: "Relay", name: str) -> None:
        self.relay, self.name = relay, name
        self.transport: asyncio.DatagramTransport | None = None
        self.peer: Address | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if self.peer is None:
            self.peer = addr
        self.relay._arrived(self.name, data)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]


class Relay:
    """Forwards RTP between A and B through ``jitter``, ``reorder`` and ``loss``."""

    def __init__(self, jitter: float = 0.0, reorder: float = 0.0, loss: float = 0.0,
                 seed: int = 1) -> None:
        self.jitter, self.reorder, self.loss = jitter, reorder, loss
        # one generator per direction: the holes depend on each stream's packets only
        self._rng = {"a": random.Random(2 * seed), "b": random.Random(2 * seed + 1)}
        self._loop = asyncio.get_running_loop()
        self.ways = {"a": Direction(), "b": Direction()}     # by the side that sent
        self._sides: dict[str, _Side] = {}

    async def start(self) -> "Relay":
        for name in ("a", "b"):
            _, side = await self._loop.create_datagram_endpoint(
                lambda name=name: _Side(self, name), local_addr=(HOST, 0))
            self._sides[name] = side
        return self

    @property
    def port_for_a(self) -> int:
        """Where A sends (B's SDP gives it)."""
        return self._sides["a"].port

    @property
    def port_for_b(self) -> int:
        """Where B sends (A's SDP gives it)."""
        return self._sides["b"].port

    def _arrived(self, sender: str, data: bytes) -> None:
        way, rng = self.ways[sender], self._rng[sender]
        if rng.random() < self.loss:
            way.dropped += 1
            return
        if way.swap is None and rng.random() < self.reorder:
            way.swap = data                        # goes out right after the next one
            way.reordered += 1
            return
        due = max(self._loop.time() + rng.uniform(0.0, self.jitter), way.last_due)
        way.last_due = due
        packets = [data] if way.swap is None else [data, way.swap]
        way.swap = None
        for packet in packets:
            self._loop.call_at(due, self._forward, sender, packet)

    def _forward(self, sender: str, data: bytes) -> None:
        other = self._sides["b" if sender == "a" else "a"]
        way = self.ways[sender]
        if other.peer is None:
            way.held.append(data)
            return
        if other.transport is None or other.transport.is_closing():
            return
        for packet in way.held + [data]:
            other.transport.sendto(packet, other.peer)
            way.forwarded += 1
        way.held.clear()

    def close(self) -> None:
        for side in self._sides.values():
            if side.transport is not None:
                side.transport.close()
