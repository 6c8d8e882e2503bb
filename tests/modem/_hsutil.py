"""Helpers of the high-speed modem tests (V.29, V.27ter): random data, a bit
error counter, and the transmitter -> line -> receiver loop.

Bits are compared from the first data bit: our receivers deliver exactly the
data bits after training, so sent[i] must equal received[i]; bits missing at
the end count as errors (the transmitter's turn-off must flush them through).
"""
from __future__ import annotations

import numpy as np

from faxengine import line


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
