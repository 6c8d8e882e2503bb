"""The asyncio adapter of the SIP user agent: a thin ``DatagramProtocol``.

It owns what the sans-I/O core must not: the UDP socket and the clock
(``loop.time()``, monotonic).  Each datagram and each timer goes into the
``UserAgent`` with the time; afterwards ``_flush`` sends what the core
produced, queues its events, and re-arms the one timer at ``next_timer()``
(as aioquic's asyncio adapter does).  Commands (``invite``, ``answer``...)
call the core with ``now`` and flush.

    endpoint = await open_sip(("127.0.0.1", 0), user="fax")
    call_id = endpoint.invite("sip:fax@127.0.0.1:5080", rtp_port)
    event = await endpoint.next_event()
    endpoint.close()
"""
from __future__ import annotations

import asyncio
from typing import Any

from faxengine.datagram import DatagramEndpoint, open_endpoint
from faxengine.media.sip.events import Event
from faxengine.media.sip.ua import UserAgent, check_local

Address = tuple[str, int]


class SipProtocol(DatagramEndpoint):
    """Feeds a ``UserAgent`` from one UDP socket and the event loop's clock.

    The one socket of every call on the endpoint: as calls start together
    their requests come in bursts, all read in one turn of the loop
    (``DatagramEndpoint``), not one a turn while the kernel drops the rest.
    """

    def __init__(self, **ua_options: Any) -> None:
        super().__init__()
        self._options = ua_options
        self.ua: UserAgent | None = None
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's
        host, port = transport.get_extra_info("sockname")[:2]
        self.ua = UserAgent((host, port), **self._options)

    def on_datagram(self, data: bytes, addr: Address) -> None:
        assert self.ua is not None
        self.ua.datagram_received(data, addr[:2], self.now())
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def now(self) -> float:
        return self._loop.time()

    def _on_timer(self) -> None:
        self._timer = None
        assert self.ua is not None
        self.ua.handle_timer(self.now())
        self._flush()

    def _flush(self) -> None:
        assert self.ua is not None and self.transport is not None
        if self.transport.is_closing():
            return
        for data, addr in self.ua.datagrams_to_send():
            self.transport.sendto(data, addr)
        for event in self.ua.events():
            self._queue.put_nowait(event)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        when = self.ua.next_timer()
        if when is not None:
            self._timer = self._loop.call_at(when, self._on_timer)

    # -- commands, with the clock ----------------------------------------------

    @property
    def local(self) -> Address:
        assert self.ua is not None
        return self.ua.local

    def invite(self, target: str, rtp_port: int, dest: Address | None = None,
               udptl_port: int | None = None, t38_only: bool = False) -> str:
        assert self.ua is not None
        call_id = self.ua.invite(target, self.now(), rtp_port, dest, udptl_port, t38_only)
        self._flush()
        return call_id

    def answer(self, call_id: str, rtp_port: int, udptl_port: int | None = None) -> None:
        assert self.ua is not None
        self.ua.answer(call_id, self.now(), rtp_port, udptl_port)
        self._flush()

    def offer_t38(self, call_id: str) -> None:
        assert self.ua is not None
        self.ua.offer_t38(call_id, self.now())
        self._flush()

    def reject(self, call_id: str, status: int = 486) -> None:
        assert self.ua is not None
        self.ua.reject(call_id, self.now(), status)
        self._flush()

    def hangup(self, call_id: str) -> None:
        assert self.ua is not None
        self.ua.hangup(call_id, self.now())
        self._flush()

    def register(self, registrar: str, expires: int = 3600, dest: Address | None = None) -> None:
        assert self.ua is not None
        self.ua.register(registrar, self.now(), expires, dest)
        self._flush()

    async def next_event(self, timeout: float | None = None) -> Event:
        """The next event of the user agent (``asyncio.TimeoutError`` after ``timeout``)."""
        return await asyncio.wait_for(self._queue.get(), timeout)



async def open_sip(local: Address, **ua_options: Any) -> SipProtocol:
    """Bind a UDP socket at ``local`` (port 0: any free port) and run a user agent on it.

    Raises:
        SipLocalError: ``local`` is a wildcard address (checked before binding: raised
            from inside the socket's ``connection_made`` it was a traceback).
    """
    check_local(local)
    return await open_endpoint(lambda: SipProtocol(**ua_options), local)
