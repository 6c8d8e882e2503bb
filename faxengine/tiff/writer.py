"""The TIFF writer: fax pages to TIFF Class F.

``write`` and ``TiffWriter`` produce TIFF Class F as RFC 2306 and the
Class F note (Campbell, 1992) describe and as libtiff writes it: little-endian,
one strip per page coded by our own T.4/T.6 coder (MH: Compression 3 with
T4Options 0; MR: Compression 3, T4Options 1 (2-D), K = 2 at standard and 4 at
finer resolutions; MMR: Compression 4), EOL before each line and no RTC (the
strip's byte count ends the page; libtiff writes none either), min-is-white,
FillOrder 1, resolution in inches, NewSubfileType 2 (a page of a multi-page
document), PageNumber and CleanFaxData.  ``TiffWriter`` appends one page at a
time (its strip, then its IFD, then the link to it from the previous IFD), so
the file on disk is a complete TIFF after every page, which is what a
receiving terminal needs.  A TIFF needs an image: a writer closed without a
page raises ``TiffError`` and leaves no file, and a page larger than
``MAX_PIXELS`` (which ``read`` refuses) is refused.
"""
from __future__ import annotations

import math
import os
import struct
from fractions import Fraction
from typing import BinaryIO, Iterable

from faxengine.t4.page import Page
from faxengine.tiff.errors import TiffError, codec
from faxengine.tiff.tags import *  # noqa: F403 - the tag numbers, named as TIFF 6.0 names them
from faxengine.tiff.tags import _ASCII, _LONG, _MAX_LONG, _PACK, _RATIONAL, _SHORT

__all__ = ["write", "TiffWriter"]

_CODINGS = {"mh": (3, 0), "mr": (3, 1), "mmr": (4, 0)}  # coding -> (Compression, T4/T6Options)


def write(target: str | os.PathLike | BinaryIO, pages: Iterable[Page], coding: str = "mmr") -> None:
    """Write pages as a multi-page TIFF Class F file.

    Args:
        target: a path or a seekable binary file object.
        pages: the pages, first page first.
        coding: "mh", "mr" or "mmr" (T.4 1-D, T.4 2-D, T.6).

    Raises:
        TiffError: an unknown coding, no page at all (nothing is written), or
            a page that cannot be a fax page.
    """
    with TiffWriter(target, coding) as writer:
        for page in pages:
            writer.add_page(page)


