"""UDPTL (T.38 §9.1, Annex A): datagram octets, the sender's redundancy and
FEC, and the receiver's reordering, duplicates, repair and loss reports."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxengine.t38 import T38Error
from faxengine.t38.ifp import Data, Field, FieldType, Indicator, T30Data, T30Indicator, encode
from faxengine.t38.udptl import (LOST, FecInfo, UdptlPacket, UdptlReceiver, UdptlSender,
                                 decode_datagram, encode_datagram, is_image)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PREAMBLE = Indicator(T30Indicator.V21_PREAMBLE)


def hdlc(i: int) -> Data:
    return Data(T30Data.V21, (Field(FieldType.HDLC_DATA, bytes([i % 256]) * (1 + i % 7)),))


def image(i: int) -> Data:
    return Data(T30Data.V17_14400, (Field(FieldType.T4_NON_ECM_DATA, bytes([i % 256]) * 40),))


def stream(n: int) -> list:
    """A call-like stream: preamble, control frames, training, image data."""
    return [PREAMBLE] + [hdlc(i) for i in range(n // 3)] + \
        [Indicator(T30Indicator.V17_14400_LONG_TRAINING)] + [image(i) for i in range(n - n // 3 - 2)]


# -- datagram octets -----------------------------------------------------------

def test_redundancy_datagram_octets():
    p = UdptlPacket(3, b"\x06", (b"\x02", bytes.fromhex("c0 01 80 00 00 41")))
    octets = bytes.fromhex("0003 01 06 00 02 01 02 06 c0018000 0041")
    assert encode_datagram(p) == octets
    assert decode_datagram(octets) == p


def test_fec_datagram_octets():
    p = UdptlPacket(7, b"\x06", fec=FecInfo(3, (b"\x01\x02", b"\x03")))
    octets = bytes.fromhex("0007 01 06 80 01 03 02 02 0102 01 03")
    assert encode_datagram(p) == octets
    assert decode_datagram(octets) == p


def test_long_primary_takes_a_two_octet_length():
    p = UdptlPacket(65535, bytes(300))
    octets = encode_datagram(p)
    assert octets[:4] == bytes.fromhex("ffff 812c") and octets[-2:] == b"\x00\x00"
    assert decode_datagram(octets) == p


@pytest.mark.parametrize("data,message", [
    (b"", r"^UDPTL datagram: empty$"),
    (b"\x00", r"^UDPTL datagram: truncated in seq-number"),
    (b"\x00\x01\x05\x06", r"^UDPTL datagram: primary-ifp-packet says 5 octets but only 1 follow"),
    (b"\x00\x01\x00\x00\x00", r"^UDPTL datagram: empty primary-ifp-packet"),
    (b"\x00\x01\x01\x06", r"^UDPTL datagram: truncated in error-recovery"),
    (b"\x00\x01\x01\x06\x00", r"^UDPTL datagram: truncated in length of secondary-ifp-packets"),
    (b"\x00\x01\x01\x06\x00\x01\x00", r"^UDPTL datagram: empty secondary IFP packet 0"),
    (b"\x00\x01\x01\x06\x00\x00\x00", r"^UDPTL datagram: 1 octet\(s\) after the UDPTL packet"),
    (b"\x00\x01\x01\x06\x80\x03\x00\x00\x01\x00", r"^UDPTL datagram: fec-npackets of 3 octets"),
    (b"\x00\x01\x01\x06\x80\x01\xff\x00", r"^UDPTL datagram: fec-npackets is negative \(-1\)"),
    (b"\x00\x01\x01\x06\x00\xc1", r"^UDPTL datagram: secondary-ifp-packets uses a fragmented length"),
])
def test_garbage_datagrams_are_t38errors_with_a_message(data, message):
    with pytest.raises(T38Error, match=message):
        decode_datagram(data)


@FAST
@given(st.binary(max_size=48))
def test_decode_datagram_is_total(data):
    try:
        p = decode_datagram(data)
    except T38Error:
        return
    assert encode_datagram(p) == data or decode_datagram(encode_datagram(p)) == p


@FAST
@given(st.integers(0, 65535), st.binary(min_size=1, max_size=300),
       st.one_of(st.lists(st.binary(min_size=1, max_size=30), max_size=5).map(tuple),
                 st.builds(FecInfo, st.integers(0, 300), st.lists(st.binary(max_size=30),
                                                                  max_size=5).map(tuple))))
def test_datagrams_round_trip(seq, primary, recovery):
    p = UdptlPacket(seq, primary, recovery) if isinstance(recovery, tuple) else \
        UdptlPacket(seq, primary, fec=recovery)
    assert decode_datagram(encode_datagram(p)) == p


# -- the sender ------------------------------------------------------------------

def test_sender_repeats_3_control_and_1_image_packet_most_recent_first():
    tx = UdptlSender(2)
    packets = [PREAMBLE, hdlc(1), hdlc(2), hdlc(3), hdlc(4), image(5), image(6)]
    grams = [decode_datagram(tx.send(p)) for p in packets]
    ifp = [encode(p, 2) for p in packets]
    assert [g.seq for g in grams] == list(range(7))
    assert [g.primary for g in grams] == ifp
    assert [len(g.secondary) for g in grams] == [0, 1, 2, 3, 3, 1, 1]
    assert grams[4].secondary == (ifp[3], ifp[2], ifp[1])
    assert grams[6].secondary == (ifp[5],)
    assert is_image(image(0)) and not is_image(hdlc(0)) and not is_image(PREAMBLE)


def test_sender_sequence_wraps_and_depths_are_settings():
    tx = UdptlSender(0, redundancy_control=0, redundancy_image=0, first_seq=65535)
    assert decode_datagram(tx.send(PREAMBLE)).seq == 65535
    g = decode_datagram(tx.send(hdlc(0)))
    assert g.seq == 0 and g.secondary == ()


def test_sender_stays_within_max_datagram_and_says_when_it_cannot():
    tx = UdptlSender(2, redundancy_control=3, max_datagram=45)
    sizes = [len(tx.send(hdlc(6))) for _ in range(5)]     # 12-octet IFP packets
    assert sizes == [17, 30, 43, 43, 43]                   # 2 + 1 + 12 + 2 + 13 per secondary
    assert len(decode_datagram(tx.send(hdlc(6))).secondary) == 2
    with pytest.raises(T38Error, match=r"^UDPTL: data v17-14400 t4-non-ecm-data\(40\) makes a "
                                       r"datagram of 50 octets, over the peer's T38FaxMaxDatagram of 45"):
        tx.send(image(1))


@pytest.mark.parametrize("kwargs,message", [
    (dict(version=4), r"^T.38 version must be one of"),
    (dict(version=2, redundancy_control=-1), r"^UDPTL: redundancy_control must be an integer 0..32"),
    (dict(version=2, fec=(3,)), r"^UDPTL: fec must be \(span, entries\)"),
    (dict(version=2, fec=(16, 16)), r"^UDPTL: FEC span x entries must be at most 64, not 256"),
    (dict(version=2, max_datagram=2), r"^UDPTL: max_datagram must be an integer 8..65507"),
])
def test_sender_settings_are_checked(kwargs, message):
    with pytest.raises(T38Error, match=message):
        UdptlSender(**kwargs)


# -- the receiver ----------------------------------------------------------------

def deliver(grams, order=None, window=2, version=2):
    rx = UdptlReceiver(version, reorder_window=window)
    out = []
    for i in (range(len(grams)) if order is None else order):
        out += rx.receive(grams[i])
    return out, out + rx.flush(), rx


def test_in_order_stream_is_handed_up_at_once():
    packets = stream(30)
    tx = UdptlSender(2)
    grams = [tx.send(p) for p in packets]
    rx = UdptlReceiver(2)
    for i, g in enumerate(grams):
        assert rx.receive(g) == [(i, packets[i])]
    assert rx.flush() == []


def test_redundancy_fills_losses_at_once():
    packets = stream(30)
    tx = UdptlSender(2)
    grams = [tx.send(p) for p in packets]
    lost = {3, 4, 5, 12, 20}       # 3 control packets in a row; image packets alone
    out, _, rx = deliver(grams, [i for i in range(len(grams)) if i not in lost])
    assert out == list(enumerate(packets))
    assert rx.stats.redundancy == 5 and rx.stats.lost == 0


def test_a_gap_redundancy_cannot_fill_is_lost_after_the_window():
    packets = [image(i) for i in range(12)]
    tx = UdptlSender(2)                      # one secondary for image data
    grams = [tx.send(p) for p in packets]
    rx = UdptlReceiver(2, reorder_window=2)
    got = []
    for i in [0, 1, 2, 5, 6]:                # 3 and 4 lost: 5 carries 4 only
        got.append(rx.receive(grams[i]))
    assert got[:3] == [[(0, packets[0])], [(1, packets[1])], [(2, packets[2])]]
    assert got[3] == []                      # 4 rebuilt, 3 awaited: highest 5 = 3 + window
    assert got[4] == [(3, LOST), (4, packets[4]), (5, packets[5]), (6, packets[6])]
    assert rx.stats.lost == 1
    assert rx.receive(grams[3]) == []        # too late now
    assert rx.stats.late == 1


def test_reordered_packets_are_put_back_in_order_and_duplicates_dropped():
    packets = [image(i) for i in range(10)]
    tx = UdptlSender(2, redundancy_image=0)
    grams = [tx.send(p) for p in packets]
    order = [0, 2, 1, 1, 4, 3, 3, 5, 8, 7, 6, 9, 9]
    out, everything, rx = deliver(grams, order, window=3)
    assert everything == list(enumerate(packets))
    assert rx.stats.duplicates + rx.stats.late == 3 and rx.stats.lost == 0


def test_window_zero_reports_a_gap_at_once():
    packets = [image(i) for i in range(4)]
    tx = UdptlSender(2, redundancy_image=0)
    grams = [tx.send(p) for p in packets]
    rx = UdptlReceiver(2, reorder_window=0)
    assert rx.receive(grams[0]) == [(0, packets[0])]
    assert rx.receive(grams[2]) == [(1, LOST), (2, packets[2])]


def test_sequence_numbers_wrap():
    packets = [hdlc(i) for i in range(8)]
    tx = UdptlSender(2, first_seq=65533)
    grams = [tx.send(p) for p in packets]
    out, _, _ = deliver([g for i, g in enumerate(grams) if i != 3])
    assert out == [((65533 + i) % 65536, p) for i, p in enumerate(packets)]


def test_a_jump_beyond_2000_is_a_new_sequence_not_2000_losses():
    rx = UdptlReceiver(2)
    one = encode_datagram(UdptlPacket(10, encode(PREAMBLE, 2)))
    far = encode_datagram(UdptlPacket(40000, encode(hdlc(1), 2)))
    assert rx.receive(one) == [(10, PREAMBLE)]
    assert rx.receive(far) == [(40000, hdlc(1))]
    assert rx.stats.restarts == 1 and rx.stats.lost == 0


def test_the_first_datagram_brings_the_packets_before_it():
    packets = stream(6)
    tx = UdptlSender(2)
    grams = [tx.send(p) for p in packets]
    out, _, _ = deliver(grams[3:])          # joined late: 0..2 come as redundancy
    assert out == list(enumerate(packets))


def test_a_primary_that_is_not_ifp_is_handed_up_as_lost():
    rx = UdptlReceiver(2, reorder_window=0)
    assert rx.receive(encode_datagram(UdptlPacket(0, b"\x06"))) == [(0, PREAMBLE)]
    assert rx.receive(encode_datagram(UdptlPacket(1, b"\xff\xff"))) == []   # a copy may follow
    assert rx.receive(encode_datagram(UdptlPacket(2, b"\x06"))) == [(1, LOST), (2, PREAMBLE)]
    assert rx.stats.malformed == 1 and rx.stats.lost == 1


def test_a_good_copy_replaces_one_that_did_not_decode():
    rx = UdptlReceiver(2, reorder_window=2)
    ifp = [encode(hdlc(i), 2) for i in range(4)]
    rx.receive(encode_datagram(UdptlPacket(0, ifp[0])))
    # 2 arrives first, its copy of 1 garbled; then 1 itself, then 3
    assert rx.receive(encode_datagram(UdptlPacket(2, ifp[2], (b"\xff\xff",)))) == []
    assert rx.receive(encode_datagram(UdptlPacket(1, ifp[1]))) == [(1, hdlc(1)), (2, hdlc(2))]
    assert rx.receive(encode_datagram(UdptlPacket(3, ifp[3], (ifp[2],)))) == [(3, hdlc(3))]
    assert rx.stats.malformed == 1 and rx.stats.lost == 0


def test_garbage_raises_and_leaves_the_receiver_as_it_was():
    tx = UdptlSender(2)
    grams = [tx.send(hdlc(i)) for i in range(3)]
    rx = UdptlReceiver(2)
    assert rx.receive(grams[0]) == [(0, hdlc(0))]
    with pytest.raises(T38Error, match="UDPTL datagram"):
        rx.receive(b"\x80\x00\x01\x02")
    assert rx.receive(grams[1]) == [(1, hdlc(1))]


@pytest.mark.parametrize("span,entries", [(1, 1), (3, 3), (2, 4), (4, 2)])
def test_fec_rebuilds_a_lost_packet(span, entries):
    packets = stream(40)
    tx = UdptlSender(2, fec=(span, entries))
    grams = [tx.send(p) for p in packets]
    assert decode_datagram(grams[-1]).fec == decode_datagram(grams[-1]).fec   # FEC present
    assert len(decode_datagram(grams[-1]).fec.data) == entries
    # lose one packet in every span*entries + 1: each is covered by the FEC of later ones
    period = span * entries + 1
    lost = set(range(5, len(grams) - period, period))
    out, everything, rx = deliver(grams, [i for i in range(len(grams)) if i not in lost],
                                  window=span * entries)
    assert everything == list(enumerate(packets))
    assert rx.stats.fec == len(lost) and rx.stats.lost == 0


def test_fec_cannot_rebuild_two_losses_in_one_word():
    packets = [image(i) for i in range(12)]
    tx = UdptlSender(2, fec=(1, 1))          # each datagram: a copy of the previous packet
    grams = [tx.send(p) for p in packets]
    _, everything, rx = deliver(grams, [0, 1, 2, 3, 6, 7, 8, 9, 10, 11])
    assert [s for s, p in everything if p is LOST] == [4]
    assert everything[5] == (5, packets[5])


def test_five_percent_loss_with_redundancy_3_loses_nothing_here():
    rng = random.Random(13)
    packets = [hdlc(i) for i in range(2000)]
    tx = UdptlSender(2, redundancy_control=3)
    grams = [tx.send(p) for p in packets]
    kept = [i for i in range(len(grams) - 1) if rng.random() >= 0.05] + [len(grams) - 1]
    assert len(grams) - len(kept) > 80
    _, everything, rx = deliver(grams, kept)
    assert everything == list(enumerate(packets))


@FAST
@given(st.lists(st.integers(0, 39), max_size=80), st.integers(0, 4), st.integers(0, 3))
def test_any_arrival_order_hands_up_each_seq_once_in_order(order, window, depth):
    packets = [hdlc(i) for i in range(40)]
    tx = UdptlSender(2, redundancy_control=depth)
    grams = [tx.send(p) for p in packets]
    _, everything, _ = deliver(grams, order, window=window)
    seqs = [s for s, _ in everything]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
    for s, p in everything:
        assert p is LOST or p == packets[s]


@FAST
@given(st.lists(st.binary(max_size=20), max_size=10))
def test_receiver_survives_any_datagrams(datagrams):
    rx = UdptlReceiver(2, reorder_window=1)
    for d in datagrams:
        try:
            rx.receive(d)
        except T38Error:
            pass
    rx.flush()
