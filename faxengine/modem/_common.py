"""Checks of what callers hand the modems, shared by every facade (v21.py,
v29.py and the modems built on it, tones.py): bits and samples become the
1-D contiguous numpy arrays the compiled cores take, or a ModemError says
what was wrong with them (architecture, Conventions: bits are uint8 0/1,
audio int16)."""
from __future__ import annotations

import numpy as np

from faxengine.modem.errors import ModemError


def as_bits(bits) -> np.ndarray:
    """``bits`` (any 1-D sequence of 0/1) as a contiguous uint8 array."""
    b = np.ascontiguousarray(bits, dtype=np.uint8)
    if b.ndim != 1:
        raise ModemError(f"bits must be a 1-D array of 0/1, got shape {b.shape}")
    return b


def as_count(n, what: str = "sample count") -> int:
    """``n`` as a plain int >= 0 (a count of samples); bools, floats and
    strings are refused rather than converted."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ModemError(f"{what} must be an int, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ModemError(f"{what} must be 0 or more, got {n}")
    return int(n)


def as_samples(samples) -> np.ndarray:
    """``samples`` (a 1-D int16 array) as a contiguous array; other types are
    refused rather than converted, so a float signal is never truncated."""
    s = np.asarray(samples)
    if s.ndim != 1:
        raise ModemError(f"samples must be a 1-D int16 array, got shape {s.shape}")
    if s.dtype != np.int16:
        raise ModemError(f"samples must be int16, got {s.dtype}")
    return np.ascontiguousarray(s)
