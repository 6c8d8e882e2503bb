"""faxengine.tiff against libtiff: our TIFF-F files in Pillow, tiffinfo and
tiffcp; files written by Pillow and tiffcp in every compression, fill order,
byte order and strip layout read back pixel-equal; hostile files fail fast."""
import io
import re
import shutil
import struct
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageSequence

from charts import CCITT_CHARTS, load_chart
from faxengine import tiff
from faxengine.errors import FaxError
from faxengine.t4.page import Page
from faxengine.tiff import TiffError, TiffWriter



def _codec_built() -> bool:
    try:
        from faxengine import t4
    except ImportError:
        return False
    return hasattr(t4, "encode") and hasattr(t4, "decode")


needs_codec = pytest.mark.skipif(not _codec_built(), reason="the T.4/T.6 codec is not built")
needs_tools = pytest.mark.skipif(
    not (shutil.which("tiffinfo") and shutil.which("tiffcp")), reason="libtiff-tools missing"
)
CODINGS = ["mh", "mr", "mmr"]


def _text_page(width=1728, height=400, x_res=204.0, y_res=196.0, seed=0) -> Page:
    """Text, a halftone band, a frame touching both edges: short and long runs."""
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    for i, y in enumerate(range(10, height - 60, 24)):
        draw.text((20 + 7 * i, y), f"faxengine line {i}: The quick brown fox {seed}", fill=0)
    draw.rectangle((0, 0, width - 1, height - 1), outline=0)
    rng = np.random.default_rng(seed)
    image = np.asarray(img) < 128
    image[height - 50 : height - 10] = rng.random((40, width)) < 0.5
    return Page(image, x_res, y_res)


def _pages() -> list[Page]:
    return [
        _text_page(),
        _text_page(2048, 300, 204.0, 98.0, seed=1),
        Page(np.ones((5, 1731), dtype=bool), 200.0, 200.0),  # all black, odd width
    ]


def _pil_pages(path) -> list[np.ndarray]:
    """Every page as libtiff decodes it (through Pillow), True = black."""
    with Image.open(path) as img:
        return [~np.asarray(frame.convert("1")) for frame in ImageSequence.Iterator(img)]


def _same(pages, images) -> bool:
    return len(pages) == len(images) and all(
        np.array_equal(p.image if isinstance(p, Page) else p, q.image if isinstance(q, Page) else q)
        for p, q in zip(pages, images)
    )


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------ our files


@needs_codec
@pytest.mark.parametrize("coding", CODINGS)
def test_written_pages_read_back_by_pillow_and_by_us(tmp_path, coding):
    pages = _pages()
    path = tmp_path / f"{coding}.tif"
    tiff.write(path, pages, coding)
    assert _same(pages, _pil_pages(path))
    back = tiff.read(path)
    assert _same(pages, back)
    assert [(p.x_res, p.y_res) for p in back] == [(204.0, 196.0), (204.0, 98.0), (200.0, 200.0)]


@needs_codec
@pytest.mark.parametrize("coding", CODINGS)
def test_written_tags_are_tiff_class_f(tmp_path, coding):
    from faxengine import t4

    pages = _pages()[:2]
    path = tmp_path / "f.tif"
    tiff.write(path, pages, coding)
    data = path.read_bytes()
    assert data[:4] == b"II*\0"
    with Image.open(path) as img:
        for i, page in enumerate(pages):
            img.seek(i)
            tags = img.tag_v2
            assert tags[259] == {"mh": 3, "mr": 3, "mmr": 4}[coding]
            if coding != "mmr":
                assert tags[292] == (1 if coding == "mr" else 0)
            assert (tags[262], tags[266], tags[254], tags[277]) == (0, 1, 2, 1)
            assert tags[258] in (1, (1,))  # Pillow gives BitsPerSample as a tuple
            assert tags[297] == (i, 2)
            assert (tags[296], float(tags[282]), float(tags[283])) == (2, page.x_res, page.y_res)
            assert tags[305] == "faxengine" and tags[278] == page.height
            # the strip is our coder's output: MR with K = 4 at fine, 2 at standard, no RTC
            k = {"mr": 4 if page.y_res > 150 else 2}.get(coding)
            strip = data[tags[273][0] : tags[273][0] + tags[279][0]]
            assert strip == t4.encode(page.image, coding, k=k, rtc=False)


