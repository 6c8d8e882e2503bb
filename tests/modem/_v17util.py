"""Helpers of the V.17 tests: the trellis code in the symbol domain (an
AWGN channel on constellation points) and the slicer it is measured against."""
from __future__ import annotations

import numpy as np

from faxengine.modem import _v17


def symbol_channel(rate: int, bits: np.ndarray, es_n0_db: float, seed: int) -> np.ndarray:
    """Trellis-encode `bits` (no scrambler) and add complex white Gaussian
    noise at Es/N0 (Es: mean energy of the constellation's points)."""
    points = _v17.constellation(rate)
    tx = points[_v17.trellis_encode(rate, bits)]
    es = np.mean(np.abs(points) ** 2)
    n0 = es / 10 ** (es_n0_db / 10)
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, np.sqrt(n0 / 2), (len(tx), 2)) @ np.array([1, 1j])
    return tx + noise


def hard_decode(rate: int, received: np.ndarray) -> np.ndarray:
    """Bits by exact nearest-point slicing, symbol by symbol, without the
    trellis: the uncoded reference the Viterbi decoder must beat."""
    points = _v17.constellation(rate)
    labels = np.empty(len(received), np.int32)
    for i in range(0, len(received), 4096):
        chunk = received[i:i + 4096]
        labels[i:i + 4096] = np.argmin(np.abs(chunk[:, None] - points[None, :]), axis=1)
    return _v17.labels_to_bits(rate, labels)
