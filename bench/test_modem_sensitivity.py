"""Modem sensitivity: the lowest SNR at which ours and spandsp's receivers decode the same signal

For each modem and rate, spandsp 0.0.6's transmitter sends two runs of 20 s
of random data (-13 dBm0); white Gaussian noise is added over 0-4000 Hz
(faxengine.line.add_noise: SNR is the signal's power while on over the
noise's); each receiver, ours and spandsp's, hears the same noisy audio.
Going down from a comfortable SNR in 0.5 dB steps, a receiver's threshold is
the last SNR at which both runs came through with zero bit errors.  Both are
printed side by side and written to bench/results/modem_sensitivity.txt.

Issue 3 requires ours at or below spandsp's at every V.29 rate (spandsp
measured here: 9600 22.0 dB, 7200 17.0, 4800 14.5) and V.27ter at or below
15 dB (4800) and 10 dB (2400).  spandsp 0.0.6's V.27ter receiver loses a
noisy signal entirely, so its column says so.  Issue 4 requires ours at or
below spandsp's at every V.17 rate (spandsp measured here: 14400 24.0 dB,
12000 21.5, 9600 17.5, 7200 14.5) and at or below 22.0 dB at 14400.  The
engine issue asks 3 dB better than spandsp at V.17 9600 (14.5 dB) and 7200
(11.5 dB) and at V.29 9600 (19.0 dB) and 7200 (15.0 dB): the required
column holds those asks.

test_perfect_receiver puts a perfect V.29 receiver on the same signals
(matched filter, exact timing, carrier and gain: the transmitted point plus
the noise as the matched filter sees it) under the same criterion: at 7200
bit/s it already errs at 17.0 dB, on one 5.5-sigma peak of run 0's noise,
so the 15.0 dB asked there is below what the fixed noise allows any
receiver (docs/modems.md).  bench/test_modem_sensitivity_seeds.py repeats
these measurements over 40 pairs of noise seeds, beside the analytic bound.
"""
from __future__ import annotations

import numpy as np
import pytest

import spandsp
from conftest import RESULTS_DIR
from faxengine import line
from faxengine.modem.v17 import V17Rx
from faxengine.modem.v27ter import V27terRx
from faxengine.modem.v29 import V29Rx

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)]

SECONDS = 20
RUNS = 2
STEP = 0.5
#: kind, rate, our receiver, SNR to start from, required of ours (dB)
CASES = [
    ("v29", 9600, V29Rx, 25.0, 19.0),
    ("v29", 7200, V29Rx, 20.0, 15.0),
    ("v29", 4800, V29Rx, 17.0, 14.5),
    ("v27ter", 4800, V27terRx, 18.0, 15.0),
    ("v27ter", 2400, V27terRx, 13.0, 10.0),
    ("v17", 14400, V17Rx, 25.0, 22.0),
    ("v17", 12000, V17Rx, 23.0, 21.5),
    ("v17", 9600, V17Rx, 19.5, 14.5),
    ("v17", 7200, V17Rx, 16.5, 11.5),
]
RESULTS: list[str] = []
#: samples of zeros put either side of the audio for the matched filter (> its 6.5 symbols)
MATCHED_SPAN = 32


def _rrc(t: np.ndarray, beta: float) -> np.ndarray:
    """Root raised cosine at t symbol periods (t off its poles)."""
    return ((np.sin(np.pi * t * (1 - beta)) + 4 * beta * t * np.cos(np.pi * t * (1 + beta)))
            / (np.pi * t * (1 - (4 * beta * t) ** 2)))


