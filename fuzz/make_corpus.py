"""Write the seed corpus of every fuzz target: fuzz/corpus/<target>/<seed name>.

The seeds are built by each target's ``seeds()`` from faxengine itself (pages
encoded by our coder, TIFF files from our writer, Pillow and tiffcp, HDLC
frames and modem signals from our transmitters), so no binary blob is kept
in git and the seeds follow the code.  The C targets in fuzz/c/ read the
same input layout as their Python twins and share their corpus.

    python fuzz/make_corpus.py [--out DIR] [TARGET...]
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = ("t4", "tiff", "hdlc", "t30", "terminal", "modem", "sip", "ua", "rtp", "t38")


def write_corpus(target: str, out: Path) -> int:
    """Write one target's seeds under out/target; returns how many."""
    module = importlib.import_module(f"fuzz_{target}")
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    seeds = module.seeds()
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
    return len(seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "corpus")
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"some of {', '.join(TARGETS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown target(s) {', '.join(sorted(unknown))}; use {', '.join(TARGETS)}")
    sys.path.insert(0, str(HERE))
    import _harness
    _harness.atheris = None      # building seeds needs no instrumentation
    for target in args.targets or TARGETS:
        print(f"{target}: {write_corpus(target, args.out)} seeds in {args.out / target}")


if __name__ == "__main__":
    main()
