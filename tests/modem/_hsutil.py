"""Helpers of the high-speed modem tests (V.29, V.27ter, V.17): random data,
a bit error counter, the transmitter -> line -> receiver loop, the lines
every modem is tested over, and the checks against spandsp (its
``needs_spandsp`` mark serves every modem test, V.21, HDLC and tones too).

Bits are compared from the first data bit: our receivers deliver exactly the
data bits after training, so sent[i] must equal received[i]; bits missing at
the end count as errors (the transmitter's turn-off must flush them through).
"""
from __future__ import annotations

import numpy as np

import pytest

import spandsp
from faxengine import line

#: the lines each modem and rate must cross with zero errors in 200 000 bits
#: (issue 3): clean; A-law with +10 Hz and +100 ppm; mu-law with -10 Hz,
#: -100 ppm, -43 dBm0 (a -13 dBm0 transmitter, 30 dB of loss) and the band;
#: and the loud end of the AGC's range, -10 dBm0 (3 dB of gain) through A-law
IMPAIRMENTS = {
    "clean": {},
    "alaw-10dBm0": {"g711": "alaw", "gain_db": 3.0},
    "alaw+10Hz+100ppm": {"g711": "alaw", "offset_hz": 10.0, "drift_ppm": 100.0},
    "ulaw-10Hz-100ppm-43dBm0-band": {"g711": "ulaw", "offset_hz": -10.0, "drift_ppm": -100.0,
                                     "gain_db": -30.0, "bandpass": True},
}
#: every impairment at once, for check_noise_on_every_impairment
EVERY_IMPAIRMENT = (
    {"offset_hz": 10.0, "drift_ppm": 100.0, "bandpass": True, "g711": "alaw"},
    {"offset_hz": -10.0, "drift_ppm": -100.0, "bandpass": True, "g711": "ulaw", "gain_db": -30.0},
)
#: the lines of the interop tests with spandsp (see interop_impairment)
INTEROP_CONDITIONS = ("clean", "alaw", "ulaw", "noise")

needs_spandsp = pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)


def interop_impairment(condition: str, noise_snr_db: float) -> dict:
    """The through_line() arguments of one of INTEROP_CONDITIONS; "noise" is
    white noise at noise_snr_db."""
    return {"clean": {}, "alaw": {"g711": "alaw"}, "ulaw": {"g711": "ulaw"},
            "noise": {"snr_db": noise_snr_db}}[condition]


def random_bits(n: int, seed: int) -> np.ndarray:
    """n random 0/1 bits (uint8), reproducible from seed."""
    return np.random.default_rng(seed).integers(0, 2, n, dtype=np.uint8)


def bit_errors(sent: np.ndarray, received: np.ndarray) -> int:
    """Errors of received against sent, position by position from the first
    bit; sent bits the receiver never delivered count as errors."""
    n = min(len(sent), len(received))
    return int(np.count_nonzero(sent[:n] != received[:n])) + (len(sent) - n)


def offset_errors(sent: np.ndarray, received: np.ndarray, offset: int) -> int:
    """bit_errors with sent starting at received[offset] (other receivers,
    such as spandsp's, may put out a few bits before the data)."""
    if offset < 0:
        return bit_errors(sent[-offset:], received) - offset
    return bit_errors(sent, received[offset:])


def through_line(samples: np.ndarray, snr_db: float | None = None, seed: int = 0, **line_args) -> np.ndarray:
    """samples through faxengine.line.Line(**line_args) (with its tail
    flushed), then white noise at snr_db if given."""
    if line_args:
        ch = line.Line(seed=seed, **line_args)
        samples = np.concatenate([ch.process(samples), ch.flush()]).astype(np.int16)
    if snr_db is not None:
        samples = line.add_noise(samples, snr_db, seed=seed + 1)
    return samples


def chunked(process, data: np.ndarray, seed: int, largest: int = 100000) -> np.ndarray:
    """process() over data split at random points (pieces of 1 .. largest
    elements, small ones often), outputs concatenated."""
    rng = np.random.default_rng(seed)
    out = []
    i = 0
    while i < len(data):
        n = int(rng.choice([1, 2, 3, 7, 160, 161, 1000, largest]))
        n = int(rng.integers(1, n + 1))
        out.append(process(data[i:i + n]))
        i += n
    return np.concatenate(out) if out else data[:0]


def send(tx, bits: np.ndarray) -> np.ndarray:
    """One whole transmission of bits from a fresh transmitter: training,
    data, turn-off."""
    return np.concatenate([tx.modulate(bits), tx.finish()])


def loop_errors(make_tx, make_rx, bits: np.ndarray, seed: int = 0, snr_db: float | None = None,
                **line_args) -> int:
    """Bit errors of make_tx() -> line -> make_rx()."""
    heard = through_line(send(make_tx(), bits), snr_db=snr_db, seed=seed, **line_args)
    return bit_errors(bits, make_rx().demodulate(heard))


