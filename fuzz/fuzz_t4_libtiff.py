#!/usr/bin/env python3
"""Fuzz target: our T.4/T.6 decoder against libtiff's, on the same strips.

Same input layout as fuzz_t4.py (it shares that corpus); the height is
always given (octet 3 + 1), as a TIFF strip's RowsPerStrip gives it, and
the width is at most 4864.  The strip goes to ``t4.decode`` and, wrapped in
a one-strip TIFF, to libtiff through Pillow (tests/libtiff_util.py).  When
both decode it without complaint, the pels must be the same: T.4 and T.6
leave a decoder no choice.  Inputs only one of them accepts are not
findings (libtiff accepts some damage silently that ``decode`` rejects, by
design).  MH/MR strips whose first line has no EOL are compared too: both
skip to the first EOL and drop what comes before it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from _harness import Reader, instrumented, main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from libtiff_util import LibtiffComplaint, libtiff_decode  # noqa: E402

with instrumented():
    from faxengine import t4

FAX_WIDTH = 4864


def TestOneInput(data: bytes) -> None:
    r = Reader(data)
    mode = r.u8()
    width = 1 + r.u16() % FAX_WIDTH
    height = r.u8() + 1
    strip = r.rest()
    if mode & 3 == 3:
        return
    coding = ("mh", "mr", "mmr")[mode & 3]
    try:
        ours = t4.decode(strip, width, coding, height=height)
    except t4.T4Error:
        return
    try:
        theirs = libtiff_decode(strip, width, height, coding)
    except LibtiffComplaint:
        return
    if not np.array_equal(ours, theirs):
        rows = np.flatnonzero((ours != theirs).any(axis=1))
        raise AssertionError(f"{coding} {width}x{height}: libtiff decodes rows "
                             f"{rows[:10].tolist()} differently")


def seeds() -> dict[str, bytes]:
    """fuzz_t4's seeds with a height: pages libtiff and we both decode."""
    import fuzz_t4
    return {name: data for name, data in fuzz_t4.seeds().items()
            if data[0] & 4 and not data[0] & 8 and data[0] & 3 != 3}


if __name__ == "__main__":
    main(TestOneInput)
