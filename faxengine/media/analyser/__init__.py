"""The call analyser: a recording of a fax call in, what happened out (``faxengine decode``).

It takes a recording made by anyone -- mono with both directions mixed, or
stereo with one direction per channel; any rate (resampled to 8000
samples/s); PCM16, A-law or µ-law WAV (``faxengine.media.wav``) -- and
reports the tones (CNG, CED), every V.21 frame with its time and its
meaning in the words of the terminal's trace, each high-speed burst with
its modem and rate, level, SNR and the equaliser's final error, TCF
judged, and the pages decoded (ECM frames reassembled by block and frame
number, non-ECM pages cut at RTC), optionally written as TIFF and plotted.

How: ``signals.scan`` cuts each channel into tones, V.21 frames and bursts
of high-speed signal; ``call.walk`` then follows the call in time order,
running on each burst the receiver the DCS (or CTC) before it names, as a
terminal does (``faxengine.modem`` receivers, ``faxengine.t30`` frames,
facilities, ECM and quality rules, ``faxengine.t4`` for the pages).

It never raises on a bad recording: what it could not read goes into
``Report.notes`` and ``Report.result`` says what it made of the call.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from faxengine import tiff
from faxengine.levels import SAMPLE_RATE
from faxengine.media.analyser.call import walk
from faxengine.media.analyser.report import Burst, FrameSeen, PageSeen, Report, ToneSeen
from faxengine.media.analyser.signals import drop_crosstalk, scan
from faxengine.media.wav import WavError, WavReader
from faxengine.t4 import Page

__all__ = ["analyse", "analyse_samples", "main", "Report", "FrameSeen", "Burst", "PageSeen",
           "ToneSeen", "MAX_SECONDS"]

#: the longest stretch of a recording analysed (1 h: 115 MB of stereo samples)
MAX_SECONDS = 3600.0


def analyse(path: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> Report:
    """Analyse the WAV recording at ``path``; write pages to ``out_dir``
    (``page-001.tif``, ...) when given.  Never raises on a bad recording."""
    try:
        with WavReader(path) as reader:
            seconds, notes = reader.seconds, []
            if reader.truncated:
                notes.append("the WAV's data chunk claims more than the file holds: "
                              "read what is there")
            if seconds > MAX_SECONDS:
                notes.append(f"the recording lasts {seconds:.0f} s: analysed the first "
                             f"{MAX_SECONDS:.0f} s")
            x = reader.read(MAX_SECONDS)
    except (WavError, OSError) as exc:
        return Report(notes=[str(exc)], result=f"could not read the recording: {exc}")
    report = analyse_samples(x, out_dir)
    report.notes[:0] = notes
    return report


def analyse_samples(x, out_dir: str | os.PathLike | None = None) -> Report:
    """Analyse int16 samples at 8000 samples/s: shape (n,) mono or (n, 2) stereo."""
    x = np.asarray(x)
    report = Report()
    if x.dtype != np.int16 or x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[1] not in (1, 2)):
        report.result = f"not a recording: give int16 samples of shape (n,) or (n, 2), not " \
                        f"{x.dtype} {x.shape}"
        return report
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    report.seconds, report.channels = x.shape[0] / SAMPLE_RATE, x.shape[1]
    columns = [np.ascontiguousarray(x[:, ch]) for ch in range(x.shape[1])]
    try:
        scans = [scan(c) for c in columns]
        leaked = drop_crosstalk(columns, scans)
        if leaked:
            report.notes.append(f"{leaked} tone(s), frame(s) or burst(s) heard on both channels "
                                "(crosstalk or echo): kept where stronger")
        for ch, sc in enumerate(scans):
            report.tones += [ToneSeen(kind, ch, s / SAMPLE_RATE, e / SAMPLE_RATE)
                             for kind, s, e in sc.tones if kind in ("CNG", "CED")]
            if sc.bad_frames:
                report.notes.append(f"channel {ch}: {sc.bad_frames} V.21 frame(s) failed "
                                    "their FCS")
        report.tones.sort(key=lambda t: t.start)
        walk(columns, scans, report)
    except Exception as exc:       # a recording must never crash the analyser: say where it stopped
        report.notes.append(f"analysis stopped: {type(exc).__name__}: {exc}")
    if out_dir is not None:
        _write_pages(report, Path(out_dir))
    report.result = verdict(report)
    return report


def _write_pages(report: Report, out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(report.pages, 1):
            if page.image.shape[0] == 0:
                continue
            path = out / f"page-{i:03d}.tif"
            tiff.write(path, [Page(page.image, page.x_res, page.y_res)])
            page.path = str(path)
    except (OSError, ValueError) as exc:
        report.notes.append(f"could not write the pages to {out}: {exc}")


def verdict(report: Report) -> str:
    """The call in one line: pages decoded and how it ended."""
    names = [f.name for f in report.frames]
    if not names and not report.bursts and not report.tones:
        return "no fax signals found"
    if not names:
        heard = ", ".join(dict.fromkeys([t.kind for t in report.tones]
                                        + [f"{b.kind} burst" for b in report.bursts]))
        return f"no T.30 frames found (heard: {heard})"
    pages = len(report.pages)
    words = f"{pages} page{'s' if pages != 1 else ''} decoded"
    # the modes the image data came at, in the order heard
    modes = list(dict.fromkeys(f"{b.modem} {b.rate}" for b in report.bursts
                               if b.modem and b.trained and b.kind in ("page", "ECM")))
    if modes:
        words += " at " + ", ".join(modes)
    ecm = any(p.ecm for p in report.pages)
    if ecm:
        words += ", ECM"
    last_post = max((i for i, n in enumerate(names) if n in ("EOP", "PRI-EOP") or
                     (n == "PPS" and "PPS-EOP" in report.frames[i].text)), default=None)
    if last_post is not None and "MCF" in names[last_post + 1:] and "DCN" in names[last_post:]:
        return words + "; the call ended normally (EOP, MCF, DCN)"
    if "DCN" in names:
        return words + "; the call ended with DCN before a last page was confirmed"
    return words + "; the recording ends before the call does"


def main(argv: list[str] | None = None) -> int:
    """``faxengine decode``; see ``faxengine.media.analyser.cli``."""
    from faxengine.media.analyser.cli import main as _main
    return _main(argv)
