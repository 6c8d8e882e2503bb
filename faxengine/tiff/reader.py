"""The TIFF reader: any bilevel TIFF file to fax pages.

``read`` is our own parser of TIFF 6.0: either byte order, the chain
of image file directories (IFDs) one page each, image data in strips
(``StripOffsets``/``StripByteCounts``, ``RowsPerStrip`` rows each) or in tiles
(TIFF 6.0 §15: ``TileWidth`` x ``TileLength`` pels each, left to right then top
to bottom, those at the right and bottom edges cut to the page).  Each strip or
tile is coded on its own, so it is decoded on its own and put in its place:

========= ========================= ==========================================
 tag 259   name                      decoded by
========= ========================= ==========================================
 1         none                      rows padded to whole bytes, numpy unpack
 2         CCITT modified Huffman    ``t4.decode`` MH with ``eol=False``,
           RLE (TIFF 6.0 §10)        ``align=8``: no EOLs, rows on byte
                                     boundaries
 3         CCITT Group 3 (T.4)       ``t4.decode``, MH or MR by T4Options bit 0;
                                     an MH strip without a single EOL as
                                     lines back to back (``eol=False``), as
                                     libtiff reads it
 4         CCITT Group 4 (T.6)       ``t4.decode`` MMR
 32771     CCITT RLEW (libtiff)      as 2 with ``align=16``: rows on 16-bit
                                     word boundaries of the strip
 32773     PackBits                  run by run (TIFF 6.0 §9), never per pixel
========= ========================= ==========================================

``FillOrder`` 2 (first pel in the least significant bit) reverses the bits of
every byte of a strip before it is decoded, as libtiff does for every
compression.  ``PhotometricInterpretation`` 0 (min-is-white) keeps set bits
black, 1 (min-is-black) inverts them; a palette of two colours is read by the
brightness of its entries.  Resolution tags in inches or centimetres become
dots per inch (without a unit the numbers are taken as per inch; without
them, fine resolution).  Reduced-resolution images (NewSubfileType bit 0, thumbnails)
are skipped.  ``Orientation`` is applied: the page comes out upright, as
Pillow's ``ImageOps.exif_transpose`` turns libtiff's pels, its resolutions
swapped when the file stores it transposed (5..8); a ``Page`` read is always
top-left.

Files from the wild are read as libtiff reads them: a tag given twice counts
the first time; a file may end right after its last IFD entry, without the
next-IFD offset; without ``StripByteCounts`` (or ``TileByteCounts``), or with
a count of 0 for a page of one strip, the count is worked out (uncompressed:
the rows; coded: to the end of the file, the decoder stops at the strip's
rows); an MH strip without a single EOL holds its lines back to back.
Image data that end early or do not decode are a ``TiffError``; with
``read(..., strict=False)`` the page is read as far as its data go, the lines
missing white (corrupt T.4/T.6 lines repaired as ``t4.decode_lenient`` does),
and a ``TiffWarning`` says which page, strip and how many lines.

Tag values may come in any TIFF field type; those the reader uses are made
numbers of one kind as the IFD is read, so nothing downstream meets a NaN.
XResolution and YResolution are real numbers: one that is not finite or not
between ``MIN_RESOLUTION`` and ``MAX_RESOLUTION`` dpi (after the unit) is
treated as absent, the other axis or the default standing in for it, so
every page read has a resolution a TIFF RATIONAL can store again.  Every
other tag is a count, a size or an offset: a value that is not a whole
number from 0 to 2**32 - 1 (a LONG's range), a NaN, an infinity, a negative
or a fraction in a FLOAT or RATIONAL field, is a ``TiffError``.

Hostile files fail quickly with a ``TiffError`` before much is allocated:
the parser checks every offset and size against the file, follows the IFD
chain at most ``MAX_PAGES`` times and stops on a cycle, refuses pages above
``MAX_PIXELS``, and bounds the pels of the whole document before decoding any
page (several IFDs can point at one small strip, so a file of a few hundred
bytes can declare pages of gigabytes).  The bound is ``read``'s
``max_pixels``; by default the smaller of ``MAX_DOCUMENT_PIXELS`` (a GiB of
pels, 250 A4 pages at fine resolution) and ``MAX_PELS_PER_BYTE`` times the
file's size (a blank fax line costs one bit in MMR, so even a file of blank
pages at 4864 pels a line and no IFD needs fewer), though never less than
one page of ``MAX_PIXELS``.  Documents beyond that are read with a larger
``max_pixels``, or a page at a time by whoever wrote them.
"""
from __future__ import annotations

