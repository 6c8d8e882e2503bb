#!/usr/bin/env python3
"""Fuzz target: the SIP message parser and the SDP offer/answer,
``faxengine.media.sip.message.parse`` and ``faxengine.media.sip.sdp``.

Input layout: the whole input is one datagram.  It goes to ``message.parse``
and, as an SDP body, to ``sdp.parse``; a SIP message that parses has its body
go through ``sdp.parse`` too.

Oracle: ``message.parse`` gives a Request or a Response or raises
``SipParseError`` (RFC 3261 §7: what the far end sends is its fault, never a
crash); what parsed encodes to a datagram that parses to the same headers (but
Content-Length, which the encoding adds) and body; the header accessors the user agent uses (Via, CSeq, From, To)
give a value or ``SipParseError``.  ``sdp.parse`` gives a description or
raises ``SdpError``; ``sdp.answer`` gives our answer or ``NotAcceptable``
(RFC 3264 §6), and our answer parses and ``sdp.accepted`` finds in it the
codec, ptime and event type the answer chose, at our address.
"""
from __future__ import annotations

from _harness import instrumented, main

with instrumented():
    from faxengine.media.sip import SdpError, SipParseError, sdp
    from faxengine.media.sip.message import Request, Response, parse

VIA = "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKfuzz1;rport\r\n"
FROM_TO = ("From: \"Peer\" <sip:peer@127.0.0.1:5070>;tag=peer1\r\n"
           "To: <sip:fax@127.0.0.1:5080>{to_tag}\r\nCall-ID: call-1@127.0.0.1\r\n")
OFFER = ("v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"
         "a=sendrecv\r\n")
T38 = ("v=0\r\no=peer 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=image 6002 udptl t38\r\na=T38FaxVersion:0\r\n")


def request(method: str, body: str = "", to_tag: str = "", cseq: int = 1, extra: str = "") -> bytes:
    """A request from 127.0.0.1:5070 to fax@127.0.0.1:5080."""
    tag = f";tag={to_tag}" if to_tag else ""
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    return (f"{method} sip:fax@127.0.0.1:5080 SIP/2.0\r\n{VIA}Max-Forwards: 70\r\n"
            f"{FROM_TO.format(to_tag=tag)}CSeq: {cseq} {method}\r\n"
            f"Contact: <sip:peer@127.0.0.1:5070>\r\n{extra}{ctype}"
            f"Content-Length: {len(body.encode())}\r\n\r\n{body}").encode()


def messages() -> dict[str, bytes]:
    """Requests and responses a peer sends (also the user agent target's seeds)."""
    return {
        "invite": request("INVITE", OFFER),
        "invite-t38": request("INVITE", T38, to_tag="y", cseq=2),
        "options": request("OPTIONS"),
        "bye": request("BYE", to_tag="x", cseq=3),
        "cancel": request("CANCEL"),
        "ack": request("ACK", to_tag="x"),
        "register-folded": request("REGISTER", extra="Subject: a\r\n folded\r\nExpires: 60\r\n"),
        "ok": (f"SIP/2.0 200 OK\r\n{VIA}{FROM_TO.format(to_tag=';tag=2')}CSeq: 1 INVITE\r\n"
               f"Content-Type: application/sdp\r\nContent-Length: {len(OFFER)}\r\n\r\n{OFFER}").encode(),
        "proxy-auth": (f"SIP/2.0 407 Proxy Authentication Required\r\n{VIA}"
                       f"{FROM_TO.format(to_tag=';tag=2')}CSeq: 1 INVITE\r\n"
                       "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\n"
                       "Content-Length: 0\r\n\r\n").encode(),
    }


def seeds() -> dict[str, bytes]:
    return {**messages(), "sdp-offer": OFFER.encode(), "sdp-t38": T38.encode()}


def check_sdp(body: bytes) -> None:
    try:
        offered = sdp.parse(body)
    except SdpError:
        return
    try:
        ours, chosen = sdp.answer(offered, "127.0.0.1", 4000, 1)
    except SdpError:             # NotAcceptable: answered 488
        return
    back = sdp.accepted(sdp.parse(ours))
    same = ("payload_type", "law", "ptime_ms", "event_payload_type")
    assert [getattr(back, k) for k in same] == [getattr(chosen, k) for k in same], (ours, chosen)
    assert back.remote == ("127.0.0.1", 4000), back


def without_length(message) -> list[tuple[str, str]]:
    return [(k, v) for k, v in message.headers if k.lower() not in ("content-length", "l")]


def TestOneInput(data: bytes) -> None:
    check_sdp(data)
    try:
        message = parse(data)
    except SipParseError:
        return
    assert isinstance(message, (Request, Response)), type(message)
    again = parse(message.encode())
    # encode() writes the Content-Length a UDP datagram may leave out (RFC 3261 §18.3)
    assert type(again) is type(message) and again.body == message.body, (message, again)
    assert without_length(again) == without_length(message), (message, again)
    for accessor in (lambda: message.vias, lambda: message.cseq, lambda: message.from_,
                     lambda: message.to, lambda: message.call_id):
        try:
            accessor()
        except SipParseError:
            pass
    if message.body:
        check_sdp(message.body)


if __name__ == "__main__":
    main(TestOneInput)
