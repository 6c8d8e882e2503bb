"""CNG/CED generation (T.30 §4.1, §4.2, V.25) and the tone detector: detects
the tones and V.21, ignores speech, modem signals and noise; streaming."""
import numpy as np
import pytest
from _hsutil import needs_spandsp
from scipy import signal as sps
from speech import synthetic_speech

import spandsp
from faxengine import line
from faxengine.modem import CedTx, CngTx, ModemError, ToneDetector, V21Tx
from faxengine.modem.hdlc import HdlcTx
from faxengine.modem.tones import ToneEvent
from faxengine.modem.v21 import sine_amplitude

RATE = 8000


def peak_hz(x):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spectrum) * RATE / len(x)


def tone(freq, seconds, level=-13.0, reversals_s=None):
    """A plain tone, optionally with 180° phase reversals (V.25 ANS with reversals)."""
    n = np.arange(int(seconds * RATE))
    phase = 2 * np.pi * freq * n / RATE
    if reversals_s:
        phase = phase + np.pi * ((n // int(reversals_s * RATE)) % 2)
    return np.round(sine_amplitude(level) * np.sin(phase)).astype(np.int16)


def silence(seconds):
    return np.zeros(int(seconds * RATE), np.int16)


def kinds(events, end=False):
    return [e.kind for e in events if (e.end_sample is not None) == end]


def test_cng_cadence_level_and_frequency():
    x = CngTx(power_dbm0=-13.0).generate(8 * RATE)
    # 0.5 s on, 3 s off, repeating (T.30 §4.1.1); each burst starts at phase 0
    for start in (0, 28000, 56000):
        assert x[start] == 0 and x[start + 1] != 0 and x[start + 3998] != 0
        assert not x[start + 4000 : start + 28000].any()
        burst = x[start + 100 : start + 3900]
        assert abs(line.power_dbm0(burst) - -13.0) < 0.05
        assert abs(peak_hz(burst) - 1100.0) < 3


def test_ced_timing_level_and_frequency():
    ced = CedTx(power_dbm0=-10.0, duration_s=3.0, silence_before_s=0.2, silence_after_s=0.075)
    x = ced.generate(int(3.275 * RATE) - 1)
    assert not ced.done
    x = np.concatenate([x, ced.generate(1)])
    assert ced.done
    assert not ced.generate(500).any()
    on = np.flatnonzero(x)
    assert on[0] == 1601 and 1600 + 24000 - 3 <= on[-1] < 1600 + 24000   # phase 0 at 1600
    assert abs(line.power_dbm0(x[2000:25000]) - -10.0) < 0.05
    assert abs(peak_hz(x[2000:25000]) - 2100.0) < 1


@pytest.mark.parametrize("chunk", [1, 7, 160, 100_000])
def test_generators_stream(chunk):
    for make in (CngTx, CedTx):
        whole = make().generate(40000)
        gen = make()
        pieces = [gen.generate(min(chunk, 40000 - i)) for i in range(0, 40000, chunk)]
        assert np.array_equal(np.concatenate(pieces), whole)


def test_cng_detected_with_start_and_end():
    x = line.add_noise(np.concatenate([silence(0.3), CngTx().generate(8 * RATE)]), 10.0, seed=1)
    det = ToneDetector()
    events = det.process(x)
    starts = [e for e in events if e.end_sample is None]
    ends = [e for e in events if e.end_sample is not None]
    assert kinds(events) == ["CNG"] * 3 and kinds(events, end=True) == ["CNG"] * 3
    for k, (s, e) in enumerate(zip(starts, ends)):
        begin = 2400 + 28000 * k
        assert abs(s.start_sample - begin) <= 160
        assert abs(e.end_sample - (begin + 4000)) <= 160
        assert e.start_sample == s.start_sample


@pytest.mark.parametrize("freq", [1062.0, 1100.0, 1138.0])
@pytest.mark.parametrize("level", [-13.0, -43.0])
def test_cng_tolerance_and_level(freq, level):
    # T.30 §4.1.1: 1100 ± 38 Hz; received down to -43 dBm0, here through µ-law
    x = line.g711_roundtrip(np.concatenate([tone(freq, 0.5, level), silence(0.5)]), "ulaw")
    events = ToneDetector().process(x)
    assert kinds(events) == ["CNG"] and kinds(events, end=True) == ["CNG"]


@pytest.mark.parametrize("freq", [2085.0, 2100.0, 2115.0])
def test_ced_detected_also_with_phase_reversals(freq):
    for reversals in (None, 0.45):
        x = line.Line(g711="alaw", noise_dbm0=-30.0, seed=2).process(
            np.concatenate([silence(0.2), tone(freq, 3.0, -13.0, reversals), silence(0.2)]))
        events = ToneDetector().process(x)
        assert events[0] == ToneEvent("CED", events[0].start_sample, None)
        assert abs(events[0].start_sample - 1600) <= 160
        assert kinds(events) == ["CED"] and kinds(events, end=True) == ["CED"]
        end = [e for e in events if e.end_sample is not None][0]
        assert abs(end.end_sample - 1600 - 24000) <= 160


def test_short_or_weak_tones_are_not_reported():
    assert ToneDetector().process(np.concatenate([tone(1100, 0.3), silence(0.5)])) == []
    assert ToneDetector().process(np.concatenate([tone(2100, 0.4), silence(0.5)])) == []
    assert ToneDetector().process(np.concatenate([tone(1100, 1.0, -50.0), silence(0.5)])) == []


def test_v21_preamble_detected_not_as_cng_or_ced():
    bits = HdlcTx().encode([b"\xff\x13\x80" + bytes(20)])
    x = line.Line(g711="alaw", noise_dbm0=-30.0, seed=3).process(
        np.concatenate([silence(0.2), V21Tx().modulate(bits), silence(0.2)]))
    events = ToneDetector().process(x)
    assert kinds(events) == ["V21"] and kinds(events, end=True) == ["V21"]
    assert abs(events[0].start_sample - 1600) <= 160


@pytest.mark.parametrize("seed,f0", [(1, (85.0, 180.0)), (2, (160.0, 320.0)), (3, (100.0, 250.0))],
                         ids=["male", "female", "wide"])
def test_speech_is_not_a_tone(seed, f0):
    x = synthetic_speech(30.0, seed, f0)
    assert ToneDetector().process(x) == []
    assert ToneDetector().process(line.g711_roundtrip(x, "alaw")) == []


def test_sung_vowel_on_an_1100_hz_harmonic_is_not_cng():
    # A held "a" at 220 Hz: its 5th harmonic is 1100 Hz, right on F2.
    n = np.arange(RATE)
    pitch = 220.0 * (1 + 0.01 * np.sin(2 * np.pi * 5 * n / RATE))   # vibrato
    pulses = np.diff(np.floor(np.cumsum(pitch / RATE)), prepend=0.0)
    x = sps.lfilter([1.0], [1.0, -0.95], pulses)
    for formant, bw in ((730, 80), (1090, 100), (2440, 140)):
        r = np.exp(-np.pi * bw / RATE)
        x = sps.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * formant / RATE), r * r], x)
    x = np.round(x * np.sqrt(line.dbm0_to_power(-15.0) / np.mean(x * x))).astype(np.int16)
    assert ToneDetector().process(x) == []