import os
import struct
import warnings
from typing import BinaryIO

import numpy as np

from faxengine.t4.page import Page
from faxengine.tiff.errors import TiffError, TiffWarning, codec
from faxengine.tiff.tags import *  # noqa: F403 - the tag numbers, named as TIFF 6.0 names them
from faxengine.tiff.tags import _MAX_LONG, _RATIONAL, _TYPES

__all__ = ["read"]

# the tags the reader looks at; the values of others are never touched
_READ_TAGS = frozenset({
    NEW_SUBFILE_TYPE, IMAGE_WIDTH, IMAGE_LENGTH, BITS_PER_SAMPLE, COMPRESSION,
    PHOTOMETRIC, FILL_ORDER, STRIP_OFFSETS, SAMPLES_PER_PIXEL, ROWS_PER_STRIP,
    STRIP_BYTE_COUNTS, X_RESOLUTION, Y_RESOLUTION, T4_OPTIONS, RESOLUTION_UNIT,
    TILE_WIDTH, TILE_LENGTH, TILE_OFFSETS, TILE_BYTE_COUNTS, COLOR_MAP, ORIENTATION,
})
# the tags among them that hold real numbers; the others hold whole numbers
_REAL_TAGS = frozenset({X_RESOLUTION, Y_RESOLUTION})
_TAG_NAMES = {
    NEW_SUBFILE_TYPE: "NewSubfileType", IMAGE_WIDTH: "ImageWidth", IMAGE_LENGTH: "ImageLength",
    BITS_PER_SAMPLE: "BitsPerSample", COMPRESSION: "Compression", PHOTOMETRIC: "Photometric",
    FILL_ORDER: "FillOrder", STRIP_OFFSETS: "StripOffsets", SAMPLES_PER_PIXEL: "SamplesPerPixel",
    ROWS_PER_STRIP: "RowsPerStrip", STRIP_BYTE_COUNTS: "StripByteCounts",
    X_RESOLUTION: "XResolution", Y_RESOLUTION: "YResolution", T4_OPTIONS: "T4Options",
    RESOLUTION_UNIT: "ResolutionUnit", TILE_WIDTH: "TileWidth", TILE_LENGTH: "TileLength",
    TILE_OFFSETS: "TileOffsets", TILE_BYTE_COUNTS: "TileByteCounts", COLOR_MAP: "ColorMap",
    ORIENTATION: "Orientation",
}

# Orientation (TIFF 6.0 §8): where row 0 and column 0 of the stored image
# are on the page -> what turns it upright, applied to the (rows, pels) array.
# 5..8 store the page transposed: they swap the axes and so the resolutions.
_ORIENT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],        # row 0 top, column 0 right: mirror
    3: lambda a: a[::-1, ::-1],     # bottom right: half a turn
    4: lambda a: a[::-1],           # bottom left: upside down
    5: lambda a: a.T,               # left top: transposed
    6: lambda a: np.rot90(a, -1),   # right top: a quarter turn clockwise
    7: lambda a: a[::-1, ::-1].T,   # right bottom: transposed the other way
    8: lambda a: np.rot90(a, 1),    # left bottom: a quarter turn anticlockwise
}

_COMPRESSION_NAMES = {
    5: "LZW", 6: "old-style JPEG", 7: "JPEG", 8: "Deflate", 32946: "Deflate",
    34661: "JBIG", 34712: "JPEG 2000", 50000: "ZSTD", 50001: "WebP",
}
# CCITT RLE (2) and RLEW (32771): MH rows without EOLs, each starting on a
# boundary of this many bits
_RLE_ALIGN = {2: 8, 32771: 16}
_CONVERT_HINT = "convert it first, e.g. `tiffcp -c g4 in.tif out.tif`"

