"""The asyncio adapter of an RTP session: a thin ``DatagramProtocol``.

It owns the UDP socket (a ``faxengine.datagram.DatagramEndpoint``) and the
clock (``loop.time()``, monotonic).  The socket is bound first, so its port
can go into the SDP; the ``RtpSession``
is attached once offer and answer agreed on a codec.  From then on every
datagram goes into the session with the time, and one timer, re-armed at
the session's ``next_timer()``, sends the packets due and hands the 20 ms
blocks due to ``on_blocks`` (or queues them in ``blocks``).

    rtp = await open_rtp(("127.0.0.1", 0))
    rtp.attach(RtpSession(codec, remote))   # after SDP; starts the send clock
    rtp.session.send(samples)
    block = await rtp.blocks.get()
    rtp.close()
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from faxengine.datagram import DatagramEndpoint, open_endpoint
from faxengine.media.rtp.jitter import Block
from faxengine.media.rtp.session import RtpSession

Address = tuple[str, int]


class RtpProtocol(DatagramEndpoint):
    """Feeds an ``RtpSession`` from one UDP socket and the event loop's clock."""

    def __init__(self, on_blocks: Callable[[list[Block]], None] | None = None) -> None:
        super().__init__()
        self.session: RtpSession | None = None
        self.blocks: asyncio.Queue[Block] = asyncio.Queue()
        self._on_blocks = on_blocks
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    def attach(self, session: RtpSession) -> None:
        """Run ``session`` on this socket; its send clock starts now."""
        self.session = session
        session.start(self._loop.time())
        self._run()

    def on_datagram(self, data: bytes, addr: Address) -> None:
        if self.session is not None:
            self.session.datagram_received(data, addr[:2], self._loop.time())
            self._rearm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _run(self) -> None:
        self._timer = None
        session, transport = self.session, self.transport
        if session is None or transport is None or transport.is_closing():
            return
        now = self._loop.time()
        for data, addr in session.datagrams_to_send(now):
            transport.sendto(data, addr)
        blocks = session.receive(now)
        if blocks:
            if self._on_blocks is not None:
                self._on_blocks(blocks)
            else:
                for block in blocks:
                    self.blocks.put_nowait(block)
        self._rearm()

    def _rearm(self) -> None:
        assert self.session is not None
        when = self.session.next_timer()
        if self._timer is not None:
            if when is not None and self._timer.when() <= when:
                return
            self._timer.cancel()
            self._timer = None
        if when is not None:
            self._timer = self._loop.call_at(when, self._run)



async def open_rtp(local: Address, on_blocks: Callable[[list[Block]], None] | None = None
                   ) -> RtpProtocol:
    """Bind a UDP socket at ``local`` (port 0: any free port) for one RTP stream."""
    return await open_endpoint(lambda: RtpProtocol(on_blocks), local)
