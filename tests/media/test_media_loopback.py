"""Two of our user agents call each other on 127.0.0.1 through the asyncio
adapters and exchange RTP both ways: audio in is audio out (G.711 round trip)
through the jitter buffer.  Bounded: every wait has a timeout."""
from __future__ import annotations

import asyncio

import numpy as np

from faxengine.g711 import g711_roundtrip
from faxengine.media.rtp.protocol import open_rtp
from faxengine.media.rtp.session import RtpSession, codec
from faxengine.media.sip.events import (CallEnded, CallEstablished, CallProgress,
                                        IncomingCall)
from faxengine.media.sip.protocol import open_sip

LOCAL = ("127.0.0.1", 0)
SECONDS = 0.6


def signal(seed: int) -> np.ndarray:
    t = np.arange(int(SECONDS * 8000))
    return (6000 * np.sin(2 * np.pi * (700 + 400 * seed) * t / 8000)).astype(np.int16)


async def expect(endpoint, kind, timeout=5.0):
    event = await endpoint.next_event(timeout)
    assert isinstance(event, kind), event
    return event


async def collect(rtp, n: int, timeout: float) -> np.ndarray:
    """The first n samples of received audio (blocks before the first arrival skipped)."""
    got: list[np.ndarray] = []

    async def gather():
        while sum(map(len, got)) < n:
            block = await rtp.blocks.get()
            if got or not block.lost:
                got.append(block.samples)
    await asyncio.wait_for(gather(), timeout)
    return np.concatenate(got)[:n]


async def call() -> None:
    alice, fax = await open_sip(LOCAL, user="alice"), await open_sip(LOCAL, user="fax")
    rtp_a, rtp_f = await open_rtp(LOCAL), await open_rtp(LOCAL)
    try:
        host, port = fax.local
        call_id = alice.invite(f"sip:fax@{host}:{port}", rtp_a.port)
        incoming = await expect(fax, IncomingCall)
        await expect(alice, CallProgress)
        fax.answer(incoming.call_id, rtp_f.port)
        up_f = await expect(fax, CallEstablished)
        up_a = await expect(alice, CallEstablished)
        assert up_a.audio.payload_type == up_f.audio.payload_type == 0     # PCMU first
        sessions = []
        for rtp, up, seed in ((rtp_a, up_a, 0), (rtp_f, up_f, 1)):
            session = RtpSession(codec(up.audio.law, up.audio.payload_type), up.audio.remote,
                                 ptime=up.audio.ptime_ms / 1000)
            session.send(signal(seed))
            rtp.attach(session)
            sessions.append(session)
        n = len(signal(0))
        heard_by_fax, heard_by_alice = await asyncio.gather(
            collect(rtp_f, n, SECONDS + 3), collect(rtp_a, n, SECONDS + 3))
        assert np.array_equal(heard_by_fax, g711_roundtrip(signal(0), "ulaw"))
        assert np.array_equal(heard_by_alice, g711_roundtrip(signal(1), "ulaw"))
        alice.hangup(call_id)
        assert (await expect(alice, CallEnded)).status == 200
        assert (await expect(fax, CallEnded)).reason == "BYE from the far end"
        for s in sessions:
            st = s.stats
            assert st.received > 0 and st.malformed == st.foreign == 0
    finally:
        for endpoint in (alice, fax, rtp_a, rtp_f):
            endpoint.close()


def test_two_user_agents_call_and_exchange_audio_on_loopback():
    asyncio.run(asyncio.wait_for(call(), 20))
