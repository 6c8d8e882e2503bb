"""Modems on distorted channels: error-free threshold SNR, ours beside spandsp's

For V.17 (14400, 12000, 9600, 7200) and V.29 (9600, 7200), our transmitter
sends ``RUNS`` runs of ``SECONDS`` s of random data (-13 dBm0) through each
channel of ``tests/channel_matrix.py`` (M.1020 at and beyond its limits,
V.56bis's test channels; ``faxengine.line.channel``) and through no channel at all
(flat); white noise is added on what arrives (the project's SNR).  Stepping
down in ``STEP_DB`` from a comfortable SNR, a receiver's threshold is the last
SNR at which every run was error-free; ours and spandsp 0.0.6's receivers
hear the same audio.  The table (threshold, and its excess over the same
receiver's flat threshold) is printed and written to
bench/results/channels.txt.

The issue asks ours to hold on every channel at most 1 dB worse than on the
flat line.  A second table puts listener echo on top (the received signal
reflected by both hybrids, 20 dB down, 5 or 40 ms late), flat and on
``v56bis-ad5-edd2``: written to bench/results/listener_echo.txt.  Timings and that criterion are findings for the table, not
assertions: a receiver that never trains on a channel shows "fails".
"""
from __future__ import annotations

import pytest

import channel_matrix as cm
import spandsp
from conftest import RESULTS_DIR

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)]

#: SNR to start from per rate (dB); the sweep goes 20 dB down from there
START = {("v17", 14400): 34.0, ("v17", 12000): 32.0, ("v17", 9600): 29.0, ("v17", 7200): 26.0,
         ("v29", 9600): 32.0, ("v29", 7200): 27.0}
CRITERION_DB = 1.0
ROWS: list[str] = []


def _fmt(t: float | None, flat: float | None) -> str:
    if t is None:
        return "fails".rjust(13)
    excess = "" if flat is None else f" ({t - flat:+.1f})"
    return f"{t:4.1f}{excess}".rjust(13)


@pytest.mark.parametrize("kind,rate", cm.MODEMS, ids=[f"{k}-{r}" for k, r in cm.MODEMS])
def test_channel_thresholds(kind, rate):
    runs = cm.runs(kind, rate)
    start = START[(kind, rate)]
    flat = {}
    for name, receiver in (("ours", cm.ours), ("spandsp", cm.theirs)):
        flat[name] = cm.threshold(receiver, kind, rate, cm.FLAT, runs, start, start - 20)
    ROWS.append(f"{kind} {rate}   {'channel':<18} {'ours':>13} {'spandsp':>13}   ours <= flat + 1 dB")
    ROWS.append(f"{'':10} {'flat':<18} {_fmt(flat['ours'], None)} {_fmt(flat['spandsp'], None)}")
    for channel in cm.CHANNELS:
        t = {name: cm.threshold(receiver, kind, rate, channel, runs, start, start - 20)
             for name, receiver in (("ours", cm.ours), ("spandsp", cm.theirs))}
        ok = (t["ours"] is not None and flat["ours"] is not None
              and t["ours"] <= flat["ours"] + CRITERION_DB)
        ROWS.append(f"{'':10} {channel:<18} {_fmt(t['ours'], flat['ours'])} "
                    f"{_fmt(t['spandsp'], flat['spandsp'])}   {'yes' if ok else 'NO'}")
    print("\n" + "\n".join(ROWS[-(len(cm.CHANNELS) + 2):]))
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "channels.txt").write_text(
        f"lowest SNR (dB) with zero errors over {cm.RUNS} x {cm.SECONDS} s ({cm.STEP_DB} dB steps), "
        f"our transmitter; "
        f"(+x) = over the same receiver's flat threshold\n" + "\n".join(ROWS) + "\n")


#: (loss dB, delay ms) of the listener echo: two hybrids of 10 dB return loss
LISTENER_ECHOES = ((20.0, 5.0), (20.0, 40.0))
ECHO_ROWS: list[str] = []


@pytest.mark.parametrize("kind,rate", cm.MODEMS, ids=[f"{k}-{r}" for k, r in cm.MODEMS])
def test_listener_echo_thresholds(kind, rate):
    runs = cm.runs(kind, rate)
    start = START[(kind, rate)]
    ECHO_ROWS.append(f"{kind} {rate}   {'channel':<16} {'echo':<14} {'ours':>6} {'spandsp':>8}")
    for channel in (cm.FLAT, "v56bis-ad5-edd2"):
        for echo in LISTENER_ECHOES:
            t = [cm.threshold(receiver, kind, rate, channel, runs, start, start - 20, listener_echo=echo)
                 for receiver in (cm.ours, cm.theirs)]
            cells = " ".join(("fails" if v is None else f"{v:.1f}").rjust(w) for v, w in zip(t, (6, 8)))
            ECHO_ROWS.append(f"{'':10} {channel:<16} {f'-{echo[0]:g} dB {echo[1]:g} ms':<14} {cells}")
    print("\n" + "\n".join(ECHO_ROWS[-5:]))
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "listener_echo.txt").write_text(
        f"lowest SNR (dB) with zero errors over {cm.RUNS} x {cm.SECONDS} s with listener echo\n"
        + "\n".join(ECHO_ROWS) + "\n")
