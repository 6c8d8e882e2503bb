"""Modem sensitivity over many noise seeds, beside the bound an ideal receiver sets

bench/test_modem_sensitivity.py measures each threshold on one noise
sequence per run (seeds 100 and 101), scaled to each SNR: what decides there
is that sequence's largest peaks.  This bench asks how the threshold is
distributed over noise, with the same signals (spandsp 0.0.6's transmitter,
2 x 20 s of random data at -13 dBm0) and the same criterion (0.5 dB steps
down, zero bit errors in both runs), over SEEDS pairs of noise seeds: pair
k uses seeds 100 + 2k and 101 + 2k for its two runs, so pair 0 is the
bench's own noise.

V.29 9600 and 7200: ours (V29Rx), spandsp's receiver and the perfect
receiver of the other bench (PerfectV29: the transmitted points plus the
noise through a matched filter at the transmitter's own instants) hear every
pair at every SNR of a grid.  From that: each receiver's threshold on each
pair (min, median, max), and its bit error rate pooled over all pairs, with
the SNR where it crosses 1e-5 (log-linear between grid points).

The analytic bound (V.29 only: each symbol is decided on its own): on the
project's SNR (faxengine.line.add_noise: the signal's power while on over
white Gaussian noise across 0-4000 Hz) a matched filter at 2400 baud keeps
2400 Hz of the noise, so an ideal coherent receiver decides at Es/N0 = SNR +
10 log10(4000/2400) dB, with noise of variance Es / (2 Es/N0) in each of its
two dimensions, Es the constellation's mean energy (V.29 Table 2 at 7200:
3 on the axes and 1+1j on the diagonals, Es 5.5, minimum distance 2).  Its
symbol error probability is exact here, not a union bound: for a point p
whose decision region (the Voronoi cell, convex) reaches R(theta) in
direction theta, the noise leaves it with probability
(1/2pi) integral exp(-R(theta)^2 / (2 sigma^2)) dtheta.  Over the bench's
N = 2 x 48 000 data symbols that gives the expected errors and, as the
bench scales one noise sequence (an ideal decision that errs at one SNR errs
at every lower one), the chance (1 - Ps)^N that an ideal receiver passes a
given SNR on fresh seeds.  Its bit error probability counts each error
into the cell the noise enters, at the data bits that pair of points costs
after differential decoding and the descrambler, and gives the ideal SNR at
BER 1e-5.  The perfect receiver's counts over the seeds check both.

V.17 9600 and 7200 (trellis-coded, so no per-symbol bound): ours and
spandsp's thresholds over the same pairs, stepping down as the bench does.

Everything is printed and written to bench/results/modem_sensitivity_seeds.txt;
docs/modems.md ("Sensitivity over many noise seeds") reads it.  One
process, no pool: about 6-7 min.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import spandsp
from conftest import RESULTS_DIR
from faxengine import line
from faxengine.modem.v17 import V17Rx
from faxengine.modem.v29 import V29Rx
from test_modem_sensitivity import STEP, PerfectV29, _errors, _v29_points, bench_signals, threshold

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)]

SEEDS = 40
BAUD = 2400
#: the line's noise is counted over 0-4000 Hz (faxengine.line.add_noise)
NOISE_BAND_HZ = 4000.0
BER_POINT = 1e-5
#: rate, highest and lowest SNR of the grid, the issue's target (dB)
V29_CASES = [(9600, 24.0, 16.0, 19.0), (7200, 21.0, 13.0, 15.0)]
#: rate, SNR to step down from, the issue's target (dB)
V17_CASES = [(9600, 20.5, 14.5), (7200, 18.0, 11.5)]
#: SNRs at which the analytic bound is tabulated
BOUND_SNRS = {9600: np.arange(17.0, 21.01, 0.5), 7200: np.arange(15.0, 18.01, 0.5)}
RESULTS: dict[str, str] = {}

#: V.29 Table 1 (Q2Q3Q4) read back: the tribit of each phase change of 0..7 x 45 degrees
#: (csrc/qam_diff.h keeps the forward table, tribit -> change)
TRIBIT_OF_CHANGE = np.array([0b001, 0b000, 0b010, 0b011, 0b111, 0b110, 0b100, 0b101])


def decision_noise_variance(points: np.ndarray, snr_db: float) -> float:
    """Noise variance in each of the two dimensions of an ideal matched
    filter's output, on the constellation's scale, at the line's SNR."""
    es_n0 = 10.0 ** ((snr_db + 10.0 * math.log10(NOISE_BAND_HZ / BAUD)) / 10.0)
    return float(np.mean(np.abs(points) ** 2)) / (2.0 * es_n0)


