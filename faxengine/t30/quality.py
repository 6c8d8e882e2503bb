"""The receiver's judgements: TCF (T.30 §5.3.2.2) and non-ECM page quality (MCF/RTP/RTN).

TCF is 1.5 s of zeros the sender transmits with the image modem right
after DCS; the receiver answers CFR when it heard them cleanly, FTT
otherwise.  T.30 leaves the criterion to the terminal.  Ours: the longest
run of zeros must last at least ``TCF_MIN_RUN_S`` (1.0 s) at the DCS rate --
a modem that has not trained, or a line that corrupts more than the odd
bit, breaks the run.  ``judge_tcf`` works on the bits the modem delivered
(numpy ``uint8`` 0/1 in line order), however they were split into blocks.

A page sent without ECM is judged by the lines the decoder had to repair
(``faxengine.t4.decode_lenient``'s ``BadLines``).  T.30 §5.3.6.1.6 names
the answers -- MCF "message received", RTP "received, but retrain",
RTN "not received, retrain" -- and leaves the thresholds to the terminal.
Ours, ``PageQualityPolicy``: a run of bad lines is measured in
millimetres of paper (10 lines are 2.6 mm at standard resolution but
0.65 mm at superfine).  MCF when at most 2 % of the lines are bad and no
run is longer than 1 mm; RTP when at most 10 % are bad and no run is
longer than 4 mm; RTN otherwise, and for a page with no lines at all.

The bits a non-ECM page arrives in are trimmed and measured from its EOLs
(T.4 §4.1.2): ``first_eol`` (training left-overs before line 1),
``rtc_end`` (what follows RTC is not the page) and ``lines_lost`` (lines a
noise burst merged into one stretch of garbage).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from faxengine.t30.frames import Fcf
from faxengine.t4.page import RESOLUTIONS

TCF_SECONDS = 1.5       # T.30 §5.3.2.2: zeros for 1.5 s +- 10 %
TCF_MIN_RUN_S = 1.0     # our criterion: a clean run of zeros this long


def tcf_bits(rate: int) -> int:
    """The number of zero bits in a TCF at ``rate`` bit/s."""
    return round(TCF_SECONDS * rate)


def longest_zero_run(bits: np.ndarray) -> int:
    """The most consecutive zeros in a 0/1 bit array."""
    bits = np.asarray(bits, dtype=np.uint8).ravel()
    if bits.size == 0:
        return 0
    ones = np.flatnonzero(bits)
    edges = np.concatenate(([-1], ones, [bits.size]))
    return int(np.max(np.diff(edges)) - 1)


def judge_tcf(bits: np.ndarray, rate: int, min_run_s: float = TCF_MIN_RUN_S) -> bool:
    """True (answer CFR) when ``bits`` hold a run of zeros of ``min_run_s`` at ``rate``."""
    return longest_zero_run(bits) >= min_run_s * rate


class _BadLines(Protocol):
    count: int
    longest_run: int
    total_lines: int


@dataclass(frozen=True, slots=True)
class PageQualityPolicy:
    """Thresholds of the page judgement; see the module docstring."""

    good_ratio: float = 0.02
    good_run_mm: float = 1.0
    poor_ratio: float = 0.10
    poor_run_mm: float = 4.0

    def judge(self, bad: _BadLines, resolution: str) -> Fcf:
        """``Fcf.MCF``, ``Fcf.RTP`` or ``Fcf.RTN`` for a page with these bad lines.

        Args:
            bad: ``count``, ``longest_run`` and ``total_lines`` of the page
                (``faxengine.t4`` ``BadLines``).
            resolution: the DCS resolution name, for the line density.
        """
        if bad.total_lines <= 0:
            return Fcf.RTN
        lines_per_mm = RESOLUTIONS[resolution][1] / 25.4
        ratio = bad.count / bad.total_lines
        run_mm = bad.longest_run / lines_per_mm
        if ratio <= self.good_ratio and run_mm <= self.good_run_mm:
            return Fcf.MCF
        if ratio <= self.poor_ratio and run_mm <= self.poor_run_mm:
            return Fcf.RTP
        return Fcf.RTN


def judge_page(bad: _BadLines, resolution: str,
               policy: PageQualityPolicy = PageQualityPolicy()) -> Fcf:
    """The response to a non-ECM page: MCF, RTP or RTN (see ``PageQualityPolicy``)."""
    return policy.judge(bad, resolution)


def _eols(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The EOLs in the bits (T.4 §4.1.2: 11 or more zeros, then a 1): the
    index of each one's 1 and the number of zeros before it."""
    ones = np.flatnonzero(bits)
    zeros = np.diff(ones, prepend=-1) - 1
    eol = zeros >= 11
    return ones[eol], zeros[eol]


