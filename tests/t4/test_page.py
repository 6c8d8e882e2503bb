"""Page helpers: building a fax page from a Pillow image and back."""
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from faxengine.errors import FaxError
from faxengine.t4 import T4Error
from faxengine.t4.page import FAX_WIDTHS, MAX_LINES, RESOLUTIONS, Page, PageError


def _random_page(width=1728, height=50, x_res=204.0, y_res=196.0, seed=1):
    rng = np.random.default_rng(seed)
    return Page(rng.random((height, width)) < 0.3, x_res, y_res)


def test_to_pil_maps_black_to_zero_and_keeps_dpi():
    page = _random_page(width=13, height=7)
    img = page.to_pil()
    assert img.mode == "1" and img.size == (13, 7)
    assert img.info["dpi"] == (204.0, 196.0)
    assert np.array_equal(np.asarray(img) == 0, page.image)


@pytest.mark.parametrize("resolution", ["standard", "fine", "300"])
def test_round_trip_through_pil_is_exact(resolution):
    x_res, y_res = RESOLUTIONS[resolution]
    page = _random_page(width=FAX_WIDTHS[resolution][0], x_res=x_res, y_res=y_res)
    back = Page.from_pil(page.to_pil(), resolution=resolution)
    assert (back.x_res, back.y_res) == (x_res, y_res)
    assert np.array_equal(back.image, page.image)


def test_image_without_dpi_fills_the_line_and_height_follows_pel_aspect():
    img = Image.new("L", (1000, 1000), 255)
    std = Page.from_pil(img, resolution="standard")
    fine = Page.from_pil(img, resolution="fine")
    assert std.width == fine.width == 1728
    # 1.728 horizontal scale times 98/204 (standard) or 196/204 (fine)
    assert std.height == round(1000 * 1.728 * 98 / 204) == 830
    assert fine.height == round(1000 * 1.728 * 196 / 204) == 1660
    assert not fine.image.any()


def test_image_with_dpi_keeps_its_physical_size_centred():
    # an A4 scan at 300 dpi whose left half is black
    a = np.full((3508, 2480), 255, dtype=np.uint8)
    a[:, :1240] = 0
    img = Image.fromarray(a)
    img.info["dpi"] = (300, 300)
    page = Page.from_pil(img, resolution="fine")
    assert page.width == 1728 and page.height == round(3508 * 196 / 300)
    w = round(2480 * 204 / 300)
    left = (1728 - w) // 2
    row = page.image[1000]
    assert not row[:left].any() and not row[left + w :].any()
    assert row[left : left + w // 2 - 2].all() and not row[left + w // 2 + 2 : left + w].any()


def test_too_wide_image_with_dpi_is_shrunk_to_the_line():
    img = Image.new("1", (4000, 100), 0)
    img.info["dpi"] = (200, 200)
    page = Page.from_pil(img, resolution="fine")
    assert page.width == 1728 and page.image.all()
    assert page.height == round(100 * 196 / 200 * 1728 / (4000 * 204 / 200))


def test_threshold_and_dither_on_grey():
    grey = Image.new("L", (1728, 200), 100)
    assert Page.from_pil(grey, threshold=128).image.all()
    assert not Page.from_pil(grey, threshold=100).image.any()
    half = Page.from_pil(Image.new("L", (1728, 200), 128), dither=True).image
    assert 0.4 < half.mean() < 0.6


def test_modes_with_alpha_palette_and_wide_samples():
    rgba = Image.new("RGBA", (1728, 10), (0, 0, 0, 0))  # transparent black: paper
    assert not Page.from_pil(rgba).image.any()
    pal = Image.new("P", (1728, 10), 0)
    pal.putpalette([0, 0, 0] * 256)
    assert Page.from_pil(pal).image.all()
    wide = np.zeros((10, 1728), dtype=np.uint16)
    wide[:, 864:] = 65535
    img = Image.fromarray(wide)
    assert img.mode == "I;16"
    page = Page.from_pil(img)
    assert page.image[:, :860].all() and not page.image[:, 868:].any()
    rgb = Page.from_pil(Image.new("RGB", (1728, 10), (250, 250, 250)))
    assert not rgb.image.any()


def test_default_width_follows_resolution_and_bad_arguments_fail():
    img = Image.new("L", (100, 100), 255)
    assert Page.from_pil(img, resolution="300").width == 2592
    assert Page.from_pil(img, resolution="400", width=4864).width == 4864
    with pytest.raises(PageError, match="1728, 2048, 2432 pels wide, not 1000"):
        Page.from_pil(img, width=1000)
    with pytest.raises(PageError, match="1728, 2048, 2432 pels wide, not 1728.0"):
        Page.from_pil(img, width=1728.0)
    with pytest.raises(PageError, match="unknown resolution 'ultra'; use one of standard, fine"):
        Page.from_pil(img, resolution="ultra")
    with pytest.raises(PageError, match=r"unknown resolution \['fine'\]"):
        Page.from_pil(img, resolution=["fine"])
    with pytest.raises(PageError, match="empty 0 x 5 picture"):
        Page.from_pil(Image.new("L", (0, 5)))


def test_page_errors_belong_to_the_t4_family_and_stay_value_errors():
    assert issubclass(PageError, T4Error) and issubclass(PageError, FaxError)
    assert issubclass(PageError, ValueError)


@pytest.mark.parametrize("threshold", [-1, 256, 255.5, math.nan, math.inf, True, "128", None])
def test_threshold_outside_the_grey_scale_is_refused(threshold):
    with pytest.raises(PageError, match=f"threshold must be a grey level from 0 to 255, not "
                                        f"{threshold!r}"):
        Page.from_pil(Image.new("L", (10, 10)), threshold=threshold)


def test_threshold_ends_of_the_scale():
    grey = Image.new("L", (1728, 4), 254)
    assert not Page.from_pil(grey, threshold=0).image.any()
    assert Page.from_pil(grey, threshold=255).image.all()


def test_only_pillow_images_are_taken():
    with pytest.raises(TypeError, match="takes a PIL.Image.Image, not ndarray; for an array"):
        Page.from_pil(np.zeros((10, 10)))


def test_paper_names_fax_widths_only():
    assert Page(np.zeros((1, 1728), bool), 204, 98).paper == "A4"
    assert Page(np.zeros((1, 3648), bool), 300, 300).paper == "A3"
    assert Page(np.zeros((1, 2048), bool), 200, 200).paper == "B4"
    assert Page(np.zeros((1, 2480), bool), 300, 300).paper is None   # a scan, not a fax line
    assert Page(np.zeros((1, 1728), bool), 150, 150).paper is None   # no fax resolution


def test_a_thin_strip_is_refused_by_size_before_anything_is_allocated():
    # the 118-byte PNG: 1 x 20000 scaled to 1728 pels across would be
    # 33 million lines (57 Gpels) and ended in MemoryError after 7 GB
    strip = Image.new("L", (1, 20000), 0)
    tracemalloc.start()
    try:
        with pytest.raises(PageError) as err:
            Page.from_pil(strip)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(err.value) == (
        "a 1 x 20000 picture makes a page 33204706 lines (4,303.1 m) long at fine resolution;"
        " a fax page has at most 20000 lines (2.6 m): crop the picture or split it into pages")
    assert peak < 1 << 20


def test_the_longest_page_allowed_is_made():
    # a picture that spans the line and scales to exactly MAX_LINES at standard
    # resolution (no dpi: the height follows the pel aspect 98/204)
    img = Image.new("L", (1728, round(MAX_LINES * 204 / 98)), 255)
    page = Page.from_pil(img, resolution="standard")
    assert page.height == MAX_LINES
    img.info["dpi"] = (204, 98 * 0.999)
    with pytest.raises(PageError, match=f"at most {MAX_LINES} lines"):
        Page.from_pil(img, resolution="standard")


@pytest.mark.parametrize("dpi", [(math.nan, math.nan), (math.inf, math.inf), (0, 0), (-300, 300),
                                 ("a", "b"), (300,), None])
def test_a_broken_dpi_counts_as_none(dpi):
    img = Image.new("L", (100, 100), 0)
    img.info["dpi"] = dpi
    page = Page.from_pil(img)
    assert page.width == 1728 and page.height == round(100 * 17.28 * 196 / 204)
    assert page.image.all()


@pytest.mark.parametrize("mode, black", [("La", (0, 255)), ("LAB", (0, 0, 0)),
                                         ("HSV", (0, 0, 0)), ("CMYK", (0, 0, 0, 255))])
def test_every_pillow_mode_makes_a_page(mode, black):
    img = Image.new(mode, (1728, 3), black)
    assert Page.from_pil(img).image.all()


def test_float_pictures_with_nan_and_infinity():
    a = np.zeros((10, 1728), dtype=np.float32)
    a[:, :500] = np.nan       # not a number: paper
    a[:, 500:1000] = np.inf   # brightest: paper
    a[:, 1000:1500] = -np.inf
    a[:, 1500:] = 1000.0      # the brightest finite value sets white
    page = Page.from_pil(Image.fromarray(a, mode="F"))
    assert not page.image[:, :990].any() and page.image[:, 1010:1490].all()
    assert not page.image[:, 1510:].any()


# ---- the property: what from_pil accepts is a page within the bounds, what it
# refuses raises PageError, and memory stays proportional to the page made

MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "I", "I;16", "I;16B",
         "F", "CMYK", "YCbCr", "LAB", "HSV"]
