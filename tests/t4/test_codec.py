"""Round trips and stream layout of faxengine.t4's MH, MR and MMR coder.

Every page is coded in each coding and decoded back pel for pel; the layout
of the streams (EOL before every G3 line, MR tag bits every K lines, fill to
the minimum line length, RTC, EOFB) is checked by reading the bits.  Interop
with libtiff lives in test_interop*.py.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageDraw, ImageFont

from faxengine import t4
from faxengine.errors import FaxError

CODINGS = [("mh", None), ("mr", 2), ("mr", 4), ("mmr", None)]
CODING_IDS = ["mh", "mr-k2", "mr-k4", "mmr"]


def bits_of(data: bytes) -> str:
    return "".join(f"{b:08b}" for b in data)


def eol_starts(data: bytes) -> list[int]:
    """Bit offsets where each EOL (000000000001) starts.

    No run or mode code holds more than 7 zeros in a row, nor two codes more
    than 10 together, so 11 zeros and a one can only be an EOL (with any fill
    zeros before it: those belong to the line before).
    """
    return [m.end() - 12 for m in re.finditer("0{11,}1", bits_of(data))]


def text_page(width: int = 1728, height: int = 200) -> np.ndarray:
    img = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=28)
    for i, line in enumerate(["Facsimile test page 0123456789",
                              "The quick brown fox jumps over the lazy dog",
                              "T.4 / T.6 MH MR MMR  ~!@#$%^&*()"]):
        draw.text((20 + 7 * i, 10 + 60 * i), line, fill=0, font=font)
    draw.rectangle((width - 300, 20, width - 40, 180), outline=0, width=3)
    return ~np.asarray(img, dtype=bool)


def halftone_page(width: int = 1728, height: int = 120) -> np.ndarray:
    """A grey ramp, ordered dithered (Bayer 4x4) and error diffused by Pillow."""
    ramp = np.tile(np.linspace(0, 255, width), (height, 1))
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]])
    threshold = (bayer[np.arange(height)[:, None] % 4, np.arange(width)[None, :] % 4] + 0.5) * 16
    ordered = ramp[: height // 2] < threshold[: height // 2]
    diffused = ~np.asarray(Image.fromarray(ramp[height // 2:].astype(np.uint8)).convert("1"), dtype=bool)
    return np.vstack([ordered, diffused])


def checkerboard(width: int, height: int, cell: int) -> np.ndarray:
    y, x = np.indices((height, width))
    return ((x // cell) + (y // cell)) % 2 == 1


def edge_page(width: int) -> np.ndarray:
    """Single black pels at both edges, alone and together, and lines between."""
    im = np.zeros((8, width), dtype=bool)
    im[0, 0] = True
    im[1, -1] = True
    im[2, [0, -1]] = True
    im[3, ::2] = True
    im[4, 1::2] = True
    im[5, :] = True
    im[6, 0] = True
    im[6, 2:] = True
    im[7, : width - 1] = True
    return im


def long_runs_page() -> np.ndarray:
    """Width 4864: runs of every length class, up to 4864 and past 2560 repeated."""
    w = 4864
    im = np.zeros((9, w), dtype=bool)
    im[1, :] = True                  # black 4864 = 2560 + 2304
    im[2, 2560:] = True              # white 2560, black 2304
    im[3, 2624:2624 + 2623] = True   # white 2624, black 2240 to the end
    im[4, 5:5 + 2561] = True         # black 2561
    im[5, 1792:1792 + 1728] = True   # the extended makeup bounds
    im[6, 63:63 + 64] = True
    im[7, w - 1] = True              # white 4863
    im[8, 0] = True                  # white 0, black 1, white 4863
    return im


def round_trip(image: np.ndarray, coding: str, k: int | None) -> bytes:
    data = t4.encode(image, coding, k=k)
    out = t4.decode(data, image.shape[1], coding)
    assert out.dtype == bool and out.shape == image.shape
    np.testing.assert_array_equal(out, image)
    return data


PAGES = {
    "text": text_page,
    "halftone": halftone_page,
    "random": lambda: np.random.default_rng(1).random((60, 1728)) < 0.5,
    "sparse": lambda: np.random.default_rng(2).random((60, 2432)) < 0.01,
    "checker1": lambda: checkerboard(1728, 16, 1),
    "checker3": lambda: checkerboard(2048, 16, 3),
    "checker64": lambda: checkerboard(2592, 130, 64),
    "white": lambda: np.zeros((40, 1728), dtype=bool),
    "black": lambda: np.ones((40, 1728), dtype=bool),
    "long-runs": long_runs_page,
    "vertical-stripes": lambda: np.tile(np.arange(3456) % 7 < 3, (12, 1)),
}


@pytest.mark.parametrize("coding,k", CODINGS, ids=CODING_IDS)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_round_trip_generated_pages(name, coding, k):
    round_trip(PAGES[name](), coding, k)


@pytest.mark.parametrize("coding,k", CODINGS, ids=CODING_IDS)
@pytest.mark.parametrize("width", [1, 2, 7, 8, 9, 63, 64, 65, 1727, 1728, 1729, 2560, 2561, 4864])
def test_round_trip_odd_widths_and_edges(width, coding, k):
    round_trip(edge_page(width), coding, k)
    round_trip(np.random.default_rng(width).random((25, width)) < 0.3, coding, k)


def test_known_code_words():
    """Bits written by hand from T.4 Tables 1-3 and the EOL."""
    white = np.zeros((1, 1728), dtype=bool)
    # EOL, white makeup 1728 (010011011), white terminating 0 (00110101), RTC
    expected = "000000000001" + "010011011" + "00110101" + "000000000001" * 6
    assert bits_of(t4.encode(white, "mh")).rstrip("0") == expected.rstrip("0")
    line = np.zeros((1, 4864), dtype=bool)
    line[0, 3:] = True   # white 3 (1000), black 4861 = 2560 (000000011111) + 2240 (000000010110) + 61
    expected = ("000000000001" + "1000" + "000000011111" + "000000010110" + "000001011010"
                + "000000000001" * 6)
    assert bits_of(t4.encode(line, "mh")).rstrip("0") == expected.rstrip("0")
    # MMR of a white line on the imaginary white line: V0, then EOFB
    assert bits_of(t4.encode(np.zeros((2, 9), bool), "mmr")) == "1" + "1" + "000000000001" * 2 + "000000"


def test_uint8_input_and_views_are_accepted():
    image = np.random.default_rng(3).random((30, 100)) < 0.5
    for coding in ("mh", "mr", "mmr"):
        ref = t4.encode(image, coding)
        assert t4.encode(image.astype(np.uint8), coding) == ref
        wide = np.zeros((30, 200), dtype=bool)
        wide[:, ::2] = image
        assert t4.encode(wide[:, ::2], coding) == ref   # not contiguous


@pytest.mark.parametrize("coding,k", CODINGS, ids=CODING_IDS)
def test_empty_page(coding, k):
    image = np.zeros((0, 1728), dtype=bool)
    data = t4.encode(image, coding, k=k)
    if coding == "mmr":
        assert bits_of(data) == "000000000001" * 2
    elif coding == "mh":
        assert bits_of(data) == "000000000001" * 6
    else:
        assert bits_of(data).rstrip("0") == ("000000000001" + "1") * 6
    assert t4.decode(data, 1728, coding).shape == (0, 1728)
    assert t4.encode(image, coding, k=k, rtc=False) == (data if coding == "mmr" else b"")


@pytest.mark.parametrize("coding", ["mh", "mr"])
def test_every_g3_line_starts_with_eol_and_page_ends_with_rtc(coding):
    image = text_page(height=64)
    data = t4.encode(image, coding)
    bits = bits_of(data)
    starts = eol_starts(data)
    assert starts[0] == 0
    assert len(starts) == image.shape[0] + 6
    eol = "000000000001" + ("1" if coding == "mr" else "")
    assert bits[starts[-6]:].rstrip("0") == (eol * 6).rstrip("0")
    assert len(bits) - len(bits[starts[-6]:].rstrip("0")) - starts[-6] < 8
    no_rtc = t4.encode(image, coding, rtc=False)
    assert len(eol_starts(no_rtc)) == image.shape[0]
    np.testing.assert_array_equal(t4.decode(no_rtc, 1728, coding), image)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8, 1000])
def test_mr_tag_bits_follow_k(k):
    image = text_page(height=50)
    data = t4.encode(image, "mr", k=k)
    bits = bits_of(data)
    tags = [bits[s + 12] for s in eol_starts(data)[: image.shape[0]]]
    assert tags == ["1" if y % k == 0 else "0" for y in range(image.shape[0])]
    np.testing.assert_array_equal(t4.decode(data, 1728, "mr"), image)


def test_mr_default_k_is_2_and_mmr_ignores_k():
    image = text_page(height=20)
    assert t4.encode(image, "mr") == t4.encode(image, "mr", k=2)
    assert t4.encode(image, "mr", k=4) != t4.encode(image, "mr")
    assert t4.encode(image, "mmr", k=7) == t4.encode(image, "mmr")
    assert t4.encode(image, "mh", k=7) == t4.encode(image, "mh")


@pytest.mark.parametrize("coding,k", [("mh", None), ("mr", 2), ("mr", 4)], ids=["mh", "mr-k2", "mr-k4"])
@pytest.mark.parametrize("min_bits", [96, 192, 1000])
def test_fill_reaches_the_minimum_coded_line(coding, k, min_bits):
    image = text_page(height=80)
    image[10:14] = False   # short lines that need fill
    plain = t4.encode(image, coding, k=k)
    filled = t4.encode(image, coding, k=k, min_bits_per_line=min_bits)
    starts = eol_starts(filled)
    lines = np.diff(starts[: image.shape[0] + 1])
    assert len(lines) == image.shape[0]
    assert lines.min() >= min_bits
    # lines that were long enough get no fill: the shortest padded line is exact
    assert min_bits in lines
    assert np.diff(eol_starts(plain)[: image.shape[0] + 1]).min() < min_bits
    np.testing.assert_array_equal(t4.decode(filled, 1728, coding), image)


def test_fill_before_the_last_eol_without_rtc():
    image = np.zeros((3, 1728), dtype=bool)
    data = t4.encode(image, "mh", min_bits_per_line=200, rtc=False)
    assert len(bits_of(data)) >= 3 * 200
    np.testing.assert_array_equal(t4.decode(data, 1728, "mh"), image)


@pytest.mark.parametrize("coding", ["mh", "mr", "mmr"])
def test_tall_page_grows_the_output(coding):
    """More lines than the decoder's first guess (2400) when no height is given."""
    image = np.random.default_rng(4).random((7000, 40)) < 0.1
    round_trip(image, coding, 4)


