"""SDP offer/answer (RFC 3264) for G.711: what we offer, choose, decline."""
from __future__ import annotations

import pytest

from faxengine.media.sip import SdpError, sdp

from sip_helpers import T38_SDP, offer_sdp


def test_our_offer_lists_pcmu_pcma_and_events():
    o = sdp.parse(sdp.offer("192.0.2.1", 4000, 42))
    (audio,) = o.media
    assert (audio.kind, audio.port, audio.formats) == ("audio", 4000, ("0", "8", "101"))
    assert audio.connection == "192.0.2.1" and audio.attribute("ptime") == "20"


def test_answer_takes_the_offerers_first_codec_and_keeps_events():
    body, audio = sdp.answer(sdp.parse(offer_sdp(6000, "8 0 101").encode()), "192.0.2.1", 4000, 1)
    assert (audio.payload_type, audio.law, audio.remote, audio.event_payload_type) == (
        8, "alaw", ("127.0.0.1", 6000), 101)
    (m,) = sdp.parse(body).media
    assert m.formats == ("8", "101") and m.port == 4000
    assert sdp.accepted(sdp.parse(body)).law == "alaw"


def test_dynamic_payload_type_named_by_rtpmap_and_ptime():
    text = offer_sdp(6000, "96 101", "a=rtpmap:96 PCMU/8000\r\na=ptime:40\r\n")
    _, audio = sdp.answer(sdp.parse(text.encode()), "192.0.2.1", 4000, 1)
    assert (audio.payload_type, audio.law, audio.ptime_ms) == (96, "ulaw", 40)
    _, audio = sdp.answer(sdp.parse(offer_sdp(6000, "0", "a=ptime:90\r\n").encode()), "h", 1, 1)
    assert audio.ptime_ms == 20                       # outside 10..60 ms: our default


def test_t38_only_offer_is_not_acceptable_and_mixed_offer_declines_image():
    with pytest.raises(sdp.NotAcceptable, match=r"no PCMU or PCMA audio stream \(m=image udptl\)"):
        sdp.answer(sdp.parse(T38_SDP.encode()), "192.0.2.1", 4000, 1)
    mixed = offer_sdp(6000, "0") + "m=image 6002 udptl t38\r\n"
    body, _ = sdp.answer(sdp.parse(mixed.encode()), "192.0.2.1", 4000, 1)
    assert [(m.kind, m.port) for m in sdp.parse(body).media] == [("audio", 4000), ("image", 0)]


@pytest.mark.parametrize("text, message", [
    ("x=1\r\n", "SDP does not start with v=0"),
    ("v=0\r\nbad line\r\n", "SDP line 'bad line' is not type=value"),
    ("v=0\r\nc=IN IP4\r\n", "SDP session c='IN IP4' is not IN IP4|IP6 address"),
    ("v=0\r\nm=audio x RTP/AVP 0\r\n", "SDP m='audio x RTP/AVP 0' is not media port proto formats"),
    ("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "SDP audio stream has no c= connection address"),
])
def test_malformed_sdp_says_what_is_wrong(text, message):
    with pytest.raises(SdpError) as e:
        sdp.parse(text.encode())
    assert str(e.value) == message


def test_rtpmap_with_a_number_alone_names_no_encoding():
    """Found by fuzz/fuzz_sip.py: 'a=rtpmap: 101' (no encoding name) raised IndexError;
    RFC 4566 §6 wants '<payload type> <encoding name>/<clock rate>': 101 names nothing."""
    offered = sdp.parse(b"v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                        b"t=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap: 101\r\n")
    assert offered.media[0].encoding("101") is None
    _, audio = sdp.answer(offered, "127.0.0.1", 4000, 1)
    assert (audio.payload_type, audio.law, audio.event_payload_type) == (0, "ulaw", None)
