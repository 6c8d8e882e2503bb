"""Documents to fax pages: the body and the attachments of a request, rendered.

``render_documents`` takes the documents of a request (``mail.Document``: the
body and the attachments in the order they are faxed) and returns a
``Rendering``: the page count of each document, the pages, and what failed.
Every page is a bilevel ``faxengine.t4.Page`` 1728 pels wide (A4, T.4 §2.2)
at fine resolution (204 x 196 dpi, R8 x 7.7 lines/mm) and at most
``A4_LINES`` (297 mm) long:

========== ============================================================
 type       how (module)
========== ============================================================
 text       the body and .txt files: typeset in IPAexGothic 10.5 pt,
            lines broken by the Japanese rules (kinsoku shori), one
            full A4 page each (``text``)
 pdf        pypdfium2 (PDFium) in grey, fitted to the A4 page; text by a
            threshold, photo areas by error diffusion (``pdf``, ``common``)
 word,      LibreOffice headless to PDF, then as a PDF (``office``)
 excel
 tiff       bilevel fax pages pel for pel; standard resolution doubled,
            other sizes scaled; grey and colour through Pillow (``picture``)
 jpeg       Pillow, EXIF orientation applied, the page width, dithered
========== ============================================================

Bounds.  Nothing a document contains makes it raise, run without end or
use memory without bound (one PDF page inside PDFium excepted, ``pdf``): what cannot be rendered is a ``RenderError`` caught
into ``Rendering.error`` (the request becomes 変換エラー naming the file);
``RenderLimits`` bounds the pels of a picture, the seconds of a document, the
memory and disk of LibreOffice and what a ZIP may unpack to.  Page counts are
read first where the format has them (a PDF's page tree, a TIFF's IFDs, a
picture's height): a 10 000-page PDF is counted, not rendered.  When the
pages come to more than ``max_pages`` the rendering stops there: the counts
then sum to more than ``max_pages`` (超過枚数エラー, ``Request.with_page_counts``)
and no pages are returned.

Inputs and outputs are plain picklable data (a ``Rendering`` packs its pels
8 a byte), so the service runs this in a process pool; LibreOffice gets one
profile directory per process.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from faxengine.gateway.errors import GatewayError
from faxengine.gateway.render.common import A4_LINES, WIDTH, RenderError, RenderLimits
from faxengine.t4 import Page

__all__ = ["A4_LINES", "WIDTH", "RenderError", "RenderFailure", "RenderLimits", "Rendering",
           "render_documents", "wrap_text"]


@dataclass(frozen=True, slots=True)
class RenderFailure:
    """Why a document could not be rendered: ``document`` is its file name
    ("" for the body), ``message`` says what was wrong and what to do."""

    document: str
    message: str


@dataclass(slots=True)
class Rendering:
    """What ``render_documents`` made of the documents.

    Attributes:
        counts: the pages of each document, one per document.  When the
            rendering stopped early (more than ``max_pages``, or an error) the
            documents not looked at count 0.
        pages: every page in order; empty when the counts pass ``max_pages``
            or a document failed (nothing is sent then).
        error: the document that could not be rendered, None if all were.
    """

    counts: list[int] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    error: RenderFailure | None = None

    def __reduce__(self):
        # from a worker process the pages travel 8 pels a byte: 50 pages are
        # 25 MB through the pipe instead of 200 MB of bool arrays
        packed = [(np.packbits(p.image, axis=1), p.width, p.x_res, p.y_res) for p in self.pages]
        return _unpickle, (self.counts, packed, self.error)


def _unpickle(counts, packed, error) -> Rendering:
    pages = [Page(np.unpackbits(bits, axis=1, count=width).astype(bool), x_res, y_res)
             for bits, width, x_res, y_res in packed]
    return Rendering(counts, pages, error)


def render_documents(documents: Sequence, *, max_pages: int = 50,
                     limits: RenderLimits = RenderLimits()) -> Rendering:
    """Render the documents of a request to fax pages, in order.

    Args:
        documents: ``mail.Document`` items (name, file_type, data, text).
        max_pages: the most pages of all documents together (spec §1: 50).
        limits: the bounds on what one document may cost.

    Returns:
        A ``Rendering``; it never raises for what a document contains.
    """
    rendering = Rendering(counts=[0] * len(documents))
    for i, doc in enumerate(documents):
        room = max_pages - sum(rendering.counts)
        try:
            count, pages = _render_one(doc, room, limits)
        except RenderError as exc:
            rendering.error = RenderFailure(doc.name, str(exc))
            rendering.pages = []
            return rendering
        rendering.counts[i] = count
        if count > room:        # 超過枚数エラー: counted, not rendered further
            rendering.pages = []
            return rendering
        rendering.pages.extend(pages)
    return rendering


def _render_one(doc, room: int, limits: RenderLimits) -> tuple[int, list[Page]]:
    """The page count of one document and, when it fits in ``room``, its pages."""
    from faxengine.gateway.render import office, pdf, picture, text

    what = doc.name or "the mail body"
    deadline = time.monotonic() + limits.max_seconds
    try:
        if doc.file_type == "text":
            body = doc.text if doc.text is not None else doc.data.decode("utf-8", "replace")
            return text.text_pages(body, room, deadline, what)
        if doc.file_type == "pdf":
            return pdf.pdf_pages(doc.data, room, deadline, what, limits)
        if doc.file_type in ("word", "excel"):
            data = office.to_pdf(doc.data, doc.name, what, limits)
            return pdf.pdf_pages(data, room, time.monotonic() + limits.max_seconds, what, limits)
        if doc.file_type == "tiff":
            return picture.tiff_pages(doc.data, room, what, limits)
        if doc.file_type == "jpeg":
            return picture.picture_pages(doc.data, room, what, limits)
    except RenderError:
        raise
    except MemoryError:
        raise RenderError(f"{what}: not enough memory to render it; send it in smaller parts"
                          ) from None
    except (GatewayError, ValueError, OSError, EOFError, RuntimeError) as exc:
        # a reader's surprise at a file it did not expect: still the file's fault
        raise RenderError(f"{what}: cannot render it ({type(exc).__name__}: {exc})") from None
    raise RenderError(f"{what}: a document of type {doc.file_type!r} cannot be rendered; "
                      "send Word, Excel, PDF, TIFF, JPEG or text")


def __getattr__(name: str):
    if name == "wrap_text":
        from faxengine.gateway.render.text import wrap_text
        return wrap_text
    raise AttributeError(f"module 'faxengine.gateway.render' has no attribute {name!r}")
