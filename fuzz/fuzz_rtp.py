#!/usr/bin/env python3
"""Fuzz target: RTP packets and the jitter buffer,
``faxengine.media.rtp.RtpPacket.parse`` and an ``RtpSession`` (PCMU) receiving.

Input layout::

    octet 0   the jitter buffer's delay: (1 + octet % 50) * 20 ms (20 ms to 1 s, its whole range)
    then, per datagram:
      octet   time since the previous one, in 5 ms steps
      2 octets its length, little-endian (cut to what is left)
      that many octets

Oracle: ``RtpPacket.parse`` gives a packet or raises ``RtpPacketError``
(RFC 3550 §5.1: version 2, the CSRC count, extension and padding inside the
datagram), and a packet encodes to a datagram that parses to it again.  The
session never raises; every datagram is counted once, as malformed,
ignored (another payload type), a duplicate or received (so the counters
add up); the blocks handed out are 20 ms of int16 each, the next one due
after ``now``; lost packets are never negative and late ones never more
than those received.
"""
from __future__ import annotations

import numpy as np

from _harness import Reader, instrumented, main

with instrumented():
    from faxengine.media.rtp import RtpPacket, RtpPacketError, RtpSession
    from faxengine.media.rtp.jitter import BLOCK
    from faxengine.media.rtp.session import PCMU

PEER = ("127.0.0.1", 6000)


def frame(step: int, data: bytes) -> bytes:
    return bytes([step]) + len(data).to_bytes(2, "little") + data


def packet(seq: int, ts: int, ssrc: int = 0x1234, marker: bool = False, pt: int = 0) -> bytes:
    return RtpPacket(pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc, bytes(range(160)), marker=marker).encode()


def seeds() -> dict[str, bytes]:
    steady = b"\x02" + b"".join(frame(4, packet(100 + k, 8000 * 7 + 160 * k, marker=k == 0))
                               for k in range(12))
    wrap = b"\x02" + b"".join(frame(4, packet(65530 + k, 2**32 - 480 + 160 * k)) for k in range(10))
    order = (0, 2, 1, 1, 4, 3, 6, 9, 7, 8)
    reordered = b"\x05" + b"".join(frame(3, packet(7 + k, 160 * k)) for k in order)
    restart = b"\x02" + b"".join(frame(4, packet(k, 160 * k)) for k in range(4)) + \
        b"".join(frame(4, packet(900 + k, 99 + 160 * k, ssrc=77, marker=k == 0)) for k in range(4))
    extras = RtpPacket(0, 5, 800, 0x1234, bytes(80), marker=False, csrc=(1, 2),
                       extension=(0xBEDE, b"\x00" * 4)).encode()
    mixed = b"\x02" + frame(4, extras) + frame(4, packet(6, 960, pt=101)) + \
        frame(4, packet(7, 1120)[:11]) + frame(40, packet(8, 1280)) + frame(250, packet(9, 1440))
    return {"steady": steady, "wrap": wrap, "reordered": reordered, "restart": restart,
            "mixed": mixed}


def check_parse(data: bytes) -> None:
    try:
        p = RtpPacket.parse(data)
    except RtpPacketError:
        return
    assert RtpPacket.parse(p.encode()) == p, p


def TestOneInput(data: bytes) -> None:
    r = Reader(data)
    session = RtpSession(PCMU, PEER, jitter_delay=(1 + r.u8() % 50) * 0.020, seed=1)
    now, count = 0.0, 0
    while r.pos < len(data):
        now += 0.005 * r.u8()
        n = r.u16()
        datagram = data[r.pos:r.pos + n]
        r.pos += len(datagram)
        check_parse(datagram)
        session.datagram_received(datagram, PEER, now)
        count += 1
        for block in session.receive(now):
            assert block.samples.dtype == np.int16 and block.samples.shape == (BLOCK,), block
            assert not block.lost or not block.samples.any(), "a lost block is silence"
        due = session.jitter.next_due()
        assert due is None or due > now, (due, now)
    st = session.stats
    assert st.malformed + st.ignored + st.received + st.duplicates == count, (st, count)
    assert st.lost >= 0 and 0 <= st.late <= st.received, st


if __name__ == "__main__":
    main(TestOneInput)
