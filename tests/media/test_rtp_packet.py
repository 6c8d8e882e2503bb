"""RTP packets (RFC 3550 §5.1): fields both ways, and each malformation named exactly."""
from __future__ import annotations

import struct

import pytest

from faxengine.errors import FaxError
from faxengine.media.rtp import RtpLocalError, RtpPacket, RtpPacketError
from faxengine.media.rtp.packet import audio_fields, audio_header

# a PCMU packet as a SIP phone sends it: V=2, M=1, PT=0, seq 0x1234, ts 160, SSRC 0xDEADBEEF
CAPTURED = bytes.fromhex("80801234000000a0deadbeef") + b"\xff" * 160


def test_captured_packet_fields():
    p = RtpPacket.parse(CAPTURED)
    assert (p.payload_type, p.sequence, p.timestamp, p.ssrc, p.marker) == (0, 0x1234, 160, 0xDEADBEEF, True)
    assert p.payload == b"\xff" * 160 and p.csrc == () and p.extension is None
    assert p.encode() == CAPTURED


def test_csrc_extension_and_padding_parse():
    header = bytes([0x80 | 0x20 | 0x10 | 2, 8]) + struct.pack("!HII", 7, 99, 5)
    data = header + struct.pack("!II", 11, 22) + struct.pack("!HH", 0xBEDE, 1) + b"abcd" + b"pay" + b"\x00\x00\x03"
    p = RtpPacket.parse(data)
    assert p.csrc == (11, 22) and p.extension == (0xBEDE, b"abcd") and p.payload == b"pay"
    assert RtpPacket.parse(p.encode()) == p          # encode drops the padding only


@pytest.mark.parametrize("data, message", [
    (b"\x80\x00\x00", "RTP packet of 3 octets is shorter than the 12-octet fixed header"),
    (b"\x40" + CAPTURED[1:], "RTP packet has version 1, not 2"),
    (b"\x83" + CAPTURED[1:12] + b"\x00" * 8, "RTP packet has truncated CSRC"),
    (b"\x90" + CAPTURED[1:12] + b"\x00\x00", "RTP packet has truncated header extension"),
    (b"\x90" + CAPTURED[1:12] + b"\x00\x00\x00\x02abcd", "RTP packet has truncated header extension"),
    (b"\xa0" + CAPTURED[1:12] + b"ab\x00", "RTP packet has padding length 0, outside 1..3"),
    (b"\xa0" + CAPTURED[1:12] + b"ab\x09", "RTP packet has padding length 9, outside 1..3"),
])
def test_malformed_packets_say_what_is_wrong(data, message):
    with pytest.raises(RtpPacketError) as e:
        RtpPacket.parse(data)
    assert str(e.value) == message
    assert isinstance(e.value, FaxError) and isinstance(e.value, ValueError)


def test_local_errors_are_their_own_type():
    with pytest.raises(RtpLocalError, match="payload type must be 0..127, not 128"):
        RtpPacket(128, 0, 0, 0)
    with pytest.raises(RtpLocalError, match="at most 15 CSRCs"):
        RtpPacket(0, 0, 0, 0, csrc=tuple(range(16)))


@pytest.mark.parametrize("marker", [False, True])
def test_the_plain_audio_fast_path_reads_and_writes_what_parse_and_encode_do(marker):
    packet = RtpPacket(8, 65535, 2**32 - 1, 0x12345678, bytes(range(160)), marker=marker)
    data = packet.encode()
    assert audio_header(8, 65535, 2**32 - 1, 0x12345678, marker) + packet.payload == data
    pt, seq, ts, ssrc, mark, payload = audio_fields(data)
    assert (pt, seq, ts, ssrc, mark, bytes(payload)) == \
        (8, 65535, 2**32 - 1, 0x12345678, marker, packet.payload)


@pytest.mark.parametrize("data", [
    RtpPacket(0, 1, 2, 3, b"x", csrc=(9,)).encode(),            # CSRC
    RtpPacket(0, 1, 2, 3, b"x", extension=(1, b"abcd")).encode(),  # extension
    RtpPacket(0, 1, 2, 3, b"x").encode()[:12],                  # no payload
    b"\xa0" + RtpPacket(0, 1, 2, 3, b"xy\x01").encode()[1:],     # padding
    b"\x40" + bytes(20),                                        # version 1
    b"",
])
def test_anything_but_a_plain_audio_packet_leaves_the_fast_path(data):
    assert audio_fields(data) is None