def _leaving(points: np.ndarray, snr_db: float, angles: int = 1 << 16):
    """For each point p and direction theta: the chance density of the noise
    leaving p's Voronoi cell that way, exp(-R(theta)^2 / (2 sigma^2)), and the
    neighbour whose cell it enters there (the bisector R(theta) lies on)."""
    sigma2 = decision_noise_variance(points, snr_db)
    u = np.exp(2j * np.pi * np.arange(angles) / angles)
    for p in points:
        reach = np.full(angles, np.inf)
        into = np.zeros(angles, dtype=int)
        for j, q in enumerate(points):
            w = q - p
            if w == 0:
                continue
            along = (u * np.conj(w)).real          # how far direction u heads towards q
            r = np.full(angles, np.inf)
            ahead = along > 0
            r[ahead] = abs(w) ** 2 / (2.0 * along[ahead])   # the bisector of p and q: r u . w = |w|^2 / 2
            nearer = r < reach
            reach[nearer] = r[nearer]
            into[nearer] = j
        yield p, np.exp(-reach ** 2 / (2.0 * sigma2)), into


def ideal_symbol_error_rate(points: np.ndarray, snr_db: float) -> float:
    """Symbol error probability of ideal coherent nearest-point decisions
    (equiprobable points, Gaussian noise): the exact integral over each
    point's Voronoi cell, see the module doc."""
    return float(np.mean([np.mean(density) for _, density, _ in _leaving(points, snr_db)]))


def ideal_bit_error_rate(rate: int, snr_db: float) -> float:
    """Data bit error probability of the same ideal decisions, each error
    counted into the neighbour whose cell the noise enters first (the rare
    noise that crosses two cells counted as one), with v29_bit_errors' bits
    for that pair of points averaged over the two phase changes it spoils."""
    points = _v29_points(rate)
    bps = 4 if rate == 9600 else 3
    total = 0.0
    for p, density, into in _leaving(points, snr_db):
        for j, q in enumerate(points):
            if q == p:
                continue
            d = int(round((np.angle(q) - np.angle(p)) / (np.pi / 4))) % 8
            amplitude = int(rate == 9600 and _outer(q) != _outer(p))
            # this symbol's change off by d and Q1 maybe, the next one's change off by -d
            bits = np.mean([_data_errors(_line_bits(np.array([TRIBIT_OF_CHANGE[a] ^ TRIBIT_OF_CHANGE[(a + d) % 8]
                                                              | amplitude << 3,
                                                              TRIBIT_OF_CHANGE[b] ^ TRIBIT_OF_CHANGE[(b - d) % 8]]),
                                                    bps))
                            for a in range(8) for b in range(8)])
            total += bits * float(np.sum(density[into == j])) / len(density)
    return total / len(points) / bps


def _outer(z) -> np.ndarray:
    """V.29 9600's amplitude bit Q1: the outer ring (5 on the axes, 3+3j on the diagonals)."""
    phase = np.round(np.angle(z) / (np.pi / 4)).astype(int) & 7
    return np.abs(z) > np.where(phase % 2, 2.0 * math.sqrt(2.0), 4.0)


