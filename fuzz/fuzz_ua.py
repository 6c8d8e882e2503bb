#!/usr/bin/env python3
"""Fuzz target: a SIP ``UserAgent`` (faxengine.media.sip.ua) fed any datagrams.

Input layout::

    octet 0   bit 0: 0 the agent only listens (fax@127.0.0.1:5080), 1 it has
              just sent an INVITE to the peer (so responses match a transaction)
    then, per datagram:
      octet   time since the previous one, in 50 ms steps
      2 octets its length, little-endian (cut to what is left)
      that many octets, from the peer 127.0.0.1:5070

Oracle (RFC 3261: the far end's mistakes are answered 4xx or dropped):
``datagram_received`` and ``handle_timer`` never raise; what the agent sends
goes to a port in 1..65535; every event that names a call names one the
agent knows, every call is in one of its states; and after 64*T1 (32 s,
§17.1.1.2) with nothing more coming, the agent still answers its timers
without raising.
"""
from __future__ import annotations

from _harness import Reader, instrumented, main
from fuzz_sip import messages

with instrumented():
    from faxengine.media.sip import UserAgent, sdp
    from faxengine.media.sip.dialog import STATES
    from faxengine.media.sip.message import make_response, parse

US = ("127.0.0.1", 5080)
PEER = ("127.0.0.1", 5070)


def calling() -> UserAgent:
    """An agent that has just sent an INVITE to the peer (deterministic: seeded)."""
    ua = UserAgent(US, user="alice", seed=3)
    ua.invite(f"sip:fax@{PEER[0]}:{PEER[1]}", 0.0, 4000)
    return ua


def frame(step: int, data: bytes) -> bytes:
    return bytes([step]) + len(data).to_bytes(2, "little") + data


def seeds() -> dict[str, bytes]:
    out = {f"listen-{name}": b"\x00" + frame(1, data) for name, data in messages().items()}
    ua = calling()
    ((data, _),) = ua.datagrams_to_send()
    invite = parse(data)
    ok = make_response(invite, 200, to_tag="far")
    ok.headers += [("Contact", f"<sip:fax@{PEER[0]}:{PEER[1]}>"),
                   ("Record-Route", "<sip:p@127.0.0.1;lr>"), ("Content-Type", "application/sdp")]
    ok.body, _ = sdp.answer(sdp.parse(invite.body), PEER[0], 6000, 1)
    ringing = make_response(invite, 180, to_tag="far")
    challenge = make_response(invite, 407)
    challenge.headers.append(("Proxy-Authenticate", 'Digest realm="r", nonce="n", qop="auth"'))
    out["call-ok"] = b"\x01" + frame(2, ok.encode())
    out["call-ringing-ok"] = b"\x01" + frame(1, ringing.encode()) + frame(4, ok.encode())
    out["call-407"] = b"\x01" + frame(1, challenge.encode())
    out["listen-invite-bye"] = b"\x00" + frame(1, messages()["invite"]) + frame(20, messages()["bye"])
    return out


def check(ua: UserAgent) -> None:
    for _, addr in ua.datagrams_to_send():
        assert 1 <= addr[1] <= 65535, addr
    for event in ua.events():
        call_id = getattr(event, "call_id", None)
        assert call_id is None or call_id in ua.calls, (event, list(ua.calls))
    for call in ua.calls.values():
        assert call.state in STATES, call.state


def TestOneInput(data: bytes) -> None:
    r = Reader(data)
    ua = calling() if r.u8() & 1 else UserAgent(US, user="fax", seed=1)
    now = 0.0
    while r.pos < len(data):
        now += 0.05 * r.u8()
        n = r.u16()
        datagram = data[r.pos:r.pos + n]
        r.pos += len(datagram)
        ua.handle_timer(now)
        ua.datagram_received(datagram, PEER, now)
        check(ua)
    ua.handle_timer(now + 32.0)
    check(ua)


if __name__ == "__main__":
    main(TestOneInput)
