"""faxengine.gateway.render: PDF attachments through PDFium."""
import io
import time

import numpy as np
import pytest

from faxengine.gateway.mail import Document
from faxengine.gateway.render import A4_LINES, WIDTH, RenderFailure, render_documents

pytest.importorskip("pypdfium2", reason="PDF rendering needs pypdfium2 (pip install pypdfium2)")

TEXT = b"BT /F1 36 Tf 72 720 Td (Hello fax) Tj ET"


def make_pdf(contents, size=(595, 842), *, repeat: int = 0, encrypt: bool = False) -> bytes:
    """A small PDF by hand: one page per content stream, or ``repeat`` pages of one
    stream (a 10 000-page file of 1.5 MB); ``encrypt``: a Standard security handler
    whose user password is not empty."""
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
            3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    streams = []
    nxt = 4
    for data in contents:
        objs[nxt] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data)
        streams.append(nxt)
        nxt += 1
    kids = []
    for ref in (streams * repeat if repeat else streams):
        objs[nxt] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                     b"/Resources << /Font << /F1 3 0 R >> >> >>" % (size[0], size[1], ref))
        kids.append(b"%d 0 R" % nxt)
        nxt += 1
    objs[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    extra = b""
    if encrypt:
        objs[nxt] = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (b"ab" * 32,
                                                                                 b"cd" * 32)
        extra = b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (nxt, b"00" * 16, b"00" * 16)
        nxt += 1
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for k in sorted(objs):
        offsets[k] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (k, objs[k])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % nxt
    out += b"".join(b"%010d 00000 n \n" % offsets[k] for k in range(1, nxt))
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (nxt, extra, xref)
    return bytes(out)


def pdf(data: bytes, name: str = "doc.pdf") -> Document:
    return Document(name, "pdf", data)


def test_a4_text_pages_fit_the_fax_page_and_are_thresholded():
    r = render_documents([pdf(make_pdf([TEXT, TEXT + b" BT /F1 36 Tf 72 100 Td (2) Tj ET"]))])
    assert r.error is None and r.counts == [2] and len(r.pages) == 2
    for page in r.pages:
        assert page.width == WIDTH and page.resolution == "fine"
        assert A4_LINES - 5 <= page.height <= A4_LINES       # A4 at its own size
    first = r.pages[0].image
    rows = np.flatnonzero(first.any(axis=1))
    # "Hello fax" in 36 pt on a baseline 122 pt from the top: 332 lines at 196 dpi,
    # its capitals (0.72 em) 26 pt above that
    assert 328 <= rows.max() <= 334 and 255 <= rows.min() <= 265
    assert not np.array_equal(r.pages[0].image, r.pages[1].image)


def test_a_landscape_page_is_turned_to_portrait():
    line = b"BT /F1 36 Tf 72 400 Td (A line of text across) Tj ET"
    r = render_documents([pdf(make_pdf([line], size=(842, 595)))])
    page = r.pages[0]
    assert page.width == WIDTH and page.height > 2200
    cols = np.flatnonzero(page.image.any(axis=0))
    rows = np.flatnonzero(page.image.any(axis=1))
    assert rows.max() - rows.min() > cols.max() - cols.min()   # the text runs down the page


def test_a_photo_page_is_dithered():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (600, 800), 128).save(buf, "PDF", resolution=72)   # flat mid-grey
    photo = render_documents([pdf(buf.getvalue(), "photo.pdf")]).pages[0].image
    share = photo[100:-100, 100:-100].mean()
    assert 0.35 < share < 0.65                     # grey as a mix of black and white pels
    # a threshold would have made it all white (128 is not below 128)


