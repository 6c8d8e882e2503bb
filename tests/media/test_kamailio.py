"""Interop with kamailio (Debian package kamailio) as registrar and proxy.

The config kept in tests/media/kamailio/ asks for digest on REGISTER (401)
and INVITE (407), keeps bindings in memory and users in a static htable (no
database).  The test starts kamailio as a child on 127.0.0.1 on a free port
(``-DD -E``: not daemonised, logging to a file here) and always stops it.
Two of our user agents register with digest, one refreshes its binding, and
a call from one to the other goes through the proxy: INVITE/407/INVITE,
200, ACK and BYE along the recorded route, RTP directly between the two."""
from __future__ import annotations

import asyncio
import numpy as np
from faxengine.g711 import g711_roundtrip
from faxengine.media.rtp.protocol import open_rtp
from faxengine.media.rtp.session import RtpSession, codec
from faxengine.media.sip.events import (CallEnded, CallEstablished, CallProgress, IncomingCall,
                                        Registered, RegistrationFailed)
from faxengine.media.sip.protocol import open_sip

from _peers import LOOPBACK, PASSWORDS, heard, kamailio, needs  # noqa: F401  (a fixture)
from test_media_loopback import collect, expect, signal

pytestmark = needs("kamailio", "kamailio")


async def registered(endpoint, proxy, expires: int):
    endpoint.register(f"sip:{proxy[0]}:{proxy[1]}", expires)
    event = await expect(endpoint, Registered)
    assert event.expires == expires
    return event


async def register_and_refresh(proxy) -> None:
    alice = await open_sip((LOOPBACK, 0), user="alice", password=PASSWORDS["alice"])
    try:
        lines = heard(alice)
        await registered(alice, proxy, 2)
        assert lines == ["SIP/2.0 401 Unauthorized", "SIP/2.0 200 OK"]
        # Granted 2 s, refreshed half-way: a new REGISTER, challenged again, bound again.
        assert (await expect(alice, Registered, timeout=3.0)).expires == 2
        assert lines[2:] == ["SIP/2.0 401 Unauthorized", "SIP/2.0 200 OK"]
    finally:
        alice.close()


async def wrong_password(proxy) -> None:
    mallory = await open_sip((LOOPBACK, 0), user="alice", password="guess")
    try:
        mallory.register(f"sip:{proxy[0]}:{proxy[1]}", 60)
        failed = await expect(mallory, RegistrationFailed)
        assert failed.status == 401
    finally:
        mallory.close()


async def call_through_proxy(proxy) -> None:
    alice = await open_sip((LOOPBACK, 0), user="alice", password=PASSWORDS["alice"])
    bob = await open_sip((LOOPBACK, 0), user="bob", password=PASSWORDS["bob"])
    rtp_a, rtp_b = await open_rtp((LOOPBACK, 0)), await open_rtp((LOOPBACK, 0))
    try:
        await registered(alice, proxy, 60)
        await registered(bob, proxy, 60)
        to_alice, to_bob = heard(alice), heard(bob)
        # Bob's AOR at the proxy's domain; the proxy finds his Contact.
        call_id = alice.invite(f"sip:bob@{proxy[0]}:{proxy[1]}", rtp_a.port)
        incoming = await expect(bob, IncomingCall)
        assert incoming.caller.startswith("<sip:alice@")
        await expect(alice, CallProgress)                               # bob's 180, relayed
        bob.answer(incoming.call_id, rtp_b.port)
        up_b = await expect(bob, CallEstablished)
        up_a = await expect(alice, CallEstablished, timeout=5.0)
        assert to_alice[0] == "SIP/2.0 407 Proxy Authentication Required"
        assert to_bob[0].startswith("INVITE sip:bob@127.0.0.1:")      # bob's Contact
        sessions = []
        for rtp, up, seed in ((rtp_a, up_a, 0), (rtp_b, up_b, 1)):
            assert up.audio.remote[0] == LOOPBACK
            session = RtpSession(codec(up.audio.law, up.audio.payload_type), up.audio.remote)
            session.send(signal(seed))
            rtp.attach(session)
            sessions.append(session)
        n = len(signal(0))
        heard_by_b, heard_by_a = await asyncio.gather(collect(rtp_b, n, 4.0),
                                                      collect(rtp_a, n, 4.0))
        assert np.array_equal(heard_by_b, g711_roundtrip(signal(0), up_a.audio.law))
        assert np.array_equal(heard_by_a, g711_roundtrip(signal(1), up_b.audio.law))
        alice.hangup(call_id)
        assert (await expect(alice, CallEnded)).status == 200
        assert (await expect(bob, CallEnded)).reason == "BYE from the far end"
        # ACK and BYE came to bob through the proxy (its Record-Route), as requests.
        assert [line.split()[0] for line in to_bob] == ["INVITE", "ACK", "BYE"]
        assert all(s.stats.lost == s.stats.malformed == 0 for s in sessions)
    finally:
        for endpoint in (alice, bob, rtp_a, rtp_b):
            endpoint.close()


async def cancel_and_nobody_there(proxy) -> None:
    alice = await open_sip((LOOPBACK, 0), user="alice", password=PASSWORDS["alice"])
    bob = await open_sip((LOOPBACK, 0), user="bob", password=PASSWORDS["bob"])
    try:
        await registered(bob, proxy, 60)
        # Nobody is bound for carol: the proxy answers 404 after the 407 round.
        alice.invite(f"sip:carol@{proxy[0]}:{proxy[1]}", 40000)
        assert (await expect(alice, CallEnded)).status == 404
        # Bob rings; alice gives up: her CANCEL goes hop by hop through the proxy,
        # bob's INVITE ends 487 and so does hers.
        call_id = alice.invite(f"sip:bob@{proxy[0]}:{proxy[1]}", 40000)
        incoming = await expect(bob, IncomingCall)
        await expect(alice, CallProgress)
        alice.hangup(call_id)
        assert await expect(bob, CallEnded) == CallEnded(incoming.call_id, 487,
                                                          "cancelled by the caller")
        assert (await expect(alice, CallEnded)).status == 487
        # Bob unbinds (Expires 0, through a fresh challenge): he cannot be reached.
        bob.register(f"sip:{proxy[0]}:{proxy[1]}", 0)
        assert await expect(bob, Registered) == Registered(0)
        alice.invite(f"sip:bob@{proxy[0]}:{proxy[1]}", 40000)
        assert (await expect(alice, CallEnded)).status == 404
    finally:
        alice.close()
        bob.close()


def test_register_with_digest_and_refresh(kamailio):
    asyncio.run(asyncio.wait_for(register_and_refresh(kamailio), 15))


def test_register_with_a_wrong_password_fails(kamailio):
    asyncio.run(asyncio.wait_for(wrong_password(kamailio), 15))


def test_call_routed_through_kamailio(kamailio):
    asyncio.run(asyncio.wait_for(call_through_proxy(kamailio), 20))


def test_call_cancelled_and_calls_to_nobody_through_kamailio(kamailio):
    asyncio.run(asyncio.wait_for(cancel_and_nobody_there(kamailio), 20))
