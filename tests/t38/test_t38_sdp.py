"""SDP attributes of T.38 (Annex D): parse, make, answer."""
from __future__ import annotations

import pytest

from faxengine.media.sip import sdp as sip_sdp
from faxengine.t38 import T38Error
from faxengine.t38.sdp import (T38Params, answer_params, attribute_lines, is_t38_stream,
                               make_attributes, media_line, parse_attributes)

# an offer as FreeSWITCH (mod_spandsp) sends it
FREESWITCH = (b"v=0\r\no=FreeSWITCH 1 2 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\n"
              b"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=image 20000 udptl t38\r\n"
              b"a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxFillBitRemoval\r\n"
              b"a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxBuffer:2000\r\n"
              b"a=T38FaxMaxDatagram:400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n")


def test_parse_an_offer_through_the_sip_parser():
    stream = sip_sdp.parse(FREESWITCH).media[0]
    assert is_t38_stream(stream.kind, stream.proto, stream.formats)
    assert parse_attributes(stream.attributes) == T38Params(
        version=0, max_bit_rate=14400, fill_bit_removal=True, transcoding_mmr=False,
        transcoding_jbig=False, rate_management="transferredTCF", max_buffer=2000,
        max_datagram=400, udp_ec="t38UDPRedundancy")


def test_missing_attributes_take_annex_d_defaults_and_names_ignore_case():
    assert parse_attributes([]) == T38Params(udp_ec=None)
    p = parse_attributes([("t38faxversion", "3"), ("T38FaxMaxRate", "9600"),
                          ("T38FAXRATEMANAGEMENT", "localtcf"), ("T38MaxDatagram", "72"),
                          ("T38FaxFillBitRemoval", "0"), ("T38FaxTranscodingMMR", "1"),
                          ("T38FaxUdpEC", "t38UDPFEC"), ("rtpmap", "0 PCMU/8000"), ("x", None)])
    assert p == T38Params(version=3, max_bit_rate=9600, rate_management="localTCF",
                          max_datagram=72, transcoding_mmr=True, udp_ec="t38UDPFEC")


def test_the_2010_error_correction_depth_and_span():
    p = parse_attributes([("T38FaxUdpEC", "t38UDPRedundancy"), ("T38FaxUdpECDepth", "1 3"),
                          ("T38FaxUdpFECMaxSpan", "4")])
    assert (p.ec_depth, p.fec_max_span) == ((1, 3), 4)
    assert parse_attributes([("T38FaxUdpECDepth", "2")]).ec_depth == (2, 2)
    assert make_attributes(p)[-2:] == [("T38FaxUdpECDepth", "1 3"), ("T38FaxUdpFECMaxSpan", "4")]
    assert parse_attributes(make_attributes(p)) == p
    with pytest.raises(T38Error, match=r"^SDP: T38FaxUdpECDepth must be \(min, max\) with 0 <= min <= max, "
                                       r"not \(3, 1\)$"):
        parse_attributes([("T38FaxUdpECDepth", "3 1")])
    with pytest.raises(T38Error, match=r"^SDP a=T38FaxUdpECDepth must be 'min' or 'min max', not '1 2 3'$"):
        parse_attributes([("T38FaxUdpECDepth", "1 2 3")])


def test_make_writes_annex_d_order_and_round_trips():
    ours = T38Params(version=2, fill_bit_removal=True, transcoding_jbig=True, max_buffer=2000,
                     max_datagram=400)
    assert attribute_lines(ours) == [
        "a=T38FaxVersion:2", "a=T38MaxBitRate:14400", "a=T38FaxFillBitRemoval",
        "a=T38FaxTranscodingJBIG", "a=T38FaxRateManagement:transferredTCF",
        "a=T38FaxMaxBuffer:2000", "a=T38FaxMaxDatagram:400", "a=T38FaxUdpEC:t38UDPRedundancy"]
    assert parse_attributes(make_attributes(ours)) == ours
    assert media_line(4000) == "m=image 4000 udptl t38"
    body = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + media_line(4000) + "\r\n" + "\r\n".join(attribute_lines(ours)) + "\r\n")
    assert parse_attributes(sip_sdp.parse(body.encode()).media[0].attributes) == ours


def test_answer_follows_the_offer():
    offered = parse_attributes(sip_sdp.parse(FREESWITCH).media[0].attributes)
    ours = T38Params(version=3, max_bit_rate=14400, fill_bit_removal=False,
                     rate_management="localTCF", max_datagram=1400, udp_ec="t38UDPRedundancy")
    assert answer_params(offered, ours) == T38Params(
        version=0, max_bit_rate=14400, fill_bit_removal=False, rate_management="transferredTCF",
        max_datagram=1400, udp_ec="t38UDPRedundancy")
    fec = T38Params(version=1, max_bit_rate=9600, udp_ec="t38UDPFEC", transcoding_mmr=True)
    assert answer_params(fec, ours).udp_ec == "t38UDPRedundancy"
    assert answer_params(fec, T38Params(udp_ec="t38UDPFEC")).udp_ec == "t38UDPFEC"
    assert answer_params(fec, ours).max_bit_rate == 9600
    assert not answer_params(fec, ours).transcoding_mmr
    assert answer_params(T38Params(udp_ec=None), ours).udp_ec is None


@pytest.mark.parametrize("attributes,message", [
    ([("T38FaxVersion", "4")], r"^SDP a=T38FaxVersion:4 is not a T.38 version \(0 to 3\)$"),
    ([("T38FaxVersion", "\u00b3")], r"^SDP a=T38FaxVersion must have a decimal number, not '\u00b3'$"),
    ([("T38FaxVersion", None)], r"^SDP a=T38FaxVersion must have a decimal number, not None$"),
    ([("T38MaxBitRate", "fast")], r"^SDP a=T38MaxBitRate must have a decimal number, not 'fast'$"),
    ([("T38MaxBitRate", "0")], r"^SDP: T38MaxBitRate must be a positive integer, not 0$"),
    ([("T38FaxMaxDatagram", "9" * 40)], r"^SDP a=T38FaxMaxDatagram must have a decimal number"),
    ([("T38FaxFillBitRemoval", "yes")], r"^SDP a=T38FaxFillBitRemoval takes no value or 0/1, not 'yes'$"),
    ([("T38FaxRateManagement", "TCF")],
     r"^SDP a=T38FaxRateManagement must be localTCF or transferredTCF, not 'TCF'$"),
    ([("T38FaxUdpEC", None)], r"^SDP a=T38FaxUdpEC must be t38UDPFEC or t38UDPRedundancy, not None$"),
])
def test_bad_values_are_t38errors_that_name_the_attribute(attributes, message):
    with pytest.raises(T38Error, match=message):
        parse_attributes(attributes)


def test_params_check_themselves():
    with pytest.raises(T38Error, match=r"^T38FaxVersion must be one of \(0, 1, 2, 3\), not 7$"):
        T38Params(version=7)
    with pytest.raises(T38Error, match=r"^T38FaxUdpEC must be t38UDPFEC or t38UDPRedundancy"):
        T38Params(udp_ec="fec")
    with pytest.raises(T38Error, match=r"^SDP m=image: port must be 0..65535, not 70000$"):
        media_line(70000)
    assert not is_t38_stream("audio", "RTP/AVP", ["0"])
    assert is_t38_stream("image", "UDPTL", ["T38"])