# each byte with its bit order reversed (FillOrder 2 -> 1)
_REVERSED = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1)
_REVERSED = np.packbits(_REVERSED[:, ::-1], axis=1)[:, 0]


def read(source: str | os.PathLike | BinaryIO | bytes, *, max_pixels: int | None = None,
         strict: bool = True) -> list[Page]:
    """Read every page of a bilevel TIFF file.

    Args:
        source: a path, a binary file object, or the file's bytes.
        max_pixels: the most pels all pages together may have; None: the
            smaller of ``MAX_DOCUMENT_PIXELS`` and ``MAX_PELS_PER_BYTE`` per
            byte of the file, at least ``MAX_PIXELS`` (see the module's
            docstring).  Each page is still bounded by ``MAX_PIXELS``.
        strict: True: image data that end early or do not decode are a
            ``TiffError``.  False: as libtiff, the page is read as far as
            its data go, the missing lines white (corrupt T.4/T.6 lines are
            repaired as ``t4.decode_lenient`` does), and a ``TiffWarning``
            says which page and strip and how many lines.

    Returns:
        The pages in the order of the IFD chain.

    Raises:
        TiffError: not a TIFF, truncated, not bilevel, larger than
            ``max_pixels``, or coded in a way this reader does not handle;
            the message says which and how to convert the file.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read()  # type: ignore[union-attr]
    else:
        with open(source, "rb") as f:  # type: ignore[arg-type]
            data = f.read()
    if max_pixels is None:
        max_pixels = min(MAX_DOCUMENT_PIXELS, max(MAX_PIXELS, MAX_PELS_PER_BYTE * len(data)))
    return _Reader(data, max_pixels, strict).pages()


class _Reader:
    def __init__(self, data: bytes, max_pixels: int = MAX_DOCUMENT_PIXELS,
                 strict: bool = True) -> None:
        self.data = data
        self.max_pixels = max_pixels
        self.strict = strict
        self.pixels = 0  # pels of the pages declared so far
        if len(data) < 8:
            raise TiffError(f"not a TIFF file: {len(data)} bytes, shorter than a TIFF header")
        order = data[:2]
        if order == b"II":
            self.e = "<"
        elif order == b"MM":
            self.e = ">"
        else:
            raise TiffError(f"not a TIFF file: it starts with {data[:4]!r}, not II or MM")
        magic = self._unpack("H", 2)
        if magic == 43:
            raise TiffError("BigTIFF files are not supported; convert with `tiffcp in.tif out.tif`")
        if magic != 42:
            raise TiffError(f"not a TIFF file: version {magic}, not 42")

    def _need(self, offset: int, size: int, what: str) -> None:
        if offset < 0 or offset + size > len(self.data):
            raise TiffError(
                f"truncated TIFF file: {what} at offset {offset} needs {size} bytes,"
                f" the file has {len(self.data)}"
            )

    def _unpack(self, fmt: str, offset: int, what: str = "header") -> int:
        size = struct.calcsize(fmt)
        self._need(offset, size, what)
        return struct.unpack_from(self.e + fmt, self.data, offset)[0]

    def pages(self) -> list[Page]:
        ifds: list[tuple[dict, int]] = []
        seen: set[int] = set()
        offset = self._unpack("I", 4)
        if offset == 0:
            raise TiffError("the TIFF file contains no images")
        index = 0
        while offset:
            if offset in seen:
                raise TiffError(f"corrupt TIFF file: the IFD chain loops back to offset {offset}")
            if len(seen) >= MAX_PAGES:
                raise TiffError(f"TIFF file has more than {MAX_PAGES} images; refusing to read on")
            seen.add(offset)
            tags, offset = self._ifd(offset)
            index += 1
            if int(self._value(tags, NEW_SUBFILE_TYPE, 0)) & 1:
                continue  # a reduced-resolution copy (thumbnail) of a page
            self._size(tags, f"TIFF page {index}")  # every page's, before decoding any
            ifds.append((tags, index))
        if not ifds:
            raise TiffError("the TIFF file holds only reduced-resolution images, no page")
        return [self._page(tags, index) for tags, index in ifds]

    def _size(self, tags: dict, where: str) -> tuple[int, int]:
        """(width, height) of a page, checked against the page's and the
        document's bounds; adds the page's pels to the document's."""
        width = int(self._value(tags, IMAGE_WIDTH))
        height = int(self._value(tags, IMAGE_LENGTH))
        if width < 1:
            raise TiffError(f"{where} has an impossible size {width}x{height}")
        if width * height > MAX_PIXELS:
            raise TiffError(
                f"{where} is {width}x{height} pels, more than the {MAX_PIXELS} a page may have"
            )
        # pages sharing one strip cost no file space: the sum is what counts
        self.pixels += width * height
        if self.pixels > self.max_pixels:
            raise TiffError(
                f"{where} ({width}x{height}) brings the document to {self.pixels} pels, more"
                f" than the {self.max_pixels} allowed for a file of {len(self.data)} bytes;"
                " if the file is genuine, read it with a larger"
                " faxengine.tiff.read(..., max_pixels=N)"
            )
        return width, height

    def _ifd(self, offset: int) -> tuple[dict[int, np.ndarray], int]:
        count = self._unpack("H", offset, "IFD")
        self._need(offset + 2, 12 * count, f"IFD of {count} entries")
        tags: dict[int, np.ndarray] = {}
        for i in range(count):
            pos = offset + 2 + 12 * i
            tag, typ, n = struct.unpack_from(self.e + "HHI", self.data, pos)
            if tag not in _READ_TAGS or typ not in _TYPES:
                continue  # not needed for a page (a broken one must not stop us)
            if tag in tags:
                continue  # a tag given twice: the first counts, as in libtiff
            code, size = _TYPES[typ]
            nbytes = size * n
            where = pos + 8
            if nbytes > 4:
                where = self._unpack("I", pos + 8, "IFD entry")
            self._need(where, nbytes, f"value of tag {tag}")
            dtype = np.dtype(self.e + code)
            values = np.frombuffer(self.data, dtype, nbytes // dtype.itemsize, where)
            if typ in (_RATIONAL, 10):
                num, den = values[0::2].astype(np.float64), values[1::2].astype(np.float64)
                values = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
            tags[tag] = values.astype(np.float64) if tag in _REAL_TAGS else _whole(tag, values)
        link = offset + 2 + 12 * count
        if link + 4 > len(self.data):
            return tags, 0  # the file ends after the entries: no next IFD (libtiff agrees)
        return tags, self._unpack("I", link, "next IFD offset")

    @staticmethod
    def _value(tags: dict, tag: int, default: float | None = None) -> float:
        values = tags.get(tag)
        if values is None or len(values) == 0:
            if default is None:
                raise TiffError(f"TIFF image lacks required tag {_TAG_NAMES.get(tag, tag)} ({tag})")
            return default
        return values[0].item()

    def _page(self, tags: dict, index: int) -> Page:
        where = f"TIFF page {index}"
        width = int(self._value(tags, IMAGE_WIDTH))
        height = int(self._value(tags, IMAGE_LENGTH))  # both checked by _size
        spp = int(self._value(tags, SAMPLES_PER_PIXEL, 1))
        bps = tags.get(BITS_PER_SAMPLE)
        bits = sorted({int(v) for v in bps}) if bps is not None and len(bps) else [1]
        photometric = int(self._value(tags, PHOTOMETRIC, 0))
        if bits != [1] or spp != 1 or photometric not in (0, 1, 3):
            raise TiffError(
                f"{where} is not bilevel (BitsPerSample {'/'.join(map(str, bits))},"
                f" SamplesPerPixel {spp}, Photometric {photometric}); a fax page has"
                " one bit per pel: convert it, e.g. with"
                " faxengine.t4.Page.from_pil(PIL.Image.open(path))"
            )
        compression = int(self._value(tags, COMPRESSION, 1))
        if compression not in (1, 3, 4, 32773) and compression not in _RLE_ALIGN:
            name = _COMPRESSION_NAMES.get(compression, "unknown")
            raise TiffError(
                f"{where} uses compression {compression} ({name}), which faxengine does"
                f" not read; {_CONVERT_HINT}"
            )
        if compression == 3 and int(self._value(tags, T4_OPTIONS, 0)) & 2:
            raise TiffError(
                f"{where} allows T.4 uncompressed mode (T4Options bit 1), which"
                f" faxengine does not decode; {_CONVERT_HINT}"
            )
        if TILE_WIDTH in tags or TILE_OFFSETS in tags:
            black = self._tiles(tags, width, height, compression, where)
        else:
            black = self._strips(tags, width, height, compression, where)
        if photometric == 1 or (photometric == 3 and self._palette_zero_is_dark(tags)):
            black = ~black
        x_res, y_res = self._resolution(tags)
        orientation = int(self._value(tags, ORIENTATION, 1))
        if orientation not in _ORIENT:
            orientation = 1  # not a TIFF 6.0 value: libtiff takes it as top-left too
        black = np.ascontiguousarray(_ORIENT[orientation](black))
        if orientation >= 5:
            x_res, y_res = y_res, x_res
        return Page(black, x_res, y_res)

    def _strips(self, tags: dict, width: int, height: int, compression: int,
                where: str) -> np.ndarray:
        """The decoded bits of all strips, True for a set bit (1 in the data)."""
        if height == 0:
            return np.zeros((0, width), dtype=bool)
        rows_per_strip = int(self._value(tags, ROWS_PER_STRIP, height)) or height
        rows_per_strip = min(rows_per_strip, height)
        nstrips = -(-height // rows_per_strip)
        offsets, counts = self._blocks(tags, STRIP_OFFSETS, STRIP_BYTE_COUNTS, nstrips,
                                       rows_per_strip, width, compression, where, "strip")
        bands = [
            self._block(tags, int(offsets[s]), int(counts[s]), width,
                        min(rows_per_strip, height - s * rows_per_strip), compression,
                        f"{where}, strip {s}")
            for s in range(nstrips)
        ]
        return bands[0] if len(bands) == 1 else np.concatenate(bands)

    def _tiles(self, tags: dict, width: int, height: int, compression: int,
               where: str) -> np.ndarray:
        """The decoded bits of a tiled page (TIFF 6.0 §15): every tile is
        TileWidth x TileLength pels coded on its own, left to right then top
        to bottom; those at the right and bottom edges are cut to the page."""
        tile_w = int(self._value(tags, TILE_WIDTH))
        tile_h = int(self._value(tags, TILE_LENGTH))
        if tile_w < 1 or tile_h < 1 or tile_w * tile_h > MAX_PIXELS:
            raise TiffError(f"{where} has impossible tiles of {tile_w}x{tile_h} pels")
        across, down = -(-width // tile_w), -(-height // tile_h)
        offsets, counts = self._blocks(tags, TILE_OFFSETS, TILE_BYTE_COUNTS, across * down,
                                       tile_h, tile_w, compression, where, "tile")
        black = np.zeros((height, width), dtype=bool)
        for t in range(across * down):
            y, x = t // across * tile_h, t % across * tile_w
            tile = self._block(tags, int(offsets[t]), int(counts[t]), tile_w, tile_h,
                               compression, f"{where}, tile {t}")
            black[y:y + tile_h, x:x + tile_w] = tile[:height - y, :width - x]
        return black

    def _blocks(self, tags: dict, offsets_tag: int, counts_tag: int, n: int, rows: int,
                width: int, compression: int, where: str, kind: str
                ) -> tuple[np.ndarray, np.ndarray]:
        """Offsets and byte counts of the page's n strips or tiles.  Without
        byte counts, or with a count of 0 for a page of one, libtiff works
        them out ("Bogus StripByteCounts field, ignoring and calculating");
        so do we: an uncompressed one holds its rows, a coded one runs to the
        end of the file (its decoder stops where its rows do), but no further
        than its rows can need (9 bits a pel is more than any T.4 code takes),
        so that many strips at one offset cost no more than their pels."""
        offsets = tags.get(offsets_tag, np.zeros(0))
        if len(offsets) < n:
            raise TiffError(f"{where} has {len(offsets)} {_TAG_NAMES[offsets_tag]} for {n} {kind}s")
        counts = tags.get(counts_tag)
        if counts is None or len(counts) < n or (n == 1 and counts[0] == 0 and offsets[0]):
            if compression == 1:
                counts = np.full(n, rows * ((width + 7) // 8))
            else:
                most = rows * ((width * 9 + 7) // 8 + 32)
                counts = np.clip(len(self.data) - offsets[:n], 0, most)
        return offsets, counts

    def _block(self, tags: dict, start: int, size: int, width: int, rows: int,
               compression: int, what: str) -> np.ndarray:
        """One strip or tile decoded: ``rows`` x ``width`` bools."""
        if not self.strict and start <= len(self.data) < start + size:
            size = len(self.data) - start  # a file cut short: read what is there
        self._need(start, size, what)
        raw = self.data[start : start + size]
        if int(self._value(tags, FILL_ORDER, 1)) == 2:
            raw = _REVERSED[np.frombuffer(raw, dtype=np.uint8)].tobytes()
        row_bytes = (width + 7) // 8
        if compression == 1:
            return _unpack_rows(raw, rows, width, what, self.strict)
        if compression == 32773:
            return _unpack_rows(_unpackbits(raw, rows * row_bytes), rows, width, what,
                                self.strict)
        if compression in _RLE_ALIGN:
            return _ccitt_rows(raw, width, rows, "mh", what, self.strict, _RLE_ALIGN[compression])
        if compression == 4:
            return _ccitt_rows(raw, width, rows, "mmr", what, self.strict)
        options = int(self._value(tags, T4_OPTIONS, 0))
        return _ccitt_rows(raw, width, rows, "mr" if options & 1 else "mh", what, self.strict)

    def _palette_zero_is_dark(self, tags: dict) -> bool:
        cmap = tags.get(COLOR_MAP)
        if cmap is None or len(cmap) != 6:
            raise TiffError("palette TIFF page lacks a ColorMap of 2 entries")
        r, g, b = cmap.astype(np.float64).reshape(3, 2)
        luma = 0.299 * r + 0.587 * g + 0.114 * b
        return bool(luma[0] < luma[1])

    def _resolution(self, tags: dict) -> tuple[float, float]:
        """(x, y) in dpi; an axis whose value is missing or not a sane
        resolution takes the other's, both the default when neither is."""
        per_cm = int(self._value(tags, RESOLUTION_UNIT, 2)) == 3
        x, y = (_dpi(float(self._value(tags, tag, 0.0)), per_cm)
                for tag in (X_RESOLUTION, Y_RESOLUTION))
        if x is None and y is None:
            return Page.x_res, Page.y_res  # none given: fine resolution
        return (x or y), (y or x)


def _dpi(value: float, per_cm: bool) -> float | None:
    """A resolution tag's value in dpi, None when absent or not usable."""
    if per_cm:
        value *= 2.54
    if not MIN_RESOLUTION <= value <= MAX_RESOLUTION:  # also false for NaN
        return None
    return value


def _whole(tag: int, values: np.ndarray) -> np.ndarray:
    """The values of a tag that counts, sizes or points: whole numbers in a
    LONG's range as int64, whatever field type carried them."""
    if values.dtype.kind == "f":
        ok = np.isfinite(values) & (values == np.floor(values))
    else:
        ok = np.ones(len(values), dtype=bool)
    ok &= (values >= 0) & (values <= _MAX_LONG)
    if not ok.all():
        bad = values[np.flatnonzero(~ok)[0]].item()
        raise TiffError(
            f"corrupt TIFF file: tag {_TAG_NAMES.get(tag, tag)} ({tag}) holds {bad},"
            f" not a whole number from 0 to {_MAX_LONG}"
        )
    return values.astype(np.int64)


def _unpack_rows(raw: bytes, rows: int, width: int, what: str, strict: bool = True) -> np.ndarray:
    """Rows padded to whole bytes, first pel in the most significant bit;
    not strict: rows the data do not hold are white (and reported)."""
    row_bytes = (width + 7) // 8
    need = rows * row_bytes
    if len(raw) < need:
        if strict:
            raise TiffError(f"truncated TIFF file: {what} holds {len(raw)} of {need} bytes")
        _report(what, f"its data end after {len(raw)} of {need} bytes", rows - len(raw) // row_bytes, rows)
        raw = raw + bytes(need - len(raw))
    packed = np.frombuffer(raw, dtype=np.uint8, count=need).reshape(rows, row_bytes)
    return np.unpackbits(packed, axis=1, count=width).view(bool)


def _report(what: str, why: str, lines: int, rows: int) -> None:
    """read(strict=False): a page read as far as its data go."""
    warnings.warn(TiffWarning(f"{what}: {why}; {lines} of its {rows} lines are white or"
                              " repaired (read with strict=False)"), stacklevel=2)


def _unpackbits(raw: bytes, need: int) -> bytes:
    """PackBits (TIFF 6.0 §9): n < 128 copies n + 1 bytes, n > 128 repeats the
    next byte 257 - n times, 128 is a no-op.  One step per run, at most
    ``need`` bytes out however the data claims more."""
    out = bytearray()
    i, n = 0, len(raw)
    while i < n and len(out) < need:
        c = raw[i]
        i += 1
        if c < 128:
            out += raw[i : i + c + 1]
            i += c + 1
        elif c > 128 and i < n:
            out += raw[i : i + 1] * (257 - c)
            i += 1
    return bytes(out)


def _ccitt_rows(raw: bytes, width: int, rows: int, coding: str, what: str, strict: bool = True,
                rle_align: int | None = None) -> np.ndarray:
    """A strip or tile of T.4/T.6 code; ``rle_align``: MH rows without EOLs
    on boundaries of that many bits (Compression 2 and 32771).  Not strict:
    decoded as ``t4.decode_lenient`` does, the lines that end early white."""
    t4 = codec()
    if width > t4.codec.MAX_WIDTH:
        raise TiffError(
            f"{what}: {width} pels is wider than the {t4.codec.MAX_WIDTH} the T.4 coder takes"
        )
    name = coding.upper() if rle_align is None else f"CCITT RLE{'W' if rle_align == 16 else ''}"
    framing = {} if rle_align is None else {"eol": False, "align": rle_align}
    if coding == "mh" and rle_align is None and not (_has_eol(raw[:64]) or _has_eol(raw)):
        # Group 3 1-D without a single EOL: lines back to back, as libtiff
        # reads such a strip (it retries without EOLs when it finds none)
        framing = {"eol": False, "align": 1}
    if not strict:
        band, bad = t4.decode_lenient(raw, width, coding, height=rows, max_lines=rows, **framing)
        if bad.count:
            _report(what, f"{name} data end early or hold corrupt lines", bad.count, rows)
        return band
    try:
        band = t4.decode(raw, width, coding, height=rows, **framing)
    except t4.T4Error as exc:
        raise TiffError(f"{what}: corrupt {name} data: {exc}; read(..., strict=False) reads"
                        " it as far as it goes") from exc
    if band.shape[0] != rows:
        raise TiffError(f"{what}: {name} data holds {band.shape[0]} of {rows} rows")
    return band


# zero bits before the first one and after the last one of each byte
_LEADING_ZEROS = np.array([8] + [8 - b.bit_length() for b in range(1, 256)], dtype=np.int64)
_TRAILING_ZEROS = np.array([8] + [(b & -b).bit_length() - 1 for b in range(1, 256)],
                           dtype=np.int64)


def _has_eol(raw: bytes) -> bool:
    """Whether T.4 code holds an EOL: 11 or more zeros, then a one.  A byte
    holds at most 6 zeros between ones, so the zeros that count run from the
    last one of a byte to the first one of the next byte that has one."""
    octets = np.frombuffer(raw, dtype=np.uint8)
    at = np.flatnonzero(octets)
    if len(at) == 0:
        return False
    gaps = _TRAILING_ZEROS[octets[at[:-1]]] + 8 * (np.diff(at) - 1) + _LEADING_ZEROS[octets[at[1:]]]
    return bool(8 * at[0] + _LEADING_ZEROS[octets[at[0]]] >= 11 or (gaps >= 11).any())
