"""faxengine.line.channel: each channel has the attenuation and group delay it claims.

Every channel's filter is measured as the line runs it: an impulse goes
through ``Line(channel=...)`` (float stage, then the int16 line), the
response's spectrum gives the loss against the reference frequency and the
group delay (−dφ/dω) against its minimum in 500–2800 Hz.  ``m1020`` must lie
inside the M.1020 masks and touch them; ``m1020x2`` must lie outside them;
every channel must follow its curve at the tabulated frequencies.
"""
from __future__ import annotations

import numpy as np
import pytest

from faxengine import line
from faxengine.line.channel import (CHANNELS, M1020_DELAY_MASK, M1020_LOSS_MASK, FirFilter,
                                    V56BIS_AD, V56BIS_EDD)

FS = 8000
NFFT = 1 << 15


def measured(ch):
    """Loss (dB over the reference) and group delay (ms over its 500-2800 Hz
    minimum) of the channel as FirFilter runs it, as functions of frequency."""
    impulse = np.zeros(1024)
    impulse[0] = 1.0
    h = FirFilter(ch.taps).process(impulse)
    H = np.fft.rfft(h, NFFT)
    f = np.fft.rfftfreq(NFFT, 1 / FS)
    gain_db = 20 * np.log10(np.abs(H))
    delay_ms = -np.gradient(np.unwrap(np.angle(H)), 2 * np.pi * f) * 1000
    ref = np.interp(ch.reference_hz, f, gain_db)
    band = (f >= 500) & (f <= 2800)
    floor = delay_ms[band].min()
    return (lambda q: ref - np.interp(q, f, gain_db)), (lambda q: np.interp(q, f, delay_ms) - floor)


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_each_channel_follows_its_curves_at_the_tabulated_frequencies(name):
    ch = CHANNELS[name]
    loss, delay = measured(ch)
    freqs = np.arange(300, 3301, 100.0)
    assert np.max(np.abs(loss(freqs) - ch.loss_at(freqs))) < 0.3
    assert np.max(np.abs(delay(freqs) - ch.delay_at(freqs))) < 0.15
    assert loss(ch.reference_hz) == pytest.approx(0.0, abs=1e-9)


def test_m1020_lies_inside_the_masks_and_touches_them():
    loss, delay = measured(CHANNELS["m1020"])
    for low, high, least, most in M1020_LOSS_MASK:
        f = np.linspace(low, high, 200)
        assert loss(f).min() >= least and loss(f).max() <= most, (low, high)
        # at the limit: within 0.25 dB of the upper edge somewhere in each band
        assert loss(f).max() > most - 0.25, (low, high)
    assert loss(1800) < -0.75                            # and near the lower one in mid-band
    for low, high, most in M1020_DELAY_MASK:
        f = np.linspace(low, high, 200)
        assert delay(f).max() <= most and delay(f).max() > most - 0.15, (low, high)


def test_m1020x2_is_beyond_the_masks():
    loss, delay = measured(CHANNELS["m1020x2"])
    assert loss(300) > 11 and loss(3000) > 11 and loss(500) > 5.5 and loss(2800) > 5.5
    assert delay(500) > 5.5 and delay(2800) > 5.5 and delay(1000) > 0.85


def test_v56bis_curves_are_the_annex_a_tables():
    # spot values of V.56bis Annex A: AD-9 at 200 and 3400 Hz, EDD-3 at 400 and 3000 Hz
    assert V56BIS_AD[9][2] == 23.3 and V56BIS_AD[9][34] == 10.7
    assert V56BIS_EDD[3][4] == 6.9 and V56BIS_EDD[3][30] == 2.0
    assert all(V56BIS_AD[a][10] == 0.0 for a in V56BIS_AD)          # relative to 1000 Hz
    assert all(min(V56BIS_EDD[e]) == 0.0 for e in V56BIS_EDD)      # relative to the minimum


def test_the_line_runs_the_channel_with_its_delay_and_any_chunking():
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(0, 3000, 6000)).astype(np.int16)
    ch = line.Line(channel="v56bis-ad7-edd3")
    assert ch.delay == 160
    whole = np.concatenate([ch.process(x), ch.flush()])
    ref = np.convolve(x.astype(np.float64), CHANNELS["v56bis-ad7-edd3"].taps)[:len(whole)]
    assert np.max(np.abs(whole - ref)) <= 0.5 + 1e-6
    ch = line.Line(channel="v56bis-ad7-edd3")
    parts = [ch.process(x[a:b]) for a, b in [(0, 1), (1, 161), (161, 3000), (3000, 3000), (3000, 6000)]]
    assert np.array_equal(np.concatenate(parts), whole[:6000])


def test_a_tone_at_the_reference_passes_at_0_db():
    t = np.arange(16000)
    x = np.round(8000 * np.sin(2 * np.pi * 800 * t / FS)).astype(np.int16)
    y = line.Line(channel="m1020").process(x)[2000:].astype(np.float64)
    assert 10 * np.log10(np.mean(y**2) / np.mean(x[2000:].astype(np.float64) ** 2)) == pytest.approx(0, abs=0.02)


def test_bad_channels_are_refused():
    with pytest.raises(line.LineError, match="unknown channel 'm1021'"):
        line.Line(channel="m1021")
    with pytest.raises(line.LineError, match="NaN or infinite"):
        line.Channel("bad", (0.0, 4000.0), (0.0, float("nan")), (0.0, 4000.0), (0.0, 0.0), 1000.0)
    with pytest.raises(line.LineError, match="must rise"):
        line.Channel("bad", (1000.0, 500.0), (0.0, 0.0), (0.0, 4000.0), (0.0, 0.0), 1000.0)
    with pytest.raises(line.LineError, match="never negative"):
        line.Channel("bad", (0.0, 4000.0), (0.0, 0.0), (0.0, 4000.0), (0.0, -1.0), 1000.0)
    with pytest.raises(line.LineError, match="as many values"):
        line.Channel("bad", (0.0, 4000.0), (0.0,), (0.0, 4000.0), (0.0, 0.0), 1000.0)