def first_eol(bits: np.ndarray, eols: tuple | None = None) -> int:
    """Index of the first run of 11 zeros followed by a 1 (T.4 EOL), else 0.

    Bits a receiver delivers before the first EOL (the end of its training)
    are not image data; dropping them keeps line 1 intact.  ``eols``: the
    bits' EOLs when already found (``link.PageDecoder.eols``).
    """
    ends, zeros = _eols(bits) if eols is None else eols
    return int(ends[0] - zeros[0]) if ends.size else 0


def rtc_end(bits: np.ndarray, eols: tuple | None = None) -> int:
    """Where RTC (six EOLs in a row, T.4 §4.1.4) ends in the bits, else their length.

    What a receiver delivers after RTC (the modem's turn-off, a V.21 signal
    it took for data) is not part of the page.  ``eols`` as for ``first_eol``.
    """
    eols = (_eols(bits) if eols is None else eols)[0]
    step = np.diff(eols)
    if step.size < 5:
        return bits.size
    empty = ((step == 12) | (step == 13)).astype(np.int8)      # MH EOL, MR EOL + 1
    hit = np.flatnonzero(np.convolve(empty, np.ones(5, np.int8), "valid") == 5)
    return bits.size if hit.size == 0 else min(int(eols[hit[0] + 5]) + 2, bits.size)


def lines_lost(bits: np.ndarray, window: int = 20, factor: float = 4.0,
               eols: tuple | None = None) -> int:
    """Scan lines a non-ECM page lost in stretches of garbage, judged from its EOLs.

    A noise burst turns the lines sent during it into one stretch of bits
    that the decoder counts as a single bad line.  A gap between EOLs (11 or
    more zeros, then a 1: T.4 §4.1.2) more than ``factor`` times as long as
    every gap among its ``window`` neighbours on each side (and than 64
    bits) is such a stretch; it stands for as many lines as its neighbours'
    median length would fill.  Coded lines grow and shrink gradually down a
    page, so a clean page has no such gap (none on the eight CCITT charts in
    MH or MR).  ``eols`` as for ``first_eol``.
    """
    gaps = np.diff((_eols(bits) if eols is None else eols)[0]).astype(np.float64)
    if gaps.size < 2 * window:
        return 0
    n, pad = gaps.size, np.zeros(window)
    padded = np.concatenate((pad, gaps, pad))
    most = _window_max(padded, window)      # most[j] = max(padded[j:j + window])
    # gap i is padded[window + i]: the window before it starts at i, after it at window + 1 + i
    near = np.maximum(np.maximum(most[:n], most[window + 1:window + 1 + n]), 64.0)
    burst = np.flatnonzero(gaps > factor * near)
    lost = 0
    for i in burst:
        around = np.concatenate((padded[i:i + window], padded[window + 1 + i:2 * window + 1 + i]))
        typical = max(float(np.median(around)), 1.0)
        lost += max(int(round(gaps[i] / typical)) - 1, 0)
    return lost


def _window_max(x: np.ndarray, w: int) -> np.ndarray:
    """``out[j] = x[j:j + w].max()`` for every whole window, by doubling: the
    maxima of runs of 1, 2, 4 ... values, two overlapping ones per window (a
    few passes over the page's gaps, not ``w`` per gap)."""
    level, span = x, 1
    while 2 * span <= w:
        level, span = np.maximum(level[:-span], level[span:]), 2 * span
    n = x.size - w + 1
    return np.maximum(level[:n], level[w - span:w - span + n])
