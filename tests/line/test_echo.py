"""faxengine.line.echo: the hybrid gives back the terminal's own signal,
delayed, weaker by the return loss and band-limited."""
from __future__ import annotations

import numpy as np
import pytest

from faxengine import line

FS = 8000


def tone16(freq, n, amplitude=10000.0):
    return np.round(amplitude * np.sin(2 * np.pi * freq * np.arange(n) / FS)).astype(np.int16)


@pytest.mark.parametrize("rl", [6.0, 10.0, 20.0])
def test_echo_is_weaker_by_the_return_loss(rl):
    own = tone16(1000, 16000)
    heard = line.Hybrid(return_loss_db=rl, delay_ms=5).process(np.zeros_like(own), own)
    p = np.mean(heard[4000:].astype(np.float64) ** 2) / np.mean(own[4000:].astype(np.float64) ** 2)
    assert 10 * np.log10(p) == pytest.approx(-rl, abs=0.05)


@pytest.mark.parametrize("delay_ms", [0.0, 5.0, 40.0])
def test_echo_arrives_after_the_delay(delay_ms):
    own = np.zeros(2000, dtype=np.int16)
    own[100] = 30000
    echo = line.Hybrid(return_loss_db=0, delay_ms=delay_ms).echo(own)
    lag = int(np.argmax(np.abs(echo))) - 100
    # the band filter adds its own group delay: a few samples (about 1 ms)
    assert 0 <= lag - delay_ms * 8 <= 12
    assert not np.any(echo[:100 + int(delay_ms * 8)])


def test_echo_path_is_band_limited():
    def echo_db(freq):
        own = tone16(freq, 16000)
        e = line.Hybrid(return_loss_db=0).echo(own)[4000:]
        return 10 * np.log10(np.mean(e**2) / np.mean(own[4000:].astype(np.float64) ** 2))
    assert abs(echo_db(1000)) < 0.05
    assert echo_db(100) < -30 and echo_db(3900) < -20


def test_echo_through_a_channel():
    own = tone16(1000, 16000)
    hy = line.Hybrid(return_loss_db=10, delay_ms=25, channel="v56bis-ad5-edd2")
    e = hy.echo(own)[4000:]
    assert 10 * np.log10(np.mean(e**2) / np.mean(own[4000:].astype(np.float64) ** 2)) == pytest.approx(-10, abs=0.1)
    with pytest.raises(line.LineError, match="shorter than channel 'm1020'"):
        line.Hybrid(delay_ms=5, channel="m1020")


def test_incoming_plus_echo_and_any_chunking():
    rng = np.random.default_rng(2)
    own = np.round(rng.normal(0, 3000, 5000)).astype(np.int16)
    far = np.round(rng.normal(0, 3000, 5000)).astype(np.int16)
    whole = line.Hybrid(10, 12.5).process(far, own)
    echo = line.Hybrid(10, 12.5).echo(own)
    assert np.max(np.abs(whole - (far + echo))) <= 0.5 + 1e-9
    hy = line.Hybrid(10, 12.5)
    cuts = [0, 1, 99, 100, 2500, 5000]
    parts = [hy.process(far[a:b], own[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
    assert np.array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("kwargs,match", [
    (dict(return_loss_db=float("nan")), "return loss"), (dict(return_loss_db=-3), "return loss"),
    (dict(delay_ms=float("inf")), "delay"), (dict(delay_ms=-1), "delay"),
    (dict(bandpass=(3400, 300)), "low edge"), (dict(channel="nope"), "unknown channel"),
])
def test_bad_hybrid_parameters_raise(kwargs, match):
    with pytest.raises(line.LineError, match=match):
        line.Hybrid(**kwargs)


def test_blocks_of_different_lengths_are_refused():
    with pytest.raises(line.LineError, match="same length"):
        line.Hybrid().process(np.zeros(160, np.int16), np.zeros(161, np.int16))
