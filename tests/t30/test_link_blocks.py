"""The high-speed receiver's per-block bookkeeping (``faxengine/t30/_link.pyx``,
under ``link.HsReceiver``): the bits of a signal, its per-block quality and
its frames are what the demodulator and HDLC receiver give, however the
samples are cut and however many signals the buffers have held before."""
from __future__ import annotations

import numpy as np
import pytest

from faxengine.modem import HdlcTx, V17Rx, V17Tx
from faxengine.t30 import link


def v17_signal(bits: np.ndarray, rate: int = 14400) -> np.ndarray:
    tx = V17Tx(rate=rate)
    return np.concatenate([np.zeros(400, np.int16), tx.modulate(bits), tx.finish(),
                           np.zeros(1600, np.int16)])


def run(hs: link.HsReceiver, signal: np.ndarray, block: int) -> list[np.ndarray]:
    ended = []
    for i in range(0, signal.size, block):
        got = hs.feed(signal[i:i + block])
        if got is not None:
            ended.append(got)
    return ended


@pytest.mark.parametrize("block", [1, 160, 4000])
def test_a_signal_comes_whole_in_blocks_of_any_size(block):
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, 40000).astype(np.uint8)
    signal = v17_signal(bits)
    expected = V17Rx(rate=14400).demodulate(signal)
    hs = link.HsReceiver("V.17", 14400)
    ended = run(hs, signal, block)
    assert len(ended) == 1 and hs.signals == 1
    assert ended[0].dtype == np.uint8 and np.array_equal(ended[0], expected)
    assert np.array_equal(ended[0][:bits.size - 200], bits[:bits.size - 200])
    assert hs.bits().size == 0 and hs._count == 0 and not hs._flowing
    counts, poor = hs._last_quality
    # one entry per block after the first bits, counting the bits so far
    assert counts.dtype == np.int64 and poor.dtype == np.bool_
    assert counts.size == poor.size and np.all(np.diff(counts) >= 0)
    assert counts[-1] == ended[0].size and not poor.any()
    assert hs.poor_share(0, ended[0].size) == (0.0, 0.0)


def test_the_buffers_are_reused_from_signal_to_signal():
    """Signals longer and shorter than the buffers hold come whole, each one
    alone (nothing of the signal before)."""
    rng = np.random.default_rng(2)
    hs = link.HsReceiver("V.17", 14400)
    for n in (70000, 3000, 150000, 20000):
        bits = rng.integers(0, 2, n).astype(np.uint8)
        signal = v17_signal(bits)
        expected = V17Rx(rate=14400).demodulate(signal)
        ended = run(hs, signal, 160)
        assert len(ended) == 1
        assert ended[0].size == expected.size and ended[0].size > n - 100
        assert np.array_equal(ended[0][-expected.size // 2:], expected[-expected.size // 2:])
        assert hs._last_quality[0][-1] == ended[0].size


def test_bits_so_far_mid_signal():
    bits = np.random.default_rng(3).integers(0, 2, 30000).astype(np.uint8)
    signal = v17_signal(bits)
    hs = link.HsReceiver("V.17", 14400)
    half = signal.size // 2
    assert run(hs, signal[:half], 160) == []
    so_far = hs.bits()
    assert so_far.size == hs._count > 0 and hs.receiving and hs.holds_line
    ended = run(hs, signal[half:], 160)
    assert np.array_equal(ended[0][:so_far.size], so_far)


def test_filled_in_blocks_count_as_poor():
    bits = np.zeros(40000, np.uint8)
    signal = v17_signal(bits)
    hs = link.HsReceiver("V.17", 14400)
    assert run(hs, signal[:16000], 160) == []
    hs.fillin(160)
    hs.fillin(160)
    ended = run(hs, signal[16320:], 160)
    counts, poor = hs._last_quality
    assert len(ended) == 1 and poor.sum() >= 2
    share, longest = hs.poor_share(0, ended[0].size)
    assert 0.0 < share < 0.1 and longest > 0.0


def test_ecm_frames_are_collected_as_they_come():
    frames = [bytes([0xFF, 0x03, 0x06, i]) + bytes(range(i, i + 64)) for i in range(12)]
    hdlc = HdlcTx(preamble_flags=32, closing_flags=4)
    bits = np.concatenate([hdlc.encode(frames), hdlc.finish()])
    hs = link.HsReceiver("V.17", 14400, ecm=True)
    ended = run(hs, v17_signal(bits), 160)
    assert len(ended) == 1 and hs.frames == frames


def test_samples_of_the_wrong_type_are_refused_as_before():
    hs = link.HsReceiver("V.17", 14400)
    with pytest.raises(ValueError):
        hs.feed(np.zeros(160, np.float32))
    assert hs._count == 0 and hs.bits().size == 0


def test_bits_of_another_layout_are_booked_as_bits():
    """``_took`` (the modems' ``fillin`` bits come that way) copies any 0/1 array as uint8."""
    hs = link.HsReceiver("V.29", 9600)
    # (no carrier: each block's bits end their signal at once)
    assert hs._took(np.ones(3, np.int64), True).tolist() == [1, 1, 1]
    ended = hs._took(np.array([0, 1, 0, 1, 1, 1], np.uint8)[::2], True)
    assert ended.dtype == np.uint8 and ended.tolist() == [0, 0, 1]
    assert hs.signals == 2
