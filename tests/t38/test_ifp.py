"""IFP packets (T.38 Annex A): exact octets, round trips, versions, errors.

The expected octets are worked out by hand from ALIGNED PER (X.691) and the
ASN.1 of T.38 Annex A, and agree with what spandsp's ``t38_core`` sends
(``test_ifp_spandsp.py`` checks that against the library itself).
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faxengine
from faxengine.t38 import T38Error
from faxengine.t38.ifp import (VERSIONS, Data, Field, FieldType, Indicator, T30Data,
                               T30Indicator, decode, encode)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_enumerations_follow_the_asn1():
    assert [m.value for m in T30Indicator][:4] == ["no-signal", "cng", "ced", "v21-preamble"]
    assert T30Indicator.V17_14400_LONG_TRAINING.index == 15
    assert not T30Indicator.V17_14400_LONG_TRAINING.is_extension
    assert T30Indicator.V8_ANSAM.index == 16 and T30Indicator.V8_ANSAM.is_extension
    assert T30Data.V17_14400.index == 8 and T30Data.V8.index == 9 and T30Data.V8.is_extension
    assert FieldType.T4_NON_ECM_SIG_END.index == 7 and FieldType.CM_MESSAGE.is_extension
    assert str(FieldType.HDLC_FCS_OK) == "hdlc-fcs-OK"
    assert FieldType("hdlc-fcs-BAD-sig-end") is FieldType.HDLC_FCS_BAD_SIG_END
    assert T30Indicator("v34-CC-retrain") is T30Indicator.V34_CC_RETRAIN


def test_the_data_model_checks_itself():
    f = Field(FieldType.HDLC_DATA, bytearray(b"\xff\x13"))
    assert f.data == b"\xff\x13" and isinstance(f.data, bytes)
    d = Data(T30Data.V21, [f, Field(FieldType.HDLC_FCS_OK)])
    assert isinstance(d.fields, tuple) and str(d) == "data v21 hdlc-data(2) hdlc-fcs-OK"
    assert str(Indicator(T30Indicator.CED)) == "indicator ced"
    with pytest.raises(T38Error, match=r"^Indicator: kind must be a T30Indicator, not 'ced'"):
        Indicator("ced")
    with pytest.raises(T38Error, match=r"^Field: data must be bytes, not str$"):
        Field(FieldType.HDLC_DATA, "abc")
    with pytest.raises(T38Error, match=r"^Field: 65536 octets of field-data, T.38 allows at most 65535"):
        Field(FieldType.T4_NON_ECM_DATA, bytes(65536))
    with pytest.raises(T38Error, match=r"^Data: fields must be Field objects, not 3$"):
        Data(T30Data.V21, (3,))
    with pytest.raises(AttributeError):
        d.kind = T30Data.V17_9600          # frozen
    assert issubclass(T38Error, faxengine.FaxError) and issubclass(T38Error, ValueError)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", list(T30Indicator), ids=str)
def test_indicator_octets(kind, version):
    p = Indicator(kind)
    if not kind.is_extension:
        want = bytes([kind.index << 1])      # 0 (no data-field) 0 (indicator) 0 (root) iiii 0
    elif version == 0:
        with pytest.raises(T38Error, match="addition of a later T.38 version; version 0 cannot"):
            encode(p, version)
        want = (0x2000 | (kind.index - 16) << 6).to_bytes(2, "big")
        assert decode(want, 0) == p          # decoded whatever the version
        return
    else:                                    # extension bit, then 0 + six bits
        want = (0x2000 | (kind.index - 16) << 6).to_bytes(2, "big")
    assert encode(p, version) == want
    assert decode(want, version) == p


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", list(T30Data), ids=str)
def test_data_type_octets(kind, version):
    p = Data(kind, (Field(FieldType.T4_NON_ECM_DATA, b"\x12\x34\x56"),))
    body = bytes([0x01, 0xB0 if version else 0xE0, 0x00, 0x02, 0x12, 0x34, 0x56])
    if kind.is_extension:
        head = (0x8000 | 0x6000 | (kind.index - 9) << 6).to_bytes(2, "big")
    else:
        head = bytes([0xC0 | kind.index << 1])
    if kind.is_extension and version == 0:
        with pytest.raises(T38Error, match="version 0 cannot carry it"):
            encode(p, 0)
    else:
        assert encode(p, version) == head + body
    assert decode(head + body, version) == p


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", list(FieldType), ids=str)
def test_field_type_octets_with_and_without_data(kind, version):
    with_data = Data(T30Data.V21, (Field(kind, b"\xaa"),))
    without = Data(T30Data.V21, (Field(kind),))
    if kind.is_extension:
        if version == 0:      # the 1998 field-type has no extension marker at all
            with pytest.raises(T38Error, match="field-type|FieldType"):
                encode(with_data, 0)
            return
        # presence, extension bit, 0 + six bits: 9 bits
        n = kind.index - 8
        bits = (1 << 8) | (1 << 7) | n
        assert encode(with_data, version) == bytes([0xC0, 1]) + (bits << 7).to_bytes(2, "big") \
            + b"\x00\x00\xaa"
        bits = (1 << 7) | n
        assert encode(without, version) == bytes([0xC0, 1]) + (bits << 7).to_bytes(2, "big")
    elif version == 0:        # presence + three bits
        assert encode(with_data, 0) == bytes([0xC0, 1, 0x80 | kind.index << 4, 0, 0, 0xAA])
        assert encode(without, 0) == bytes([0xC0, 1, kind.index << 4])
    else:                     # presence, extension bit 0, three bits
        assert encode(with_data, version) == bytes([0xC0, 1, 0x80 | kind.index << 3, 0, 0, 0xAA])
        assert encode(without, version) == bytes([0xC0, 1, kind.index << 3])
    for p in (with_data, without):
        assert decode(encode(p, version), version) == p


def test_a_field_without_data_shares_its_octet_with_the_next():
    p = Data(T30Data.V21, (Field(FieldType.HDLC_FCS_OK), Field(FieldType.HDLC_DATA, b"ab"),
                           Field(FieldType.HDLC_FCS_OK), Field(FieldType.HDLC_FCS_OK_SIG_END)))
    # version 2: 00010 | 10000 -> 0x14, pad; 0001 'ab'; 00010 00100 -> 0x11 0x00
    assert encode(p, 2) == bytes.fromhex("c0 04 14 00 00 01 61 62 11 00")
    # version 0: 0010 | 1000 -> 0x28, pad; 0001 'ab'; 0010 0100 -> 0x24
    assert encode(p, 0) == bytes.fromhex("c0 04 28 00 01 61 62 24")
    for v in (0, 2):
        assert decode(encode(p, v), v) == p


def test_no_fields_means_no_data_field():
    assert encode(Data(T30Data.V29_9600), 2) == bytes([0x40 | 4 << 1])
    assert decode(bytes([0x48]), 2) == Data(T30Data.V29_9600)
    # a data-field of zero fields means the same
    assert decode(bytes([0xC8, 0x00]), 2) == Data(T30Data.V29_9600)


def test_long_fields_and_counts():
    big = Field(FieldType.T4_NON_ECM_DATA, bytes(65535))
    b = encode(Data(T30Data.V17_14400, (big,)), 3)
    assert b[:5] == bytes([0xD0, 0x01, 0xB0, 0xFF, 0xFE]) and len(b) == 5 + 65535
    assert decode(b, 3).fields[0] == big
    many = Data(T30Data.V21, tuple(Field(FieldType.HDLC_DATA, b"x") for _ in range(200)))
    b = encode(many, 2)
    assert b[1:3] == bytes([0x80, 200])            # two-octet length determinant
    assert decode(b, 2) == many
    with pytest.raises(T38Error, match=r"^data-field: number of fields: 16384 is longer than 16383"):
        encode(Data(T30Data.V21, (Field(FieldType.HDLC_FCS_OK),) * 16384), 2)


@pytest.mark.parametrize("data,message", [
    (b"", r"^IFP packet: empty"),
    (b"\x80", r"^IFP packet: indicator no-signal with a data-field \(at octet 0 of 1\)$"),
    (b"\x20", r"^IFP packet: truncated in t30-indicator \(at octet 0 of 1\)$"),
    (b"\x21\xc0", r"^IFP packet: unknown t30-indicator extension value 23"),
    (b"\x30\x00", r"^IFP packet: t30-indicator is not a small number \(64 or more\)"),
    (b"\x52", r"^IFP packet: unknown t30-data value 9"),
    (b"\xc0", r"^IFP packet: truncated in length of data-field"),
    (b"\xc0\x01", r"^IFP packet: truncated in field 0 presence"),
    (b"\xc0\x01\x80", r"^IFP packet: truncated in field 0 length"),
    (b"\xc0\x01\x80\x00\x04ab", r"^IFP packet: field 0 \(hdlc-data\) says 5 octets but only 2 follow"),
    (b"\xc0\xc1", r"^IFP packet: data-field uses a fragmented length"),
    (b"\x06\x00", r"^IFP packet: 1 octet\(s\) after the end of indicator v21-preamble$"),
    (b"\xc0\x01\x42\x80", r"^IFP packet: unknown field-type extension value 13"),
])
def test_garbage_is_a_t38error_with_a_message(data, message):
    with pytest.raises(T38Error, match=message):
        decode(data, 2)


def test_padding_after_a_packet_only_when_asked():
    assert decode(b"\x06\x00\x00", 2, padded=True) == Indicator(T30Indicator.V21_PREAMBLE)
    with pytest.raises(T38Error, match="after the end"):
        decode(b"\x06\x00\x01", 2, padded=True)


@pytest.mark.parametrize("bad", [4, -1, "2", None, True])
def test_a_bad_version_is_refused(bad):
    with pytest.raises(T38Error, match=r"^T.38 version must be one of \(0, 1, 2, 3\)"):
        encode(Indicator(T30Indicator.CNG), bad)
    with pytest.raises(T38Error, match=r"^T.38 version must be one of"):
        decode(b"\x02", bad)


def test_encode_refuses_what_is_not_a_packet():
    with pytest.raises(T38Error, match=r"^encode: not an IFP packet \(Indicator or Data\): b'\\x02'"):
        encode(b"\x02", 2)
    with pytest.raises(T38Error, match=r"^IFP packet: expected bytes, not str"):
        decode("\x02", 2)


# -- properties --------------------------------------------------------------

def packets(version):
    def allowed(cls):
        return [m for m in cls if version > 0 or not m.is_extension]
    fields = st.builds(Field, st.sampled_from(allowed(FieldType)), st.binary(max_size=40))
    return st.one_of(
        st.builds(Indicator, st.sampled_from(allowed(T30Indicator))),
        st.builds(Data, st.sampled_from(allowed(T30Data)),
                  st.lists(fields, max_size=6).map(tuple)))


@pytest.mark.parametrize("version", VERSIONS)
def test_every_packet_round_trips(version):
    @FAST
    @given(packets(version))
    def check(p):
        b = encode(p, version)
        assert decode(b, version) == p
        assert encode(decode(b, version), version) == b
    check()


@FAST
@given(st.binary(max_size=64), st.sampled_from(VERSIONS))
def test_decode_is_total(data, version):
    try:
        p = decode(data, version)
    except T38Error as e:
        assert str(e)
    else:
        assert isinstance(p, (Indicator, Data))
