"""Checks of what callers hand the modems, shared by every facade (v21.py,
v29.py and the modems built on it, hdlc.py, tones.py): bits and samples
become the 1-D contiguous numpy arrays the compiled cores take, rates,
levels, counts and flags are checked for type and range, or a ModemError
says what was wrong (architecture, Conventions: bits are uint8 0/1, audio
int16).  Nothing is converted that could lose meaning: a float is not
truncated into a bit or a sample, a string is not read as a number."""
from __future__ import annotations

import math

import numpy as np

from faxengine.modem.errors import ModemError


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _described(value) -> str:
    return f"{type(value).__name__} {value!r}"


def as_bits(bits) -> np.ndarray:
    """``bits`` (a 1-D sequence or array of 0/1: integers or bools) as a
    contiguous uint8 array.  Raises ModemError on any other value (2, -1,
    0.5) or type, naming the first bad one."""
    if isinstance(bits, (str, bytes, bytearray, memoryview)) or bits is None:
        raise ModemError(f"bits must be a 1-D array of 0/1, got {type(bits).__name__}; "
                         "unpack bytes with numpy.unpackbits")
    try:
        b = np.asarray(bits)
    except (TypeError, ValueError) as e:
        raise ModemError(f"bits must be a 1-D array of 0/1: {e}") from None
    if b.ndim != 1:
        raise ModemError(f"bits must be a 1-D array of 0/1, got shape {b.shape}")
    if b.size == 0:
        return np.zeros(0, np.uint8)
    if b.dtype.kind not in "biu":
        raise ModemError(f"bits must be integers 0/1, got {b.dtype}")
    # one pass over the usual uint8 bits; the search for the culprit only
    # when there is one
    if b.dtype.kind != "b" and (b.max() > 1 or (b.dtype.kind == "i" and b.min() < 0)):
        bad = np.flatnonzero((b < 0) | (b > 1))[0]
        raise ModemError(f"bits must be 0 or 1, got {b[bad]} at index {bad}")
    return np.ascontiguousarray(b, dtype=np.uint8)


def check_rate(name: str, rate, rates: tuple[int, ...]) -> int:
    """``rate`` (bit/s, an int) if the modem ``name`` has it."""
    if not _is_int(rate):
        raise ModemError(f"{name} rate must be an int in bit/s (one of {', '.join(map(str, rates))}), "
                         f"got {_described(rate)}")
    if rate not in rates:
        raise ModemError(f"{name} has no rate {rate} bit/s: use one of {', '.join(map(str, rates))}")
    return int(rate)


def as_number(value, what: str) -> float:
    """``value`` (an int or a float, not a bool or a string) as a float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ModemError(f"{what} must be a number, got {_described(value)}")
    return float(value)


def check_level(power_dbm0, low: float, high: float) -> float:
    """A transmit level ``power_dbm0`` (a real number, dBm0) within
    low..high, as a float."""
    power_dbm0 = as_number(power_dbm0, "transmit level (dBm0)")
    if not (math.isfinite(power_dbm0) and low <= power_dbm0 <= high):
        top = f"{high:+g}" if high > 0 else f"{high:g}"
        raise ModemError(f"transmit level {power_dbm0} dBm0 is out of range: use {low:g}..{top} dBm0")
    return float(power_dbm0)


def check_flag(name: str, value) -> bool:
    """``value`` if it is True or False (not a string or a number that
    would read as one)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ModemError(f"{name} must be True or False, got {_described(value)}")
    return bool(value)


def as_count(n, what: str = "sample count") -> int:
    """``n`` as a plain int >= 0 (a count of samples, flags, ...); bools, floats and
    strings are refused rather than converted."""
    if not _is_int(n):
        raise ModemError(f"{what} must be an int, got {_described(n)}")
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
