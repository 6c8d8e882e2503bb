"""Page helpers: building a fax page from a Pillow image and back."""
import numpy as np
import pytest
from PIL import Image

from faxengine.t4.page import FAX_WIDTHS, RESOLUTIONS, Page


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
    with pytest.raises(ValueError, match="1728, 2048, 2432 pels wide, not 1000"):
        Page.from_pil(img, width=1000)
    with pytest.raises(ValueError, match="unknown resolution"):
        Page.from_pil(img, resolution="ultra")
    with pytest.raises(ValueError, match="empty"):
        Page.from_pil(Image.new("L", (0, 5)))


def test_mr_k_follows_the_vertical_resolution():
    import numpy as np

    from faxengine.t4 import RESOLUTIONS, Page

    ks = {name: Page(np.zeros((1, 8), bool), *dpi).mr_k for name, dpi in RESOLUTIONS.items()}
    assert ks["standard"] == 2
    assert all(k == 4 for name, k in ks.items() if name != "standard")