def test_modem_signals_and_noise_are_not_tones():
    from faxengine.modem import V29Tx

    rng = np.random.default_rng(4)
    v21 = V21Tx().modulate(rng.integers(0, 2, 3000).astype(np.uint8))
    events = ToneDetector().process(v21)
    assert kinds(events) == ["V21"]                  # V.21 data is V.21, never CNG or CED
    tx = V29Tx(9600)
    v29 = np.concatenate([tx.modulate(rng.integers(0, 2, 96000).astype(np.uint8)), tx.finish()])
    band = sps.sosfilt(sps.butter(6, [300, 3400], "bandpass", fs=RATE, output="sos"),
                       rng.standard_normal(10 * RATE))
    band = np.round(band * np.sqrt(line.dbm0_to_power(-13.0) / np.mean(band**2))).astype(np.int16)
    white = line.Line(noise_dbm0=-13.0, seed=5).process(silence(10.0))
    for x in (v29, band, white):
        assert ToneDetector().process(x) == []


@pytest.mark.parametrize("chunk", [1, 7, 160, 100_000])
def test_detector_streaming(chunk):
    x = np.concatenate([synthetic_speech(2.0, 5), CngTx().generate(5 * RATE),
                        CedTx().generate(4 * RATE), V21Tx().modulate(HdlcTx().encode([b"\x01"]))])
    x = line.add_noise(x, 20.0, seed=6)
    whole = ToneDetector()
    expected = whole.process(x)
    det = ToneDetector()
    got = [e for i in range(0, len(x), chunk) for e in det.process(x[i : i + chunk])]
    assert got == expected
    assert kinds(expected) == ["CNG", "CNG", "CED", "V21"]
    assert det.present == whole.present == frozenset({"V21"})


def test_bad_arguments():
    with pytest.raises(ModemError, match="2.6 to 4.0 s"):
        CedTx(duration_s=5.0)
    with pytest.raises(ModemError, match="out of range"):
        CngTx(power_dbm0=10.0)
    with pytest.raises(ModemError, match="unknown tone kind"):
        ToneEvent("DTMF", 0)



@needs_spandsp
def test_spandsp_tones_are_detected():
    cng = spandsp.tone_tx(spandsp.CNG, 8 * RATE)
    assert kinds(ToneDetector().process(cng)) == ["CNG", "CNG", "CNG"]
    ced = spandsp.tone_tx(spandsp.CED, 6 * RATE)
    assert kinds(ToneDetector().process(ced)) == ["CED"]


@needs_spandsp
def test_spandsp_detects_our_tones():
    cng = CngTx().generate(8 * RATE)
    assert any(code == spandsp.CNG for code, _ in spandsp.tone_rx(spandsp.CNG, cng))
    ced = CedTx().generate(4 * RATE)
    assert any(code == spandsp.CED for code, _ in spandsp.tone_rx(spandsp.CED, ced))


def test_empty_inputs():
    assert ToneDetector().process(np.zeros(0, np.int16)) == []
    assert len(CngTx().generate(0)) == 0