def _matched(audio: np.ndarray, times: np.ndarray, sps: float, carrier_hz: float, beta: float) -> np.ndarray:
    """The complex matched-filter output (RRC over +-6 symbols, on the
    carrier) of real audio at fractional sample times.  The filter is
    worked out once for each fractional part of the times (three at 2400
    baud on 8000 samples/s: symbol times repeat every 10 samples), then
    applied to every window that starts where that symbol's does."""
    base = np.zeros(len(audio) + 2 * MATCHED_SPAN, dtype=complex)   # zeros outside the audio
    base[MATCHED_SPAN:-MATCHED_SPAN] = audio * np.exp(-2j * np.pi * carrier_hz / 8000.0 * np.arange(len(audio)))
    offsets = np.arange(-int(6 * sps), int(6 * sps) + 2)
    windows = np.lib.stride_tricks.sliding_window_view(base, len(offsets))
    whole = np.floor(times)
    starts = whole.astype(int) + offsets[0] + MATCHED_SPAN
    fractions, which = np.unique(np.round(times - whole, 9), return_inverse=True)
    out = np.empty(len(times), dtype=complex)
    for k, fraction in enumerate(fractions):
        at = np.nonzero(which.ravel() == k)[0]
        # + 1e-7: off the poles at 0 and 1/(4 beta)
        out[at] = windows[starts[at]] @ _rrc((fraction - offsets) / sps + 1e-7, beta)
    return out


def _v29_points(rate: int) -> np.ndarray:
    """V.29 Table 1/2: 3 and 5 on the axes, 1 and 3 (times 1+1j) on the diagonals."""
    axis, diagonal = {9600: ((3, 5), (1, 3)), 7200: ((3,), (1,)), 4800: ((3,), ())}[rate]
    return np.array([r * d for d in (1, 1j, -1, -1j) for r in axis]
                    + [r * d for d in (1 + 1j, -1 + 1j, -1 - 1j, 1 - 1j) for r in diagonal])


class PerfectV29:
    """A perfect V.29 receiver for one clean signal of the bench: it knows
    the transmitter's symbol instants, carrier phase and gain (found from the
    clean signal itself), and its decisions are each transmitted point plus
    the noise as a matched filter (RRC, roll-off 0.25) sees it at those
    instants, decided on the nearest point.

    Attributes:
        sent: the transmitted data points, on V.29's scale.
        times: their instants, in samples of the audio.
        gain: the complex gain from V.29's scale to the matched filter's.
    """

    SPS = 8000.0 / 2400.0

    def __init__(self, rate: int, audio: np.ndarray, data_symbols: int):
        self.points = _v29_points(rate)
        clean = audio.astype(float)
        best = None
        for t0 in np.arange(0.0, self.SPS, self.SPS / 32):      # the transmitter's symbol instants
            y = self._filter(clean, t0 + self.SPS * np.arange(2000, 4000))
            g = np.sqrt(np.mean(np.abs(y) ** 2) / np.mean(np.abs(self.points) ** 2))
            g *= np.exp(1j * np.angle(np.mean((y / np.abs(y)) ** 8)) / 8)
            d = self.nearest(y / g)
            g *= np.vdot(d, y / g) / np.vdot(d, d)     # least-squares complex gain
            mse = np.mean(np.abs(y / g - self.nearest(y / g)) ** 2)
            if best is None or mse < best[0]:
                best = (mse, t0, g)
        _, t0, self.gain = best
        times = t0 + self.SPS * np.arange(7, int(len(clean) / self.SPS) - 7)
        y = self._filter(clean, times) / self.gain
        on_point = np.abs(y - self.nearest(y)) ** 2 < 0.05    # not the silence nor the turn-off
        data = np.nonzero(on_point)[0][-data_symbols:]
        self.times = times[data]
        self.sent = self.nearest(y[data])

    @staticmethod
    def _filter(audio: np.ndarray, times: np.ndarray) -> np.ndarray:
        return _matched(audio, times, PerfectV29.SPS, 1700.0, 0.25)

    def nearest(self, z: np.ndarray) -> np.ndarray:
        """The constellation points nearest to z."""
        return self.points[np.argmin(np.abs(z[:, None] - self.points[None, :]), axis=1)]

    def heard(self, audio: np.ndarray, noisy: np.ndarray) -> np.ndarray:
        """The points plus the noise of ``noisy`` (= ``audio`` + noise) through
        the matched filter, on V.29's scale: what the decisions are taken on."""
        return self.sent + self._filter(noisy.astype(float) - audio, self.times) / self.gain


