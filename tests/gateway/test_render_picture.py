"""faxengine.gateway.render: TIFF and JPEG attachments."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from faxengine import tiff
from faxengine.gateway.mail import Document
from faxengine.gateway.render import A4_LINES, WIDTH, RenderFailure, RenderLimits, render_documents
from faxengine.t4 import Page


def tif(pages, name="scan.tif") -> Document:
    buf = io.BytesIO()
    tiff.write(buf, pages)
    return Document(name, "tiff", buf.getvalue())


def jpeg(img: Image.Image, name="photo.jpg", **save) -> Document:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95, **save)
    return Document(name, "jpeg", buf.getvalue())


@pytest.fixture(scope="module")
def letter():
    rng = np.random.default_rng(11)
    return rng.random((A4_LINES, WIDTH)) < 0.1


def test_fine_1728_pages_pass_pel_for_pel(letter):
    short = letter[:1000]
    r = render_documents([tif([Page(letter, 204, 196), Page(short, 204, 196)])])
    assert r.error is None and r.counts == [2]
    assert np.array_equal(r.pages[0].image, letter)
    assert np.array_equal(r.pages[1].image, short)
    assert all(p.resolution == "fine" for p in r.pages)


def test_standard_resolution_lines_are_doubled(letter):
    half = letter[:1100]
    r = render_documents([tif([Page(half, 204, 98)])])
    assert r.counts == [1] and r.pages[0].resolution == "fine"
    assert np.array_equal(r.pages[0].image, np.repeat(half, 2, axis=0))


def test_a_page_longer_than_a4_is_cut_into_a4_lengths(letter):
    long = np.vstack([letter, letter[:500]])
    r = render_documents([tif([Page(long, 204, 196)])])
    assert r.counts == [2]
    assert np.array_equal(r.pages[0].image, letter)
    assert np.array_equal(r.pages[1].image, letter[:500])
    # white paper past 297 mm (a received page of 2292 lines) is no second page
    blank_tail = np.vstack([letter, np.zeros((5, WIDTH), dtype=bool)])
    r = render_documents([tif([Page(blank_tail, 204, 196)])])
    assert r.counts == [1] and np.array_equal(r.pages[0].image, letter)


def test_other_widths_and_resolutions_are_scaled_to_the_line():
    b4 = np.zeros((2000, 2048), dtype=bool)
    b4[:, :1024] = True                                    # left half black
    scan300 = np.zeros((3508, 2480), dtype=bool)           # A4 at 300 dpi
    scan300[1000:1100] = True
    r = render_documents([tif([Page(b4, 204, 196), Page(scan300, 300, 300)])])
    assert r.error is None and r.counts == [2]
    b4_page, a4_page = r.pages
    assert b4_page.width == WIDTH and b4_page.height == round(2000 * 1728 / 2048)
    assert b4_page.image[:, :850].all() and not b4_page.image[:, 880:].any()
    # A4 at 300 dpi keeps its size: 2480 pels = 8.27 in = 1687 pels at 204 dpi,
    # centred; 2292 lines at 196 dpi, shrunk 0.2 % onto the 2287 of 297 mm
    assert a4_page.width == WIDTH and a4_page.height == A4_LINES
    rows = np.flatnonzero(a4_page.image.any(axis=1))
    shrink = 2287 / (3508 * 196 / 300)
    assert abs(rows.min() - 1000 * 196 / 300 * shrink) <= 2
    assert abs(rows.max() - 1100 * 196 / 300 * shrink) <= 2
    cols = np.flatnonzero(a4_page.image.any(axis=0))
    assert abs(cols.max() - cols.min() + 1 - 2480 * 204 / 300 * shrink) <= 2


def test_grey_tiff_goes_through_pillow_dithered():
    buf = io.BytesIO()
    Image.new("L", (800, 600), 128).save(buf, "TIFF")
    r = render_documents([Document("grey.tif", "tiff", buf.getvalue())])
    assert r.error is None and r.counts == [1]
    page = r.pages[0]
    assert page.width == WIDTH and page.resolution == "fine"
    assert page.height == round(600 * 1728 / 800 * 196 / 204)
    assert 0.35 < page.image.mean() < 0.65


def test_jpeg_fills_the_line_width_keeping_the_aspect_and_is_dithered():
    r = render_documents([jpeg(Image.new("RGB", (400, 300), (128, 128, 128)))])
    assert r.error is None and r.counts == [1]
    page = r.pages[0]
    assert page.image.shape == (round(300 * 1728 / 400 * 196 / 204), WIDTH)
    assert 0.35 < page.image.mean() < 0.65


def test_a_camera_sized_jpeg_is_decoded_at_a_reduced_scale_to_the_same_page():
    img = Image.new("L", (4000, 3000), 255)
    img.paste(0, (0, 0, 2000, 3000))
    r = render_documents([jpeg(img, "camera.jpg")])
    page = r.pages[0]
    assert r.counts == [1] and page.image.shape == (round(3000 * 1728 / 4000 * 196 / 204), WIDTH)
    assert page.image[:, :850].mean() > 0.99 and page.image[:, 880:].mean() < 0.01


def test_jpeg_exif_orientation_is_honoured():
    img = Image.new("L", (200, 100), 255)
    img.paste(0, (0, 0, 100, 100))                 # left half black as stored
    exif = Image.Exif()
    exif[0x0112] = 6                               # shown turned 90 degrees clockwise
    r = render_documents([jpeg(img, exif=exif.tobytes())])
    assert r.error is None
    # upright it is 100 x 200, enlarged as far as one page holds it; black on top
    assert r.counts == [1]
    first = r.pages[0].image
    assert first[:1100, 300:1400].mean() > 0.95 and first[1200:].mean() < 0.05


def test_a_multi_frame_jpeg_is_its_first_frame():
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (0, 0, 0)).save(
        buf, "MPO", save_all=True, append_images=[Image.new("RGB", (400, 300), (255, 255, 255))])
    r = render_documents([Document("camera.jpg", "jpeg", buf.getvalue())])
    assert r.counts == [1] and r.pages[0].image.mean() > 0.95


def test_a_tall_picture_past_the_page_limit_is_counted_not_scaled():
    r = render_documents([jpeg(Image.new("L", (10, 6000), 0), "strip.jpg")], max_pages=2)
    # 10 x 6000 pels, not enlarged (it would not fit one page): 5765 lines, 3 A4 pages
    assert r.counts == [3] and r.pages == []


@pytest.mark.parametrize("size", [(100, 400), (300, 1200), (200, 2000), (64, 1000)])
def test_a_narrow_picture_is_one_page_not_enlarged_into_many(size):
    """A narrow picture filling the line was enlarged into pages (100 x 400 pels: 3,
    counted against the 50): it is enlarged only as far as one A4 page holds it,
    its aspect kept (pels 204 x 196 dpi), centred on the line."""
    w, h = size
    for doc in (jpeg(Image.new("L", size, 0), "narrow.jpg"),
                Document("narrow.tif", "tiff", _grey_tiff(Image.new("L", size, 0)))):
        r = render_documents([doc])
        assert r.error is None and r.counts == [1], (doc.name, r.counts)
        [page] = r.pages
        assert page.image.shape == (A4_LINES, WIDTH)
        rows = np.flatnonzero(page.image.any(axis=1))
        cols = np.flatnonzero(page.image.any(axis=0))
        assert (rows.min(), rows.max()) == (0, A4_LINES - 1)      # the page's length
        black = page.image[:, cols.min():cols.max() + 1]
        assert black.mean() > 0.99                                  # all of the picture
        width = round(A4_LINES / (h * 196 / 204) * w)
        assert abs(black.shape[1] - width) <= 2, (black.shape, width)
        assert abs(cols.min() - (WIDTH - width) // 2) <= 2          # centred


def test_a_narrow_picture_longer_than_a_page_at_its_own_pels_is_cut_not_shrunk():
    r = render_documents([jpeg(Image.new("L", (40, 3000), 0), "receipt.jpg")])
    assert r.error is None and r.counts == [2]          # 2880 lines; was 55 pages
    first, second = r.pages
    cols = np.flatnonzero(first.image.any(axis=0))
    assert cols.max() - cols.min() + 1 == 40 and first.height == A4_LINES
    assert second.height == round(3000 * 196 / 204) - A4_LINES


def _grey_tiff(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "TIFF")
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height pels and holds almost no data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_decompression_bombs_are_refused_before_decoding():
    r = render_documents([Document("bomb.jpg", "jpeg", png_header_only(30_000, 30_000))])
    assert r.error is not None and r.error.document == "bomb.jpg"
    assert r.error.message.startswith("bomb.jpg: ") and "decompression bomb" in r.error.message
    r = render_documents([Document("big.jpg", "jpeg", png_header_only(5000, 5000))],
                         limits=RenderLimits(max_pixels=10_000_000))
    assert r.error == RenderFailure(
        "big.jpg", "big.jpg: a picture of 5000 x 5000 pels is more than 10,000,000 pels (a "
        "decompression bomb?): scale it down")


def test_a_jpeg_header_declaring_a_huge_picture_is_refused():
    buf = io.BytesIO()
    Image.new("L", (16, 16), 200).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)     # height, width
    r = render_documents([Document("huge.jpg", "jpeg", bytes(data))])
    assert r.error is not None and "bomb" in r.error.message


def test_damaged_pictures_are_errors_naming_the_file():
    buf = io.BytesIO()
    Image.new("L", (64, 64), 0).save(buf, "JPEG")
    whole = buf.getvalue()
    for data in (b"\xff\xd8\xff" + b"\0" * 50, whole[:len(whole) // 2], b""):
        r = render_documents([Document("bad.jpg", "jpeg", data)])
        assert r.error is not None and r.error.document == "bad.jpg"
        assert r.error.message.startswith("bad.jpg: ")
    r = render_documents([Document("bad.tif", "tiff", b"II*\0" + b"\xff" * 40)])
    assert r.error is not None and r.error.message.startswith("bad.tif: ")
