"""spandsp's IFP packets through our UDPTL, with loss, into spandsp again.

spandsp 0.0.6 has no UDPTL of its own (FreeSWITCH and Asterisk carry its
IFP packets in theirs), so the chain is: spandsp's t38_core sends a call's
worth of packets -> our decoder -> ``UdptlSender`` (redundancy 3 control,
1 image) -> a line that drops datagrams -> ``UdptlReceiver`` -> our
encoder -> spandsp's t38_core receiver, sequence checks on.  spandsp must
report exactly what was sent, in order, and a gap exactly where ours
handed up ``LOST``.
"""
from __future__ import annotations

import random

import pytest

import spandsp_t38
from faxengine.t38.ifp import FieldType, T30Data, T30Indicator, decode, encode
from faxengine.t38.udptl import LOST, UdptlReceiver, UdptlSender

pytestmark = pytest.mark.skipif(not spandsp_t38.available(), reason=spandsp_t38.REASON)


def spandsp_call(peer):
    """IFP octets of a short call as spandsp's core encodes them."""
    out = []
    out += peer.send_indicator(T30Indicator.V21_PREAMBLE.index)
    for k in range(6):
        frame = bytes([0xFF, 0x13, 0x80 + k]) + bytes(range(k * 3))
        out += peer.send_data(T30Data.V21.index, [(FieldType.HDLC_DATA.index, frame),
                                                  (FieldType.HDLC_FCS_OK.index, b"")])
    out += peer.send_indicator(T30Indicator.V29_9600_TRAINING.index)
    for k in range(80):
        out += peer.send_data(T30Data.V29_9600.index,
                              [(FieldType.T4_NON_ECM_DATA.index, bytes([k]) * 36)])
    out += peer.send_data(T30Data.V29_9600.index, [(FieldType.T4_NON_ECM_SIG_END.index, b"\x01")])
    out += peer.send_indicator(T30Indicator.NO_SIGNAL.index)
    return out


def events_of(peer, packets):
    """What spandsp reports for these (seq, IFP octets)."""
    got = []
    for seq, octets in packets:
        rc, events = peer.receive(octets, seq)
        assert rc == 0
        got += events
    return got


@pytest.mark.parametrize("version", [0, 2, 3])
@pytest.mark.parametrize("loss", [0.0, 0.05, 0.2])
def test_spandsp_ifp_over_our_udptl_with_loss(version, loss):
    sent = spandsp_call(spandsp_t38.Peer(version))
    tx = UdptlSender(version)
    grams = [tx.send(decode(o, version)) for o in sent]
    rng = random.Random(f"{version}-{loss}")
    rx = UdptlReceiver(version)
    handed = []
    for i, g in enumerate(grams):
        if i == len(grams) - 1 or rng.random() >= loss:
            handed += rx.receive(g)
    handed += rx.flush()
    assert [s for s, _ in handed] == list(range(len(sent)))
    delivered = [(s, encode(p, version)) for s, p in handed if p is not LOST]
    lost = [s for s, p in handed if p is LOST]
    if loss == 0.0:
        assert lost == []
    # spandsp, checking sequence numbers, reports the same packets and the same gaps
    receiver = spandsp_t38.Peer(version, check_seq=True)
    reported = events_of(receiver, delivered)
    want = events_of(spandsp_t38.Peer(version), [(s, sent[s]) for s, _ in delivered])
    assert [e for e in reported if e[0] != "missing"] == want
    gaps = [e for e in reported if e[0] == "missing"]
    runs = [("missing", s, next(d for d, _ in delivered if d > s)) for s in lost if s - 1 not in lost]
    assert gaps == runs            # (first missing, the packet after the gap)
    assert all(octets == sent[s] for s, octets in delivered)
    if loss == 0.2:
        assert 0 < len(lost) < rx.stats.redundancy     # most losses were repaired