def v29_bit_errors(rate: int, sent: np.ndarray, decided: np.ndarray) -> int:
    """Data bit errors when ``decided`` is taken for ``sent`` (V.29 points,
    consecutive data symbols): the phase change read as a tribit (Table 1),
    at 9600 bit/s the amplitude bit Q1 before it (Table 2), then V.29's
    descrambler.  The first symbol only serves as the phase reference of the
    second."""
    def symbol_bits(z):
        phase = np.round(np.angle(z) / (np.pi / 4)).astype(int) & 7
        q = TRIBIT_OF_CHANGE[np.diff(phase) & 7]
        return q | (_outer(z[1:]) << 3) if rate == 9600 else q
    bps = 4 if rate == 9600 else 3
    return _data_errors(_line_bits(symbol_bits(sent) ^ symbol_bits(decided), bps), flush=False)


def _line_bits(q: np.ndarray, bps: int) -> np.ndarray:
    """Symbols' bits in line order, the first (most significant) first."""
    return ((q[:, None] >> np.arange(bps - 1, -1, -1)) & 1).ravel()


def _data_errors(line_errors: np.ndarray, flush: bool = True) -> int:
    """Data bit errors V.29's descrambler (1 + x^-18 + x^-23, §4) makes of
    line bit errors: three each, less where two sit 5, 18 or 23 bits apart
    (flush: also those the last 23 line bits make after them)."""
    e = np.concatenate([line_errors, np.zeros(23 if flush else 0, dtype=line_errors.dtype)])
    data = e.copy()
    data[18:] ^= e[:-18]
    data[23:] ^= e[:-23]
    return int(np.count_nonzero(data))


def ideal_ber_crossing(rate: int, target: float = BER_POINT) -> float:
    """The SNR (dB) at which ideal_bit_error_rate falls to ``target``, to 0.01 dB."""
    low, high = 5.0, 30.0
    while high - low > 0.005:
        mid = (low + high) / 2
        low, high = (mid, high) if ideal_bit_error_rate(rate, mid) > target else (low, mid)
    return (low + high) / 2


def _seed(pair: int) -> int:
    return 100 + 2 * pair


