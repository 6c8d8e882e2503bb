"""The fixed-delay jitter buffer: order, loss reported and filled, wrap, SSRC, marker."""
from __future__ import annotations

import numpy as np
import pytest

from faxengine.media.rtp import JitterBuffer, RtpLocalError


def tone(n: int) -> np.ndarray:
    """Block n: 160 samples all equal to n + 1, so blocks are told apart."""
    return np.full(160, n + 1, np.int16)


def feed(jb, order, *, seq0=0, ts0=0, ssrc=1, arrival=None, marker=()):
    for k, n in enumerate(order):
        now = arrival(n, k) if arrival else n * 0.02
        jb.put(ssrc, (seq0 + n) & 0xFFFF, (ts0 + 160 * n) & 0xFFFFFFFF, n in marker, tone(n), now)


def played(jb, until):
    return [(int(b.samples[0]), b.lost) for b in jb.pull(until)]


def test_in_order_plays_each_block_once_after_the_delay():
    jb = JitterBuffer()
    feed(jb, range(10))
    assert jb.next_due() == pytest.approx(0.06)
    assert played(jb, 0.059) == []
    assert played(jb, 0.06 + 9 * 0.02) == [(n + 1, False) for n in range(10)]
    assert (jb.received, jb.lost, jb.reordered, jb.late, jb.jitter_ms) == (10, 0, 0, 0, 0.0)


def test_reordered_packets_come_out_in_order():
    jb = JitterBuffer()
    feed(jb, [0, 2, 1, 4, 3, 5], arrival=lambda n, k: k * 0.02)
    assert [s for s, _ in played(jb, 1.0)][:6] == [1, 2, 3, 4, 5, 6]
    assert jb.reordered == 2 and jb.lost == 0


def test_lost_packets_are_reported_as_lost_blocks_of_silence():
    jb = JitterBuffer()
    feed(jb, [0, 1, 3, 4])
    blocks = jb.pull(0.06 + 4 * 0.02)
    assert [b.lost for b in blocks] == [False, False, True, False, False]
    assert not blocks[2].samples.any()
    assert jb.lost == 1 and jb.blocks_lost == 1


def test_late_packet_is_dropped_and_counted():
    jb = JitterBuffer()
    feed(jb, [0, 1, 3])
    assert [lost for _, lost in played(jb, 0.06 + 2 * 0.02)] == [False, False, True]
    jb.put(1, 2, 320, False, tone(2), 0.2)          # block 2 was already played
    assert jb.late == 1 and played(jb, 0.119) == []


def test_duplicates_are_dropped():
    jb = JitterBuffer()
    feed(jb, [0, 1, 1, 2])
    assert jb.duplicates == 1 and jb.received == 3


def test_sequence_and_timestamp_wrap():
    jb = JitterBuffer()
    feed(jb, range(8), seq0=0xFFFC, ts0=0xFFFFFF00)
    assert played(jb, 1.0)[:8] == [(n + 1, False) for n in range(8)]
    assert jb.expected == 8 and jb.lost == 0


def test_ssrc_change_reanchors_instead_of_dropping_as_late():
    jb = JitterBuffer()
    feed(jb, range(5))
    # the sender restarts with a new SSRC and unrelated numbers, 100 ms later
    feed(jb, range(5, 8), seq0=40000 - 5, ts0=12345, ssrc=2)
    out = played(jb, 2.0)
    assert [s for s, lost in out if not lost] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert jb.late == 0 and jb.lost == 0 and jb.expected == 8


def test_marker_starts_a_talkspurt_played_after_the_delay():
    jb = JitterBuffer()
    feed(jb, range(3))
    # silence suppressed for 1 s; the timestamps jumped 10 s (a new talkspurt)
    jb.put(1, 3, 80000, True, tone(7), 1.0)
    out = jb.pull(1.2)
    assert [int(b.samples[0]) for b in out if not b.lost] == [1, 2, 3, 8]
    # block k plays at 0.06 + k * 0.02: the talkspurt at 1.0 + 60 ms, block 50
    assert int(out[50].samples[0]) == 8 and not out[50].lost
    assert jb.late == 0


def test_timestamp_jump_without_marker_reanchors():
    jb = JitterBuffer()
    feed(jb, range(2))
    jb.put(1, 2, 8000 * 50, False, tone(2), 0.04)
    assert [s for s, lost in played(jb, 1.0) if not lost] == [1, 2, 3]


def test_jitter_estimate_follows_rfc3550():
    jb = JitterBuffer()
    feed(jb, range(50), arrival=lambda n, k: n * 0.02 + (0.004 if n % 2 else 0.0))
    # |D| = 32 samples each packet: J -> 32 (4 ms)
    assert 3.5 < jb.jitter_ms <= 4.0


def test_bad_settings_are_refused():
    with pytest.raises(RtpLocalError, match="delay must be 0.02 to 1 s"):
        JitterBuffer(delay=0.001)


def test_every_documented_delay_makes_a_buffer_up_to_one_second():
    # the documented range is 0.02 to 1 s; 1 s used to be refused by the
    # default horizon (1 s), which must exceed the delay
    for delay in (0.02, 0.06, 0.5, 0.98, 1.0):
        assert JitterBuffer(delay).delay == delay
    with pytest.raises(RtpLocalError, match="horizon must exceed its delay"):
        JitterBuffer(0.5, horizon=0.5)


def test_thirty_five_ms_packets_reordered_go_round_the_ring_many_times_intact():
    """280-sample packets straddle the end of the ring (8160 samples); 2000
    of them (70 s, about 70 turns of the ring), every fifth pair after the
    first swapped, come out as sent."""
    rng = np.random.default_rng(3)
    audio = rng.integers(-20000, 20000, 280 * 2000).astype(np.int16)
    order = list(range(2000))
    for k in range(5, 2000 - 1, 5):
        order[k], order[k + 1] = order[k + 1], order[k]
    jb, out = JitterBuffer(0.060), []
    for j, seq in enumerate(order):
        now = j * 0.035
        jb.put(7, (65000 + seq) % 65536, (2**32 - 5000 + 280 * seq) % 2**32, False,
               audio[280 * seq:280 * seq + 280], now + 0.001)
        out += jb.pull(now)
    out += jb.pull(2000 * 0.035 + 1.0)
    played = np.concatenate([b.samples for b in out])
    assert not any(b.lost for b in out[:3000]) and jb.late == 0 and jb.reordered == 399
    assert np.array_equal(played[:len(audio)], audio)