@needs_codec
@needs_tools
@pytest.mark.parametrize("coding", CODINGS)
def test_tiffinfo_and_tiffcp_accept_our_files_silently(tmp_path, coding):
    pages = _pages()
    path = tmp_path / "ours.tif"
    tiff.write(path, pages, coding)
    info = _run("tiffinfo", "-D", str(path))
    assert info.returncode == 0 and info.stderr == ""
    assert info.stdout.count("TIFF Directory") == 3
    copy = tmp_path / "copy.tif"
    cp = _run("tiffcp", str(path), str(copy))
    assert cp.returncode == 0 and cp.stderr == ""
    assert _same(pages, tiff.read(copy))


@needs_codec
def test_writer_leaves_a_valid_file_after_every_page(tmp_path):
    pages = [_text_page(height=120, seed=i) for i in range(5)]
    path = tmp_path / "rx.tif"
    with TiffWriter(path, "mr") as writer:
        for page in pages[:3]:
            writer.add_page(page)
        assert writer.pages == 3
        # another process reading the file while the call goes on
        assert _same(pages[:3], tiff.read(path))
        assert _same(pages[:3], _pil_pages(path))
        for page in pages[3:]:
            writer.add_page(page)
    assert _same(pages, tiff.read(path))
    with Image.open(path) as img:
        img.seek(4)
        assert img.tag_v2[297] == (4, 5)
    with pytest.raises(TiffError, match="closed"):
        writer.add_page(pages[0])


@needs_codec
def test_writer_accepts_a_file_object_and_rejects_bad_input():
    buf = io.BytesIO()
    tiff.write(buf, _pages()[:1], "mmr")
    assert _same(_pages()[:1], tiff.read(io.BytesIO(buf.getvalue())))
    with pytest.raises(TiffError, match="unknown coding 'jbig'"):
        TiffWriter(io.BytesIO(), "jbig")
    with TiffWriter(io.BytesIO()) as writer:
        with pytest.raises(TiffError, match="empty"):
            writer.add_page(Page(np.zeros((0, 1728), dtype=bool)))
        with pytest.raises(TiffError, match="takes a faxengine Page"):
            writer.add_page(np.zeros((5, 1728), dtype=bool))
        writer.add_page(_pages()[2])
    with pytest.raises(TiffError, match=r"more than the 134217728 a page read back may have"):
        TiffWriter(io.BytesIO()).add_page(Page(np.zeros((2049, 65535), dtype=bool)))


def test_no_page_is_an_error_and_leaves_no_file(tmp_path):
    """A TIFF needs an image: a file of a header alone is one nothing reads."""
    path = tmp_path / "none.tif"
    with pytest.raises(TiffError, match=r"^no page to write: a TIFF file needs at least one"
                                        r" image.*nothing was written$"):
        tiff.write(path, [])
    assert not path.exists()
    writer = TiffWriter(path)
    with pytest.raises(TiffError, match="no page to write"):
        writer.close()
    assert not path.exists() and writer.closed
    writer.close()  # closed is closed: no second error
    buf = io.BytesIO(b"kept")
    buf.seek(4)
    with pytest.raises(TiffError, match="no page to write"):
        tiff.write(buf, iter(()))
    assert buf.getvalue() == b"kept"  # cut back to where the writer started
    # an error on its way out of the with block is the one raised
    with pytest.raises(ZeroDivisionError):
        with TiffWriter(path):
            1 / 0
    assert not path.exists()


@needs_codec
def test_ccitt_charts_written_and_read_back(tmp_path):
    pages = [Page(load_chart(n), 204.0, 196.0) for n in CCITT_CHARTS]
    assert pages[0].image.shape == (2376, 1728)
    for coding in CODINGS:
        path = tmp_path / f"charts-{coding}.tif"
        tiff.write(path, pages, coding)
        assert _same(pages, tiff.read(path)), coding
        assert _same(pages, _pil_pages(path)), coding


# ------------------------------------------------------------ their files


@pytest.fixture(scope="module")
def reference_image() -> np.ndarray:
    page = _text_page(1728, 160, seed=7)
    return page.image