class TiffWriter:
    """Writes a TIFF Class F file one page at a time.

    After each ``add_page`` the file is a complete TIFF of the pages so far;
    their PageNumber totals read 0 ("not known", TIFF 6.0) until ``close``
    fills them in.  Use as a context manager or call ``close``.  A TIFF
    needs an image: closing a writer that got no page is a ``TiffError``,
    and the file it opened is removed (a file object is cut back to where
    the writer started).
    """

    def __init__(self, target: str | os.PathLike | BinaryIO, coding: str = "mmr") -> None:
        if coding not in _CODINGS:
            raise TiffError(f"unknown coding {coding!r}; use 'mh', 'mr' or 'mmr'")
        self.coding = coding
        if hasattr(target, "write"):
            self._f: BinaryIO = target  # type: ignore[assignment]
            self._own = False
        else:
            self._f = open(target, "w+b")  # type: ignore[arg-type]
            self._own = True
        self._path = None if not self._own else target
        self._base = self._f.tell()
        self._page_number_at: list[int] = []  # file offsets of PageNumber values
        self._link_at = 4  # where the offset of the next IFD goes
        self._end = 8
        self._put(0, b"II*\0" + struct.pack("<I", 0))
        self.closed = False

    @property
    def pages(self) -> int:
        """How many pages have been written."""
        return len(self._page_number_at)

    def add_page(self, page: Page, coded: bytes | None = None) -> None:
        """Code the page and append it, leaving a valid file on disk.

        ``coded``: the page already coded in the writer's coding, as
        ``t4.encode(page.image, coding, k=page.mr_k (MR), rtc=False)`` codes
        it (a caller that codes it a slice at a time, as a fax receiver
        does); it is written as it is.
        """
        if self.closed:
            raise TiffError("cannot add a page to a closed TiffWriter")
        if not isinstance(page, Page):
            raise TiffError(f"add_page takes a faxengine Page, not {type(page).__name__}")
        if page.height == 0 or page.width == 0:
            raise TiffError(f"page {self.pages + 1} is empty ({page.width}x{page.height})")
        if page.width * page.height > MAX_PIXELS:
            raise TiffError(
                f"page {self.pages + 1} is {page.width}x{page.height} pels, more than the"
                f" {MAX_PIXELS} a page read back may have (MAX_PIXELS)"
            )
        strip = self._code(page) if coded is None else bytes(coded)
        strip_at = self._end
        ifd_at = strip_at + len(strip) + (len(strip) & 1)  # IFDs start on a word boundary
        compression, options = _CODINGS[self.coding]
        entries = [
            (NEW_SUBFILE_TYPE, _LONG, [2]),  # bit 1: one page of a multi-page document
            (IMAGE_WIDTH, _LONG, [page.width]),
            (IMAGE_LENGTH, _LONG, [page.height]),
            (BITS_PER_SAMPLE, _SHORT, [1]),
            (COMPRESSION, _SHORT, [compression]),
            (PHOTOMETRIC, _SHORT, [0]),  # min-is-white: a set bit is black
            (FILL_ORDER, _SHORT, [1]),
            (STRIP_OFFSETS, _LONG, [strip_at]),
            (SAMPLES_PER_PIXEL, _SHORT, [1]),
            (ROWS_PER_STRIP, _LONG, [page.height]),
            (STRIP_BYTE_COUNTS, _LONG, [len(strip)]),
            (X_RESOLUTION, _RATIONAL, [_rational(page.x_res)]),
            (Y_RESOLUTION, _RATIONAL, [_rational(page.y_res)]),
            (PLANAR_CONFIGURATION, _SHORT, [1]),
            (T4_OPTIONS if compression == 3 else T6_OPTIONS, _LONG, [options]),
            (RESOLUTION_UNIT, _SHORT, [2]),  # inch
            (PAGE_NUMBER, _SHORT, [self.pages, 0]),  # total filled in by close()
            (SOFTWARE, _ASCII, b"faxengine\0"),
            (CLEAN_FAX_DATA, _SHORT, [0]),  # coded from an image: no bad lines
        ]
        ifd, page_number_at = _ifd_bytes(entries, ifd_at)
        # the strip and the IFD first, then the link to them: a crash between
        # the two leaves the previous pages readable
        self._put(strip_at, strip + b"\0" * (ifd_at - strip_at - len(strip)) + ifd)
        self._f.flush()
        self._put(self._link_at, struct.pack("<I", ifd_at))
        self._f.flush()
        self._end = ifd_at + len(ifd)
        self._link_at = ifd_at + 2 + 12 * len(entries)
        self._page_number_at.append(page_number_at)

    def close(self) -> None:
        """Fill in the page totals and close the file (if this writer opened it).

        Raises:
            TiffError: no page was added; nothing is left behind.
        """
        if self.closed:
            return
        self.closed = True
        if self.pages == 0:
            self._discard()
            raise TiffError("no page to write: a TIFF file needs at least one image, and"
                            " one without any is a file nothing can read; nothing was written")
        total = struct.pack("<H", self.pages)
        for at in self._page_number_at:
            self._put(at + 2, total)
        self._f.flush()
        if self._own:
            self._f.close()

    def __enter__(self) -> "TiffWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None and self.pages == 0 and not self.closed:
            self.closed = True
            self._discard()  # the error on its way out says what went wrong
            return
        self.close()

    def _discard(self) -> None:
        """Undo the header of a writer that got no page."""
        if self._own:
            self._f.close()
            os.remove(self._path)  # type: ignore[arg-type]
        else:
            self._f.seek(self._base)
            self._f.truncate()

    def _put(self, offset: int, data: bytes) -> None:
        self._f.seek(self._base + offset)
        self._f.write(data)

    def _code(self, page: Page) -> bytes:
        t4 = codec()
        k = page.mr_k if self.coding == "mr" else None
        return t4.encode(page.image, self.coding, k=k, rtc=False)


def _rational(value: float) -> tuple[int, int]:
    """A resolution in dpi as a TIFF RATIONAL (two LONGs)."""
    f = Fraction(value).limit_denominator(10000) if math.isfinite(value) else Fraction(0)
    if not 0 < f.numerator <= _MAX_LONG:
        raise TiffError(
            f"a resolution of {value} dpi cannot be written to a TIFF file; give the page"
            f" one from {MIN_RESOLUTION:g} to {MAX_RESOLUTION:g} dpi"
        )
    return f.numerator, f.denominator


def _ifd_bytes(entries: list, at: int) -> tuple[bytes, int]:
    """An IFD at file offset ``at`` with a zero next-IFD link, the values that
    do not fit in an entry after it; also the offset of PageNumber's value."""
    fields = bytearray(struct.pack("<H", len(entries)))
    extra = bytearray()
    extra_at = at + 2 + 12 * len(entries) + 4
    page_number_at = 0
    for tag, typ, values in entries:
        if typ == _ASCII:
            payload, count = bytes(values), len(values)
        elif typ == _RATIONAL:
            payload = b"".join(struct.pack("<II", n, d) for n, d in values)
            count = len(values)
        else:
            payload = struct.pack("<" + _PACK[typ] * len(values), *values)
            count = len(values)
        if tag == PAGE_NUMBER:
            page_number_at = at + len(fields) + 8
        if len(payload) <= 4:
            fields += struct.pack("<HHI", tag, typ, count) + payload.ljust(4, b"\0")
        else:
            offset = extra_at + len(extra)
            fields += struct.pack("<HHII", tag, typ, count, offset)
            extra += payload + b"\0" * (len(payload) & 1)
    fields += struct.pack("<I", 0)
    return bytes(fields + extra), page_number_at
