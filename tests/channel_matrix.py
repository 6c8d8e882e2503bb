"""The modem matrix on distorted channels: helpers shared by
tests/modem/test_channels.py (one SNR per channel) and bench/test_channels.py
(the threshold sweep, ours beside spandsp's).

A run: random bits through our transmitter (-13 dBm0, long training), then
``faxengine.line.Line(channel=...)`` (tail flushed), then white noise at the
SNR asked for, measured on what arrives (the project's definition: the
signal's power while on, after the channel, over the noise's over
0-4000 Hz).  A receiver, ours or spandsp's, hears that audio; its errors
count every sent bit it got wrong or never delivered.  A threshold is the
lowest SNR, stepping down, at which every run was error-free.
"""
from __future__ import annotations

import numpy as np

import spandsp
from faxengine import line
from faxengine.modem.v17 import V17Rx, V17Tx
from faxengine.modem.v29 import V29Rx, V29Tx

#: (kind, rate): every V.17 and V.29 rate T.30 uses for pages
MODEMS = (("v17", 14400), ("v17", 12000), ("v17", 9600), ("v17", 7200), ("v29", 9600), ("v29", 7200))
_TX = {"v17": V17Tx, "v29": V29Tx}
_RX = {"v17": V17Rx, "v29": V29Rx}
#: flat: no channel at all (the reference); the others by their names in line.CHANNELS
FLAT = "flat"
#: the channels of the matrix: M.1020 at and beyond its limits, and V.56bis's
#: test channels, each attenuation curve once and each delay curve with the worst
#: attenuation
CHANNELS = ("m1020", "m1020x2", "v56bis-ad1-edd1", "v56bis-ad5-edd2", "v56bis-ad6-edd3",
            "v56bis-ad7-edd3", "v56bis-ad8-edd2", "v56bis-ad9-edd1", "v56bis-ad9-edd2", "v56bis-ad9-edd3")
#: the data of a threshold: RUNS runs of SECONDS s each, noise in STEP_DB steps
SECONDS = 10
RUNS = 3
STEP_DB = 0.5


def runs(kind: str, rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The RUNS transmissions every threshold of (kind, rate) is measured on."""
    return [transmission(kind, rate, SECONDS, seed) for seed in range(1, RUNS + 1)]


def transmission(kind: str, rate: int, seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(bits, audio): ``seconds`` of random data from our transmitter."""
    bits = np.random.default_rng(seed).integers(0, 2, int(rate * seconds), dtype=np.uint8)
    tx = _TX[kind](rate=rate)
    return bits, np.concatenate([tx.modulate(bits), tx.finish()])


def through(audio: np.ndarray, channel: str, snr_db: float, seed: int,
            listener_echo: tuple[float, float] | None = None) -> np.ndarray:
    """``audio`` through the channel (none for FLAT), then with its listener
    echo if given ((loss dB, delay ms): the signal reflected back and forth by
    the hybrids at both ends, ``line.Hybrid(loss, delay).process(x, x)``),
    then noise at ``snr_db``."""
    if channel != FLAT:
        ch = line.Line(channel=channel)
        audio = np.concatenate([ch.process(audio), ch.flush()])
    if listener_echo is not None:
        audio = line.Hybrid(*listener_echo).process(audio, audio)
    return line.add_noise(audio, snr_db, seed=seed)


def errors(bits: np.ndarray, got: np.ndarray, offset: int = 0) -> int:
    """Bits of ``bits`` wrong or missing in ``got`` read from ``offset``."""
    got = got[offset:]
    n = min(len(bits), len(got))
    return int(np.count_nonzero(bits[:n] != got[:n])) + len(bits) - n


def ours(kind: str, rate: int, bits: np.ndarray, heard: np.ndarray) -> int:
    """Errors of our receiver (it delivers exactly the data bits)."""
    return errors(bits, _RX[kind](rate=rate).demodulate(heard))


def theirs(kind: str, rate: int, bits: np.ndarray, heard: np.ndarray) -> int:
    """Errors of spandsp's receiver (its first data bit is found by alignment)."""
    got = spandsp.modem_rx(kind, rate, heard)
    offset = spandsp.align(got, bits)
    return len(bits) if offset is None or offset < 0 else errors(bits, got, offset)


def threshold(receiver, kind: str, rate: int, channel: str, runs, start: float, floor: float,
              step: float = STEP_DB, listener_echo: tuple[float, float] | None = None) -> float | None:
    """Lowest SNR from ``start`` down in ``step``s at which ``receiver`` got
    every one of ``runs`` ((bits, audio) pairs) without error; None if even
    ``start`` fails."""
    last = None
    snr = start
    while snr >= floor - 1e-9:
        for i, (bits, audio) in enumerate(runs):
            if receiver(kind, rate, bits, through(audio, channel, snr, 100 + i, listener_echo)):
                return last
        last = snr
        snr = round(snr - step, 3)
    return last
