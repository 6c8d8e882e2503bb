"""A call's UDP sockets read every datagram waiting in one turn of the loop (faxengine.datagram).

asyncio's datagram transport reads one datagram per socket per turn; with
150 calls on a loop a turn that runs the pacer's tick lasts longer than the
gap between a call's packets, and the kernel dropped what did not fit
(issue 13: thousands of RcvbufErrors, calls failing).  Here the loop is kept
from turning (the test does not yield) while a burst arrives; then one turn
must take all of it, on the SIP socket every call shares and on each RTP
socket.
"""
from __future__ import annotations

import asyncio
import socket

import numpy as np

from faxengine.datagram import DRAIN_MAX, DatagramEndpoint, open_endpoint
from faxengine.media.rtp.packet import RtpPacket
from faxengine.media.rtp.session import PCMU, RtpSession
from faxengine.media.rtpport import open_rtp_socket
from faxengine.media.sip.protocol import open_sip

LOCAL = ("127.0.0.1", 0)


async def _first(count) -> int:
    """``count()`` as soon as the loop has read anything: turn by turn (at
    most one asyncio read per socket per turn), bounded."""
    for _ in range(1000):
        await asyncio.sleep(0)
        if count():
            return count()
    raise AssertionError("nothing was read in 1000 turns of the loop")


def _send(port: int, datagrams: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
        for data in datagrams:
            out.sendto(data, ("127.0.0.1", port))


def test_a_burst_of_sip_requests_is_read_in_one_turn():
    async def run():
        sip = await open_sip(LOCAL, user="fax")
        try:
            _send(sip.local[1], [b"garbage %d\r\n\r\n" % i for i in range(100)])
            return await _first(lambda: sip.ua.malformed)
        finally:
            sip.close()
    assert asyncio.run(run()) == 100        # before: 1 (one datagram per turn)


def test_a_burst_of_rtp_is_read_in_one_turn():
    async def run():
        rtp = await open_rtp_socket("127.0.0.1")
        try:
            rtp.session = RtpSession(PCMU, ("127.0.0.1", 9))
            payload = PCMU.encode(np.zeros(160, np.int16))
            _send(rtp.port, [RtpPacket(0, seq, seq * 160, 7, payload).encode()
                             for seq in range(60)])
            return await _first(lambda: rtp.session.stats.received)
        finally:
            rtp.close()
    assert asyncio.run(run()) == 60


def test_one_turn_reads_at_most_drain_max_more_so_one_socket_cannot_hold_the_loop():
    class Counting(DatagramEndpoint):
        drain_max = 10

        def __init__(self) -> None:
            super().__init__()
            self.got = 0

        def on_datagram(self, data, addr) -> None:
            self.got += 1

    async def run():
        endpoint = await open_endpoint(Counting, LOCAL)
        try:
            _send(endpoint.port, [bytes(8)] * 30)
            first = await _first(lambda: endpoint.got)
            await _first(lambda: endpoint.got - first)
            return first, endpoint.got
        finally:
            endpoint.close()
    assert asyncio.run(run()) == (11, 22)
    assert DatagramEndpoint.drain_max == DRAIN_MAX == 256