def test_decoded_pages_are_independent_writable_arrays():
    """Decoded pages share no memory, also when their blocks are reused."""
    pages = [text_page(height=300), halftone_page(), np.ones((300, 1728), dtype=bool)]
    data = [t4.encode(p, "mmr") for p in pages]
    first = t4.decode(data[0], 1728, "mmr")
    for _ in range(3):
        for d, p in zip(data[1:], pages[1:]):
            out = t4.decode(d, 1728, "mmr")
            np.testing.assert_array_equal(out, p)
            out[:] = True            # writable, and must not leak into others
            del out
    np.testing.assert_array_equal(first, pages[0])
    kept = [t4.decode(d, 1728, "mmr") for d in data]
    for out, p in zip(kept, pages):
        np.testing.assert_array_equal(out, p)
    assert not np.shares_memory(kept[0], kept[1])


def test_decode_with_height_stops_early():
    image = text_page(height=60)
    for coding in ("mh", "mr", "mmr"):
        data = t4.encode(image, coding)
        np.testing.assert_array_equal(t4.decode(data, 1728, coding, height=25), image[:25])


def test_bad_arguments_are_value_errors():
    image = np.zeros((2, 8), dtype=bool)
    with pytest.raises(ValueError, match="coding"):
        t4.encode(image, "jbig")
    with pytest.raises(ValueError, match="2-D"):
        t4.encode(np.zeros(8, dtype=bool), "mh")
    with pytest.raises(ValueError, match="width"):
        t4.encode(np.zeros((2, 0), dtype=bool), "mh")
    with pytest.raises(ValueError, match="k must"):
        t4.encode(image, "mr", k=0)
    with pytest.raises(ValueError, match="width"):
        t4.decode(b"", 0, "mh")