def test_on_a_page_of_text_and_a_photo_only_the_photo_is_dithered():
    from PIL import Image, ImageDraw

    from faxengine.gateway.render.text import font

    img = Image.new("L", (1654, 2339), 255)          # A4 at 200 dpi
    draw = ImageDraw.Draw(img)
    for k in range(20):                              # anti-aliased text, as a scan has
        draw.text((100, 100 + 40 * k), "請求書の送付について Invoice 0123", font=font(28), fill=0)
    img.paste(100, (900, 1300, 1500, 1900))          # a dark grey photo
    buf = io.BytesIO()
    img.save(buf, "PDF", resolution=200)
    page = render_documents([pdf(buf.getvalue(), "mixed.pdf")]).pages[0].image
    photo = page[1300 * 196 // 200 + 40:1900 * 196 // 200 - 40, 980:1500]
    assert 0.45 < photo.mean() < 0.75                 # grey 100: 61 % black, dithered
    text = page[80:950, 80:850]
    # the text thresholded: solid strokes, no scattered dots around them
    isolated = text[1:-1, 1:-1] & ~text[:-2, 1:-1] & ~text[2:, 1:-1] & ~text[1:-1, :-2] & ~text[1:-1, 2:]
    assert text.mean() > 0.05 and isolated.sum() < 20


def test_a_picture_in_a_pdf_past_the_pixel_limit_is_refused_before_it_is_decoded():
    from PIL import Image

    from faxengine.gateway.render import RenderLimits

    buf = io.BytesIO()
    Image.new("L", (500, 400), 90).save(buf, "PDF", resolution=72)
    r = render_documents([pdf(buf.getvalue(), "scan.pdf")],
                         limits=RenderLimits(max_pixels=100_000))
    assert r.error == RenderFailure(
        "scan.pdf", "scan.pdf: page 1 holds a picture of 500 x 400 pels, more than 100,000 (a "
        "decompression bomb?); scale it down")
    assert render_documents([pdf(buf.getvalue(), "scan.pdf")]).error is None


def test_ten_thousand_pages_are_counted_not_rendered():
    data = make_pdf([TEXT], repeat=10_000)
    t = time.monotonic()
    r = render_documents([Document("", "text", b"x", text="x"), pdf(data, "huge.pdf")])
    assert r.counts == [1, 10_000] and r.pages == [] and r.error is None
    assert time.monotonic() - t < 10        # a bound, not a speed target


def test_corrupt_and_encrypted_pdfs_name_the_file():
    r = render_documents([pdf(b"%PDF-1.4\n" + bytes(range(256)) * 4, "請求書.pdf")])
    assert r.error == RenderFailure(
        "請求書.pdf", "請求書.pdf: not a PDF that can be read (damaged or incomplete: Failed to "
        "load document (PDFium: Data format error).); send it again")
    r = render_documents([pdf(make_pdf([TEXT], encrypt=True), "secret.pdf")])
    assert r.error == RenderFailure(
        "secret.pdf", "secret.pdf: the PDF is encrypted with a password; send it without one")


def test_truncated_pdf_never_raises():
    whole = make_pdf([TEXT, TEXT])
    for cut in (10, len(whole) // 2, len(whole) - 30):
        r = render_documents([pdf(whole[:cut], "cut.pdf")])
        assert r.error is not None or r.counts == [2]
        if r.error is not None:
            assert r.error.document == "cut.pdf" and r.error.message.startswith("cut.pdf: ")


def test_odd_page_sizes_stay_on_the_fax_page():
    for size in ((1, 1), (14400, 10), (10, 14400), (200, 200)):
        r = render_documents([pdf(make_pdf([TEXT], size=size))])
        assert r.error is None, size
        page = r.pages[0]
        assert page.width == WIDTH and 1 <= page.height <= A4_LINES, size


def test_past_the_deadline_it_stops_with_an_error():
    from faxengine.gateway.render import RenderLimits

    r = render_documents([pdf(make_pdf([TEXT], repeat=20), "slow.pdf")],
                         limits=RenderLimits(max_seconds=0))
    assert r.error == RenderFailure(
        "slow.pdf", "slow.pdf: rendering page 1 of 20 took more than 0 s in all; send it in parts")
