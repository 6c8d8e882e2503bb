"""V.21 channel 2: waveform, carrier detect, bit errors through impaired lines, streaming."""
import math

import numpy as np
import pytest
from _hsutil import needs_spandsp

import spandsp
from faxengine import line
from faxengine.modem import ModemError, V21Rx, V21Tx
from faxengine.modem.hdlc import Frame, HdlcRx, HdlcTx
from faxengine.modem.v21 import MARK_HZ, SPACE_HZ, sine_amplitude

RATE = 8000
FLAGS = np.tile(np.array([0, 1, 1, 1, 1, 1, 1, 0], np.uint8), 40)
#: where ours must still decode two 20 s runs of frames without error: 0.5 dB
#: above the 0.5 dB that test_sensitivity_sweep measured (spandsp 0.0.6's
#: V.21 receiver, same method: 4.0 dB).  A regression fails CI.
SENSITIVITY_SNR_DB = 1.0


def bit_errors(sent: np.ndarray, got: np.ndarray) -> int:
    """Errors of ``sent`` within ``got``, aligned on its first 64 bits.

    Missing bits count as errors; a payload that cannot be found counts all."""
    head = sent[:64]
    for off in range(0, len(got) - 63):
        if np.array_equal(got[off : off + 64], head):
            tail = got[off : off + len(sent)]
            return int(np.count_nonzero(tail != sent[: len(tail)])) + len(sent) - len(tail)
    return len(sent)


def transmit(payload: np.ndarray, power_dbm0: float = -13.0) -> np.ndarray:
    tx = V21Tx(power_dbm0)
    return np.concatenate([tx.modulate(FLAGS), tx.modulate(payload), tx.modulate(FLAGS), tx.finish()])


@pytest.fixture(scope="module")
def bits200k():
    return np.random.default_rng(200).integers(0, 2, 200_000).astype(np.uint8)


@pytest.fixture(scope="module")
def signal200k(bits200k):
    return transmit(bits200k)