def whole(name: str, low: int, high: int, shown: str) -> str:
    return rf"^{name} must be a whole number from {low} to {high}.*, not {re.escape(shown)}$"


@pytest.mark.parametrize("call, message", [
    (lambda: t4.encode(np.zeros((2, 8), bool), "mr", k=0), whole("k", 1, 2**31 - 1, "0")),
    (lambda: t4.encode(np.zeros((2, 8), bool), "mr", k=2**40), whole("k", 1, 2**31 - 1, str(2**40))),
    (lambda: t4.encode(np.zeros((2, 8), bool), "mr", k=2.5), whole("k", 1, 2**31 - 1, "2.5 (float)")),
    (lambda: t4.encode(np.zeros((2, 8), bool), "mh", min_bits_per_line=-1),
     whole("min_bits_per_line", 0, 16384, "-1")),
    (lambda: t4.encode(np.zeros((2, 8), bool), "mh", min_bits_per_line=10**12),
     whole("min_bits_per_line", 0, 16384, str(10**12))),
    (lambda: t4.encode(np.zeros((2, 8), bool), "mh", min_bits_per_line="192"),
     whole("min_bits_per_line", 0, 16384, "'192' (str)")),
    (lambda: t4.encode(np.zeros((2, 8), object), "mh"), r"^image must hold bools or 0/1 numbers"),
    (lambda: t4.encode(np.zeros((2, 8), bool), 3), r"^coding must be 'mh', 'mr' or 'mmr', not 3$"),
    (lambda: t4.decode(b"", 16, "mh", max_lines=0), whole("max_lines", 1, 2**31 - 2, "0")),
    (lambda: t4.decode_lenient(b"", 16, "mh", max_lines=-5), whole("max_lines", 1, 2**31 - 2, "-5")),
    (lambda: t4.decode(b"", 16, "mh", max_lines=2**40), whole("max_lines", 1, 2**31 - 2, str(2**40))),
    (lambda: t4.decode(b"", 16, "mh", height=-1), whole("height", 0, 2**31 - 1, "-1")),
    (lambda: t4.decode(b"", 16, "mh", height=2**31), whole("height", 0, 2**31 - 1, str(2**31))),
    (lambda: t4.decode(b"", 16.0, "mh"), whole(r"width \(pels per line\)", 1, 65535, "16.0 (float)")),
    (lambda: t4.decode(b"", "16", "mh"), whole(r"width \(pels per line\)", 1, 65535, "'16' (str)")),
    (lambda: t4.decode("text", 16, "mh"), r"^data must be bytes \(or another bytes-like object\), not str$"),
    (lambda: t4.decode_lenient(None, 16, "mmr"), r"^data must be bytes .*, not NoneType$"),
    (lambda: t4.decode(b"", 16, "mh", eol=False, align="8"), r"^align must be 1, 8 or 16 bits, not '8'$"),
])
def test_bad_arguments_raise_t4_argument_error_saying_what_is_allowed(call, message):
    with pytest.raises(t4.T4ArgumentError, match=message) as caught:
        call()
    assert isinstance(caught.value, t4.T4Error) and isinstance(caught.value, ValueError)


