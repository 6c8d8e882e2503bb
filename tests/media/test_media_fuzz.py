"""Hypothesis fuzzing of what the far end controls: SIP and SDP parsers, a user
agent fed mutated and truncated datagrams, RTP with bad versions, CSRC counts and
padding lengths.  Whatever comes in is answered, dropped or counted: never raised."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxengine.media.rtp import RtpPacket, RtpPacketError, RtpSession
from faxengine.media.rtp.session import PCMU
from faxengine.media.sip import SdpError, SipParseError, UserAgent, sdp
from faxengine.media.sip.message import Request, Response, make_response, parse

from sip_helpers import A, B, T38_SDP, offer_sdp, request

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [request("INVITE", body=offer_sdp()), request("OPTIONS"), request("BYE", to_tag="x"),
         request("CANCEL"), request("INVITE", body=T38_SDP, to_tag="y"),
         b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
         b"To: <sip:c@d>;tag=2\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"]


@st.composite
def mutated(draw, seeds=SEEDS):
    """A valid datagram, then truncated, bytes flipped, inserted or deleted."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.sampled_from([b"\r\n", b":", b";", b",", b"<", b">", b'"',
                                              b" ", b"\x00", b"\r\n\r\n", b"Require: x\r\n",
                                              b"Content-Length: 99999\r\n", b"\xff\xfe"]))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 20))]
        elif op == "truncate":
            del data[i:]
        elif op == "dup":
            data[i:i] = data[i:i + draw(st.integers(1, 200))]
    return bytes(data)


@FAST
@given(st.one_of(st.binary(max_size=400), mutated()))
def test_sip_parser_returns_a_message_or_a_parse_error(data):
    try:
        message = parse(data)
    except SipParseError:
        return
    assert isinstance(message, (Request, Response))
    parse(message.encode())                # what parsed encodes to what parses


@FAST
@given(st.lists(st.one_of(mutated(), st.binary(max_size=200)), min_size=1, max_size=5))
def test_user_agent_never_raises_on_what_arrives(datagrams):
    ua = UserAgent(B, seed=1)
    now = 0.0
    for data in datagrams:
        ua.datagram_received(data, A, now)
        now += 0.3
        ua.handle_timer(now)
    for data, addr in ua.datagrams_to_send():
        # responses go back to the sender's address (§18.2.1 adds received=),
        # at its Via's port when it has no rport (§18.2.2): a mutated Via may
        # name any port, never another host
        assert addr[0] == A[0] and 0 < addr[1] < 65536
    for event in ua.events():
        if hasattr(event, "call_id"):
            ua.calls[event.call_id]        # every event names a call the UA knows


def test_oversized_and_truncated_datagrams_are_dropped():
    ua = UserAgent(B, seed=1)
    ua.datagram_received(b"OPTIONS " + b"x" * 70000, A, 0.0)
    ua.datagram_received(request("OPTIONS")[:40], A, 0.0)
    assert ua.datagrams_to_send() == [] and ua.malformed == 1   # oversized: not even read


@FAST
@given(st.one_of(st.text(max_size=300),
                 st.builds(lambda s, cut: s[:cut], st.sampled_from([offer_sdp(), T38_SDP]),
                           st.integers(0, 200))))
def test_sdp_parser_and_answer_raise_only_sdp_errors(text):
    try:
        offered = sdp.parse(text.encode("utf-8", "surrogatepass"))
        sdp.answer(offered, "127.0.0.1", 4000, 1)
    except SdpError:
        pass


@st.composite
def rtp_datagrams(draw):
    """RTP headers with any version, CSRC count, X and P bits and padding octet."""
    b0 = draw(st.integers(0, 255))
    body = draw(st.binary(max_size=80))
    return bytes([b0, draw(st.integers(0, 255))]) + draw(st.binary(min_size=10, max_size=10)) + body


@FAST
@given(st.lists(st.one_of(rtp_datagrams(), st.binary(max_size=40)), max_size=20))
def test_rtp_session_counts_what_it_drops(datagrams):
    s = RtpSession(PCMU, A, seed=1)
    for k, data in enumerate(datagrams):
        s.datagram_received(data, A, k * 0.02)
        s.receive(k * 0.02)
    st_ = s.stats
    assert st_.malformed + st_.ignored + st_.received + st_.duplicates == len(datagrams)
    for data in datagrams:
        try:
            packet = RtpPacket.parse(data)
        except RtpPacketError:
            continue
        assert RtpPacket.parse(packet.encode()) == packet


def _answer_to_our_invite() -> tuple[UserAgent, bytes]:
    ua = UserAgent(A, user="alice", seed=3)
    ua.invite("sip:fax@127.0.0.1:5080", 0.0, 4000)
    ((data, _),) = ua.datagrams_to_send()
    invite = parse(data)
    ok = make_response(invite, 200, to_tag="far")
    ok.headers += [("Contact", "<sip:fax@127.0.0.1:5080>"), ("Record-Route", "<sip:p@127.0.0.1;lr>"),
                   ("Content-Type", "application/sdp")]
    ok.body, _ = sdp.answer(sdp.parse(invite.body), "127.0.0.1", 6000, 1)
    return ua, ok.encode()


_, OK_TO_INVITE = _answer_to_our_invite()


def test_the_unmutated_answer_establishes_the_call():
    ua, data = _answer_to_our_invite()
    ua.datagram_received(data, B, 0.1)
    assert [type(e).__name__ for e in ua.events()] == ["CallEstablished"]


@FAST
@given(mutated(seeds=[OK_TO_INVITE, OK_TO_INVITE.replace(b"200 OK", b"407 Proxy Authentication Required")
                      .replace(b"Contact:", b'Proxy-Authenticate: Digest realm="r", nonce="n", qop="auth"\r\nX:')]))
def test_responses_to_our_invite_never_raise(data):
    ua, _ = _answer_to_our_invite()
    ua.datagram_received(data, B, 0.1)
    ua.handle_timer(40.0)
    ua.datagrams_to_send()
    for call in ua.calls.values():
        assert call.state in ("calling", "ringing", "established", "ended")