def check_reports(rx, samples: np.ndarray, power_dbm0: float, heard: float) -> None:
    """A fresh receiver sees nothing; after the first `heard` fraction of a
    clean transmission at power_dbm0, it reports carrier, training, the level
    within 1.5 dB and an SNR above 30 dB; after 100 ms of silence, nothing."""
    assert abs(line.on_power_dbm0(samples) - power_dbm0) < 0.3
    assert not rx.carrier_present and not rx.trained
    rx.demodulate(samples[:int(len(samples) * heard)])
    assert rx.carrier_present and rx.trained
    assert abs(rx.signal_power_dbm0 - power_dbm0) < 1.5
    assert rx.snr_db > 30.0
    rx.demodulate(np.zeros(800, np.int16))
    assert not rx.carrier_present and not rx.trained


def check_noise_on_every_impairment(make_tx, make_rx, bits: np.ndarray, snr_db: float, seed: int = 7) -> None:
    """Zero errors with noise near the threshold on top of +-10 Hz, +-100 ppm,
    the telephone band, G.711 and -43 dBm0: the loops must not cost
    sensitivity."""
    for impair in EVERY_IMPAIRMENT:
        assert loop_errors(make_tx, make_rx, bits, seed=seed, snr_db=snr_db, **impair) == 0


def check_streaming(make_tx, make_rx, bits: np.ndarray, seed: int) -> None:
    """Any chunking of the transmitter's bits and of the receiver's samples
    gives the output of one call, and that output is right."""
    whole = send(make_tx(), bits)
    tx = make_tx()
    pieces = np.concatenate([chunked(tx.modulate, bits, seed=seed), tx.finish()])
    assert np.array_equal(pieces, whole)
    heard = through_line(whole, snr_db=30.0, seed=seed, offset_hz=3.0)
    one = make_rx().demodulate(heard)
    rx = make_rx()
    assert np.array_equal(chunked(rx.demodulate, heard, seed=seed + 1), one)
    assert bit_errors(bits, one) == 0


def check_interop(kind: str, rate: int, make_tx, make_rx, bits: np.ndarray, seed: int,
                  ours_to_spandsp: bool = True, spandsp_to_ours: bool = True, **impair) -> None:
    """Zero errors from our transmitter to spandsp's receiver and from
    spandsp's transmitter to ours, over the same impairments."""
    if ours_to_spandsp:
        heard = through_line(send(make_tx(), bits), seed=seed, **impair)
        got = spandsp.modem_rx(kind, rate, heard)
        offset = spandsp.align(got, bits)
        assert offset is not None, "spandsp's receiver did not find our data"
        assert offset_errors(bits, got[:offset + len(bits)], offset) == 0
    if spandsp_to_ours:
        heard = through_line(spandsp.modem_tx(kind, rate, bits, power_dbm0=-13.0), seed=seed + 1, **impair)
        rx = make_rx()
        got = rx.demodulate(heard)
        assert rx.trained or bit_errors(bits, got) == 0
        assert bit_errors(bits, got) == 0


def check_tep(kind: str, rate: int, make_tx, make_rx, bits: np.ndarray) -> None:
    """With the echo-protection tone before the training (make_tx() must
    send it): ours to ours, and when spandsp is here, its TEP transmission
    to our receiver and ours to its receiver."""
    assert bit_errors(bits, make_rx().demodulate(send(make_tx(), bits))) == 0
    if spandsp.spandsp_available():
        heard = spandsp.modem_tx(kind, rate, bits, tep=True, power_dbm0=-13.0)
        assert bit_errors(bits, make_rx().demodulate(heard)) == 0
        got = spandsp.modem_rx(kind, rate, send(make_tx(), bits))
        offset = spandsp.align(got, bits)
        assert offset is not None and offset_errors(bits, got[:offset + len(bits)], offset) == 0


def check_threshold_spandsp_tx(kind: str, rate: int, make_rx, snr_db: float) -> None:
    """The signals of bench/test_modem_sensitivity.py (spandsp's transmitter,
    2 x 20 s of random data at -13 dBm0, white noise with seeds 100 and 101)
    at snr_db: our receiver makes no error.  Pinned at the threshold the
    sweep measured, so losing even its 0.5 dB step fails."""
    for run in range(2):
        bits = np.random.default_rng(run + 1).integers(0, 2, rate * 20, dtype=np.uint8)
        audio = spandsp.modem_tx(kind, rate, bits, power_dbm0=-13.0)
        got = make_rx().demodulate(line.add_noise(audio, snr_db, seed=100 + run))
        assert bit_errors(bits, got) == 0, f"run {run}"


def check_tcf_interop(kind: str, rate: int, make_tx, make_rx) -> None:
    """TCF (T.30 §5.3.6.2.1: 1.5 s of zeros, the worst case for a scrambler)
    from spandsp's transmitter to our receiver and from ours to spandsp's:
    all zeros arrive."""
    zeros = np.zeros(rate * 3 // 2, np.uint8)
    heard = spandsp.modem_tx(kind, rate, zeros, power_dbm0=-13.0)
    assert bit_errors(zeros, make_rx().demodulate(heard)) == 0
    got = spandsp.modem_rx(kind, rate, send(make_tx(), zeros))
    assert len(got) >= len(zeros) and not np.any(got[:len(zeros)])
