"""Our IFP and UDPTL octets read by Wireshark's T.38 dissector (tshark).

Wireshark's dissector is generated from the T.38 ASN.1 by asn2wrs and
decodes PER by the book, so it is an independent reader of what we send:
every indicator, data type and field type (root and, from version 1,
extension), the multi-field packets whose fields without data share an
octet with the next, redundancy and FEC.  Its preference
``use_pre_corrigendum_asn1_specification`` is our version 0 (TRUE: the
1998 ``field-type`` without extension marker) against 1-3 (FALSE).  The
T.30 subdissector is switched off (it judges the frames' contents, not the
encoding) and so is T.38 reassembly.  Wireshark 4.0 stops dissecting a
packet whose first field ends a frame or signal (``hdlc-fcs-OK``,
``hdlc-fcs-OK-sig-end``, ``t4-non-ecm-sig-end``: "Unreassembled fragment"),
so those field types go second here, after data, as terminals send them.
"""
from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

import spandsp_t38
from faxengine.t38 import T38Error
from faxengine.t38.ifp import (VERSIONS, Data, Field, FieldType, Indicator, T30Data,
                               T30Indicator, decode)
from faxengine.t38.udptl import UdptlPacket, UdptlSender, decode_datagram, encode_datagram

TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed "
                                "(apt-get install tshark): Wireshark's T.38 dissector")
PORT = 5000
FRAME = bytes.fromhex("ff c8 01 00 ce f4 80 80 81 80 80 80 18")   # a DIS, first bit in the MSB


