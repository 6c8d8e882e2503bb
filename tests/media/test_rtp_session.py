"""An RTP session driven with explicit ``now``: G.711 both ways, pacing, symmetric RTP,
and everything malformed dropped and counted, never raised."""
from __future__ import annotations

import random

import numpy as np
import pytest

from faxengine.g711 import g711_roundtrip
from faxengine.media.rtp import RtpLocalError, RtpPacket, RtpSession
from faxengine.media.rtp.session import PCMA, PCMU, codec

A, B = ("127.0.0.1", 4000), ("127.0.0.1", 5000)


def speech(n: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(0, 3000, n)).clip(-32768, 32767).astype(np.int16)


@pytest.mark.parametrize("codec", [PCMU, PCMA], ids=["PCMU", "PCMA"])
def test_audio_in_is_audio_out_through_the_jitter_buffer(codec):
    tx, rx = RtpSession(codec, B, seed=1), RtpSession(codec, A, seed=2)
    audio = speech(8000)
    tx.send(audio)
    tx.start(0.0)
    blocks, t = [], 0.0
    rng = random.Random(3)
    while t < 1.3:
        for data, addr in tx.datagrams_to_send(t):
            assert addr == B
            rx.datagram_received(data, A, t + rng.uniform(0.0, 0.03))   # up to 30 ms of jitter
        blocks += rx.receive(t)
        t += 0.005
    got = np.concatenate([b.samples for b in blocks])[:8000]
    assert np.array_equal(got, g711_roundtrip(audio, codec.law))
    s = rx.stats
    assert (s.received, s.lost, s.late, s.blocks_lost) == (tx.stats.sent, 0, 0, 0)
    assert s.jitter_ms > 0


def test_ptime_sets_the_packet_size_and_is_bounded():
    s = RtpSession(PCMU, B, ptime=0.030, seed=1)
    s.start(0.0)
    (data, _), = s.datagrams_to_send(0.0)
    assert len(RtpPacket.parse(data).payload) == 240
    with pytest.raises(RtpLocalError, match="ptime must be 10 to 60 ms, not 80 ms"):
        RtpSession(PCMU, B, ptime=0.080)


def test_first_packet_has_the_marker_and_numbers_advance():
    s = RtpSession(PCMA, B, seed=7)
    s.start(10.0)
    packets = [RtpPacket.parse(d) for d, _ in s.datagrams_to_send(10.05)]
    assert len(packets) == 3 and [p.marker for p in packets] == [True, False, False]
    assert [(p.sequence - packets[0].sequence) % 65536 for p in packets] == [0, 1, 2]
    assert [(p.timestamp - packets[0].timestamp) % 2**32 for p in packets] == [0, 160, 320]
    assert {p.ssrc for p in packets} == {s.ssrc} and s.stats.underruns == 3


def pace(session: RtpSession, seconds: float, lateness, seed: int) -> float:
    """Run the send clock like an event loop whose timer fires late; the worst
    distance between a packet's send time and its timestamp's real time."""
    rng = random.Random(seed)
    session.start(0.0)
    worst, first_ts, now = 0.0, None, 0.0
    while now < seconds:
        for data, _ in session.datagrams_to_send(now):
            ts = RtpPacket.parse(data).timestamp
            first_ts = ts if first_ts is None else first_ts
            worst = max(worst, abs(now - ((ts - first_ts) % 2**32) / 8000))
        now = session.next_timer() + lateness(rng)
    return worst


def test_pacing_over_one_hour_stays_within_20_ms():
    # an hour of timers firing 0..19 ms late: no drift accumulates (2 s to run)
    worst = pace(RtpSession(PCMU, B, seed=1), 3600, lambda r: r.uniform(0, 0.019), 2)
    assert worst < 0.020


def test_a_stalled_sender_skips_ahead_with_a_marker():
    s = RtpSession(PCMU, B, seed=1)
    s.start(0.0)
    first = RtpPacket.parse(s.datagrams_to_send(0.0)[0][0])
    packets = [RtpPacket.parse(d) for d, _ in s.datagrams_to_send(5.0)]   # 5 s stopped
    assert len(packets) == 1 and packets[0].marker
    # 249 slots skipped: the far end counts them lost, and this side says so
    assert packets[0].sequence - first.sequence == 250
    assert s.stats.skipped == 249 and s.stats.sent == 2
    assert s.next_timer() == pytest.approx(5.02)


def test_symmetric_rtp_latches_to_the_first_source():
    s = RtpSession(PCMU, ("192.0.2.1", 9), seed=1)        # what the SDP said
    nat = ("198.51.100.7", 31000)
    good = RtpPacket(0, 1, 0, 99, b"\xff" * 160).encode()
    s.datagram_received(good, nat, 0.0)
    s.datagram_received(good, ("203.0.113.5", 1), 0.0)
    s.start(0.0)
    assert s.remote == nat and s.datagrams_to_send(0.0)[0][1] == nat
    assert s.stats.foreign == 1 and s.stats.received == 1


def test_malformed_and_foreign_payloads_are_counted_never_raised():
    s = RtpSession(PCMU, A, event_payload_type=101, seed=1)
    for data in (b"", b"\x00" * 20, b"\x8f" + bytes(11),           # no CSRCs behind CC=15
                 b"\xa0\x00" + bytes(10) + b"\x40",                  # padding longer than packet
                 RtpPacket(0, 1, 0, 1, b"").encode()):               # no audio
        s.datagram_received(data, A, 0.0)
    s.datagram_received(RtpPacket(101, 2, 0, 1, b"\x05\x0a\x00\xa0").encode(), A, 0.0)
    s.datagram_received(RtpPacket(8, 3, 0, 1, b"\xd5" * 160).encode(), A, 0.0)
    st = s.stats
    assert (st.malformed, st.ignored, st.received) == (5, 2, 0)


def test_a_dynamic_payload_type_from_sdp_carries_g711():
    tx, rx = RtpSession(codec("ulaw", 96), B, seed=1), RtpSession(codec("ulaw", 96), A, seed=2)
    tx.start(0.0)
    tx.send(speech(160))
    (data, _), = tx.datagrams_to_send(0.0)
    assert RtpPacket.parse(data).payload_type == 96
    rx.datagram_received(data, A, 0.0)
    assert rx.stats.received == 1 and codec("alaw") is PCMA
    with pytest.raises(RtpLocalError, match="law must be 'ulaw' or 'alaw', not 'g722'"):
        codec("g722")
