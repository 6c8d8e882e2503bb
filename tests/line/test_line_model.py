"""faxengine.line: each impairment does what it says, block by block.

Tones and noise go through one stage at a time and are measured: levels in
dBm0, SNR of add_noise, the frequency a carrier offset moves a tone to, the
length and frequency change of clock drift and the distortion it adds, the
telephone-band filter against scipy's Butterworth design, and that any split
of the input into blocks gives the output of one call.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxengine import line

FS = 8000


def tone(freq, n, amplitude=10000.0, phase=0.0):
    t = np.arange(n)
    return amplitude * np.sin(2 * np.pi * freq * t / FS + phase)


def tone16(freq, n, amplitude=10000.0):
    return np.round(tone(freq, n, amplitude)).astype(np.int16)


def fit_tone(x, freq):
    """Least-squares fit of a sine at ``freq`` (with DC); returns (amplitude, residual power)."""
    t = np.arange(len(x))
    basis = np.stack([np.cos(2 * np.pi * freq * t / FS), np.sin(2 * np.pi * freq * t / FS),
                      np.ones(len(x))], axis=1)
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    resid = x - basis @ coef
    return math.hypot(coef[0], coef[1]), float(np.mean(resid**2))


def peak_hz(x):
    """Frequency of the largest spectral peak, refined by parabolic interpolation."""
    n = len(x)
    spec = np.abs(np.fft.rfft(x * np.hanning(n), 16 * n))
    k = int(np.argmax(spec))
    a, b, c = np.log(spec[k - 1: k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * FS / (16 * n)


def test_dbm0_reference_is_a_sine_3_14_db_below_full_scale():
    assert line.DBM0_FULL_SCALE_SINE == 3.14
    assert line.power_dbm0(tone(1000, 8000, 32767)) == pytest.approx(3.14, abs=0.01)
    amplitude_0dbm0 = 32767 * 10 ** (-3.14 / 20)
    assert line.power_dbm0(tone(1000, 8000, amplitude_0dbm0)) == pytest.approx(0.0, abs=0.01)
    assert line.power_dbm0(tone(1000, 8000, amplitude_0dbm0 / 10)) == pytest.approx(-20.0, abs=0.01)
    assert line.power_dbm0(np.zeros(100)) == -math.inf


def test_on_power_ignores_silence():
    burst = np.concatenate([np.zeros(16000), tone(1800, 8000, 5000), np.zeros(24000)])
    assert line.on_power_dbm0(burst) == pytest.approx(line.power_dbm0(tone(1800, 8000, 5000)), abs=0.05)
    assert line.power_dbm0(burst) < line.on_power_dbm0(burst) - 6


@pytest.mark.parametrize("snr_db", [5.0, 12.5, 20.0, 30.0])
def test_add_noise_gives_the_snr_asked_for(snr_db):
    rng = np.random.default_rng(5)
    # a modem-like burst: random-phase tones, between silences
    on = sum(tone(f, 16000, 3000, rng.uniform(0, 6)) for f in (900, 1700, 2500))
    signal = np.round(np.concatenate([np.zeros(8000), on, np.zeros(8000)])).astype(np.int16)
    noisy = line.add_noise(signal, snr_db, seed=3)
    assert noisy.dtype == np.int16 and len(noisy) == len(signal)
    noise = noisy.astype(np.float64) - signal
    measured = line.on_power_dbm0(signal) - line.power_dbm0(noise)
    assert measured == pytest.approx(snr_db, abs=0.2)
    # the noise is white: equal power in the lower and upper halves of the band
    spec = np.abs(np.fft.rfft(noise)) ** 2
    half = len(spec) // 2
    assert 10 * np.log10(spec[:half].sum() / spec[half:].sum()) == pytest.approx(0.0, abs=0.2)


def test_noise_is_seeded_and_deterministic():
    x = tone16(1000, 4000)
    a = line.add_noise(x, 10, seed=7)
    assert np.array_equal(a, line.add_noise(x, 10, seed=7))
    assert not np.array_equal(a, line.add_noise(x, 10, seed=8))
    quiet = np.zeros(50000, dtype=np.int16)
    n = line.Line(noise_dbm0=-30.0, seed=1).process(quiet)
    assert line.power_dbm0(n) == pytest.approx(-30.0, abs=0.1)
    assert abs(float(np.mean(n))) < 5


def test_noise_dbm0_for_snr_is_signal_level_minus_snr():
    x = tone(1000, 8000, 32767 * 10 ** (-3.14 / 20) / 10)          # -20 dBm0
    assert line.noise_dbm0_for_snr(x, 25.0) == pytest.approx(-45.0, abs=0.01)
    with pytest.raises(ValueError, match="silent"):
        line.noise_dbm0_for_snr(np.zeros(800), 10)


def test_gain():
    x = tone16(1000, 8000)
    y = line.Line(gain_db=-6.0).process(x)
    assert line.power_dbm0(y) - line.power_dbm0(x) == pytest.approx(-6.0, abs=0.01)
    assert np.array_equal(line.Line().process(x), x)


def test_gain_saturates_at_int16_limits():
    ch = line.Line(gain_db=12.0)
    y = ch.process(tone16(1000, 800, 30000))
    assert y.max() == 32767 and y.min() == -32768 and ch.clipped > 0


@pytest.mark.parametrize("offset", [10.0, -10.0, 7.5])
def test_offset_moves_a_tone_and_keeps_its_amplitude(offset):
    x = tone16(1000, 40000)
    ch = line.Line(offset_hz=offset)
    y = ch.process(x).astype(np.float64)[ch.delay + 100:]
    assert peak_hz(y) == pytest.approx(1000 + offset, abs=0.05)
    amplitude, resid = fit_tone(y, 1000 + offset)
    assert amplitude == pytest.approx(10000, rel=0.002)
    assert 10 * np.log10(amplitude**2 / 2 / resid) > 60


def test_offset_moves_every_component_of_a_band_signal():
    x = np.round(tone(500, 40000, 5000) + tone(3000, 40000, 5000)).astype(np.int16)
    ch = line.Line(offset_hz=-10.0)
    y = ch.process(x).astype(np.float64)[ch.delay + 100:]
    for f in (490, 2990):
        amplitude, _ = fit_tone(y, f)
        assert amplitude == pytest.approx(5000, rel=0.003)


@pytest.mark.parametrize("ppm", [100.0, -100.0, 1000.0])
def test_drift_changes_length_and_frequency_by_the_ratio(ppm):
    n = 80000
    x = np.round(tone(1000, n, 10000.0)).astype(np.int16)
    ch = line.Line(drift_ppm=ppm)
    y = np.concatenate([ch.process(x), ch.flush()])
    ratio = 1 + ppm * 1e-6
    assert abs(len(y) - n * ratio) <= 1
    # the output at time k is the input at time k / ratio
    body = y.astype(np.float64)[200:-200]
    f_expected = 1000 / ratio
    amplitude, resid = fit_tone(body, f_expected)
    assert amplitude == pytest.approx(10000, rel=0.001)
    assert 10 * np.log10(amplitude**2 / 2 / resid) > 60
    assert peak_hz(body) == pytest.approx(f_expected, abs=0.02)


def test_drift_is_band_limited_interpolation_not_linear():
    # a 3300 Hz tone: linear interpolation would distort it at the 25 dB level
    x = np.round(tone(3300, 40000, 10000.0)).astype(np.int16)
    ch = line.Line(drift_ppm=-100.0)
    y = ch.process(x).astype(np.float64)[200:]
    amplitude, resid = fit_tone(y, 3300 / (1 - 100e-6))
    assert 10 * np.log10(amplitude**2 / 2 / resid) > 60


def test_butterworth_sections_match_scipy():
    signal = pytest.importorskip("scipy.signal")
    for order, fc, kind in [(4, 300.0, "highpass"), (6, 3400.0, "lowpass"), (2, 1000.0, "lowpass")]:
        ours = line.butterworth_sos(order, fc, kind)
        ref = signal.butter(order, fc, btype=kind, fs=FS, output="sos")
        w, h_ours = signal.sosfreqz(ours, worN=512, fs=FS)
        _, h_ref = signal.sosfreqz(ref, worN=512, fs=FS)
        assert np.allclose(np.abs(h_ours), np.abs(h_ref), atol=1e-9)


def test_bandpass_passes_the_voice_band_and_stops_outside_it():
    def gain_db(f):
        x = tone16(f, 16000)
        y = line.Line(bandpass=True).process(x).astype(np.float64)[4000:]
        return 10 * np.log10(np.mean(y**2) / np.mean(x[4000:].astype(np.float64) ** 2))

    assert abs(gain_db(1000)) < 0.1
    assert abs(gain_db(2000)) < 0.1
    assert gain_db(300) == pytest.approx(-3.0, abs=0.1)
    assert gain_db(3400) == pytest.approx(-3.0, abs=0.1)
    assert gain_db(100) < -35
    assert gain_db(3900) < -20
    scipy_signal = pytest.importorskip("scipy.signal")
    x = np.round(np.random.default_rng(1).normal(0, 3000, 4000)).astype(np.int16)
    ref = scipy_signal.sosfilt(line.telephone_band_sos(), x.astype(np.float64))
    ours = line.Line(bandpass=True).process(x)
    assert np.max(np.abs(ours - ref)) <= 0.5 + 1e-6     # only the rounding to int16 differs


ALL_STAGES = dict(gain_db=-3.0, offset_hz=7.0, drift_ppm=-120.0, bandpass=True, g711="alaw",
                  noise_dbm0=-40.0, seed=11)


@pytest.mark.parametrize("params", [
    ALL_STAGES,
    dict(drift_ppm=250.0),
    dict(offset_hz=-10.0, g711="ulaw"),
    dict(bandpass=(200.0, 3600.0), noise_dbm0=-30.0),
], ids=["all", "drift", "offset-ulaw", "band-noise"])
def test_any_chunking_gives_the_output_of_one_call(params):
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(0, 4000, 12000)).astype(np.int16)
    whole = line.Line(**params).process(x)
    for sizes in ([1] * 300 + [11700], [160] * 75, [7, 1, 0, 999, 2, 5000, 5991], [12000]):
        ch = line.Line(**params)
        parts, at = [], 0
        for size in sizes:
            parts.append(ch.process(x[at: at + size]))
            at += size
        assert at == len(x)
        assert np.array_equal(np.concatenate(parts), whole), sizes


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(0, 900), min_size=1, max_size=30),
       ppm=st.sampled_from([-300.0, -100.0, 100.0, 3000.0]))
def test_random_chunkings_give_the_output_of_one_call(sizes, ppm):
    x = np.round(np.random.default_rng(4).normal(0, 3000, sum(sizes))).astype(np.int16)
    params = dict(offset_hz=-3.0, drift_ppm=ppm, bandpass=True, noise_dbm0=-45.0, g711="ulaw", seed=2)
    whole = line.Line(**params).process(x)
    ch = line.Line(**params)
    bounds = np.cumsum([0] + sizes)
    parts = [ch.process(x[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    assert np.array_equal(np.concatenate(parts), whole)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="g711"):
        line.Line(g711="mulaw")
    with pytest.raises(ValueError, match="offset"):
        line.Line(offset_hz=5000)
    with pytest.raises(TypeError, match="int16"):
        line.Line().process(np.zeros(10, dtype=np.float32))


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("param", ["gain_db", "offset_hz", "drift_ppm", "noise_dbm0"])
@pytest.mark.parametrize("value", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
def test_nan_or_infinite_parameters_raise_rather_than_silence_the_line(param, value):
    with pytest.raises(line.LineError, match=f"{param} must be a finite number"):
        line.Line(**{param: value})


@pytest.mark.parametrize("value", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
def test_add_noise_refuses_a_nan_or_infinite_snr(value):
    with pytest.raises(line.LineError, match="snr_db must be a finite number of dB"):
        line.add_noise(tone16(1000, 800), value)
    with pytest.raises(line.LineError, match="SNR must be a finite number of dB"):
        line.noise_dbm0_for_snr(tone16(1000, 800), value)


@pytest.mark.parametrize("band,match", [
    ((3400.0, 300.0), r"band \(3400, 300\) Hz has its low edge at or above its high one"),
    ((1000.0, 1000.0), "low edge at or above"),
    ((0.0, 3400.0), "must lie between 0 and 4000 Hz"),
    ((300.0, 4000.0), "must lie between 0 and 4000 Hz"),
    ((NAN, 3400.0), "must lie between 0 and 4000 Hz"),
    ((300.0,), r"a band is a \(low_hz, high_hz\) pair"),
    ((300.0, 3400.0, 5.0), "pair"),
    ("wide", "pair"),
])
def test_nonsense_bands_raise(band, match):
    with pytest.raises(line.LineError, match=match):
        line.Line(bandpass=band)


def test_nonsense_filter_designs_raise():
    with pytest.raises(line.LineError, match="even integer"):
        line.butterworth_sos(3, 1000.0, "lowpass")
    with pytest.raises(line.LineError, match="even integer of at least 2, not 4.0"):
        line.butterworth_sos(4.0, 1000.0, "lowpass")
    assert np.array_equal(line.butterworth_sos(np.int64(4), 1000.0, "lowpass"),
                          line.butterworth_sos(4, 1000.0, "lowpass"))
    with pytest.raises(line.LineError, match="cut-off nan Hz"):
        line.butterworth_sos(4, NAN, "lowpass")
    with pytest.raises(line.LineError, match="'lowpass' or 'highpass'"):
        line.butterworth_sos(4, 1000.0, "bandpass")
    with pytest.raises(line.LineError, match="low edge"):
        line.telephone_band_sos(3400.0, 300.0)


@pytest.mark.parametrize("gain", [-1e6, 101.0])
def test_a_gain_that_would_silence_or_only_clip_the_line_raises(gain):
    with pytest.raises(line.LineError, match="gain of .* dB is out of range"):
        line.Line(gain_db=gain)
    line.Line(gain_db=-100.0)


def test_any_seed_still_works():
    for seed in (-5, 0, 2**64 + 3):
        line.Line(noise_dbm0=-40.0, impulse_rate_hz=1.0, seed=seed).process(np.zeros(800, np.int16))


def test_line_errors_are_fax_errors_and_value_errors():
    from faxengine import FaxError
    with pytest.raises(FaxError):
        line.Line(g711="mulaw")
    assert issubclass(line.LineError, ValueError)


@pytest.mark.parametrize("snr", ["nan", "inf"])
def test_loopback_with_a_nan_or_infinite_snr_fails_with_a_message(tmp_path, capsys, snr):
    from faxengine import cli
    from faxengine.t4 import Page
    from faxengine import tiff
    doc = tmp_path / "doc.tif"
    tiff.write(doc, [Page(np.zeros((20, 1728), dtype=bool), 204, 196)])
    assert cli.main(["loopback", str(doc), "--out", str(tmp_path / "rx.tif"), "--snr", snr]) == 2
    assert "must be a finite number" in capsys.readouterr().err
    assert not (tmp_path / "rx.tif").exists()
