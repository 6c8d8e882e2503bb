"""Interop of faxengine.t4 with libtiff, both ways, on generated pages.

For MH, MR (K = 2 and K = 4) and MMR: our stream decoded by libtiff (through
Pillow, see ``tests/libtiff_util.py``) gives our pixels back, and libtiff's
stream decoded by us gives libtiff's pixels back.  The pages stress what
differs between coders: text (many short runs, vertical modes), halftones and
checkerboards (pass and horizontal modes on every line), random noise,
single black pixels at both edges, widths that are not a multiple of 8 and
runs longer than 2560 (T.4 §4.1.1: extended make-up codes, a make-up code
repeated).  libtiff must not complain about our streams at all
(``LibtiffComplaint``): a repaired stream is a failure.  And since the
standards leave a coder no choice, our strips (no RTC) are libtiff's bit for
bit in every coding, a stricter check than the pixels.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from faxengine import t4
from libtiff_util import (
    DPI_FOR_K,
    T4OPT_2D,
    T4OPT_FILL_BITS,
    LibtiffComplaint,
    black_mask_image,
    libtiff_decode,
    libtiff_encode,
    libtiff_k,
    make_tiff,
    save_tiff,
    tiff_strip,
)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

# (coding, MR parameter K): libtiff's K comes from the resolution, ours is passed
CODINGS = [("mh", None), ("mr", 2), ("mr", 4), ("mmr", None)]
CODING_IDS = ["mh", "mr-k2", "mr-k4", "mmr"]

TEXT = (
    "FAXENGINE interop page: The quick brown fox jumps over the lazy dog 0123456789.\n"
    "Group 3 facsimile apparatus, T.4 s4.2: modified READ, K = 2 or 4; T.6: MMR, EOFB.\n"
    "ÀÉÎÕÜ ßæøå ‰ ¶ §  ()[]{}<>/\\|!?@#$%^&*_+=~`'\"  iiiiiiii llllllll mmmmmmmm WWWWWWWW"
)


def text_page(width: int, height: int, size: int = 22, bold: bool = False) -> np.ndarray:
    """Lines of DejaVu text rendered by Pillow, thresholded to bilevel."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    if not (FONT_DIR / name).exists():
        pytest.skip(f"DejaVu fonts not installed ({FONT_DIR / name}): apt-get install fonts-dejavu-core")
    font = ImageFont.truetype(str(FONT_DIR / name), size)
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    y = 4
    while y < height:
        draw.multiline_text((6 - (y % 13), y), TEXT, font=font, fill=0, spacing=4)
        y += 3 * (size + 8)
    return np.asarray(canvas) < 128


def halftone_page(width: int, height: int) -> np.ndarray:
    """A diagonal grey ramp and a disc, ordered-dithered with a 4x4 Bayer matrix."""
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]) / 16 + 1 / 32
    y, x = np.mgrid[0:height, 0:width]
    grey = (x / max(width, 1) + y / max(height, 1)) / 2
    disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (min(width, height) / 3) ** 2
    grey = np.where(disc, 1 - grey, grey)
    return grey > bayer[y % 4, x % 4]