def _pillow_file(path, image, **save):
    Image.fromarray(~image).save(path, dpi=(204, 196), **save)  # mode "1", min-is-black
    return path


@pytest.mark.parametrize(
    "save, compression",
    [
        ({"compression": "raw"}, 1),
        ({"compression": "packbits"}, 32773),
        pytest.param({"compression": "group3"}, 3, marks=needs_codec),
        pytest.param({"compression": "group3", "tiffinfo": {292: 1}}, 3, marks=needs_codec),
        pytest.param({"compression": "group4"}, 4, marks=needs_codec),
        pytest.param({"compression": "tiff_ccitt"}, 2, marks=needs_codec),
        pytest.param({"compression": "tiff_raw_16"}, 32771, marks=needs_codec),
    ],
    ids=["raw", "packbits", "g3-1d", "g3-2d", "g4", "ccitt-rle", "ccitt-rlew"],
)
def test_pillow_files_read_pixel_equal(tmp_path, reference_image, save, compression):
    path = _pillow_file(tmp_path / "p.tif", reference_image, **save)
    with Image.open(path) as img:
        assert img.tag_v2[259] == compression and img.tag_v2[262] == 1  # min-is-black
        if "tiffinfo" in save:
            assert img.tag_v2[292] & 1  # really 2-D
    (page,) = tiff.read(path)
    assert np.array_equal(page.image, reference_image)
    assert (page.x_res, page.y_res) == (204.0, 196.0)


def test_pillow_multipage_file(tmp_path):
    rng = np.random.default_rng(3)
    images = [rng.random((40 + i, 300 + 9 * i)) < 0.4 for i in range(4)]
    frames = [Image.fromarray(~a) for a in images]
    path = tmp_path / "multi.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="packbits")
    assert _same(images, tiff.read(path))


TIFFCP_VARIANTS = {
    "none": ["-c", "none"],
    "none-lsb2msb-bigendian": ["-c", "none", "-f", "lsb2msb", "-B"],
    "packbits-strips-lsb2msb": ["-c", "packbits", "-r", "16", "-f", "lsb2msb"],
    "packbits-bigendian": ["-c", "packbits", "-B"],
    "g3-1d": ["-c", "g3:1d"],
    "g3-2d": ["-c", "g3:2d"],
    "g3-2d-fill-strips": ["-c", "g3:2d:fill", "-r", "32"],
    "g3-1d-fill-lsb2msb": ["-c", "g3:1d:fill", "-f", "lsb2msb"],
    "g4-strips-bigendian": ["-c", "g4", "-r", "50", "-B"],
    "g4-lsb2msb": ["-c", "g4", "-f", "lsb2msb"],
}


@needs_tools
@pytest.mark.parametrize("variant", sorted(TIFFCP_VARIANTS))
def test_tiffcp_variants_read_pixel_equal(tmp_path, reference_image, variant):
    args = TIFFCP_VARIANTS[variant]
    if not _codec_built() and any(a.startswith("g") for a in args):
        pytest.skip("the T.4/T.6 codec is not built")
    # a min-is-black source gives min-is-black copies; a Pillow raw file is one
    sources = [_pillow_file(tmp_path / "src.tif", reference_image, compression="raw")]
    if _codec_built():
        tiff.write(tmp_path / "ours.tif", [Page(reference_image)])  # min-is-white
        sources.append(tmp_path / "ours.tif")
    for src in sources:
        out = tmp_path / f"out-{src.stem}.tif"
        cp = _run("tiffcp", *args, str(src), str(out))
        assert cp.returncode == 0, cp.stderr
        (page,) = tiff.read(out)
        assert np.array_equal(page.image, reference_image), src.stem
        assert np.array_equal(_pil_pages(out)[0], reference_image)


def test_centimetre_resolution_and_defaults(tmp_path, reference_image):
    path = tmp_path / "cm.tif"
    Image.fromarray(~reference_image).save(
        path, compression="raw", resolution_unit=3, x_resolution=80, y_resolution=77
    )
    (page,) = tiff.read(path)
    assert page.x_res == pytest.approx(203.2) and page.y_res == pytest.approx(195.58)
    assert page.resolution == "fine"
    Image.fromarray(~reference_image).save(path, compression="raw")
    (page,) = tiff.read(path)
    assert (page.x_res, page.y_res) == (204.0, 196.0)


