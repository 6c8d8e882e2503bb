"""A call's own UDP socket on an asyncio loop: ``DatagramEndpoint``, ``open_endpoint``.

RTP (``faxengine.media.rtp.protocol``) and UDPTL (``faxengine.t38.transport``)
each give a call a UDP socket of its own.  What they share lives here, once:

* The socket is bound before the SDP is written (port 0: any free port), so
  its ``port`` can go into the offer or answer.
* An ICMP error (port unreachable: the peer has gone or not bound yet) does
  not end a call: the pacing goes on and the T.30 timers decide.
* Every datagram waiting is read at once.  asyncio's datagram transport
  reads *one* datagram per socket per turn of the loop.  With a hundred
  calls on one loop, a turn that runs the pacer's tick (every call's 20 ms
  step) can last longer than the 20 or 30 ms between two of a call's RTP or
  image packets, and the one SIP socket of all the calls gets a burst as
  they start; datagrams then come faster than they are read, pile up in the
  kernel and are dropped once the socket's receive buffer is full.  So when
  asyncio hands over a datagram, ``datagram_received`` also ``drain``s the
  socket (at most ``drain_max`` more, so one socket cannot hold the loop)
  and gives each to ``on_datagram``; a port that runs on the pacer may
  ``drain`` at each step as well, so its terminal hears on time all that
  came by then, however long the loop's turns.
* ``dropped`` counts the datagrams the kernel dropped on this socket because
  its receive buffer was full (Linux ``SO_RXQ_OVFL``, socket(7): the count so
  far comes with each datagram queued after a drop, and ``drain`` reads it);
  it stays 0 where the option does not exist.
"""
from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable
from typing import TypeVar

__all__ = ["DatagramEndpoint", "open_endpoint"]

Address = tuple[str, int]
MAX_DATAGRAM = 65535            # octets: any UDP datagram
DRAIN_MAX = 256                 # datagrams read after the one asyncio hands over, at most
# SO_RXQ_OVFL (Linux socket(7)): the socket's drop count as ancillary data
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40 if sys.platform.startswith("linux") else None)
_ANCILLARY = socket.CMSG_SPACE(4) if SO_RXQ_OVFL is not None else 0


class DatagramEndpoint(asyncio.DatagramProtocol):
    """The ``DatagramProtocol`` of one call's UDP socket (see the module's docstring).

    ``open_endpoint`` binds the socket and sets ``sock``; subclasses take
    each datagram in ``on_datagram``.
    """

    drain_max = DRAIN_MAX           # datagrams read after the one asyncio hands over

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.sock: socket.socket | None = None
        self.dropped = 0            # datagrams the kernel dropped: receive buffer full

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.on_datagram(data, addr)
        for more, source in self.drain(self.drain_max):
            self.on_datagram(more, source)

    def on_datagram(self, data: bytes, addr: Address) -> None:
        """One datagram that arrived (the subclass's to take)."""

    def error_received(self, exc: Exception) -> None:   # ICMP unreachable: keep going
        pass

    def drain(self, limit: int) -> list[tuple[bytes, Address]]:
        """Up to ``limit`` datagrams waiting in the socket, oldest first; never blocks."""
        out: list[tuple[bytes, Address]] = []
        sock = self.sock
        if sock is None or self.transport is None or self.transport.is_closing():
            return out
        while len(out) < limit:
            try:
                data, ancillary, _, addr = sock.recvmsg(MAX_DATAGRAM, _ANCILLARY)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:         # an ICMP error queued on the socket: nothing to read
                break
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(value) >= 4:
                    self.dropped = int.from_bytes(value[:4], sys.byteorder)
            out.append((data, addr))
        return out

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


E = TypeVar("E", bound=DatagramEndpoint)


def _numeric(host: str) -> socket.AddressFamily | None:
    """The family of a numeric IPv4 or IPv6 address; None for a name."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, TypeError):
            continue
        return family
    return None


async def open_endpoint(factory: Callable[[], E], local: Address) -> E:
    """Bind a UDP socket at ``local`` (port 0: any free port) and run the
    endpoint ``factory()`` makes on it.

    Raises:
        OSError: ``local`` does not resolve or cannot be bound.
    """
    loop = asyncio.get_running_loop()
    family = _numeric(local[0])
    if family is not None:          # an address (the usual case): no resolver thread
        address: tuple = local
    else:
        family, _, _, _, address = (await loop.getaddrinfo(*local, type=socket.SOCK_DGRAM))[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        if SO_RXQ_OVFL is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
            except OSError:         # a kernel without it: drops stay uncounted
                pass
        sock.bind(address)
        _, endpoint = await loop.create_datagram_endpoint(factory, sock=sock)
    except BaseException:
        sock.close()
        raise
    endpoint.sock = sock
    return endpoint