DPIS = st.one_of(st.none(), st.tuples(st.floats(allow_nan=True, allow_infinity=True),
                                      st.floats(allow_nan=True, allow_infinity=True)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(MODES),
    size=st.tuples(st.integers(0, 40), st.integers(0, 40)) | st.sampled_from(
        [(1, 20000), (20000, 1), (1, 1), (3, 9000), (1, 12)]),
    dpi=DPIS,
    resolution=st.sampled_from([*RESOLUTIONS, "ultra"]),
    paper=st.integers(0, 3),
    dither=st.booleans(),
    threshold=st.one_of(st.integers(-5, 260), st.floats(allow_nan=True)),
)
def test_any_picture_becomes_a_bounded_page_or_a_page_error(mode, size, dpi, resolution, paper,
                                                            dither, threshold):
    img = Image.new(mode, size)
    if dpi is not None:
        img.info["dpi"] = dpi
    width = FAX_WIDTHS.get(resolution, (1728,) * 3)[paper] if paper < 3 else 1000
    tracemalloc.start()
    try:
        try:
            page = Page.from_pil(img, resolution, width, dither, threshold)
        except PageError:
            page = None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if page is None:
        assert peak < 1 << 20
        return
    assert resolution in RESOLUTIONS and 0 <= threshold <= 255 and min(size) > 0
    assert page.image.dtype == bool and page.width == width
    assert page.width in FAX_WIDTHS[resolution] and page.paper is not None
    assert 1 <= page.height <= MAX_LINES
    # the page itself, its grey picture and a threshold mask, and a little more
    assert peak <= 4 * page.width * page.height + (1 << 20)


def test_mr_k_follows_the_vertical_resolution():
    import numpy as np

    from faxengine.t4 import RESOLUTIONS, Page

    ks = {name: Page(np.zeros((1, 8), bool), *dpi).mr_k for name, dpi in RESOLUTIONS.items()}
    assert ks["standard"] == 2
    assert all(k == 4 for name, k in ks.items() if name != "standard")
