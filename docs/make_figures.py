"""The pictures and generated sections of docs/, made from the code itself.

``python docs/make_figures.py`` runs everything; ``--only NAME`` one item:

  figures (PNG in docs/figures/, need matplotlib: ``pip install .[docs]``)
    constellations  the data symbols our V.29, V.17 and V.27ter receivers
                    decide on (``Rx.symbols()``), clean and near threshold
    sensitivity     bit error rate against SNR, ours and spandsp's receivers
                    on the same spandsp signal (needs libspandsp-dev)
    codec           CCITT chart 1 and its coded size, ours and libtiff's
  sections (text between the ``<!-- BEGIN generated: NAME -->`` and
  ``<!-- END generated: NAME -->`` markers of a docs/*.md file)
    t30-states      faxengine.t30.states.diagram() for both sides (t30.md)
    t30-ladders     a one-page call between two of our terminals, ECM and
                    not, from the faxengine.t30 trace (t30.md)
    codec-bench     bench/results/t4.txt, or a note to run make bench
    modem-bench     bench/results/modem.txt and modem_sensitivity.txt
    t30-bench       bench/results/t30.txt

Nothing here measures time with a clock or draws at random without a seed:
the text sections come out the same on every machine, and tests/test_docs.py
checks that the T.30 ones still say what the code does.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
FIGURES = DOCS / "figures"
RESULTS = REPO / "bench" / "results"
for _p in (REPO, REPO / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

BLOCK = 160                             # the pump's block, 20 ms, as faxengine.loopback
SAMPLE_DOC = REPO / "samples" / "letter.png"


# ---- generated sections --------------------------------------------------

def _marker(name: str) -> tuple[str, str]:
    return (f"<!-- BEGIN generated: {name} (python docs/make_figures.py --only {name}) -->",
            f"<!-- END generated: {name} -->")


def section(md: str, name: str) -> str:
    """The text of generated section ``name`` in markdown ``md``."""
    begin, end = _marker(name)
    try:
        a = md.index(begin) + len(begin)
        return md[a:md.index(end, a)].strip("\n")
    except ValueError:
        raise KeyError(f"no generated section {name!r}") from None


def _replace(path: Path, name: str, text: str) -> None:
    md = path.read_text()
    section(md, name)                                   # both markers are there
    begin, end = _marker(name)
    a = md.index(begin) + len(begin)
    b = md.index(end, a)
    path.write_text(md[:a] + "\n" + text.strip("\n") + "\n" + md[b:])


def t30_states() -> str:
    """Both sides' state diagrams from the transition table, as Mermaid blocks."""
    from faxengine.t30.states import SIDES, diagram
    return "\n\n".join(f"### The {side}\n\n```mermaid\n{diagram(side)}```" for side in SIDES)


