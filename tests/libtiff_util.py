"""libtiff as the reference T.4/T.6 codec, reached through Pillow.

Pillow bundles libtiff (4.7.2 in Pillow 13) and hands CCITT Group 3 and Group 4
strips to it, so it is the codec every interop test and benchmark of
``faxengine.t4`` compares against.

Decoding: :func:`libtiff_decode` wraps a bare coded strip in the smallest TIFF
that says what it is (one IFD: width, length, 1 bit per sample, Compression 3
for T.4 or 4 for T.6, PhotometricInterpretation 0 = min-is-white, FillOrder 1,
one strip, and for Group 3 the T4Options tag 292 whose bit 0 says "two-
dimensional coding" (MR) and bit 2 "EOLs byte aligned"), lets Pillow load it
and returns the pixels, True = black.  libtiff reports bad code words, short
lines and premature ends on C ``stderr`` and carries on; the helper captures
file descriptor 2 around the load and raises :class:`LibtiffComplaint` when
libtiff said anything, so a test cannot pass on a stream libtiff merely
repaired.

Encoding: :func:`libtiff_encode` saves the page with Pillow's ``group3`` or
``group4`` compression in one strip and cuts that strip out of the file.  Two
facts about Pillow and libtiff decide how:

* Pillow writes a mode "1" image with PhotometricInterpretation 1
  (min-is-black) and hands its raw bits to libtiff unchanged, and the CCITT
  coder codes 1 bits as black runs whatever the photometric says.  So the
  image saved is the black mask itself (raw bit 1 = black), and the strip is
  exactly the code of our page.  (Asking Pillow for photometric 0 instead
  makes it invert the image pixel by pixel in Python: slow, and no different
  on the line.)
* Group 3 is one-dimensional (MH) unless T4Options bit 0 is set, which
  Pillow passes through as ``tiffinfo={292: 1}``.  libtiff then picks the MR
  parameter K from the vertical resolution (T.4 §4.2.1: K = 2 at standard,
  4 at fine resolution): K = 4 above 150 dpi, K = 2 at 150 dpi or below or
  when no resolution is given.  :data:`DPI_FOR_K` holds a resolution for each.

libtiff writes an EOL before every Group 3 line, no RTC at the end of the
strip, and ends a Group 4 strip with EOFB.  Pillow cuts strips of 64 KiB of
raw image by default; ``strip_size`` is raised so a page is one strip.
"""
from __future__ import annotations

import io
import os
import struct
import sys
import tempfile
from contextlib import contextmanager
from typing import Iterator

import numpy as np
from PIL import Image

# TIFF 6.0 tag numbers (§8; T4Options and T6Options §11), the same facts faxengine.tiff uses
from faxengine.tiff import (
    BITS_PER_SAMPLE,
    COMPRESSION,
    FILL_ORDER,
    IMAGE_LENGTH,
    IMAGE_WIDTH,
    PHOTOMETRIC,
    ROWS_PER_STRIP,
    SAMPLES_PER_PIXEL,
    STRIP_BYTE_COUNTS,
    STRIP_OFFSETS,
    T4_OPTIONS,
    T6_OPTIONS,
)

T4OPT_2D = 0x1          # bit 0: two-dimensional coding (MR)
T4OPT_FILL_BITS = 0x4   # bit 2: fill bits before each EOL so that it ends on a byte boundary

SHORT, LONG = 3, 4

# coding -> (TIFF Compression, Pillow's name for it)
COMPRESSIONS = {"mh": (3, "group3"), "mr": (3, "group3"), "mmr": (4, "group4")}

# A resolution at which libtiff codes MR with the given K (it takes K = 4 above 150 dpi).
DPI_FOR_K = {2: (204, 98), 4: (204, 196)}


class LibtiffComplaint(AssertionError):
    """libtiff reported an error or a warning while decoding a strip."""


def libtiff_k(dpi: tuple[float, float] | None) -> int:
    """The MR parameter K libtiff uses for a page at ``dpi`` (x, y)."""
    return 4 if dpi is not None and dpi[1] > 150 else 2


def black_mask_image(image: np.ndarray) -> Image.Image:
    """A Pillow mode "1" image whose raw bits are 1 where ``image`` is black.

    This is what :func:`libtiff_encode` hands to libtiff (see the module
    docstring); the benchmark builds it once outside its timed loop.
    """
    image = np.ascontiguousarray(image, dtype=bool)
    return Image.fromarray(image)


def save_tiff(pil_image: Image.Image, coding: str, dpi: tuple[float, float] | None = None,
              fill_bits: bool = False) -> bytes:
    """Pillow/libtiff's TIFF file of ``pil_image`` (see :func:`black_mask_image`), one strip."""
    compression, name = COMPRESSIONS[coding]
    info = {}
    if compression == 3:
        info[T4_OPTIONS] = (T4OPT_2D if coding == "mr" else 0) | (T4OPT_FILL_BITS if fill_bits else 0)
    elif fill_bits:
        raise ValueError("fill bits are a Group 3 option")
    out = io.BytesIO()
    extra = {"dpi": dpi} if dpi is not None else {}
    pil_image.save(out, "TIFF", compression=name, tiffinfo=info, strip_size=1 << 30, **extra)
    return out.getvalue()