def test_waveform_is_continuous_phase_fsk_with_exact_bit_timing():
    bits = np.random.default_rng(1).integers(0, 2, 300).astype(np.uint8)
    out = V21Tx(-13.0).modulate(bits)
    # V.21 §2: sample n carries bit floor(300 n / 8000); the phase advances by
    # the frequency of that bit; 1 -> 1650 Hz, 0 -> 1850 Hz.
    n = np.arange(math.ceil(len(bits) * RATE / 300))
    freq = np.where(bits[(300 * n) // RATE] == 1, MARK_HZ, SPACE_HZ)
    phase = np.concatenate([[0.0], np.cumsum(2 * np.pi * freq / RATE)[:-1]])
    expected = sine_amplitude(-13.0) * np.sin(phase)
    assert len(out) == len(n) == 8000
    assert np.max(np.abs(out - expected)) <= 1.0


def test_transmit_level_and_tones():
    for level in (-13.0, -30.0, -43.0):
        ones = V21Tx(level).modulate(np.ones(300, np.uint8))
        assert abs(line.power_dbm0(ones) - level) < 0.05
    spectrum = np.abs(np.fft.rfft(V21Tx().modulate(np.ones(300, np.uint8))))
    assert np.argmax(spectrum) * RATE / 8000 == MARK_HZ
    spectrum = np.abs(np.fft.rfft(V21Tx().modulate(np.zeros(300, np.uint8))))
    assert np.argmax(spectrum) * RATE / 8000 == SPACE_HZ


@pytest.mark.parametrize("chunk", [1, 7, 160])
def test_transmit_streaming(chunk):
    bits = np.random.default_rng(2).integers(0, 2, 1000).astype(np.uint8)
    tx = V21Tx()
    pieces = [tx.modulate(bits[i : i + chunk]) for i in range(0, len(bits), chunk)]
    pieces.append(tx.finish())
    whole = V21Tx()
    assert np.array_equal(np.concatenate(pieces), np.concatenate([whole.modulate(bits), whole.finish()]))


def test_finish_fades_out_and_restarts():
    tx = V21Tx()
    first = tx.modulate(np.ones(30, np.uint8))
    ramp = tx.finish()
    assert 0 < len(ramp) <= 40
    assert np.all(np.abs(ramp[-4:]) < 0.3 * sine_amplitude(-13.0))
    assert np.array_equal(tx.modulate(np.ones(30, np.uint8)), first)


@pytest.mark.parametrize(
    "impairment",
    [
        {},
        {"g711": "alaw"},
        {"g711": "ulaw"},
        {"gain_db": -30.0, "g711": "alaw"},     # -43 dBm0
        {"gain_db": -30.0, "g711": "ulaw"},
        {"offset_hz": 10.0},
        {"offset_hz": -10.0},
        {"drift_ppm": 100.0},
        {"drift_ppm": -100.0},
        {"gain_db": -30.0, "offset_hz": 10.0, "drift_ppm": -100.0, "bandpass": True, "g711": "ulaw"},
    ],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()) or "clean",
)
def test_200k_bits_without_error(impairment, bits200k, signal200k):
    heard = line.Line(**impairment).process(signal200k) if impairment else signal200k
    got = V21Rx().demodulate(heard)
    assert bit_errors(bits200k, got) == 0


def noisy_bursts(seed=3):
    """Three V.21 bursts at different levels separated by silence, plus noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for level in (-13.0, -40.0, -25.0):
        parts.append(np.zeros(int(rng.integers(500, 3000)), np.int16))
        parts.append(transmit(rng.integers(0, 2, 300).astype(np.uint8), level))
    parts.append(np.zeros(1000, np.int16))
    x = np.concatenate(parts)
    return line.Line(noise_dbm0=-60.0, seed=seed).process(x)


@pytest.mark.parametrize("chunk", [1, 7, 160, 100_000])
def test_receive_streaming(chunk):
    x = noisy_bursts()
    whole = V21Rx()
    expected = whole.demodulate(x)
    rx = V21Rx()
    got = np.concatenate([rx.demodulate(x[i : i + chunk]) for i in range(0, len(x), chunk)])
    assert np.array_equal(got, expected)
    assert rx.signal_power_dbm0 == whole.signal_power_dbm0
    assert len(expected) > 3 * 380


def test_carrier_detect_thresholds_and_hysteresis():
    bits = np.random.default_rng(4).integers(0, 2, 600).astype(np.uint8)
    # V.21 §7: ON for signals above -43 dBm0 ...
    rx = V21Rx()
    got = rx.demodulate(transmit(bits, -43.0))
    assert bit_errors(bits, got) == 0
    # ... OFF below -48 dBm0: nothing comes out.
    rx = V21Rx()
    assert len(rx.demodulate(transmit(bits, -49.0))) == 0 and not rx.carrier_present
    # Hysteresis: once ON at -40 dBm0, a drop to -46.5 dBm0 keeps it ON, -50 turns it OFF.
    tx = V21Tx(-40.0)
    rx = V21Rx()
    rx.demodulate(tx.modulate(FLAGS))
    assert rx.carrier_present
    rx.demodulate(V21Tx(-46.5).modulate(bits))
    assert rx.carrier_present
    rx.demodulate(V21Tx(-50.0).modulate(FLAGS))
    assert not rx.carrier_present


def test_silence_and_weak_noise_give_no_bits():
    rx = V21Rx()
    assert len(rx.demodulate(np.zeros(16000, np.int16))) == 0
    noise = line.Line(noise_dbm0=-55.0, seed=5).process(np.zeros(16000, np.int16))
    assert len(rx.demodulate(noise)) == 0
    assert not rx.carrier_present


def test_carrier_drops_when_the_signal_stops():
    rx = V21Rx()
    rx.demodulate(transmit(FLAGS))
    rx.demodulate(np.zeros(320, np.int16))      # 40 ms
    assert not rx.carrier_present
    assert rx.signal_power_dbm0 < -48.0


@pytest.mark.parametrize("level", [-13.0, -30.0, -43.0])
def test_signal_power_estimate(level):
    bits = np.random.default_rng(6).integers(0, 2, 1000).astype(np.uint8)
    x = V21Tx(level).modulate(bits)
    rx = V21Rx()
    readings = []
    for i in range(0, len(x) - 160, 160):
        rx.demodulate(x[i : i + 160])
        readings.append(rx.signal_power_dbm0)
    assert np.all(np.abs(np.array(readings[5:]) - level) < 0.5)


def frames_over_v21(frames, snr_db=None, seed=0, impairment=None):
    tx = HdlcTx()
    bits = np.concatenate([tx.encode(frames), tx.finish()])
    mod = V21Tx()
    x = np.concatenate([np.zeros(800, np.int16), mod.modulate(bits), mod.finish(), np.zeros(800, np.int16)])
    if impairment:
        x = line.Line(**impairment).process(x)
    if snr_db is not None:
        x = line.add_noise(x, snr_db, seed=seed)
    return HdlcRx().decode(V21Rx().demodulate(x))


def test_every_frame_length_1_to_260_over_v21():
    rng = np.random.default_rng(7)
    frames = [bytes(rng.integers(0, 256, n, dtype=np.uint8)) for n in range(1, 261)]
    got = frames_over_v21(frames, impairment={"g711": "alaw", "offset_hz": 7.0, "drift_ppm": 50.0})
    assert got == [Frame(f, True) for f in frames]


def sensitivity_frames(seed):
    """20 s of T.30-like frames (address, control, FCF, 30 octets of FIF)."""
    rng = np.random.default_rng(seed)
    return [b"\xff\x13" + bytes(rng.integers(0, 256, 31, dtype=np.uint8)) for _ in range(20)]


def frame_errors(snr_db, run):
    frames = sensitivity_frames(run)
    got = frames_over_v21(frames, snr_db=snr_db, seed=run)
    good = [f.data for f in got if f.ok]
    return sum(f not in good for f in frames)


def test_sensitivity_frames():
    """Zero frame errors at the measured sensitivity, two runs of 20 s."""
    assert frame_errors(SENSITIVITY_SNR_DB, 1) == 0
    assert frame_errors(SENSITIVITY_SNR_DB, 2) == 0


def spandsp_frame_errors(snr_db, run):
    frames = sensitivity_frames(run)
    tx = HdlcTx()
    mod = V21Tx()
    bits = np.concatenate([tx.encode(frames), tx.finish()])
    x = np.concatenate([np.zeros(800, np.int16), mod.modulate(bits), mod.finish(), np.zeros(800, np.int16)])
    good = [data for data, ok in spandsp.v21_hdlc_rx(line.add_noise(x, snr_db, seed=run)) if ok]
    return sum(f not in good for f in frames)


def lowest_clean_snr(errors):
    """The lowest SNR (0.5 dB steps, from 15 dB down) at which two 20 s runs
    of frames from our transmitter decode without a frame error."""
    lowest = None
    for snr in np.arange(15.0, -5.0, -0.5):
        if errors(snr, 1) or errors(snr, 2):
            break
        lowest = float(snr)
    return lowest


@pytest.mark.slow
def test_sensitivity_sweep():
    ours = lowest_clean_snr(frame_errors)
    theirs = lowest_clean_snr(spandsp_frame_errors) if spandsp.spandsp_available() else None
    print(f"\nV.21 + HDLC, lowest SNR with zero frame errors: ours {ours} dB, spandsp {theirs} dB")
    assert ours is not None and ours <= SENSITIVITY_SNR_DB
    if theirs is not None:
        assert ours <= theirs



@needs_spandsp
@pytest.mark.parametrize("law", [None, "alaw", "ulaw"])
def test_spandsp_fsk_both_ways(law, bits200k):
    bits = bits200k[:20_000]
    heard = lambda x: line.g711_roundtrip(x, law) if law else x  # noqa: E731
    # spandsp's transmitter -> ours
    sent = np.concatenate([FLAGS, bits, FLAGS])
    assert bit_errors(bits, V21Rx().demodulate(heard(spandsp.modem_tx("v21", 300, sent)))) == 0
    # ours -> spandsp's receiver
    assert bit_errors(bits, spandsp.modem_rx("v21", 300, heard(transmit(bits)))) == 0


@needs_spandsp
@pytest.mark.parametrize("snr_db", [None, 8.0])
def test_spandsp_v21_hdlc_frames_both_ways(snr_db):
    rng = np.random.default_rng(8)
    frames = [b"\xff\x13" + bytes(rng.integers(0, 256, n, dtype=np.uint8)) for n in range(1, 80)]

    def impair(x, seed):
        x = line.Line(g711="alaw", offset_hz=5.0, seed=seed).process(
            np.concatenate([np.zeros(800, np.int16), x, np.zeros(800, np.int16)]))
        return line.add_noise(x, snr_db, seed=seed) if snr_db is not None else x

    # spandsp V.21 + HDLC -> ours
    got = HdlcRx().decode(V21Rx().demodulate(impair(spandsp.v21_hdlc_tx(frames), 1)))
    assert got == [Frame(f, True) for f in frames]
    # ours -> spandsp
    tx = HdlcTx()
    mod = V21Tx()
    ours = np.concatenate([mod.modulate(np.concatenate([tx.encode(frames), tx.finish()])), mod.finish()])
    theirs = spandsp.v21_hdlc_rx(impair(ours, 2))
    assert [data for data, ok in theirs if ok] == frames


def test_bad_input():
    with pytest.raises(ModemError, match="int16"):
        V21Rx().demodulate(np.zeros(10, np.float32))
    with pytest.raises(ModemError, match="out of range"):
        V21Tx(power_dbm0=6.0)
    with pytest.raises(ModemError, match="1-D"):
        V21Tx().modulate(np.zeros((2, 2), np.uint8))


def test_empty_inputs():
    assert len(V21Tx().modulate(np.zeros(0, np.uint8))) == 0
    rx = V21Rx()
    assert len(rx.demodulate(np.zeros(0, np.int16))) == 0
    assert not rx.carrier_present and rx.signal_power_dbm0 == -math.inf
