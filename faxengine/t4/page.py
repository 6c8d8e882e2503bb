"""A fax page: a bilevel image and the resolution it was scanned at.

T.30 §5.3.6.2 (DIS/DCS bits 15, 41–45) and T.4 §2 name the resolutions a
Group 3 terminal may use.  The metric ones are R8 (8 pels/mm across) by 3.85,
7.7 or 15.4 lines/mm; the inch-based ones are 200, 300 and 400 pels/inch both
ways.  TIFF Class F records R8 × 3.85 as 204 × 98 dpi and R8 × 7.7 as
204 × 196 dpi, so those figures are the ones kept here.

``Page.from_pil`` turns any Pillow image into a page a fax machine can send:
it scales the picture to the scan width of the chosen resolution (the pels
are not square at standard and fine resolution, so the two axes scale by
different factors), makes it bilevel by a threshold or by Floyd–Steinberg
error diffusion (Pillow's ``convert("1")``), and centres it on a line of one
of the widths T.4 §2.2 allows.  ``Page.to_pil`` goes the other way.

Bounds.  A page is at most ``MAX_LINES`` scan lines long: the most a
receiver decodes (``t4.decode``'s ``max_lines``; 2.6 m at fine resolution,
1.3 m at superfine), so a picture that would scale to a longer page is
refused before any pel is allocated, with the size it would have had.  A page
that ``from_pil`` makes therefore holds at most 4864 x 20000 pels, and the
conversion needs a few bytes per pel of it beside the picture itself.
Everything refused raises ``PageError``, a ``T4Error`` (and a ``ValueError``,
as these errors were before they joined the family).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from faxengine.t4.codec import DEFAULT_MAX_LINES, T4Error

if TYPE_CHECKING:  # Pillow is imported only when a conversion is asked for
    from PIL import Image


class PageError(T4Error, ValueError):
    """A picture or setting that cannot make a fax page, and what to do instead."""


# The longest page: what a receiver decodes by default (T.30 DIS bits 19-20
# "unlimited length" still needs a bound; this is the one t4.decode keeps).
MAX_LINES = DEFAULT_MAX_LINES

# the paper widths of FAX_WIDTHS' entries, in order (T.4 §2.2)
PAPER = ("A4", "B4", "A3")

# name -> (horizontal dpi, vertical dpi) as TIFF-F writes them
RESOLUTIONS: dict[str, tuple[float, float]] = {
    "standard": (204.0, 98.0),     # R8 x 3.85 lines/mm
    "fine": (204.0, 196.0),        # R8 x 7.7 lines/mm
    "superfine": (204.0, 391.0),   # R8 x 15.4 lines/mm
    "r16-superfine": (408.0, 391.0),  # R16 x 15.4 lines/mm
    "200": (200.0, 200.0),
    "300": (300.0, 300.0),
    "400": (400.0, 400.0),
}


# name -> the scan line widths in pels a terminal may use, A4 first, then B4
# and A3 (T.4 §2.2; T.30 DIS bits 17-18): 215, 255 and 303 mm at 8 pels/mm,
# and the same paper widths at 200, 300 and 400 pels/inch and R16.
FAX_WIDTHS: dict[str, tuple[int, ...]] = {
    "standard": (1728, 2048, 2432),
    "fine": (1728, 2048, 2432),
    "superfine": (1728, 2048, 2432),
    "r16-superfine": (3456, 4096, 4864),
    "200": (1728, 2048, 2432),
    "300": (2592, 3072, 3648),
    "400": (3456, 4096, 4864),
}


def resolution_name(x_res: float, y_res: float) -> str | None:
    """The T.30 name of a resolution in dpi, or None when it is none of them.

    Tolerates the rounding that files carry (203.2 for 8 pels/mm, 97.79 for
    3.85 lines/mm).
    """
    for name, (x, y) in RESOLUTIONS.items():
        if abs(x - x_res) <= 0.02 * x and abs(y - y_res) <= 0.02 * y:
            return name
    return None


@dataclass
class Page:
    """One page: ``image`` is a 2-D bool array, True = black, one row per scan line.

    ``x_res`` and ``y_res`` are in dots per inch.

    Raises:
        PageError: an image that is not 2-D.
    """

    image: np.ndarray
    x_res: float = 204.0
    y_res: float = 196.0

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.ndim != 2:
            raise PageError(f"a page image must be 2-D (lines x pels), got {image.ndim}-D")
        if image.dtype != np.bool_:
            image = image.astype(bool)
        self.image = np.ascontiguousarray(image)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def resolution(self) -> str | None:
        """The T.30 resolution name (``"standard"``, ``"fine"``, …) or None."""
        return resolution_name(self.x_res, self.y_res)

    @property
    def paper(self) -> str | None:
        """The paper width the scan line fits, ``"A4"``, ``"B4"`` or ``"A3"``
        (T.4 §2.2), or None when the resolution or the width is not a fax
        one: such a page must go through ``from_pil`` before it is sent."""
        resolution = self.resolution
        widths = FAX_WIDTHS[resolution] if resolution else ()
        return PAPER[widths.index(self.width)] if self.width in widths else None

    @property
    def mr_k(self) -> int:
        """MR's parameter K for this page (T.4 §4.2.1.2): 2 at standard vertical
        resolution (below 150 lines/inch), 4 at the higher ones, as libtiff too
        chooses it."""
        return 2 if self.y_res < 150 else 4

    @classmethod
    def from_pil(
        cls,
        img: "Image.Image",
        resolution: str = "fine",
        width: int | None = None,
        dither: bool = False,
        threshold: float = 128,
    ) -> "Page":
        """Build a page from a Pillow image of any mode.

        Args:
            img: the picture.  When it carries a resolution (``img.info["dpi"]``)
                its physical size is kept, shrunk if it is wider than the line;
                without one it is scaled to fill the scan line width.
            resolution: a key of ``RESOLUTIONS`` ("standard", "fine", ...).
            width: the scan line width in pels, one of ``FAX_WIDTHS[resolution]``;
                default the A4 width (1728 at R8, 2592 at 300 dpi, ...).
            dither: Floyd–Steinberg error diffusion instead of a threshold,
                better for photographs and grey shades.
            threshold: grey level (0-255) below which a pel becomes black.

        Returns:
            A page ``width`` pels wide and 1 to ``MAX_LINES`` lines long, the
            picture centred on it.

        Raises:
            PageError: unknown resolution, a width not allowed at it, a
                threshold outside 0-255, an empty picture, or one that would
                make a page longer than ``MAX_LINES``.
            TypeError: ``img`` is not a Pillow image.
        """
        from PIL import Image

        if not isinstance(img, Image.Image):
            raise TypeError(f"Page.from_pil takes a PIL.Image.Image, not {type(img).__name__};"
                            " for an array of pels use Page(image, x_res, y_res)")
        if not isinstance(resolution, str) or resolution not in RESOLUTIONS:
            raise PageError(
                f"unknown resolution {resolution!r}; use one of {', '.join(RESOLUTIONS)}"
            )
        widths = FAX_WIDTHS[resolution]
        if width is None:
            width = widths[0]
        elif not isinstance(width, numbers.Integral) or width not in widths:
            raise PageError(
                f"a {resolution} page is {', '.join(map(str, widths))} pels wide, not {width!r}"
            )
        width = int(width)
        if not _is_number(threshold) or not 0 <= threshold <= 255:
            raise PageError(f"threshold must be a grey level from 0 to 255, not {threshold!r}")
        if img.width < 1 or img.height < 1:
            raise PageError(f"cannot make a page of an empty {img.width} x {img.height} picture")
        x_res, y_res = RESOLUTIONS[resolution]
        w, h = _scaled_size(img, width, x_res, y_res)
        if h > MAX_LINES:
            # refused before Pillow allocates it: a 1 x 20000 strip would be 57 Gpels
            raise PageError(
                f"a {img.width} x {img.height} picture makes a page {h} lines"
                f" ({h / y_res * 0.0254:,.1f} m) long at {resolution} resolution; a fax"
                f" page has at most {MAX_LINES} lines ({MAX_LINES / y_res * 0.0254:.1f} m):"
                " crop the picture or split it into pages"
            )
        try:
            grey = _to_grey(img)
        except ValueError as exc:           # a mode Pillow cannot make grey
            raise PageError(f"cannot make a page of a {img.mode} picture: {exc}") from None
        if (w, h) != grey.size:
            grey = grey.resize((w, h), Image.Resampling.LANCZOS)
        if dither:
            black = ~np.asarray(grey.convert("1"), dtype=bool)
        else:
            black = np.asarray(grey, dtype=np.uint8) < threshold
        image = np.zeros((h, width), dtype=bool)
        left = (width - w) // 2
        image[:, left : left + w] = black
        return cls(image, x_res, y_res)

    def to_pil(self) -> "Image.Image":
        """The page as a Pillow image of mode "1" (black = 0) with its dpi."""
        from PIL import Image

        # mode "1" stores a set bit for white, 8 pels a byte, rows padded
        data = np.packbits(~self.image, axis=1).tobytes()
        img = Image.frombytes("1", (self.width, self.height), data)
        img.info["dpi"] = (self.x_res, self.y_res)
        return img


def _is_number(value: object) -> bool:
    """A real number, not a bool (``True`` is no grey level nor resolution)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _scaled_size(img: "Image.Image", width: int, x_res: float, y_res: float) -> tuple[int, int]:
    """Size in pels of the picture at (x_res, y_res), no wider than ``width``."""
    dpi = img.info.get("dpi")
    try:
        src_x, src_y = (float(v) for v in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        src_x = src_y = 0.0
    # a resolution below 1 dpi, infinite or NaN is a broken tag, not a size
    if 1.0 < src_x < math.inf and 1.0 < src_y < math.inf:
        # keep the physical size: inches times the target pels per inch
        w = img.width * x_res / src_x
        h = img.height * y_res / src_y
        if w > width:
            h *= width / w
            w = width
    else:
        # no resolution known: the picture spans the line; the vertical scale
        # differs from the horizontal one by the pel aspect ratio
        w = width
        h = img.height * (width / img.width) * (y_res / x_res)
    return max(1, min(width, round(w))), max(1, round(h))


def _to_grey(img: "Image.Image") -> "Image.Image":
    """The picture as 8-bit grey, transparent parts on white paper."""
    from PIL import Image

    if img.mode == "L":
        return img
    if img.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        # wide samples: Pillow's convert would clip at 255, so rescale; what
        # is not a number (NaN in a float picture) counts as paper
        a = np.asarray(img, dtype=np.float32)
        finite = a[np.isfinite(a)]
        top = 65535.0 if img.mode.startswith("I;16") else max(255.0, float(finite.max(initial=0)))
        a = np.nan_to_num(a, nan=top, posinf=top, neginf=0.0)
        return Image.fromarray(np.clip(a * (255.0 / top), 0, 255).astype(np.uint8))
    if img.mode == "LAB":
        return img.getchannel("L")          # lightness, 0-255 already
    if img.mode == "P":
        img = img.convert("RGBA")
    elif img.mode == "La":                  # premultiplied: Pillow converts it only to LA
        img = img.convert("LA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa"):
        rgba = img.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(paper, rgba)
    return img.convert("L")