class _Capture(logging.Handler):
    """Keeps the faxengine.t30 records with the line time and the terminal."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.now = 0
        self.side = ""
        self.records: list[tuple[float, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((self.now / 8000, self.side, record.getMessage()))


def call_trace(ecm: bool) -> list[tuple[float, str, str]]:
    """(line time s, "S" or "R", message) of a one-page call of samples/letter.png
    between two of our terminals on a clean line, pumped 20 ms at a time."""
    from PIL import Image

    from faxengine.t30.terminal import FaxTerminal
    from faxengine.t4 import Page

    page = Page.from_pil(Image.open(SAMPLE_DOC), resolution="fine")
    cap = _Capture()
    log = logging.getLogger("faxengine.t30")
    old = log.level, log.propagate
    log.addHandler(cap)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cap.side = "S"
            s = FaxTerminal(True, send=[page], ecm=ecm)
            cap.side = "R"
            r = FaxTerminal(False, receive=str(Path(tmp) / "in.tif"), ecm=ecm)
            t = 0
            while not (s.finished and r.finished) and t < 8000 * 600:
                cap.now = t
                cap.side = "S"
                a = s.tx(BLOCK)
                cap.side = "R"
                b = r.tx(BLOCK)
                r.rx(a)
                cap.side = "S"
                s.rx(b)
                t += BLOCK
    finally:
        log.removeHandler(cap)
        log.setLevel(old[0])
        log.propagate = old[1]
    return cap.records


def ladder(records: list[tuple[float, str, str]]) -> str:
    """A Mermaid sequenceDiagram of a call trace: a frame is an arrow at the
    line time it was received (or, when the peer logs no reception -- the
    image itself -- when it was sent); what one side found, a note."""
    other = {"S": "R", "R": "S"}
    used: set[int] = set()
    lines = ["sequenceDiagram",
             "    participant S as calling terminal (sends)",
             "    participant R as answering terminal (receives)"]
    for i, (t, side, msg) in enumerate(records):
        if i in used:
            continue
        if msg.startswith("tx "):
            what = msg[3:]
            when, arrow = t, "-->>" if what.startswith("page ") else "->>"
            for j in range(i + 1, len(records)):
                if j not in used and records[j][1] == other[side] and records[j][2] == "rx " + what:
                    used.add(j)
                    when = records[j][0]
                    break
            lines.append(f"    {side}{arrow}{other[side]}: {when:.2f} s {what}")
        else:
            where = "left of S" if side == "S" else "right of R"
            lines.append(f"    Note {where}: {t:.2f} s {msg}")
    return "\n".join(lines) + "\n"


def t30_ladders() -> str:
    parts = []
    for ecm, title in ((True, "With ECM (T.30 Annex A)"), (False, "Without ECM")):
        parts.append(f"### {title}\n\n```mermaid\n{ladder(call_trace(ecm))}```")
    return "\n\n".join(parts)


def _bench_text(names: tuple[str, ...]) -> str:
    found = [RESULTS / n for n in names if (RESULTS / n).exists()]
    if not found:
        return "No results here yet: run `make bench` (it writes bench/results/), then " \
               "`python docs/make_figures.py --only <this section>`."
    text = "".join(p.read_text() for p in found)
    return "```\n" + "".join(ln.rstrip() + "\n" for ln in text.splitlines()) + "```"


def codec_bench() -> str:
    return _bench_text(("t4.txt",))


def modem_bench() -> str:
    return _bench_text(("modem.txt", "modem_sensitivity.txt"))


def t30_bench() -> str:
    return _bench_text(("t30.txt",))


SECTIONS = {
    "t30-states": ("t30.md", t30_states),
    "t30-ladders": ("t30.md", t30_ladders),
    "codec-bench": ("codec.md", codec_bench),
    "modem-bench": ("modems.md", modem_bench),
    "t30-bench": ("t30.md", t30_bench),
}


# ---- figures ----------------------------------------------------------------

def _pyplot():
    try:
        import matplotlib
    except ImportError:
        # one line, as the other missing prerequisites here say it
        raise SystemExit("figures need matplotlib: pip install -e '.[docs]' (the text sections,"
                         " e.g. --only t30-states, do without)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 8, "savefig.dpi": 100})
    return plt


def _save(fig, name: str) -> Path:
    FIGURES.mkdir(exist_ok=True)
    path = FIGURES / f"{name}.png"
    fig.savefig(path, bbox_inches="tight", pil_kwargs={"optimize": True})
    return path


def ideal_points(kind: str, rate: int) -> np.ndarray:
    """The signal points of a modem and rate, on the scale our receivers use."""
    if kind == "v29":
        # V.29 Table 1: at 0/90/180/270 degrees amplitudes 3 and 5, at
        # 45/135/225/315 sqrt(2) and 3 sqrt(2); 7200 the inner ring, 4800 the axes
        rings = {9600: ((3, 5), (2 ** 0.5, 18 ** 0.5)), 7200: ((3,), (2 ** 0.5,)), 4800: ((3,), ())}[rate]
        return np.array([a * np.exp(1j * np.pi / 4 * k) for k in range(8) for a in rings[k % 2]])
    if kind == "v27ter":        # V.27ter §2.2: 8 phases at 4800, 4 at 2400
        step = 4 if rate == 4800 else 2
        return np.exp(1j * np.pi / step * np.arange(2 * step))
    from faxengine.modem import _v17
    return _v17.constellation(rate)     # V.17 Figure 3, its integer grid


#: modem, rate, SNR near threshold (issues 3 and 4: spandsp's zero-error SNR)
CONSTELLATIONS = (("v29", 9600, 22.0), ("v17", 14400, 24.0), ("v27ter", 4800, 15.0))


def _tapped(kind: str, rate: int, snr: float | None, seconds: float = 2.0):
    from faxengine import line
    from faxengine.modem import V17Rx, V17Tx, V27terRx, V27terTx, V29Rx, V29Tx
    tx_cls, rx_cls = {"v29": (V29Tx, V29Rx), "v17": (V17Tx, V17Rx), "v27ter": (V27terTx, V27terRx)}[kind]
    bits = np.random.default_rng(rate).integers(0, 2, int(rate * seconds), dtype=np.uint8)
    audio = tx_cls(rate=rate).modulate(bits)          # no turn-off: data to the end
    if snr is not None:
        audio = line.add_noise(audio, snr, seed=7)
    rx = rx_cls(rate=rate)
    got = rx.demodulate(audio)
    n = min(len(got), len(bits))
    return rx.symbols(2000), rx.snr_db, int(np.count_nonzero(got[:n] != bits[:n])), n


def fig_constellations() -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(9, 6.2))
    for col, (kind, rate, snr) in enumerate(CONSTELLATIONS):
        ideal = ideal_points(kind, rate)
        lim = 1.25 * np.abs(ideal).max()
        for row, level in enumerate((None, snr)):
            ax = axes[row, col]
            z, est, errors, n = _tapped(kind, rate, level)
            ax.plot(ideal.real, ideal.imag, "o", ms=7, mew=0.8, mfc="none", color="tab:red")
            ax.plot(z.real, z.imag, ".", ms=1.5, alpha=0.4, color="tab:blue", rasterized=True)
            name = {"v29": "V.29", "v17": "V.17", "v27ter": "V.27ter"}[kind]
            line_words = "clean line" if level is None else f"{level:g} dB SNR"
            ax.set_title(f"{name} {rate}, {line_words}\nreceiver's SNR {est:.1f} dB, "
                         f"{errors} bit errors in {n}", fontsize=8)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.axhline(0, color="0.85", lw=0.5, zorder=0)
            ax.axvline(0, color="0.85", lw=0.5, zorder=0)
            ax.tick_params(labelsize=7)
    fig.suptitle("The last 2000 data symbols each receiver decided on (Rx.symbols()); "
                 "o the recommendation's points", fontsize=9)
    fig.tight_layout()
    return _save(fig, "constellations")


#: modem, rate, SNRs (dB)
SENSITIVITY = (("v29", 9600, np.arange(16.0, 25.25, 0.5)), ("v17", 14400, np.arange(17.0, 26.25, 0.5)))
SENSITIVITY_SECONDS = 40


def bit_errors(sent: np.ndarray, got: np.ndarray, align: bool) -> int:
    """Wrong and missing bits of ``got`` against ``sent`` (all of them when
    ``got`` cannot be lined up)."""
    import spandsp
    offset = spandsp.align(got, sent) if align else 0
    if offset is None:
        return len(sent)
    got, sent = got[max(offset, 0):], sent[max(-offset, 0):]
    n = min(len(sent), len(got))
    return int(np.count_nonzero(sent[:n] != got[:n])) + len(sent) - n


def sensitivity(kind: str, rate: int, snrs) -> tuple[np.ndarray, np.ndarray, int]:
    """Bit error rates of ours and spandsp's receivers on spandsp's signal."""
    import spandsp
    from faxengine import line
    from faxengine.modem import V17Rx, V29Rx
    ours_cls = {"v29": V29Rx, "v17": V17Rx}[kind]
    bits = np.random.default_rng(1).integers(0, 2, rate * SENSITIVITY_SECONDS, dtype=np.uint8)
    audio = spandsp.modem_tx(kind, rate, bits, power_dbm0=-13.0)
    ours, theirs = [], []
    for snr in snrs:
        heard = line.add_noise(audio, float(snr), seed=100)
        ours.append(bit_errors(bits, ours_cls(rate).demodulate(heard), False))
        theirs.append(bit_errors(bits, spandsp.modem_rx(kind, rate, heard), True))
    return np.array(ours) / len(bits), np.array(theirs) / len(bits), len(bits)


def fig_sensitivity() -> Path:
    import spandsp
    if not spandsp.spandsp_available():
        raise SystemExit(f"sensitivity: {spandsp.REASON}")
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, (kind, rate, snrs) in zip(axes, SENSITIVITY):
        ours, theirs, n = sensitivity(kind, rate, snrs)
        floor = 1.0 / n
        for ber, label, color, mark in ((ours, "faxengine", "tab:blue", "o"),
                                        (theirs, "spandsp 0.0.6", "tab:orange", "s")):
            seen = ber > 0
            ax.semilogy(snrs[seen], ber[seen], "-" + mark, color=color, ms=4, label=label)
            ax.semilogy(snrs[~seen], np.full((~seen).sum(), floor), "v", color=color, ms=5,
                        mfc="none")
        ax.axhline(floor, color="0.7", lw=0.6, ls=":")
        ax.set_title(f"{'V.29' if kind == 'v29' else 'V.17'} {rate} bit/s, "
                     f"{SENSITIVITY_SECONDS} s of data ({n} bits)", fontsize=9)
        ax.set_xlabel("SNR (dB): signal while on over white noise in 0-4000 Hz")
        ax.set_ylabel("bit error rate")
        ax.set_ylim(floor / 3, 1)
        ax.grid(True, which="major", color="0.9", lw=0.5)
        ax.legend(loc="lower left", fontsize=7)
    fig.suptitle("Both receivers hear the same spandsp transmitter and noise; "
                 "open triangles: no error in all the bits", fontsize=9)
    fig.tight_layout()
    return _save(fig, "sensitivity")


#: codings compared: name, coding, MR K (libtiff's from the resolution, DPI_FOR_K)
CODINGS = (("MH", "mh", None), ("MR K=2", "mr", 2), ("MR K=4", "mr", 4), ("MMR", "mmr", None))


def codec_sizes(image: np.ndarray) -> list[tuple[str, int, int]]:
    """(coding, our bytes, libtiff's bytes) for chart 1; ours without RTC,
    as libtiff writes a Group 3 strip."""
    from libtiff_util import DPI_FOR_K, libtiff_encode

    from faxengine import t4
    out = []
    for label, coding, k in CODINGS:
        ours = t4.encode(image, coding, k=k, rtc=False)
        theirs = libtiff_encode(image, coding, dpi=DPI_FOR_K.get(k))
        out.append((label, len(ours), len(theirs)))
    return out


def fig_codec() -> Path:
    from charts import CCITT_DIR, read_pbm
    path = CCITT_DIR / "itu1.pbm"
    if not path.exists():
        raise SystemExit(f"codec: {path} is absent (the CCITT charts are not in the repository)")
    image = read_pbm(path)
    sizes = codec_sizes(image)
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.4), gridspec_kw={"width_ratios": [1, 1.5]})
    small = image[: image.shape[0] // 4 * 4, :].reshape(image.shape[0] // 4, 4, image.shape[1] // 4, 4)
    left.imshow(small.mean(axis=(1, 3)), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    left.set_title(f"CCITT chart 1, {image.shape[1]} x {image.shape[0]} pels "
                   f"({image.size // 8 // 1024} KiB raw)", fontsize=8)
    left.axis("off")
    x = np.arange(len(sizes))
    ours = np.array([s[1] for s in sizes]) / 1024
    theirs = np.array([s[2] for s in sizes]) / 1024
    right.bar(x - 0.2, ours, 0.4, label="faxengine.t4", color="tab:blue")
    right.bar(x + 0.2, theirs, 0.4, label="libtiff 4.7.2 (Pillow)", color="tab:orange")
    raw = image.size / 8 / 1024
    for xi, o, t in zip(x, ours, theirs):
        right.text(xi - 0.2, o, f"{o:.1f}\n{raw / o:.0f}:1", ha="center", va="bottom", fontsize=7)
        right.text(xi + 0.2, t, f"{t:.1f}\n{raw / t:.0f}:1", ha="center", va="bottom", fontsize=7)
    right.set_ylim(0, 1.15 * max(ours.max(), theirs.max()))
    right.set_xticks(x, [s[0] for s in sizes])
    right.set_ylabel("coded size (KiB)")
    right.set_title("Coded size of chart 1 (Group 3 strips without RTC, as libtiff writes them)",
                    fontsize=8)
    right.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, "codec")


FIGURE_MAKERS = {"constellations": fig_constellations, "sensitivity": fig_sensitivity,
                 "codec": fig_codec}
sys.path.insert(0, str(DOCS))    # docs/gateway.md's Rendering figures: docs/make_render_figures.py
FIGURE_MAKERS.update(__import__("make_render_figures").FIGURE_MAKERS)


def main(argv: list[str] | None = None) -> int:
    names = list(FIGURE_MAKERS) + list(SECTIONS)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=names, action="append",
                    help="make only this (repeatable)")
    args = ap.parse_args(argv)
    for name in args.only or names:
        if name in SECTIONS:
            doc, make = SECTIONS[name]
            _replace(DOCS / doc, name, make())
            print(f"docs/{doc}: {name}")
        else:
            print(os.path.relpath(FIGURE_MAKERS[name](), REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