# ------------------------------------------------------------ hand-made files


def _handmade(pages, links=None) -> bytes:
    """A TIFF of pages given as (image, {tag: (type, values)}[, strip]),
    uncompressed unless a coded strip is given, built field by field so
    tests can make it wrong on purpose.  ``links``
    overrides the next-IFD offsets (index -> offset)."""
    out = bytearray(b"II*\0" + struct.pack("<I", 0))
    ifd_at = []
    for image, extra, *coded in pages:
        height, width = image.shape
        strip = coded[0] if coded else np.packbits(image, axis=1).tobytes()
        strip_at = len(out)
        out += strip + b"\0" * (len(strip) & 1)
        fields = {
            256: (4, [width]), 257: (4, [height]), 258: (3, [1]), 259: (3, [1]),
            262: (3, [0]), 273: (4, [strip_at]), 277: (3, [1]), 278: (4, [height]),
            279: (4, [len(strip)]),
        }
        fields.update(extra)
        entries = [(tag, typ, vals) for tag, (typ, vals) in sorted(fields.items())]
        ifd, _ = tiff.writer._ifd_bytes(entries, len(out))
        ifd_at.append(len(out))
        out += ifd
    for n, at in enumerate(ifd_at):
        count = struct.unpack_from("<H", out, at)[0]
        nxt = ifd_at[n + 1] if n + 1 < len(ifd_at) else 0
        if links and n in links:
            nxt = links[n]
        struct.pack_into("<I", out, at + 2 + 12 * count, nxt)
    if ifd_at:
        struct.pack_into("<I", out, 4, ifd_at[0])
    return bytes(out)


def test_handmade_file_reads_and_palette_photometric():
    rng = np.random.default_rng(5)
    a = rng.random((20, 45)) < 0.5
    (page,) = tiff.read(_handmade([(a, {})]))
    assert np.array_equal(page.image, a)
    # palette: entry 0 white, entry 1 black -> set bits are black
    white_first = {262: (3, [3]), 320: (3, [65535, 0, 65535, 0, 65535, 0])}
    black_first = {262: (3, [3]), 320: (3, [0, 65535, 0, 65535, 0, 65535])}
    assert np.array_equal(tiff.read(_handmade([(a, white_first)]))[0].image, a)
    assert np.array_equal(tiff.read(_handmade([(a, black_first)]))[0].image, ~a)
    # a broken tag the reader does not need (Software pointing past the end) is ignored
    (page,) = tiff.read(_handmade([(a, {305: (2, b"x" * 9 + b"\0")})])[:-6])
    assert np.array_equal(page.image, a)
    # a thumbnail (NewSubfileType bit 0) is skipped
    thumb = (a[:5, :5], {254: (4, [1])})
    assert len(tiff.read(_handmade([(a, {}), thumb, (a, {})]))) == 2


@needs_codec
@pytest.mark.parametrize("coding", ["mh", "mr"])
def test_g3_strips_as_fax_software_stores_them(coding):
    """RTC at the end, fill bits before EOLs (T.30 minimum scan line time):
    the T.4 stream as a receiver got it from the line."""
    from faxengine import t4

    image = _text_page(1728, 60).image
    for fill in (0, 1728 + 64):
        strip = t4.encode(image, coding, k=4, min_bits_per_line=fill, rtc=True)
        extra = {259: (3, [3]), 292: (4, [int(coding == "mr")])}
        (page,) = tiff.read(_handmade([(image, extra, strip)]))
        assert np.array_equal(page.image, image)
    # a strip that ends early is an error naming the page and strip
    cut = t4.encode(image, coding, rtc=False)[:300]
    with pytest.raises(TiffError, match=r"TIFF page 1, strip 0: corrupt .* (ends after|line)"):
        tiff.read(_handmade([(image, {259: (3, [3]), 292: (4, [int(coding == "mr")])}, cut)]))


