#!/usr/bin/env python3
"""Fuzz target: T.38 on the wire, ``faxengine.t38``: IFP packets
(``ifp.decode``), UDPTL datagrams (``udptl.decode_datagram``), a
``UdptlReceiver`` fed them all, and the SDP attributes (``sdp.parse_attributes``).

Input layout::

    octet 0   the T38FaxVersion (octet % 4) and the receiver's reorder
              window (octet // 4 % 5)
    then, per datagram:
      2 octets its length, little-endian (cut to what is left)
      that many octets

Oracle: each datagram, read as an IFP packet, decodes to a packet or raises
``T38Error``, and a decoded packet encodes back to octets that decode to it
(unless it holds a V.34 addition that its version 0 cannot send); read as a
UDPTL datagram, the same, with ``encode_datagram``; read as SDP attribute
lines (``name:value``), the T.38 parameters or ``T38Error``, and made
attributes parse back to the same parameters.  The receiver raises nothing
but ``T38Error``; what it hands up, flush included, is one run of
consecutive sequence numbers (mod 65536) across restarts only, each an IFP
packet or ``LOST``; its counters are never negative.
"""
from __future__ import annotations

from _harness import Reader, instrumented, main

with instrumented():
    from faxengine.t38 import T38Error
    from faxengine.t38.ifp import Data, Field, FieldType, Indicator, T30Data, T30Indicator
    from faxengine.t38.ifp import decode, encode
    from faxengine.t38.sdp import make_attributes, parse_attributes
    from faxengine.t38.udptl import (LOST, UdptlPacket, UdptlReceiver, UdptlSender,
                                     decode_datagram, encode_datagram)


def frame(data: bytes) -> bytes:
    return len(data).to_bytes(2, "little") + data


def seeds() -> dict[str, bytes]:
    packets = [Indicator(T30Indicator.V21_PREAMBLE),
               Data(T30Data.V21, (Field(FieldType.HDLC_DATA, b"\xff\x13\x80\x00\xee"),
                                  Field(FieldType.HDLC_FCS_OK_SIG_END))),
               Indicator(T30Indicator.V17_14400_LONG_TRAINING),
               Data(T30Data.V17_14400, (Field(FieldType.T4_NON_ECM_DATA, bytes(range(40))),)),
               Data(T30Data.V17_14400, (Field(FieldType.T4_NON_ECM_SIG_END, b"\x00\x08"),)),
               Indicator(T30Indicator.NO_SIGNAL)]
    out = {}
    for name, kwargs, order in (("redundancy", {}, (0, 1, 3, 2, 4, 5)),
                                ("fec", {"fec": (2, 2)}, (0, 1, 2, 4, 5, 3, 5)),
                                ("plain", {"redundancy_control": 0, "redundancy_image": 0},
                                 (0, 2, 1, 4, 5))):
        tx = UdptlSender(2, **kwargs)
        grams = [tx.send(p) for p in packets]
        out[name] = bytes([2 + 4 * 2]) + b"".join(frame(grams[i]) for i in order)
    out["ifp-v0"] = bytes([0]) + b"".join(frame(encode(p, 0)) for p in packets)
    out["sdp"] = bytes([3]) + frame(b"T38FaxVersion:3\nT38MaxBitRate:14400\nT38FaxFillBitRemoval\n"
                                    b"T38FaxRateManagement:localTCF\nT38FaxMaxDatagram:400\n"
                                    b"T38FaxUdpEC:t38UDPFEC\nT38FaxUdpECDepth:1 3\n"
                                    b"T38FaxUdpFECMaxSpan:3")
    out["wrap"] = bytes([1]) + b"".join(
        frame(encode_datagram(UdptlPacket(s % 65536, b"\x06"))) for s in (65534, 65535, 1, 0, 9000))
    return out


def check_ifp(data: bytes, version: int) -> None:
    try:
        p = decode(data, version)
    except T38Error:
        return
    try:
        again = encode(p, version)
    except T38Error as e:
        assert version == 0 and "version 0 cannot" in str(e), e
        return
    assert decode(again, version) == p, (data, p)


def check_datagram(data: bytes) -> None:
    try:
        p = decode_datagram(data)
    except T38Error:
        return
    assert decode_datagram(encode_datagram(p)) == p, (data, p)


def check_sdp(data: bytes) -> None:
    text = data.decode("latin-1")
    pairs = [(n, v if c else None) for n, c, v in (ln.partition(":") for ln in text.split("\n"))]
    try:
        params = parse_attributes(pairs)
    except T38Error:
        return
    assert parse_attributes(make_attributes(params)) == params, params


def TestOneInput(data: bytes) -> None:
    r = Reader(data)
    first = r.u8()
    version, window = first % 4, first // 4 % 5
    rx = UdptlReceiver(version, reorder_window=window)
    handed = []
    while r.pos < len(data):
        n = r.u16()
        datagram = data[r.pos:r.pos + n]
        r.pos += len(datagram)
        check_ifp(datagram, version)
        check_datagram(datagram)
        check_sdp(datagram)
        try:
            handed += rx.receive(datagram)
        except T38Error:
            pass
    handed += rx.flush()
    restarts = 0
    for (a, _), (b, _) in zip(handed, handed[1:]):
        if b != (a + 1) % 65536:
            restarts += 1
    assert restarts <= rx.stats.restarts, (restarts, rx.stats)
    for _, p in handed:
        assert p is LOST or isinstance(p, (Indicator, Data)), p
    assert all(v >= 0 for v in vars(rx.stats).values()), rx.stats


if __name__ == "__main__":
    main(TestOneInput)
