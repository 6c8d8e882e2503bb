"""The UDPTL port in real time: two T.38 terminals on two UDP sockets on 127.0.0.1."""
from __future__ import annotations

import asyncio

import numpy as np

from faxengine.media.t38call import pace_t38
from faxengine.t38.terminal import T38Terminal
from faxengine.t38.transport import UdptlPort, UdptlSocket, open_udptl_socket
from t38_pump import received_images, text_page


async def _call(pages, ecm):
    a_sock, b_sock = await open_udptl_socket("127.0.0.1"), await open_udptl_socket("127.0.0.1")
    a = T38Terminal(True, send=pages, ecm=ecm)
    b = T38Terminal(False, ecm=ecm)
    ports = [UdptlPort(a, a_sock, ("127.0.0.1", b_sock.port), max_seconds=120,
                       until=lambda: a.finished and b.finished),
             UdptlPort(b, b_sock, ("127.0.0.1", a_sock.port), max_seconds=120,
                       until=lambda: a.finished and b.finished)]
    try:
        await asyncio.wait_for(asyncio.gather(*(pace_t38(p) for p in ports)), 150)
    finally:
        a_sock.close()
        b_sock.close()
    return a, b, ports


def test_one_page_in_real_time_over_udp():
    pages = [text_page(3)]
    a, b, ports = asyncio.run(_call(pages, ecm=True))
    assert a.result.ok and b.result.ok, (a.result, b.result)
    got = received_images(b.events())
    assert len(got) == 1 and np.array_equal(got[0], pages[0].image)
    for port in ports:
        s = port.stats
        assert s.sent > 0 and s.received > 0 and s.lost == 0 and s.overflow == 0
        assert s.duplicates > 0             # indicators go three times
    assert ports[0].stats.sent == ports[1].stats.received
    # real time: the call took its line time, not less
    assert ports[0].seconds > 5


def test_socket_queue_is_bounded_and_garbage_is_counted():
    async def run():
        sock = UdptlSocket(max_queue=3)
        for i in range(5):
            sock.datagram_received(bytes([i]), ("127.0.0.1", 9))
        assert sock.overflow == 2 and len(sock.queue) == 3
        term = T38Terminal(False)
        port = UdptlPort(term, sock, ("127.0.0.1", 9))
        port.receive()
        return port.stats
    stats = asyncio.run(run())
    assert stats.malformed == 3 and stats.received == 3 and stats.overflow == 2