@needs_codec
def test_coded_page_wider_than_the_coder_fails_clearly():
    a = np.zeros((1, 8), dtype=bool)
    wide = {256: (4, [70000]), 259: (3, [4])}
    with pytest.raises(TiffError, match="70000 pels is wider than the 65535"):
        tiff.read(_handmade([(a, wide, b"\0" * 8)]))


HOSTILE_TIMEOUT = 10


@pytest.mark.timeout(HOSTILE_TIMEOUT)
def test_ifd_loops_are_detected():
    a = np.zeros((4, 16), dtype=bool)
    one = _handmade([(a, {})])
    first = struct.unpack_from("<I", one, 4)[0]
    with pytest.raises(TiffError, match="loops back"):
        tiff.read(_handmade([(a, {})], links={0: first}))
    two = _handmade([(a, {}), (a, {})])
    first = struct.unpack_from("<I", two, 4)[0]
    with pytest.raises(TiffError, match="loops back"):
        tiff.read(_handmade([(a, {}), (a, {})], links={1: first}))


@pytest.mark.timeout(HOSTILE_TIMEOUT)
def test_huge_and_impossible_sizes_fail_before_allocating():
    a = np.zeros((4, 16), dtype=bool)
    for size in ({256: (4, [10**9]), 257: (4, [10**9])}, {256: (4, [1 << 20]), 257: (4, [1 << 12])}):
        with pytest.raises(TiffError, match="more than"):
            tiff.read(_handmade([(a, size)]))
    with pytest.raises(TiffError, match="impossible size"):
        tiff.read(_handmade([(a, {256: (4, [0])})]))
    # a declared strip far past the end of the file
    with pytest.raises(TiffError, match="truncated"):
        tiff.read(_handmade([(a, {273: (4, [1 << 30])})]))
    # more rows than the strip holds
    with pytest.raises(TiffError, match="truncated"):
        tiff.read(_handmade([(a, {257: (4, [400]), 278: (4, [400])})]))