def pcap(datagrams: list[bytes]) -> bytes:
    """A classic pcap of UDP datagrams 127.0.0.1:5000 -> 127.0.0.1:5001."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]   # Ethernet
    for i, d in enumerate(datagrams):
        udp = struct.pack("!HHHH", PORT, PORT + 1, 8 + len(d), 0) + d
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        frame = bytes(12) + b"\x08\x00" + ip
        out.append(struct.pack("<IIII", i, 0, len(frame), len(frame)) + frame)
    return b"".join(out)


FIELDS = ["t38.seq_number", "t38.t30_indicator", "t38.t30_data", "t38.field_type",
          "t38.field_data", "t38.secondary_ifp_packets", "t38.fec_npackets", "t38.fec_data_item",
          "_ws.malformed"]


def tshark(datagrams: list[bytes], version: int, tmp_path) -> list[dict[str, list[str]]]:
    """What Wireshark reads in each datagram: field name -> its values."""
    path = tmp_path / "t38.pcap"
    path.write_bytes(pcap(datagrams))
    pre = "TRUE" if version == 0 else "FALSE"
    run = subprocess.run(
        [TSHARK, "-n", "-r", str(path), "-d", f"udp.port=={PORT},t38",
         "-o", f"t38.use_pre_corrigendum_asn1_specification:{pre}", "-o", "t38.reassembly:FALSE",
         "--disable-protocol", "t30", "-T", "fields", "-E", "occurrence=a",
         "-E", "aggregator=;", "-E", "separator=|", *[a for f in FIELDS for a in ("-e", f)]],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = [line.split("|") for line in run.stdout.splitlines()]
    assert len(rows) == len(datagrams)
    return [{f: (v.split(";") if v else []) for f, v in zip(FIELDS, row)} for row in rows]


# what Wireshark cannot dissect as a first field -> the field put before it
ENDS_FIRST = {FieldType.HDLC_FCS_OK: FieldType.HDLC_DATA,
              FieldType.HDLC_FCS_OK_SIG_END: FieldType.HDLC_DATA,
              FieldType.T4_NON_ECM_SIG_END: FieldType.T4_NON_ECM_DATA}


def packets(version: int) -> list:
    out: list = [Indicator(k) for k in T30Indicator if version or not k.is_extension]
    for kind in T30Data:
        if kind.is_extension and version == 0:
            continue
        for ftype in FieldType:
            if ftype.is_extension and version == 0:
                continue
            field = Field(ftype, FRAME[:1 + ftype.index])
            if ftype in ENDS_FIRST:
                out.append(Data(kind, (Field(ENDS_FIRST[ftype], FRAME), field)))
            else:
                out.append(Data(kind, (field,)))
    h = FieldType
    out += [
        Data(T30Data.V21, (Field(h.HDLC_DATA, FRAME), Field(h.HDLC_FCS_OK),
                           Field(h.HDLC_DATA, FRAME[:7]), Field(h.HDLC_FCS_OK_SIG_END))),
        Data(T30Data.V21, (Field(h.HDLC_DATA, FRAME), Field(h.HDLC_FCS_BAD), Field(h.HDLC_SIG_END),
                           Field(h.HDLC_DATA, FRAME[:3]), Field(h.HDLC_FCS_OK))),
        Data(T30Data.V17_9600, (Field(h.T4_NON_ECM_DATA, bytes(range(200))),
                                Field(h.T4_NON_ECM_SIG_END, b"\x00\x80"))),
        Data(T30Data.V29_9600),
    ]
    return out


def meaning(p) -> dict[str, list[str]]:
    """The values Wireshark should show for a packet alone in a datagram."""
    if isinstance(p, Indicator):
        return {"t38.t30_indicator": [str(p.kind.index)], "t38.t30_data": [],
                "t38.field_type": [], "t38.field_data": []}
    return {"t38.t30_indicator": [], "t38.t30_data": [str(p.kind.index)],
            "t38.field_type": [str(f.kind.index) for f in p.fields],
            "t38.field_data": [f.data.hex() for f in p.fields if f.data]}


@pytest.mark.parametrize("version", VERSIONS)
def test_wireshark_reads_our_ifp_packets_as_we_meant_them(version, tmp_path):
    tx = UdptlSender(version, redundancy_control=0, redundancy_image=0)
    sent = packets(version)
    read = tshark([tx.send(p) for p in sent], version, tmp_path)
    for seq, (p, got) in enumerate(zip(sent, read)):
        assert got["_ws.malformed"] == [], str(p)
        assert got["t38.seq_number"] == [str(seq)]
        assert {k: got[k] for k in meaning(p)} == meaning(p), str(p)
    assert len(sent) == (16 + 9 * 8 + 4 if version == 0 else 23 + 15 * 12 + 4)


def test_wireshark_reads_our_redundancy_and_fec(tmp_path):
    stream = [Indicator(T30Indicator.V21_PREAMBLE)] + \
        [Data(T30Data.V21, (Field(FieldType.HDLC_DATA, FRAME[:3 + i]),)) for i in range(5)] + \
        [Data(T30Data.V17_14400, (Field(FieldType.T4_NON_ECM_DATA, bytes([i]) * 30),))
         for i in range(4)]
    tx = UdptlSender(2)
    red = [tx.send(p) for p in stream]
    tx = UdptlSender(2, fec=(3, 2))
    fec = [tx.send(p) for p in stream]
    for got, octets in zip(tshark(red, 2, tmp_path), red):
        ours = decode_datagram(octets)
        assert got["_ws.malformed"] == []
        assert got["t38.seq_number"] == [str(ours.seq)]
        assert got["t38.secondary_ifp_packets"] == [str(len(ours.secondary))]
        # the primary and each secondary, in order, as Wireshark dissects them
        assert len(got["t38.t30_indicator"]) + len(got["t38.t30_data"]) == 1 + len(ours.secondary)
    for got, octets in zip(tshark(fec, 2, tmp_path), fec):
        ours = decode_datagram(octets)
        assert got["_ws.malformed"] == []
        assert got["t38.fec_npackets"] == [str(ours.fec.npackets)]
        assert got["t38.fec_data_item"] == [w.hex() for w in ours.fec.data]


def test_wireshark_reads_spandsps_unpacked_fields_as_we_do(tmp_path):
    """spandsp 0.0.6 starts the field after one without data on a new octet
    (test_ifp_spandsp.py); Wireshark, like us, reads PER and so another field."""
    if not spandsp_t38.available():
        pytest.skip(spandsp_t38.REASON)
    h = FieldType
    sent = spandsp_t38.Peer(2).send_data(T30Data.V21.index, [
        (h.HDLC_DATA.index, FRAME), (h.HDLC_FCS_OK.index, b""), (h.HDLC_DATA.index, FRAME)])
    got = tshark([encode_datagram(UdptlPacket(0, sent[0]))], 2, tmp_path)[0]
    assert got["t38.field_type"] == ["0", "2", "2"]
    with pytest.raises(T38Error, match="after the end of data v21 hdlc-data\\(13\\) "
                                        "hdlc-fcs-OK hdlc-fcs-OK"):
        decode(sent[0], 2)
