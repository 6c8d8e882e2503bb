"""The user agent's T.38 (sans-I/O, explicit ``now``, a fake link): the re-INVITE
to ``m=image udptl t38`` both ways, 488 when T.38 is off, an INVITE that offers
only T.38, glare, and any SDP with ``m=image`` (hypothesis)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from faxengine.media.sip import SipLocalError, sdp
from faxengine.media.sip.events import (CallEstablished, CallProgress, CallUpdated,
                                        IncomingCall, ReinviteRefused)
from faxengine.media.sip.message import parse
from faxengine.media.sip.ua import UserAgent
from faxengine.media.t38call import DEFAULT_PARAMS
from faxengine.t38.sdp import T38Params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "media"))
from sip_helpers import A, B, T38_SDP, Link, offer_sdp, request  # noqa: E402

OURS = T38Params(version=2, max_datagram=300)


def pair(a_t38=DEFAULT_PARAMS, b_t38=DEFAULT_PARAMS, b_udptl=7000):
    a = UserAgent(A, user="alice", seed=1, t38=a_t38)
    b = UserAgent(B, user="fax", seed=2, t38=b_t38)
    link = Link(a, b)
    call_id = a.invite("sip:fax@127.0.0.1:5080", link.now, 4000, udptl_port=6000)
    link.deliver()
    (incoming,) = b.events()
    assert incoming.image is None and incoming.audio is not None
    b.answer(incoming.call_id, link.now, 5000, b_udptl)
    link.deliver()
    assert [type(e) for e in a.events()] == [CallProgress, CallEstablished]
    assert [type(e) for e in b.events()] == [CallEstablished]
    return a, b, link, call_id


def test_receiver_reinvite_waits_for_the_ack_then_both_agree_on_t38():
    a = UserAgent(A, user="alice", seed=1, t38=DEFAULT_PARAMS)
    b = UserAgent(B, user="fax", seed=2, t38=OURS)
    link = Link(a, b)
    link.drop = lambda data: data.startswith(b"ACK")       # the first ACK is lost
    call_id = a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000, udptl_port=6000)
    link.deliver()
    (incoming,) = b.events()
    b.answer(call_id, 0.0, 5000, 7000)
    b.offer_t38(call_id, 0.0)                   # deferred: §14.1, our 2xx awaits its ACK
    link.deliver()
    assert not link.sent("INVITE sip:alice")
    link.drop = lambda data: False
    link.run(1.0)                               # the 200 again, its ACK, then our re-INVITE
    assert link.sent("INVITE sip:alice")
    a_events, b_events = a.events(), b.events()
    (a_up,) = [e for e in a_events if isinstance(e, CallUpdated)]
    (b_up,) = [e for e in b_events if isinstance(e, CallUpdated)]
    assert a_up.image.remote == ("127.0.0.1", 7000) and b_up.image.remote == ("127.0.0.1", 6000)
    # Annex D: the answer's version at most the offered; each side's own datagram size
    assert a_up.image.params.version == b_up.image.params.version == 0
    assert a_up.image.params.max_datagram == 300 and b_up.image.params.max_datagram == 400
    assert a.calls[call_id].image == a_up.image


def test_reinvite_to_a_peer_without_t38_is_refused_488_and_the_call_goes_on():
    a, b, link, call_id = pair(b_t38=None)
    a.offer_t38(call_id, link.now)
    link.run(1.0)
    assert a.events() == [ReinviteRefused(call_id, 488, "Not Acceptable Here")]
    assert b.events() == []
    assert a.calls[call_id].state == b.calls[call_id].state == "established"
    assert a.calls[call_id].image is None


def test_call_without_udptl_port_refuses_t38_too():
    a, b, link, call_id = pair(b_udptl=None)
    a.offer_t38(call_id, link.now)
    link.run(1.0)
    assert [type(e) for e in a.events()] == [ReinviteRefused]


def test_invite_with_only_m_image_is_answered_with_t38():
    b = UserAgent(B, user="fax", seed=2, t38=DEFAULT_PARAMS)
    b.datagram_received(request("INVITE", body=T38_SDP), A, 0.0)
    (incoming,) = b.events()
    assert isinstance(incoming, IncomingCall) and incoming.audio is None
    assert incoming.image.remote == ("127.0.0.1", 6002)
    b.datagrams_to_send()
    b.answer(incoming.call_id, 0.0, 5000, 7000)
    (ok,) = [parse(d) for d, _ in b.datagrams_to_send()]
    assert ok.status == 200
    body = sdp.parse(ok.body)
    (image,) = body.media
    assert (image.kind, image.port, image.proto, image.formats) == ("image", 7000, "udptl", ("t38",))
    assert image.attribute("T38FaxVersion") == "0"
    assert b.events() == [CallEstablished(incoming.call_id, None, incoming.image)]


def test_invite_with_only_m_image_gets_488_when_t38_is_off():
    b = UserAgent(B, user="fax", seed=2)
    b.datagram_received(request("INVITE", body=T38_SDP), A, 0.0)
    assert [parse(d).status for d, _ in b.datagrams_to_send()] == [100, 488]
    assert b.events() == []


def test_glare_both_reinvite_both_refused_491():
    a, b, link, call_id = pair()
    a.offer_t38(call_id, link.now)
    b.offer_t38(call_id, link.now)
    link.deliver()
    assert [(type(e), e.status) for e in a.events()] == [(ReinviteRefused, 491)]
    assert [(type(e), e.status) for e in b.events()] == [(ReinviteRefused, 491)]


_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                max_size=40)
_attrs = st.lists(st.tuples(st.sampled_from(["T38FaxVersion", "T38MaxBitRate", "T38FaxUdpEC",
                                             "T38FaxRateManagement", "T38FaxMaxDatagram",
                                             "T38FaxUdpECDepth", "T38FaxFillBitRemoval",
                                             "t38faxversion", "rtpmap", "x"]), _line),
                  max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(port=st.one_of(st.integers(0, 65535), _line), proto=st.sampled_from(["udptl", "UDPTL", "RTP/AVP", "udp"]),
       fmt=st.sampled_from(["t38", "T38", "0", ""]), attrs=_attrs, audio=st.booleans(),
       reinvite=st.booleans())
def test_any_sdp_with_m_image_is_answered_never_raises(port, proto, fmt, attrs, audio, reinvite):
    """200 with T.38 or audio, 488, or 400: never an exception, and a 200's
    body is SDP we parse back."""
    lines = [f"m=image {port} {proto} {fmt}"] + [f"a={n}:{v}" for n, v in attrs]
    if audio:
        lines.insert(0, "m=audio 6000 RTP/AVP 0")
    body = ("v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "\r\n".join(lines) + "\r\n")
    b = UserAgent(B, user="fax", seed=2, t38=DEFAULT_PARAMS)
    if reinvite:                # a call in G.711 first, then this offer
        b.datagram_received(request("INVITE", body=offer_sdp()), A, 0.0)
        (incoming,) = b.events()
        b.answer(incoming.call_id, 0.0, 5000, 7000)
        b.datagram_received(request("ACK", cseq=1, branch="z9hG4bKack"), A, 0.1)
        tag = parse(b.datagrams_to_send()[-1][0]).to.tag
        b.events()
        b.datagram_received(request("INVITE", body=body, to_tag=tag, cseq=2,
                                    branch="z9hG4bK2"), A, 1.0)
    else:
        b.datagram_received(request("INVITE", body=body), A, 0.0)
        for e in b.events():
            b.answer(e.call_id, 0.0, 5000, 7000)
    for data, _ in b.datagrams_to_send():
        r = parse(data)
        assert r.status in (100, 180, 200, 400, 488), r.status
        if r.status == 200 and r.body:
            sdp.parse(r.body)


def test_our_invite_with_only_t38_is_answered_with_t38():
    a = UserAgent(A, user="alice", seed=1, t38=DEFAULT_PARAMS)
    b = UserAgent(B, user="fax", seed=2, t38=OURS)
    link = Link(a, b)
    call_id = a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000, udptl_port=6000, t38_only=True)
    link.deliver()
    (incoming,) = b.events()
    assert incoming.audio is None and incoming.image.remote == ("127.0.0.1", 6000)
    b.answer(call_id, 0.0, 5000, 7000)
    link.deliver()
    (established,) = [e for e in a.events() if isinstance(e, CallEstablished)]
    assert established.audio is None and established.image.remote == ("127.0.0.1", 7000)


def test_invite_with_only_t38_needs_a_udptl_port():
    a = UserAgent(A, user="alice", seed=1, t38=DEFAULT_PARAMS)
    with pytest.raises(SipLocalError, match="an INVITE offering only T.38 needs a UDPTL port"):
        a.invite("sip:fax@127.0.0.1:5080", 0.0, 4000, t38_only=True)


def test_a_superscript_digit_port_is_a_400_not_an_exception():
    """Found by the property above: ``"²".isdigit()`` is true, ``int("²")`` raises."""
    b = UserAgent(B, user="fax", seed=2, t38=DEFAULT_PARAMS)
    body = T38_SDP.replace("m=image 6002", "m=image \u00b2")
    b.datagram_received(request("INVITE", body=body), A, 0.0)
    assert [parse(d).status for d, _ in b.datagrams_to_send()] == [100, 400]