def _thresholds_on_grid(ok: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The bench's threshold of each pair from its pass/fail over the grid
    (highest SNR first): the last SNR passed before the first failure, going
    down; NaN where the top of the grid already fails."""
    out = np.empty(len(ok))
    for k, row in enumerate(ok):
        failed = np.nonzero(~row)[0]
        first = failed[0] if len(failed) else len(grid)
        out[k] = grid[first - 1] if first > 0 else np.nan
    return out


def _spread(t, top: float) -> str:
    """min, median and max of thresholds; None or NaN: the top SNR already failed."""
    t = np.sort([np.inf if x is None or np.isnan(x) else x for x in t])
    shown = [f"{x:5.1f}" if np.isfinite(x) else f">{top:.1f}" for x in (t[0], t[-1])]
    middle = (t[(len(t) - 1) // 2] + t[len(t) // 2]) / 2
    middle = f"{middle:6.2f}" if np.isfinite(middle) else f">{top:.1f}"
    return f"{shown[0]:>5} {middle:>6} {shown[1]:>5}"


def ber_crossing(grid: np.ndarray, errors: np.ndarray, bits: int, target: float = BER_POINT) -> str:
    """SNR at which the pooled BER falls through ``target`` (grid highest first),
    interpolated on log10(BER) between the two grid points either side."""
    ber = errors / bits
    for i in range(len(grid) - 1, 0, -1):     # from the lowest SNR up
        if ber[i] >= target > ber[i - 1]:
            if ber[i - 1] == 0:
                return f"{grid[i - 1]:.1f} > x >= {grid[i]:.1f} (no error at {grid[i - 1]:.1f})"
            lo, hi = math.log10(ber[i]), math.log10(ber[i - 1])
            x = grid[i] + (grid[i - 1] - grid[i]) * (lo - math.log10(target)) / (lo - hi)
            return f"{x:.2f} dB"
    return "not crossed on the grid"


def _record(key: str, text: str) -> None:
    RESULTS[key] = text
    print("\n" + text)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "modem_sensitivity_seeds.txt").write_text(
        f"sensitivity over {SEEDS} pairs of noise seeds (pair k: seeds {_seed(0)}+2k, {_seed(0) + 1}+2k), "
        "same spandsp signals, 2 x 20 s, zero errors, 0.5 dB steps\n\n" + "\n\n".join(RESULTS.values()) + "\n")


@pytest.mark.parametrize("rate,top,bottom,target", V29_CASES, ids=[f"v29-{c[0]}" for c in V29_CASES])
def test_v29_over_seeds(rate, top, bottom, target):
    signals = bench_signals("v29", rate)
    symbols = [len(bits) // (rate // BAUD) for bits, _ in signals]
    perfect = [PerfectV29(rate, audio, n) for (_, audio), n in zip(signals, symbols)]
    grid = np.arange(top, bottom - 1e-9, -STEP)
    names = ("ours", "spandsp", "perfect")
    errors = {name: np.zeros((SEEDS, len(grid)), dtype=np.int64) for name in names}   # both runs
    symbol_errors = np.zeros(len(grid), dtype=np.int64)
    noise_power = np.zeros(len(grid))
    for k in range(SEEDS):
        for j, snr in enumerate(grid):
            for i, ((bits, audio), ideal) in enumerate(zip(signals, perfect)):
                noisy = line.add_noise(audio, snr, seed=_seed(k) + i)
                heard = ideal.heard(audio, noisy)
                decided = ideal.nearest(heard)
                noise_power[j] += np.sum(np.abs(heard - ideal.sent) ** 2)
                symbol_errors[j] += np.count_nonzero(decided != ideal.sent)
                counts = {"ours": _errors(bits, V29Rx(rate).demodulate(noisy), True),
                          "spandsp": _errors(bits, spandsp.modem_rx("v29", rate, noisy), False),
                          "perfect": v29_bit_errors(rate, ideal.sent, decided)}
                for name, n in counts.items():
                    errors[name][k, j] += n
    thresholds = {name: _thresholds_on_grid(errors[name] == 0, grid) for name in names}
    bit_errors = {name: errors[name].sum(axis=0) for name in names}
    total_bits = SEEDS * sum(len(bits) for bits, _ in signals)
    total_symbols = SEEDS * sum(symbols)
    points = _v29_points(rate)
    n_bench = sum(symbols)

    lines = [f"V.29 {rate}: threshold over {SEEDS} seed pairs (dB)      min median   max"
             f"   pair 0 (the bench's)   pairs <= {target:.1f} (the target)"]
    for name in names:
        t = thresholds[name]
        lines.append(f"  {name:<8}{'':34}{_spread(t, top)}   {t[0]:5.1f}{'':17}{int(np.sum(t <= target)):3d}")
    for name in ("ours", "spandsp"):
        gap = np.round(thresholds[name] - thresholds["perfect"], 1)
        gap = np.where(np.isnan(gap), np.inf, gap)
        lines.append(f"  {name} - perfect on each pair: "
                     + ", ".join(f"{g:+.1f} dB x{int(np.sum(gap == g))}" if np.isfinite(g)
                                 else f"(top failed) x{int(np.sum(gap == g))}" for g in np.unique(gap)))
    lines.append(f"V.29 {rate}: pooled bit errors in {total_bits} bits; ideal symbol errors in {total_symbols} symbols")
    lines.append("  SNR    ours  spandsp  perfect  analytic | perfect symbol errors   analytic expected"
                 "   noise/dim measured/analytic")
    for j, snr in enumerate(grid):
        ps = ideal_symbol_error_rate(points, snr)
        measured = noise_power[j] / (2.0 * total_symbols)
        lines.append(f"  {snr:4.1f} {bit_errors['ours'][j]:7d} {bit_errors['spandsp'][j]:8d} "
                     f"{bit_errors['perfect'][j]:8d} {ideal_bit_error_rate(rate, snr) * total_bits:9.1f}"
                     f" | {symbol_errors[j]:21d} {ps * total_symbols:19.1f}"
                     f"   {10 * math.log10(measured / decision_noise_variance(points, snr)):+.3f} dB")
    lines.append(f"V.29 {rate}: SNR at pooled BER {BER_POINT:g}: "
                 + ", ".join(f"{name} {ber_crossing(grid, bit_errors[name], total_bits)}" for name in names)
                 + f"; analytic (ideal) {ideal_ber_crossing(rate):.2f} dB")
    lines.append(f"V.29 {rate}: analytic, ideal coherent decisions over the bench's N = {n_bench} data symbols")
    lines.append("  SNR   Es/N0    symbol error p   bit error p   expected errors   P(pass this SNR)"
                 "   P(threshold <= SNR), fresh noise per step   perfect pairs <= SNR")
    fresh = 1.0
    for snr in np.arange(top, BOUND_SNRS[rate][0] - 1e-9, -STEP):
        ps = ideal_symbol_error_rate(points, snr)
        p_pass = (1.0 - ps) ** n_bench
        fresh *= p_pass
        if snr <= BOUND_SNRS[rate][-1] + 1e-9:
            lines.append(f"  {snr:4.1f} {snr + 10 * math.log10(NOISE_BAND_HZ / BAUD):6.2f} dB {ps:15.3g}"
                         f" {ideal_bit_error_rate(rate, snr):13.3g}"
                         f" {ps * n_bench:17.3f} {p_pass:18.3f} {fresh:43.3f}"
                         f" {int(np.sum(thresholds['perfect'] <= snr + 1e-9)):17d}/{SEEDS}")
    _record(f"v29-{rate}", "\n".join(lines))

    # The perfect receiver is the other bench's (pinned there at 17.5 dB on pair 0);
    # the one error it makes at 17.0 dB on pair 0 (the 5.5-sigma peak) is one symbol:
    # two phase changes one Gray bit apart each way, 4 line bits, 12 data bits.
    if rate == 7200:
        assert thresholds["perfect"][0] == 17.5
        assert errors["perfect"][0, list(np.round(grid, 1)).index(17.0)] == 12
    # the bound describes the perfect receiver: its symbol errors are Poisson
    # around the analytic expectation wherever there are enough of them
    for j, snr in enumerate(grid):
        expected = ideal_symbol_error_rate(points, snr) * total_symbols
        if expected >= 20:
            assert abs(symbol_errors[j] - expected) <= 5 * math.sqrt(expected), (snr, symbol_errors[j], expected)


@pytest.mark.parametrize("rate,start,target", V17_CASES, ids=[f"v17-{c[0]}" for c in V17_CASES])
def test_v17_over_seeds(rate, start, target):
    signals = bench_signals("v17", rate)
    ours = [threshold(lambda a: (V17Rx(rate).demodulate(a), True), signals, start, start - 15.0, seed=_seed(k))
            for k in range(SEEDS)]
    theirs = [threshold(lambda a: (spandsp.modem_rx("v17", rate, a), False), signals, start, start - 15.0,
                        seed=_seed(k)) for k in range(SEEDS)]
    lines = [f"V.17 {rate}: threshold over {SEEDS} seed pairs (dB)      min median   max"
             f"   pair 0 (the bench's)   pairs <= {target:.1f} (the target)"]
    for name, t in (("ours", ours), ("spandsp", theirs)):
        t0 = "fails" if t[0] is None else f"{t[0]:5.1f}"
        lines.append(f"  {name:<8}{'':34}{_spread(t, start)}   {t0}{'':17}"
                     f"{sum(1 for x in t if x is not None and x <= target):3d}")
    _record(f"v17-{rate}", "\n".join(lines))
    assert None not in ours
