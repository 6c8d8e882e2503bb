"""``faxengine decode CALL.wav [--out DIR] [--json] [--plot]``: the analyser as a command.

Prints the call in words (or, with ``--json``, the report as JSON); with
``--out`` writes the pages there as ``page-001.tif``...; with ``--plot``
writes a constellation per burst and a timeline of the call as PNG (into
``--out``, else the current directory; needs matplotlib).  Exit status 0
when the recording could be read, 2 when it could not.
"""
from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="faxengine decode",
        description="Report what happened in a recording of a fax call: tones, V.21 frames, "
                    "high-speed bursts, pages.")
    p.add_argument("recording", help="a WAV file: PCM16, A-law or µ-law, mono or stereo, any rate")
    p.add_argument("--out", metavar="DIR", help="write the pages there as page-001.tif, ...")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--plot", action="store_true",
                   help="write burst-NN.png (constellations) and timeline.png (needs matplotlib)")
    return p


def main(argv: list[str] | None = None) -> int:
    from faxengine.media.analyser import analyse
    args = parser().parse_args(argv)
    report = analyse(args.recording, args.out)
    if args.plot:
        from faxengine.media.analyser.plot import plot
        from faxengine.media.wav import read_wav
        try:
            written = plot(report, read_wav(args.recording, 3600.0), args.out or ".")
            report.notes += [f"plot: {p}" for p in written]
        except Exception as exc:     # plots are a extra: the report still comes out
            report.notes.append(f"no plots: {type(exc).__name__}: {exc}")
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print("\n".join(report.lines()))
    return 2 if report.result.startswith("could not read") else 0
