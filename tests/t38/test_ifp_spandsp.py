"""IFP interop with libspandsp 0.0.6's T.38 core, both directions.

A corpus made by spandsp at test time (``spandsp_t38.py``): every indicator,
every data type and every field type it will send, in each T38FaxVersion,
with and without field data, and the two-field packets its terminal sends
(``hdlc-data`` + ``hdlc-fcs-OK[-sig-end]``).  Each packet decodes with ours
to the same meaning and ours encodes it to the same octets; each of ours,
fed to spandsp's receiver, is accepted and reported with the same meaning.

Two corners where spandsp 0.0.6 departs from PER are pinned at the end
(docs/t38.md says why they do not matter to a T.30 call).
"""
from __future__ import annotations

import pytest

import spandsp_t38
from faxengine.t38.ifp import (VERSIONS, Data, Field, FieldType, Indicator, T30Data,
                               T30Indicator, decode, encode)

pytestmark = pytest.mark.skipif(not spandsp_t38.available(), reason=spandsp_t38.REASON)

OCTETS = bytes(range(0x21, 0x21 + 37))      # 37 octets of field data


def corpus(version):
    """(packet, what spandsp sent for it) for everything spandsp sends."""
    peer = spandsp_t38.Peer(version)
    out = []
    for kind in T30Indicator:
        sent = peer.send_indicator(kind.index)
        if version == 0 and kind.is_extension:
            assert sent == []           # spandsp refuses the additions in version 0
            continue
        assert len(sent) == 1
        out.append((Indicator(kind), sent[0]))
    for dkind in T30Data:
        for ftype in FieldType:
            if ftype.is_extension:
                continue                # spandsp's differ from PER: see the end
            for data in (OCTETS, b""):
                sent = peer.send_data(dkind.index, [(ftype.index, data)])
                if version == 0 and dkind.is_extension:
                    assert sent == []
                    continue
                assert len(sent) == 1
                out.append((Data(dkind, (Field(ftype, data),)), sent[0]))
    for end in (FieldType.HDLC_FCS_OK, FieldType.HDLC_FCS_OK_SIG_END):
        frame = b"\xff\x13\x80" + OCTETS
        sent = peer.send_data(T30Data.V21.index, [(FieldType.HDLC_DATA.index, frame),
                                                  (end.index, b"")])
        out.append((Data(T30Data.V21, (Field(FieldType.HDLC_DATA, frame), Field(end))), sent[0]))
    return out


def spandsp_events(packet):
    """What spandsp's rx handlers should report for this packet."""
    if isinstance(packet, Indicator):
        return [("indicator", packet.kind.index)]
    return [("data", packet.kind.index, f.kind.index, f.data) for f in packet.fields]


@pytest.mark.parametrize("version", VERSIONS)
def test_spandsp_packets_decode_to_the_same_meaning_and_octets(version):
    packets = corpus(version)
    assert len(packets) == (16 + 9 * 16 + 2 if version == 0 else 23 + 15 * 16 + 2)
    for packet, octets in packets:
        assert decode(octets, version) == packet, octets.hex()
        assert encode(packet, version) == octets, str(packet)


@pytest.mark.parametrize("version", VERSIONS)
def test_ours_decode_in_spandsp(version):
    peer = spandsp_t38.Peer(version)
    for seq, (packet, _) in enumerate(corpus(version)):
        rc, events = peer.receive(encode(packet, version), seq)
        assert rc == 0, str(packet)
        assert events == spandsp_events(packet), str(packet)


@pytest.mark.parametrize("version", [0, 2])
def test_ours_with_big_fields_and_many_fields_decode_in_spandsp(version):
    peer = spandsp_t38.Peer(version)
    packet = Data(T30Data.V17_14400, tuple(
        Field(FieldType.T4_NON_ECM_DATA, bytes([i]) * (i + 1)) for i in range(30)))
    rc, events = peer.receive(encode(packet, version), 7)
    assert rc == 0 and events == spandsp_events(packet)


# -- where spandsp 0.0.6 is not PER ---------------------------------------

def test_spandsp_starts_every_field_on_an_octet():
    """A field without data, not the last: PER packs the next field's bits
    into the same octet (we do; Wireshark decodes so); spandsp's encoder
    starts the next field on a new octet and its decoder of versions 1-3
    reads so too.  Its terminal never sends such a packet."""
    packet = Data(T30Data.V21, (Field(FieldType.HDLC_FCS_OK), Field(FieldType.HDLC_DATA, b"ab")))
    assert spandsp_t38.Peer(2).send_data(0, [(2, b""), (0, b"ab")]) == [
        bytes.fromhex("c0 02 10 80 00 01 61 62")]
    assert encode(packet, 2) == bytes.fromhex("c0 02 14 00 00 01 61 62")
    rc, events = spandsp_t38.Peer(2).receive(encode(packet, 2))
    assert rc == -1 and events != spandsp_events(packet)


def test_spandsp_puts_extension_field_types_one_bit_right():
    """cm-message .. v34rate: PER is presence, extension bit, 0, six bits;
    spandsp writes a further 0 bit before the six."""
    sent = spandsp_t38.Peer(2).send_data(T30Data.V21.index, [(FieldType.V34RATE.index, b"144")])
    assert sent == [bytes.fromhex("c0 01 c0 c0 00 02 31 34 34")]
    assert encode(Data(T30Data.V21, (Field(FieldType.V34RATE, b"144"),)), 2) == \
        bytes.fromhex("c0 01 c1 80 00 02 31 34 34")
