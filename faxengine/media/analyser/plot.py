"""Pictures of a call: one constellation per burst and a timeline (matplotlib, Agg).

``burst-NN.png``: the last data symbols the burst's receiver decided on
(``Rx.symbols()``, the equaliser's output on the recommendation's scale), as
in docs/make_figures.py.  ``timeline.png``: each channel's level in dBm0
over 10 ms blocks, the bursts shaded and labelled with their modem, the
tones named, the V.21 frames named at their ends.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from faxengine.levels import DBM0_REF_POWER
from faxengine.media.analyser.report import Report
from faxengine.media.analyser.signals import POWER_BLOCK, block_power

__all__ = ["plot"]


def plot(report: Report, x: np.ndarray, out_dir: str | os.PathLike) -> list[str]:
    """Write the PNGs for ``report`` of the samples ``x`` (n, channels); their paths."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, b in enumerate(report.bursts, 1):
        if b.symbols.size == 0:
            continue
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.scatter(b.symbols.real, b.symbols.imag, s=2)
        ax.set_aspect("equal")
        ax.set_title(f"burst {i}: {b.kind} {b.modem} {b.rate}\nat {b.start:.2f} s, "
                     f"decision SNR {b.eq_snr_db or 0:.1f} dB", fontsize=9)
        path = out / f"burst-{i:02d}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(str(path))
    x = x.reshape(x.shape[0], -1)
    fig, axes = plt.subplots(x.shape[1], 1, figsize=(14, 2.5 * x.shape[1]), squeeze=False)
    for ch, ax in enumerate(axes[:, 0]):
        p = block_power(np.ascontiguousarray(x[:, ch]))
        t = np.arange(p.size) * POWER_BLOCK / 8000.0
        ax.plot(t, 10 * np.log10(np.maximum(p, 1e-3) / DBM0_REF_POWER), lw=0.5)
        ax.set_ylim(-70, 5)
        ax.set_ylabel(f"ch{ch} dBm0")
        for b in report.bursts:
            if b.channel == ch:
                ax.axvspan(b.start, b.end, alpha=0.2, color="tab:orange")
                ax.text(b.start, 0, f"{b.kind} {b.modem or ''} {b.rate or ''}", fontsize=6)
        for f in report.frames:
            if f.channel == ch and f.modem == "V.21":
                ax.text(f.time, -60, f.name, fontsize=6, rotation=90)
        for tone in report.tones:
            if tone.channel == ch:
                ax.text(tone.start, 0, tone.kind, fontsize=6)
    axes[-1, 0].set_xlabel("s")
    fig.suptitle(report.result, fontsize=9)
    path = out / "timeline.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(str(path))
    return written
