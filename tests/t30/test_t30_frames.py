"""T.30 frames: FCF codes, X bit, control octets, parsing errors, identities."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from faxengine.errors import FaxError
from faxengine.t30 import Fcf, Frame, FrameError, LocalProtocolError, RemoteProtocolError
from faxengine.t30.frames import (X_CODES, decode_ident, encode_ident, fcf_octet,
                                  ident_frame, lookup_fcf, message)

SPANDSP_FCF_H = Path("/usr/include/spandsp/t30_fcf.h")
KNOWN = [f for f in Fcf if f is not Fcf.UNKNOWN]


@pytest.mark.parametrize("fcf", KNOWN, ids=lambda f: f.label)
@pytest.mark.parametrize("x", [False, True])
@pytest.mark.parametrize("final", [False, True])
def test_every_fcf_round_trips(fcf, x, final):
    x = x and fcf in X_CODES
    frame = Frame(fcf, b"\x12\x34", final=final, x=x)
    data = frame.to_bytes()
    assert data[0] == 0xFF and data[1] == (0x13 if final else 0x03)
    assert Frame.parse(data) == frame


def test_fcf_octets_are_distinct_for_both_x_values():
    octets = {}
    for fcf in KNOWN:
        for x in ([False, True] if fcf in X_CODES else [False]):
            octet = fcf_octet(fcf, x)
            assert octet not in octets, (fcf, octets.get(octet))
            octets[octet] = fcf
            assert lookup_fcf(octet) == (fcf, x)


def test_known_octets_in_line_bit_order():
    # T.30 writes DIS "0000 0001" first bit leftmost; the first bit is our LSB
    assert Fcf.DIS == 0x80 and Fcf.DTC == 0x81 and Fcf.CSI == 0x40
    assert fcf_octet(Fcf.DCS, True) == 0x83 and fcf_octet(Fcf.DCS, False) == 0x82
    assert fcf_octet(Fcf.DCN, True) == 0xFB and fcf_octet(Fcf.MCF, False) == 0x8C
    assert Fcf.FCD == 0x06 and Fcf.RCP == 0x86
    assert Frame(Fcf.CFR, x=True).to_bytes() == bytes.fromhex("ff1385")


@pytest.mark.skipif(not SPANDSP_FCF_H.exists(), reason="libspandsp-dev headers not installed")
def test_fcf_values_match_spandsp():
    text = SPANDSP_FCF_H.read_text()
    values = dict(re.findall(r"\b(?:T30|T4)_([A-Z_]+)\s*=\s*(0x[0-9A-F]{2})", text))
    checked = 0
    for fcf in KNOWN:
        if fcf.name in values:
            assert int(fcf) == int(values[fcf.name], 16), fcf.label
            checked += 1
    assert checked >= 45


def test_unknown_fcf_is_kept_not_rejected():
    frame = Frame.parse(bytes.fromhex("ff13f0abcd"))
    assert frame.fcf is Fcf.UNKNOWN and frame.code == 0xF0 and frame.fif == b"\xab\xcd"
    assert frame.to_bytes() == bytes.fromhex("ff13f0abcd")


@pytest.mark.parametrize("data, message", [
    (b"", "0 octet"), (b"\xff\x13", "too short"),
    (b"\xfe\x13\x80", "address 0xFE"), (b"\xff\x07\x80", "control 0x07"),
])
def test_malformed_frames_raise_remote_errors(data, message):
    with pytest.raises(FrameError, match=message) as info:
        Frame.parse(data)
    assert isinstance(info.value, RemoteProtocolError) and isinstance(info.value, FaxError)


def test_frame_construction_is_validated():
    with pytest.raises(LocalProtocolError, match="no X bit"):
        Frame(Fcf.DIS, x=True)
    with pytest.raises(LocalProtocolError, match="code="):
        Frame(Fcf.UNKNOWN)
    with pytest.raises(LocalProtocolError, match="only for UNKNOWN"):
        Frame(Fcf.MCF, code=3)


def test_identity_is_right_aligned_and_reversed():
    fif = encode_ident("+1 555 0100")
    assert fif == b"0010 555 1+         "
    assert len(fif) == 20 and decode_ident(fif) == "+1 555 0100"
    frame = ident_frame(Fcf.TSI, "123", x=True)
    assert frame.to_bytes()[:3] == bytes.fromhex("ff0343") and not frame.final


def test_identity_rules():
    with pytest.raises(LocalProtocolError, match="21 characters"):
        encode_ident("1" * 21)
    with pytest.raises(LocalProtocolError, match="'A'"):
        encode_ident("12A")
    assert decode_ident(b"CBA\x01 ") == "?ABC"   # lenient: letters kept, controls shown
    with pytest.raises(LocalProtocolError, match="does not carry"):
        ident_frame(Fcf.DIS, "1")


def test_message_marks_only_the_last_frame_final():
    frames = message(ident_frame(Fcf.TSI, "1", x=True), Frame(Fcf.DCS, b"\x00\x02\x00", x=True))
    assert [f.to_bytes()[1] for f in frames] == [0x03, 0x13]
    assert message(Frame(Fcf.MCF, final=False)) == [Frame(Fcf.MCF)]
    with pytest.raises(LocalProtocolError):
        message()
