"""Gateway rendering speed: pages per second on one core, per document type

One round renders one document of ``PAGES`` pages with ``render_documents``
in this process (one core; the service runs one such process per core):

* text: a Japanese letter, ``PAGES`` full A4 pages of IPAexGothic 10.5 pt
  (typesetting, kinsoku line breaking, the grey page scaled and thresholded);
* pdf: a PDF of ``PAGES`` A4 pages of text (PDFium in grey, fitting, the
  photo/text blocks, threshold);
* tiff: a TIFF-F file (MMR) of ``PAGES`` fax pages passed pel for pel (the
  TIFF read and T.6 decoding are most of it);
* jpeg: a 2000 x 2800 colour photo, dithered onto 2 pages, per page.

There is no reference contender: the table shows ours alone (pages/s).
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from faxengine import tiff
from faxengine.gateway.mail import Document
from faxengine.gateway.render import render_documents
from faxengine.t4 import Page

PAGES = 5
LINE = "拝啓　時下ますますご清栄のこととお慶び申し上げます。FAX送信サンプル 0921234567、"


def _text() -> Document:
    body = "\f".join("\n".join(f"{k:02d} {LINE * 2}" for k in range(40)) for _ in range(PAGES))
    return Document("letter.txt", "text", body.encode("utf-8"), text=body)


def _pdf() -> Document:
    from gateway.test_render_pdf import make_pdf

    content = b"BT /F1 11 Tf 72 770 Td 14 TL " + b"(The quick brown fox jumps) ' " * 48 + b"ET"
    return Document("doc.pdf", "pdf", make_pdf([content] * PAGES))


def _tiff() -> Document:
    rng = np.random.default_rng(3)
    image = np.zeros((2287, 1728), dtype=bool)
    image[rng.integers(0, 2287, 400), :] = rng.random((400, 1728)) < 0.3
    buf = io.BytesIO()
    tiff.write(buf, [Page(image, 204, 196)] * PAGES)
    return Document("fax.tif", "tiff", buf.getvalue())


def _jpeg() -> Document:
    rng = np.random.default_rng(4)
    small = rng.integers(0, 255, (28, 20, 3), dtype=np.uint8)
    photo = Image.fromarray(small).resize((2000, 2800), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=90)
    return Document("photo.jpg", "jpeg", buf.getvalue())


DOCUMENTS = {"text": _text, "pdf": _pdf, "tiff": _tiff, "jpeg": _jpeg}


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_render_speed(benchmark, speed, kind):
    doc = DOCUMENTS[kind]()
    result = render_documents([doc])              # warm: the font, PDFium loaded
    assert result.error is None
    pages = sum(result.counts)
    benchmark.group = f"render {kind}"
    benchmark.pedantic(render_documents, args=([doc],), rounds=5, iterations=1)
    stats = getattr(benchmark, "stats", None)
    if stats:
        speed.record(f"render {kind}", "ours", pages, stats.stats.min, stats.stats.rounds)
