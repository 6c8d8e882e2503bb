"""Renderer: files that are valid but odd, with the error a sender can act on."""
from __future__ import annotations

import io

import pypdfium2
from PIL import Image

from faxengine.gateway.mail import Document
from faxengine.gateway.render import RenderFailure, render_documents


def test_a_pdf_of_no_pages_says_so_not_damaged():
    out = io.BytesIO()
    pypdfium2.PdfDocument.new().save(out)
    r = render_documents([Document("empty.pdf", "pdf", out.getvalue())])
    assert r.error == RenderFailure("empty.pdf", "empty.pdf: the PDF has no pages")
    assert r.counts == [0] and r.pages == []


def jpeg_of_precision(bits: int, sof: int) -> bytes:
    """An ordinary JPEG whose frame header says another precision and process
    (the frame header is all Pillow reads before it refuses)."""
    out = io.BytesIO()
    Image.new("L", (16, 16), 128).save(out, "JPEG")
    data = bytearray(out.getvalue())
    at = data.index(b"\xff\xc0")
    data[at + 1], data[at + 4] = sof, bits
    return bytes(data)


def test_a_12_bit_jpeg_is_named_as_such_not_as_damaged():
    r = render_documents([Document("scan.jpg", "jpeg", jpeg_of_precision(12, 0xC1))])
    assert r.error == RenderFailure("scan.jpg", "scan.jpg: a 12-bit extended sequential JPEG "
                                    "cannot be read; save it as an ordinary 8-bit JPEG (or as "
                                    "PDF) and send it again")
    # a damaged one is still "damaged"
    r = render_documents([Document("bad.jpg", "jpeg", b"\xff\xd8\xff\xe0\x00\x02garbage")])
    assert r.error == RenderFailure("bad.jpg", "bad.jpg: not a picture that can be read "
                                    "(damaged?); send it again as JPEG or TIFF")


def test_cmyk_and_progressive_jpegs_render():
    rgb = Image.radial_gradient("L").convert("RGB").resize((400, 300))
    for image, kw in ((rgb.convert("CMYK"), {}), (rgb, {"progressive": True})):
        out = io.BytesIO()
        image.save(out, "JPEG", **kw)
        r = render_documents([Document("p.jpg", "jpeg", out.getvalue())])
        assert r.error is None and r.counts == [1]
        assert r.pages[0].width == 1728 and 0 < r.pages[0].image.mean() < 1


def test_no_pages_is_told_also_after_another_pdf_failed():
    """PDFium's last error is the previous document's: the check cannot rely on it."""
    out = io.BytesIO()
    pypdfium2.PdfDocument.new().save(out)
    render_documents([Document("bad.pdf", "pdf", b"%PDF-1.4 garbage")])
    r = render_documents([Document("empty.pdf", "pdf", out.getvalue())])
    assert r.error == RenderFailure("empty.pdf", "empty.pdf: the PDF has no pages")
    r = render_documents([Document("bad.pdf", "pdf", b"%PDF-1.4 garbage")])
    assert r.error.message.startswith("bad.pdf: not a PDF that can be read (damaged")