def test_the_compiled_coder_raises_the_t4_family():
    from faxengine.t4 import _t4
    with pytest.raises(t4.T4ArgumentError, match="bad arguments to the T.4 encoder"):
        _t4.encode_page(np.zeros((2, 8), np.uint8), 9, 2, 0, True)
    with pytest.raises(t4.T4ArgumentError, match="bad arguments to the T.4 decoder"):
        _t4.decode_page(b"", 8, 9, 0, 10, False, 2)
    with pytest.raises(t4.T4ArgumentError, match="bad line framing"):
        _t4.decode_page(b"", 8, 3, 0, 10, False, 2, _t4.FRAMING[8])


def test_public_names():
    assert set(t4.__all__) >= {"encode", "decode", "decode_lenient", "T4Error", "BadLines",
                               "Page", "RESOLUTIONS", "T4ArgumentError"}
    assert issubclass(t4.T4Error, FaxError)
    assert issubclass(t4.T4ArgumentError, t4.T4Error) and issubclass(t4.T4ArgumentError, ValueError)
    from faxengine.t4.page import Page
    assert t4.Page is Page


@settings(max_examples=60, deadline=None)
@given(
    image=st.integers(1, 200).flatmap(
        lambda w: hnp.arrays(bool, st.tuples(st.integers(0, 12), st.just(w)))),
    coding=st.sampled_from(["mh", "mr", "mmr"]),
    k=st.integers(1, 5),
)
def test_property_round_trip_random_images(image, coding, k):
    round_trip(image, coding, k)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 4864),
    runs=st.lists(st.integers(1, 5000), min_size=0, max_size=12),
    coding=st.sampled_from(["mh", "mr", "mmr"]),
)
def test_property_round_trip_run_lengths(width, runs, coding):
    """Lines built from arbitrary runs, long ones included, shifted line to line."""
    row = np.zeros(width + 5000 * 12, dtype=bool)
    x = 0
    for i, run in enumerate(runs):
        row[x:x + run] = i % 2 == 1
        x += run
    image = np.stack([np.roll(row, s)[:width] for s in (0, 1, 3, 4, 700)])
    round_trip(image, coding, 2)