@pytest.mark.timeout(HOSTILE_TIMEOUT)
def test_truncated_files_and_garbage_raise_tiff_error(tmp_path, reference_image):
    data = _pillow_file(tmp_path / "p.tif", reference_image, compression="packbits").read_bytes()
    for cut in (0, 3, 7, 8, 9, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(TiffError, match="TIFF"):
            tiff.read(data[:cut])
    with pytest.raises(TiffError, match="not a TIFF file: it starts with b'%PDF'"):
        tiff.read(b"%PDF-1.4 not a tiff at all")
    with pytest.raises(TiffError, match="version 17"):
        tiff.read(b"II\x11\x00" + bytes(20))
    with pytest.raises(TiffError, match="no images"):
        tiff.read(b"II*\0" + bytes(4))
    # an IFD claiming 65535 entries in a short file
    with pytest.raises(TiffError, match="truncated"):
        tiff.read(b"II*\0\x08\0\0\0\xff\xff" + bytes(30))
    assert issubclass(TiffError, FaxError)


def test_files_that_are_not_bilevel_or_not_supported(tmp_path):
    grey = tmp_path / "grey.tif"
    Image.new("L", (30, 10), 128).save(grey)
    with pytest.raises(TiffError, match=r"not bilevel \(BitsPerSample 8.*Page.from_pil"):
        tiff.read(grey)
    rgb = tmp_path / "rgb.tif"
    Image.new("RGB", (30, 10)).save(rgb)
    with pytest.raises(TiffError, match="not bilevel"):
        tiff.read(rgb)
    lzw = tmp_path / "lzw.tif"
    Image.new("1", (30, 10)).save(lzw, compression="tiff_lzw")
    with pytest.raises(TiffError, match=r"compression 5 \(LZW\).*tiffcp -c g4"):
        tiff.read(lzw)
    a = np.zeros((4, 16), dtype=bool)
    with pytest.raises(TiffError, match=r"lacks required tag TileLength \(323\)"):
        tiff.read(_handmade([(a, {322: (4, [16])})]))  # tiles (read since) need their length
    with pytest.raises(TiffError, match="BigTIFF"):
        tiff.read(b"II+\0\x08\0\0\0" + bytes(16))
    jbig = _handmade([(a, {259: (3, [34661])}, b"\0" * 8)])
    with pytest.raises(TiffError, match=r"compression 34661 \(JBIG\).*tiffcp -c g4"):
        tiff.read(jbig)


@needs_codec
@pytest.mark.parametrize("compression, align", [(2, 8), (32771, 16)], ids=["rle", "rlew"])
def test_ccitt_rle_strips_in_both_fill_orders(compression, align):
    """MH rows without EOLs (Compression 2 on bytes, 32771 on 16-bit words),
    in strips of 16 rows, FillOrder 1 and 2; a corrupt strip names itself."""
    from faxengine import t4

    image = _text_page(1728, 60).image
    strips = [t4.encode(image[y:y + 16], "mh", eol=False, align=align) for y in range(0, 60, 16)]
    reversed_strips = [tiff.reader._REVERSED[np.frombuffer(s, dtype=np.uint8)].tobytes() for s in strips]
    for fill_order, coded in ((1, strips), (2, reversed_strips)):
        # _handmade puts the strips together at offset 8; one offset and count for each
        offsets = np.cumsum([8] + [len(c) for c in coded[:-1]]).tolist()
        fields = {259: (3, [compression]), 266: (3, [fill_order]), 278: (4, [16]),
                  273: (4, offsets), 279: (4, [len(c) for c in coded])}
        (page,) = tiff.read(_handmade([(image, fields, b"".join(coded))]))
        assert np.array_equal(page.image, image), fill_order
    name = "CCITT RLEW" if compression == 32771 else "CCITT RLE"
    short = _handmade([(image, {259: (3, [compression])}, strips[0])])
    with pytest.raises(TiffError, match=rf"TIFF page 1, strip 0: corrupt {name} data: MH page ends after 16"):
        tiff.read(short)


@pytest.mark.parametrize(
    "compression",
    ["packbits"] + [pytest.param(c, marks=needs_codec) for c in ("group3", "group4", "tiff_ccitt")],
)
def test_fuzzed_files_raise_only_tiff_error(reference_image, compression):
    """Random byte changes to a small file: pages or a TiffError, quickly."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    buf = io.BytesIO()
    Image.fromarray(~reference_image[:40, :200]).save(buf, "TIFF", compression=compression)
    seed = buf.getvalue()

    @hypothesis.settings(max_examples=150, deadline=1000, derandomize=True)
    @hypothesis.given(st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)), max_size=8),
                      st.integers(8, len(seed)))
    def fuzz(changes, length):
        data = bytearray(seed)
        for at, value in changes:
            data[at] = value
        try:
            pages = tiff.read(bytes(data[:length]))
        except TiffError:
            return
        assert all(isinstance(p, Page) for p in pages)

    fuzz()


# ------------------------------------------------------------ tag values of any type

FLOAT, DOUBLE, SLONG = 11, 12, 9


def test_count_and_size_tags_must_be_whole_numbers_whatever_their_type():
    """NaN, infinities, negatives and fractions in FLOAT, DOUBLE, SLONG or
    RATIONAL fields of ImageWidth, RowsPerStrip, StripOffsets... are a
    TiffError naming the tag; whole numbers in any type read as usual."""
    rng = np.random.default_rng(8)
    a = rng.random((6, 21)) < 0.5
    whole = {256: (FLOAT, [21.0]), 257: (DOUBLE, [6.0]), 278: (5, [(6, 1)])}
    (page,) = tiff.read(_handmade([(a, whole)]))
    assert np.array_equal(page.image, a)
    for tag, name, field, value in [
        (256, "ImageWidth", FLOAT, float("nan")),
        (257, "ImageLength", DOUBLE, float("inf")),
        (278, "RowsPerStrip", FLOAT, float("nan")),
        (278, "RowsPerStrip", SLONG, -2),
        (273, "StripOffsets", FLOAT, -8.0),
        (279, "StripByteCounts", DOUBLE, 1e300),
        (259, "Compression", FLOAT, 1.5),
        (266, "FillOrder", DOUBLE, float("-inf")),
    ]:
        message = rf"tag {name} \({tag}\) holds {re.escape(str(value))}, not a whole number"
        with pytest.raises(TiffError, match=message):
            tiff.read(_handmade([(a, {tag: (field, [value])})]))


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -5.0, 0.0, 0.5, 1e30])
def test_unusable_resolution_is_treated_as_absent(bad):
    """A resolution that is not finite or not from MIN_RESOLUTION to
    MAX_RESOLUTION dpi is taken as absent: the other axis stands in for it,
    the default when both are unusable; the page can be written again."""
    a = np.zeros((3, 8), dtype=bool)
    a[:, 1] = True
    for fields, expected in [
        ({282: (FLOAT, [bad]), 283: (FLOAT, [98.0])}, (98.0, 98.0)),
        ({282: (DOUBLE, [204.0]), 283: (DOUBLE, [bad])}, (204.0, 204.0)),
        ({282: (FLOAT, [bad]), 283: (DOUBLE, [bad])}, (204.0, 196.0)),
    ]:
        (page,) = tiff.read(_handmade([(a, fields)]))
        assert (page.x_res, page.y_res) == expected
        if _codec_built():
            out = io.BytesIO()
            tiff.write(out, [page])
            (back,) = tiff.read(out.getvalue())
            assert np.array_equal(back.image, a) and back.x_res == pytest.approx(expected[0])
    # the range applies after the unit: 30000 per cm is 76200 dpi
    (page,) = tiff.read(_handmade([(a, {282: (5, [(30000, 1)]), 283: (5, [(77, 1)]),
                                        296: (3, [3])})]))
    assert (page.x_res, page.y_res) == (pytest.approx(195.58), pytest.approx(195.58))


@needs_codec
@pytest.mark.parametrize("res", [float("inf"), float("nan"), -5.0, 0.0, 1e-9, 1e30])
def test_writer_refuses_a_resolution_a_rational_cannot_hold(res):
    page = Page(np.zeros((2, 8), dtype=bool), res, 196.0)
    with pytest.raises(TiffError, match="resolution of .* dpi cannot be written"):
        tiff.write(io.BytesIO(), [page])


# ------------------------------------------------------------ the whole document's size


@pytest.mark.timeout(HOSTILE_TIMEOUT)
def test_document_pels_are_bounded_before_any_page_is_decoded():
    """Pages of MAX_PIXELS each in a file of a few hundred bytes (IFDs can
    share one strip): refused before a pel is decoded (the strips here are
    not even valid MMR), with a message saying how to raise the bound."""
    a = np.zeros((1, 8), dtype=bool)
    big = {256: (4, [8192]), 257: (4, [tiff.MAX_PIXELS // 8192]), 259: (3, [4]),
           278: (4, [tiff.MAX_PIXELS // 8192])}
    data = _handmade([(a, big, b"\xff" * 8)] * 3)
    assert len(data) * tiff.MAX_PELS_PER_BYTE < 2 * tiff.MAX_PIXELS
    with pytest.raises(TiffError, match=r"TIFF page 2 \(8192x16384\) brings the document to"
                                        r" 268435456 pels, more than the 134217728 allowed"
                                        r" .*read\(\.\.\., max_pixels=N\)"):
        tiff.read(data)
    # one such page alone is within the floor of the bound: its strip is decoded
    with pytest.raises(TiffError, match="corrupt MMR data"):
        tiff.read(_handmade([(a, big, b"\xff" * 8)]))


@needs_codec
def test_max_pixels_bounds_the_document_either_way():
    from faxengine import t4

    rng = np.random.default_rng(9)
    pages = [(rng.random((100, 64)) < 0.3) for _ in range(4)]
    data = _handmade([(p, {259: (3, [4])}, t4.encode(p, "mmr")) for p in pages])
    assert _same(tiff.read(data), pages)
    assert _same(tiff.read(data, max_pixels=4 * 6400), pages)
    with pytest.raises(TiffError, match="TIFF page 4 .* more than the 25599 allowed"):
        tiff.read(data, max_pixels=4 * 6400 - 1)
    # a thumbnail does not count
    thumb = (pages[0], {254: (4, [1]), 259: (3, [4])}, t4.encode(pages[0], "mmr"))
    data = _handmade([thumb] + [(p, {259: (3, [4])}, t4.encode(p, "mmr")) for p in pages])
    assert _same(tiff.read(data, max_pixels=4 * 6400), pages)
