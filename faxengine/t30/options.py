"""``FaxTerminal``'s options, checked when the terminal is made, never mid-call.

A bad option found in the middle of a call (a frame size met when the DIS
arrives, a transmit level the image modem refuses, a TIFF coding met at the
first page) would end a call that could never have worked after it had
already rung a fax machine.  ``check_options`` refuses each one at once
with ``LocalProtocolError`` and a message that says what to give instead.
``sample_count`` and ``as_int16`` check what ``tx`` and ``rx`` are given.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from faxengine.modem.v29 import MAX_POWER_DBM0, MIN_POWER_DBM0
from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.facilities import CODINGS, MODEM_RATES, MODES
from faxengine.t30.files import RECEIVE_CODINGS
from faxengine.t30.frames import encode_ident

FRAME_SIZES = (256, 64)         # T.30 Table 2 bit 28: ECM frames of 256 or 64 octets
MAX_PAGE_RETRIES = 10


def _names(option: str, value: object, allowed: Iterable[str]) -> tuple[str, ...]:
    """``value`` as a tuple of names out of ``allowed`` (a list, not one string)."""
    allowed = tuple(allowed)
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise LocalProtocolError(f"{option} takes a list of names out of {', '.join(allowed)}, "
                                 f"not {value!r}; write {option}=({value!r},)")
    names = tuple(value)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise LocalProtocolError(f"{option}: unknown {', '.join(map(repr, unknown))}; "
                                 f"use names out of {', '.join(allowed)}")
    if not names:
        raise LocalProtocolError(f"{option} is empty: give at least one of {', '.join(allowed)}")
    return names


def check_options(*, max_rate: int, modems: Iterable[str], codings: Iterable[str],
                  frame_size: int, ident: str | None, receive_coding: str, power_dbm0: float,
                  page_retries: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check every option of ``FaxTerminal``; return (modems, codings) as tuples.

    Raises:
        LocalProtocolError: the first option that is wrong, and what to give.
    """
    rates = sorted({r for _, r in MODES}, reverse=True)
    if max_rate not in rates:
        raise LocalProtocolError(f"max_rate must be one of {', '.join(map(str, rates))}, "
                                 f"not {max_rate}")
    modems = _names("modems", modems, MODEM_RATES)
    codings = _names("codings", codings, CODINGS)
    if frame_size not in FRAME_SIZES:
        raise LocalProtocolError(f"frame_size must be 256 or 64 (octets per ECM frame, T.30 "
                                 f"Table 2 bit 28), not {frame_size!r}")
    if receive_coding not in RECEIVE_CODINGS:
        raise LocalProtocolError(f"receive_coding must be one of {', '.join(RECEIVE_CODINGS)} "
                                 f"(the TIFF-F file's coding), not {receive_coding!r}")
    if (isinstance(power_dbm0, bool) or not isinstance(power_dbm0, numbers.Real)
            or not math.isfinite(power_dbm0)
            or not MIN_POWER_DBM0 <= power_dbm0 <= MAX_POWER_DBM0):
        raise LocalProtocolError(
            f"power_dbm0 must be from {MIN_POWER_DBM0:g} to {MAX_POWER_DBM0:g} dBm0 (what the "
            f"image modems send without clipping), not {power_dbm0!r}; fax sends about -13")
    if (isinstance(page_retries, bool) or not isinstance(page_retries, numbers.Integral)
            or not 1 <= page_retries <= MAX_PAGE_RETRIES):
        raise LocalProtocolError(f"page_retries must be a whole number from 1 to "
                                 f"{MAX_PAGE_RETRIES}, not {page_retries!r}")
    if ident is not None:
        encode_ident(ident)             # refuse a bad identity now, not mid-call
    return modems, codings


def sample_count(n) -> int:
    """``tx``'s ``n`` as an int: a whole number of samples, 0 or more."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise LocalProtocolError(f"tx(n) takes a whole number of samples >= 0 (160 is 20 ms), "
                                 f"not {n!r}")
    return int(n)


_INT16 = np.dtype(np.int16)


def as_int16(samples) -> np.ndarray:
    """``rx``'s samples as int16, converted only when that is exact."""
    if samples.__class__ is np.ndarray and samples.dtype is _INT16 and samples.ndim == 1 \
            and samples.flags.c_contiguous:
        return samples                      # the usual block: a few attribute reads, no call
    a = np.asarray(samples)
    if a.dtype == np.int16 and a.ndim == 1:
        return np.ascontiguousarray(a)      # the compiled receivers take contiguous blocks
    if a.ndim != 1:
        raise LocalProtocolError(f"rx takes a 1-D array of mono samples, not one of shape "
                                 f"{a.shape}")
    if a.size == 0 and a.dtype == np.float64:      # rx([]): nothing heard
        return np.zeros(0, np.int16)
    if a.dtype.kind not in "iu":
        raise LocalProtocolError(
            f"rx takes int16 samples (8000/s, mono), not {a.dtype}: scale float audio to "
            "-32768..32767 and round it, e.g. np.round(x * 32767).astype(np.int16)")
    if a.size and (a.min() < -32768 or a.max() > 32767):
        raise LocalProtocolError(
            f"rx takes int16 samples; these {a.dtype} values reach {int(a.min())}.."
            f"{int(a.max())}, outside -32768..32767: scale them first")
    return a.astype(np.int16)