def perfect_threshold(rate: int, signals, start: float, floor: float) -> float | None:
    """threshold() for a perfect V.29 receiver (PerfectV29)."""
    runs = [(audio, PerfectV29(rate, audio, len(bits) // (rate // 2400))) for bits, audio in signals]
    last = None
    snr = start
    while snr >= floor:
        for i, (audio, perfect) in enumerate(runs):
            heard = perfect.heard(audio, line.add_noise(audio, snr, seed=100 + i))
            if np.any(perfect.nearest(heard) != perfect.sent):
                return last
        last = snr
        snr -= STEP
    return last


def _errors(sent: np.ndarray, got: np.ndarray, exact: bool) -> int:
    if exact:
        offset = 0
    else:
        offset = spandsp.align(got, sent)
        if offset is None:
            return len(sent)
    got = got[max(offset, 0):]
    sent = sent[max(-offset, 0):]
    n = min(len(sent), len(got))
    return int(np.count_nonzero(sent[:n] != got[:n])) + len(sent) - n


def threshold(decode, signals, start: float, floor: float, seed: int = 100) -> float | None:
    """Last SNR, stepping down from start, at which every run decodes
    without error (None if even start fails); run i's noise has seed + i."""
    last = None
    snr = start
    while snr >= floor:
        for i, (bits, audio) in enumerate(signals):
            got, exact = decode(line.add_noise(audio, snr, seed=seed + i))
            if _errors(bits, got, exact):
                return last
        last = snr
        snr -= STEP
    return last


def _record() -> None:
    """Print the newest line of RESULTS and write them all to bench/results."""
    print("\n" + RESULTS[-1])
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "modem_sensitivity.txt").write_text(
        "lowest SNR with zero errors over 2 x 20 s (0.5 dB steps), same spandsp transmitter\n"
        + "\n".join(RESULTS) + "\n")


def bench_signals(kind: str, rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The bench's RUNS signals of one modem and rate: (bits, spandsp's audio)."""
    signals = []
    for run in range(RUNS):
        bits = np.random.default_rng(run + 1).integers(0, 2, rate * SECONDS, dtype=np.uint8)
        signals.append((bits, spandsp.modem_tx(kind, rate, bits, power_dbm0=-13.0)))
    return signals


@pytest.mark.parametrize("kind,rate,our_rx,start,required", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_sensitivity(kind, rate, our_rx, start, required):
    signals = bench_signals(kind, rate)
    ours = threshold(lambda a: (our_rx(rate).demodulate(a), True), signals, start, start - 15.0)
    theirs = threshold(lambda a: (spandsp.modem_rx(kind, rate, a), False), signals, start, start - 15.0)
    fmt = lambda t: "fails" if t is None else f"{t:.1f} dB"   # noqa: E731
    RESULTS.append(f"{kind:<7} {rate:>5}   ours {fmt(ours):>8}   spandsp {fmt(theirs):>8}   "
                   f"required <= {required:.1f} dB")
    _record()
    assert ours is not None and ours <= required
    if kind in ("v29", "v17"):
        # spandsp 0.0.6's V.27ter receiver loses noisy signals: no comparison there
        assert theirs is None or ours <= theirs


def test_perfect_receiver():
    """V.29 7200: a perfect receiver's threshold on the bench's signals.
    Its decisions are the transmitted points plus the matched-filtered
    noise: 17.5 dB (run 0 errs at 17.0 on a 5.5-sigma noise peak at data
    symbol 36 772), above the 15.0 dB the engine issue asks; ours 17.0."""
    rate = 7200
    perfect = perfect_threshold(rate, bench_signals("v29", rate), 20.0, 13.0)
    RESULTS.append(f"v29      7200   perfect receiver {perfect:.1f} dB (matched filter, exact timing and carrier)")
    _record()
    assert perfect == 17.5
