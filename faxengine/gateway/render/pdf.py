"""PDF to pages: PDFium (pypdfium2) renders each page in grey.

The page count is read from the page tree first, so a document of more
pages than the request has room for is counted, not rendered.  Each page is
fitted to the A4 fax page (a landscape page turned a quarter, as fax drivers
print it): rendered at 204 dpi times the fitting scale, scaled to 196 lines
per inch, then made bilevel: the parts that are mostly mid-grey pels (a
photo, a grey scan) by error diffusion (Floyd-Steinberg), the text by a
threshold, which keeps the strokes crisp (``common.bilevel``).  The pictures
on a page are measured before it is drawn (``RenderLimits.max_pixels``), as
PDFium decodes each whole; a page of millions of drawing operations is not
bounded inside PDFium, only between pages (``max_seconds``).  Encrypted
(a user password) and damaged files are a ``RenderError`` that names the
file.
"""
from __future__ import annotations

import threading
import time

from faxengine.gateway.render.common import (A4_LINES, WIDTH, X_DPI, Y_DPI, RenderError,
                                             RenderLimits, bilevel)
from faxengine.t4 import Page

__all__ = ["pdf_pages"]

# PDFium is not thread-safe: one rendering at a time in a process
_LOCK = threading.Lock()


def pdf_pages(data: bytes, room: int, deadline: float, what: str,
              limits: RenderLimits) -> tuple[int, list[Page]]:
    """The page count of a PDF and, when it is at most ``room``, its pages.

    Raises:
        RenderError: encrypted, damaged, no pages, or past ``deadline``.
    """
    import pypdfium2 as pdfium

    with _LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise RenderError(f"{what}: the PDF is encrypted with a password; "
                                  "send it without one") from None
            raise RenderError(f"{what}: not a PDF that can be read (damaged or "
                              f"incomplete: {exc}); send it again") from None
        try:
            count = len(doc)
            if count == 0:
                raise RenderError(f"{what}: the PDF has no pages")
            if count > room:
                return count, []
            pages = []
            for i in range(count):
                if time.monotonic() > deadline:
                    raise RenderError(f"{what}: rendering page {i + 1} of {count} took more "
                                      f"than {limits.max_seconds:g} s in all; send it in parts")
                pages.append(_page(doc[i], i, what, limits))
            return count, pages
        finally:
            doc.close()


def _page(page, index: int, what: str, limits: RenderLimits) -> Page:
    import pypdfium2.raw as pdfium_c
    from PIL import Image

    try:
        # PDFium decodes an image whole to draw it: a few bytes of Flate can
        # hold gigapels, so their size is checked first (as for a JPEG)
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=4):
            w, h = obj.get_px_size()
            if w * h > limits.max_pixels:
                raise RenderError(
                    f"{what}: page {index + 1} holds a picture of {w} x {h} pels, more than "
                    f"{limits.max_pixels:,} (a decompression bomb?); scale it down")
        w_pt, h_pt = page.get_size()
        if not (w_pt > 0 and h_pt > 0):
            raise RenderError(f"{what}: page {index + 1} has no size ({w_pt} x {h_pt} pt)")
        rotation = 90 if w_pt > h_pt else 0
        if rotation:
            w_pt, h_pt = h_pt, w_pt
        # fit the page: 1728 pels at 204 dpi across, 2287 lines at 196 dpi down
        fit = min(WIDTH / (w_pt * X_DPI / 72), A4_LINES / (h_pt * Y_DPI / 72))
        bitmap = page.render(scale=X_DPI / 72 * fit, rotation=rotation, grayscale=True,
                             fill_color=(255, 255, 255, 255))
        grey = bitmap.to_pil().convert("L")
    finally:
        page.close()
    w = min(WIDTH, grey.width)
    lines = max(1, min(A4_LINES, round(h_pt * Y_DPI / 72 * fit)))
    grey = grey.resize((w, lines), Image.Resampling.LANCZOS)
    return bilevel(grey, dither=None)