def tiff_strip(tiff: bytes) -> bytes:
    """The one coded strip of a single-image TIFF (classic TIFF, either byte order)."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or struct.unpack(order + "H", tiff[2:4])[0] != 42:
        raise ValueError("not a classic TIFF file")
    (ifd,) = struct.unpack(order + "I", tiff[4:8])
    (count,) = struct.unpack(order + "H", tiff[ifd:ifd + 2])
    values: dict[int, list[int]] = {}
    for i in range(count):
        tag, typ, n, raw = struct.unpack(order + "HHI4s", tiff[ifd + 2 + 12 * i:ifd + 14 + 12 * i])
        if tag not in (STRIP_OFFSETS, STRIP_BYTE_COUNTS):
            continue
        fmt = {SHORT: "H", LONG: "I"}[typ]
        size = struct.calcsize(fmt) * n
        if size > 4:
            (where,) = struct.unpack(order + "I", raw)
            raw = tiff[where:where + size]
        values[tag] = list(struct.unpack(order + fmt * n, raw[:size]))
    offsets, counts = values[STRIP_OFFSETS], values[STRIP_BYTE_COUNTS]
    if len(offsets) != 1:
        raise ValueError(f"expected one strip, the file has {len(offsets)}")
    return tiff[offsets[0]:offsets[0] + counts[0]]


def libtiff_encode(image: np.ndarray, coding: str, dpi: tuple[float, float] | None = None,
                   fill_bits: bool = False) -> bytes:
    """libtiff's code of ``image`` (2-D bool, True = black) as one strip.

    ``coding`` is "mh", "mr" or "mmr".  ``dpi`` decides libtiff's MR K (see
    :func:`libtiff_k`, :data:`DPI_FOR_K`).  ``fill_bits`` sets T4Options bit 2:
    every EOL then ends on a byte boundary.
    """
    return tiff_strip(save_tiff(black_mask_image(image), coding, dpi, fill_bits))


def make_tiff(strip: bytes, width: int, height: int, coding: str, t4options: int | None = None) -> bytes:
    """A minimal little-endian TIFF holding ``strip`` as its one strip.

    ``t4options`` defaults to what ``coding`` says (bit 0 for MR); pass it to
    add bit 2 (fill bits) or to lie on purpose.
    """
    compression = COMPRESSIONS[coding][0]
    entries = [
        (IMAGE_WIDTH, LONG, width),
        (IMAGE_LENGTH, LONG, height),
        (BITS_PER_SAMPLE, SHORT, 1),
        (COMPRESSION, SHORT, compression),
        (PHOTOMETRIC, SHORT, 0),          # min-is-white: a 1 bit is black, as on the fax line
        (FILL_ORDER, SHORT, 1),           # first bit of the code in the MSB
        (STRIP_OFFSETS, LONG, None),      # filled in below: the strip follows the IFD
        (SAMPLES_PER_PIXEL, SHORT, 1),
        (ROWS_PER_STRIP, LONG, height),
        (STRIP_BYTE_COUNTS, LONG, len(strip)),
    ]
    if compression == 3:
        if t4options is None:
            t4options = T4OPT_2D if coding == "mr" else 0
        entries.append((T4_OPTIONS, LONG, t4options))
    else:
        entries.append((T6_OPTIONS, LONG, 0 if t4options is None else t4options))
    entries.sort()
    ifd_at = 8
    strip_at = ifd_at + 2 + 12 * len(entries) + 4
    out = bytearray(b"II*\0" + struct.pack("<IH", ifd_at, len(entries)))
    for tag, typ, value in entries:
        if value is None:
            value = strip_at
        fmt = "<HHIHH" if typ == SHORT else "<HHII"
        out += struct.pack(fmt, tag, typ, 1, value, *([0] if typ == SHORT else []))
    out += struct.pack("<I", 0) + strip    # no next IFD
    return bytes(out)


@contextmanager
def captured_c_stderr() -> Iterator[list[str]]:
    """Collect what C code writes on file descriptor 2 (libtiff's messages) while inside.

    The list yielded gets one string, the text captured, when the block ends.
    """
    sys.stderr.flush()
    messages: list[str] = []
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield messages
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            messages.append(sink.read().decode("utf-8", "replace"))


def load_tiff(tiff: bytes) -> Image.Image:
    """Open and load a TIFF with Pillow; :class:`LibtiffComplaint` if libtiff said anything."""
    failure = None
    with captured_c_stderr() as said:
        try:
            image = Image.open(io.BytesIO(tiff))
            image.load()
        except OSError as exc:
            failure = exc
    lines = said[0].strip().splitlines()
    text = "\n".join(lines[:8] + ([f"... and {len(lines) - 8} more lines"] if len(lines) > 8 else []))
    if failure is not None:
        raise LibtiffComplaint(f"Pillow/libtiff failed to decode: {failure}\n{text}") from failure
    if text:
        raise LibtiffComplaint("libtiff complained while decoding:\n" + text)
    return image


def libtiff_decode(strip: bytes, width: int, height: int, coding: str,
                   t4options: int | None = None) -> np.ndarray:
    """libtiff's decoding of a coded strip: 2-D bool array (height, width), True = black.

    Raises :class:`LibtiffComplaint` when libtiff reports any error or warning.
    """
    image = load_tiff(make_tiff(strip, width, height, coding, t4options))
    if image.size != (width, height) or image.mode != "1":
        raise AssertionError(f"Pillow read a {image.mode} {image.size} image, expected 1 {(width, height)}")
    # min-is-white: Pillow maps 1 bits (black) to 0 in mode "1"
    return ~np.asarray(image)