def checkerboard(width: int, height: int, cell: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return ((x // cell) + (y // cell)) % 2 == 1


def random_page(width: int, height: int, density: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width)) < density


def edge_pixels(width: int, height: int) -> np.ndarray:
    """Single black pixels at the first and last column, alone and in pairs, a white line between."""
    image = np.zeros((height, width), dtype=bool)
    image[0::4, 0] = True
    image[1::4, width - 1] = True
    image[2::4, [0, width - 1]] = True
    if width > 2:
        image[3::8, 1] = True
        image[3::8, width - 2] = True
    return image


def long_runs(width: int) -> np.ndarray:
    """Runs longer than 2560 of both colours, at the edges and in the middle."""
    rows = np.zeros((8, width), dtype=bool)
    rows[0] = True                                  # one black run of the whole width
    rows[2, 1:] = True                              # white 1, black width-1
    rows[3, : width - 1] = True                     # black, one white pel at the end
    rows[4, width // 2:] = True                     # white then black, both long when wide
    rows[5, 2561:2562] = True                       # a white run of exactly 2561
    rows[6, :2560] = True                           # black 2560 (the largest make-up code)
    rows[7] = rows[0]                               # and again below a white line
    return rows


PAGES = {
    "text-1728": lambda: text_page(1728, 400),
    "text-bold-2048": lambda: text_page(2048, 300, size=30, bold=True),
    "text-2432": lambda: text_page(2432, 200, size=14),
    "text-1727": lambda: text_page(1727, 150),
    "halftone-1728": lambda: halftone_page(1728, 200),
    "halftone-2051": lambda: halftone_page(2051, 120),
    "checker1-1728": lambda: checkerboard(1728, 40, 1),
    "checker1-1731": lambda: checkerboard(1731, 40, 1),
    "checker8-2048": lambda: checkerboard(2048, 64, 8),
    "checker3-5": lambda: checkerboard(5, 30, 3),
    "random-1728": lambda: random_page(1728, 60, 0.5, 1),
    "sparse-2432": lambda: random_page(2432, 60, 0.02, 2),
    "dense-1213": lambda: random_page(1213, 60, 0.97, 3),
    "edges-1728": lambda: edge_pixels(1728, 32),
    "edges-1": lambda: edge_pixels(1, 8),
    "edges-2": lambda: edge_pixels(2, 8),
    "edges-9": lambda: edge_pixels(9, 16),
    "edges-2431": lambda: edge_pixels(2431, 16),
    "white-1728": lambda: np.zeros((10, 1728), dtype=bool),
    "black-1728": lambda: np.ones((10, 1728), dtype=bool),
    "black-2432": lambda: np.ones((3, 2432), dtype=bool),
    "runs-4864": lambda: long_runs(4864),
    "runs-3457": lambda: long_runs(3457),
    "one-pixel": lambda: np.ones((1, 1), dtype=bool),
}


@pytest.fixture(scope="module", params=sorted(PAGES))
def page(request) -> np.ndarray:
    return PAGES[request.param]()


def ours(image: np.ndarray, coding: str, k: int | None, **options) -> bytes:
    return t4.encode(image, coding, k=k, **options)


def ours_as_a_strip(image: np.ndarray, coding: str, k: int | None) -> bytes:
    """Our code written as libtiff writes strips: no RTC after MH/MR (MMR keeps its EOFB)."""
    return ours(image, coding, k, **({} if coding == "mmr" else {"rtc": False}))


def libtiffs(image: np.ndarray, coding: str, k: int | None, **options) -> bytes:
    return libtiff_encode(image, coding, dpi=DPI_FOR_K[k] if k else None, **options)


def assert_same_pixels(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    if not np.array_equal(got, want):
        rows = np.flatnonzero((got != want).any(axis=1))
        cols = np.flatnonzero(got[rows[0]] != want[rows[0]])
        raise AssertionError(
            f"{what}: {len(rows)} lines differ, first line {rows[0]} at columns {cols[:10].tolist()}")


# --- the reference itself: the helpers hand libtiff's codec the right bits ---

@pytest.mark.parametrize("coding,k", CODINGS, ids=CODING_IDS)
def test_libtiff_round_trips_through_the_helpers(coding, k):
    image = PAGES["text-1727"]()
    strip = libtiffs(image, coding, k)
    assert_same_pixels(libtiff_decode(strip, image.shape[1], image.shape[0], coding), image,
                       f"libtiff's own {coding}")


def test_strip_is_the_code_of_black_pixels():
    """One black pel then white on a 1728 line: MH white 0 (00110101), black 1 (010),
    white 1727 (make-up 1664 011000, term 63 00110100), after EOL (T.4 Tables 2 and 3)."""
    image = np.zeros((1, 1728), dtype=bool)
    image[0, 0] = True
    bits = "000000000001" + "00110101" + "010" + "011000" + "00110100"
    bits += "0" * (-len(bits) % 8)
    assert libtiff_encode(image, "mh") == int(bits, 2).to_bytes(len(bits) // 8, "big")


def test_libtiff_picks_k_from_the_vertical_resolution():
    """A K=4 stream has a 1-D line every 4 lines (tag bit 1 after EOL), K=2 every 2."""
    image = PAGES["text-1728"]()[:8]
    assert libtiff_k(DPI_FOR_K[2]) == 2 and libtiff_k(DPI_FOR_K[4]) == 4 and libtiff_k(None) == 2
    for k, dpi in DPI_FOR_K.items():
        bits = "".join(f"{b:08b}" for b in libtiff_encode(image, "mr", dpi))
        tags = [bits[i + 12] for i in range(len(bits) - 12) if bits[i:i + 12] == "000000000001"]
        assert tags == ["1" if n % k == 0 else "0" for n in range(8)]


def test_hand_built_tiff_reads_like_pillows_own_file():
    """Pillow's file says min-is-black, so what it shows as white (True) is our black."""
    image = PAGES["halftone-2051"]()
    pil_file = save_tiff(black_mask_image(image), "mmr")
    from_pillow = np.asarray(Image.open(io.BytesIO(pil_file)))
    assert_same_pixels(from_pillow, image, "Pillow reading its own file")
    minimal = make_tiff(tiff_strip(pil_file), image.shape[1], image.shape[0], "mmr")
    assert minimal[:4] == b"II*\0" and tiff_strip(minimal) == tiff_strip(pil_file)
    assert_same_pixels(libtiff_decode(tiff_strip(pil_file), image.shape[1], image.shape[0], "mmr"),
                       image, "our minimal TIFF")


def test_libtiff_complaints_are_failures():
    image = PAGES["text-1728"]()
    strip = bytearray(libtiff_encode(image, "mmr"))
    strip[len(strip) // 2] ^= 0x5A
    with pytest.raises(LibtiffComplaint, match="Fax4Decode: Bad code word"):
        libtiff_decode(bytes(strip), image.shape[1], image.shape[0], "mmr")


@pytest.mark.parametrize("coding", ["mh", "mr", "mmr"])
def test_a_short_stream_fails_the_comparison(coding):
    """libtiff may stay silent on a stream cut short (it can fill the rest white), which is
    why every interop test compares pixels as well as listening for complaints."""
    image = PAGES["text-1728"]()
    strip = libtiff_encode(image, coding)
    with pytest.raises((LibtiffComplaint, AssertionError)):
        assert_same_pixels(libtiff_decode(strip[: len(strip) // 2], image.shape[1], image.shape[0], coding),
                           image, "half a stream")


# --- our codec against libtiff ---

@pytest.mark.parametrize("coding,k", CODINGS, ids=CODING_IDS)
def test_libtiff_decodes_our_stream(page, coding, k):
    height, width = page.shape
    got = libtiff_decode(ours(page, coding, k), width, height, coding)
    assert_same_pixels(got, page, f"libtiff decoding our {coding} K={k}")


@pytest.mark.parametrize("coding,k", CODINGS, ids=CODING_IDS)
def test_we_decode_libtiffs_stream(page, coding, k):
    width = page.shape[1]
    got = t4.decode(libtiffs(page, coding, k), width, coding)
    assert_same_pixels(got, page, f"our decoding of libtiff's {coding} K={k}")


@pytest.mark.parametrize("coding,k", [("mh", None), ("mr", 2), ("mr", 4)], ids=["mh", "mr-k2", "mr-k4"])
@pytest.mark.parametrize("width", [1728, 1731])
def test_fill_bits_both_ways(coding, k, width):
    """Fill bits before EOL (T.4 §4.1.3): ours to reach a minimum line length, libtiff's to align EOLs."""
    image = text_page(width, 120)
    height = image.shape[0]
    padded = ours(image, coding, k, min_bits_per_line=width // 2)
    assert len(padded) * 8 >= height * (width // 2)
    assert_same_pixels(libtiff_decode(padded, width, height, coding), image,
                       f"libtiff decoding our {coding} with min_bits_per_line")
    options = (T4OPT_2D if coding == "mr" else 0) | T4OPT_FILL_BITS
    aligned = libtiffs(image, coding, k, fill_bits=True)
    assert_same_pixels(libtiff_decode(aligned, width, height, coding, options), image,
                       "libtiff's own byte-aligned stream")
    assert_same_pixels(t4.decode(aligned, width, coding), image,
                       f"our decoding of libtiff's byte-aligned {coding}")


@pytest.mark.parametrize("coding,k", CODINGS, ids=CODING_IDS)
def test_our_stream_is_libtiffs_bit_for_bit(page, coding, k):
    """T.4 §4.1 and §4.2.1.3.2 and T.6 §2.2 leave a coder no choice: the run codes, and for
    MR and MMR the mode of every changing element, follow from the pixels.  With no fill
    and no RTC (as libtiff writes strips; MMR ends with EOFB in both) two correct coders
    write the same bits, the last byte padded with zeros."""
    assert ours_as_a_strip(page, coding, k) == libtiffs(page, coding, k)


@pytest.mark.parametrize("coding,k", [("mh", None), ("mr", 2), ("mr", 4)], ids=["mh", "mr-k2", "mr-k4"])
def test_libtiff_decodes_our_stream_with_or_without_rtc(coding, k):
    """RTC (T.4 §4.1.4: six EOLs, MR: each with tag bit 1) after the last line, or nothing."""
    image = text_page(1728, 60)
    with_rtc, without = ours(image, coding, k), ours(image, coding, k, rtc=False)
    assert len(with_rtc) > len(without)
    for data in (with_rtc, without):
        assert_same_pixels(libtiff_decode(data, 1728, image.shape[0], coding), image,
                           f"libtiff decoding our {coding} K={k}")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    width=st.one_of(st.integers(1, 80), st.integers(1700, 2600), st.just(4864)),
    height=st.integers(1, 12),
    density=st.sampled_from([0.02, 0.3, 0.5, 0.8, 0.99]),
    seed=st.integers(0, 2**32 - 1),
    which=st.sampled_from(range(len(CODINGS))),
)
def test_random_images_both_ways(width, height, density, seed, which):
    coding, k = CODINGS[which]
    rng = np.random.default_rng(seed)
    # clustered noise: runs of every length, not only the short ones of white noise
    image = rng.random((height, width)) < density
    image = np.repeat(image[:, : (width + 3) // 4], 4, axis=1)[:, :width] if seed % 2 else image
    theirs = libtiffs(image, coding, k)
    assert_same_pixels(libtiff_decode(ours(image, coding, k), width, height, coding), image,
                       f"libtiff decoding our {coding} K={k}")
    assert_same_pixels(t4.decode(theirs, width, coding), image, f"our decoding of libtiff's {coding} K={k}")
    assert ours_as_a_strip(image, coding, k) == theirs
