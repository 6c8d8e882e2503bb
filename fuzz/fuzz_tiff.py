#!/usr/bin/env python3
"""Fuzz target: the TIFF reader, ``faxengine.tiff.read(bytes)``.

The input is the file.  ``read`` returns pages or raises ``TiffError`` and
nothing else, strict or not (``strict=False`` may warn, with a
``TiffWarning``); every page is a 2-D bool image with a positive finite
resolution, and a page read is a page that can be stored again: written as
TIFF-F (MMR) and read back, it has the same pels (a receiving terminal or a
converter must not lose a page it has accepted).
"""
from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np

from _harness import instrumented, main

with instrumented():
    from faxengine import tiff
    from faxengine.t4 import Page

# Pages larger than this are checked but not rewritten (keeps an input fast).
REWRITE_MAX_PIXELS = 1 << 20


def TestOneInput(data: bytes) -> None:
    check_read(data, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiff.TiffWarning)
        check_read(data, strict=False)


def check_read(data: bytes, strict: bool) -> None:
    try:
        pages = tiff.read(data, strict=strict)
    except tiff.TiffError as exc:
        assert str(exc), "TiffError without a message"
        return
    assert isinstance(pages, list) and pages, "read returned no page and no error"
    for page in pages:
        assert isinstance(page, Page), type(page)
        assert page.image.dtype == np.bool_ and page.image.ndim == 2, page.image.dtype
        assert page.width >= 1, page.image.shape
        for res in (page.x_res, page.y_res):
            assert isinstance(res, float) and math.isfinite(res) and res > 0, \
                f"page resolution {page.x_res} x {page.y_res} dpi"
    keep = [p for p in pages if p.height > 0 and p.image.size <= REWRITE_MAX_PIXELS]
    if not keep:
        return
    out = io.BytesIO()
    tiff.write(out, keep, coding="mmr")
    back = tiff.read(out.getvalue())
    assert len(back) == len(keep), (len(back), len(keep))
    for a, b in zip(keep, back):
        assert np.array_equal(a.image, b.image), "pels changed when rewritten"


def handmade(order: str) -> bytes:
    """A 12 x 5 page in two uncompressed strips (min-is-black, LSB first),
    resolution as FLOAT per centimetre, every value outside its entry: the
    field types and layouts the writers above never use."""
    e = "<" if order == "II" else ">"
    strips = [bytes((0xF0, 0x01)) * 3, bytes((0x0F, 0x02)) * 2]
    entries = [(256, 3, [12]), (257, 4, [5]), (258, 3, [1]), (259, 3, [1]), (262, 3, [1]),
               (266, 3, [2]), (273, 4, None), (278, 3, [3]), (279, 4, [6, 4]),
               (282, 11, [80.0]), (283, 11, [77.0]), (296, 3, [3])]
    ifd_at = 8 + sum(map(len, strips))
    values_at = ifd_at + 2 + 12 * len(entries) + 4
    ifd, values = struct.pack(e + "H", len(entries)), b""
    for tag, typ, vals in entries:
        if vals is None:
            vals = [8, 8 + len(strips[0])]
        code = {3: "H", 4: "I", 11: "f"}[typ]
        packed = struct.pack(e + code * len(vals), *vals)
        if len(packed) <= 4:
            ifd += struct.pack(e + "HHI", tag, typ, len(vals)) + packed.ljust(4, b"\0")
        else:
            ifd += struct.pack(e + "HHII", tag, typ, len(vals), values_at + len(values))
            values += packed
    header = order.encode() + struct.pack(e + "HI", 42, ifd_at)
    return header + b"".join(strips) + ifd + struct.pack(e + "I", 0) + values


def seeds() -> dict[str, bytes]:
    """Small files: ours in MH/MR/MMR, hand-made ones in both byte orders,
    Pillow's in every compression, and libtiff's big-endian, LSB-first and
    tiled rewrites when tiffcp is installed."""
    rng = np.random.default_rng(7)
    pages = [Page(rng.random((10, 41)) < 0.3, 204.0, 98.0),
             Page(rng.random((7, 64)) < 0.1, 204.0, 196.0)]
    out = {}
    for coding in ("mh", "mr", "mmr"):
        buf = io.BytesIO()
        tiff.write(buf, pages, coding=coding)
        out[f"ours-{coding}"] = buf.getvalue()
    out["handmade-II"] = handmade("II")
    out["handmade-MM"] = handmade("MM")
    try:
        from PIL import Image
    except ImportError:
        return out
    img = Image.fromarray(~pages[0].image)      # mode "1": True = white
    for compression in ("raw", "packbits", "group3", "group4"):
        buf = io.BytesIO()
        img.save(buf, format="TIFF", compression=None if compression == "raw" else compression,
                 dpi=(204, 196))
        out[f"pillow-{compression}"] = buf.getvalue()
    tiffcp = shutil.which("tiffcp")
    if tiffcp:
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp, "in.tif"), Path(tmp, "out.tif")
            src.write_bytes(out["ours-mr"])
            for name, args in (("bigendian-g4", ["-B", "-c", "g4"]),
                               ("lsb2msb-g3", ["-f", "lsb2msb", "-c", "g3:2d"]),
                               ("tiles-g4", ["-t", "-w", "16", "-l", "16", "-c", "g4"])):
                if subprocess.run([tiffcp, *args, str(src), str(dst)],
                                  capture_output=True).returncode == 0:
                    out[f"tiffcp-{name}"] = dst.read_bytes()
    return out


if __name__ == "__main__":
    main(TestOneInput)
