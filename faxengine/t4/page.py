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
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # Pillow is imported only when a conversion is asked for
    from PIL import Image

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
    """

    image: np.ndarray
    x_res: float = 204.0
    y_res: float = 196.0

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.ndim != 2:
            raise ValueError(f"a page image must be 2-D, got {image.ndim}-D")
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
        threshold: int = 128,
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
            A page ``width`` pels wide, the picture centred on it.

        Raises:
            ValueError: unknown resolution, a width not allowed at it, or an
                empty picture.
        """
        if resolution not in RESOLUTIONS:
            raise ValueError(
                f"unknown resolution {resolution!r}; use one of {', '.join(RESOLUTIONS)}"
            )
        widths = FAX_WIDTHS[resolution]
        if width is None:
            width = widths[0]
        elif width not in widths:
            raise ValueError(
                f"a {resolution} page is {', '.join(map(str, widths))} pels wide, not {width}"
            )
        if img.width < 1 or img.height < 1:
            raise ValueError(f"cannot make a page of an empty {img.width}x{img.height} image")
        x_res, y_res = RESOLUTIONS[resolution]
        w, h = _scaled_size(img, width, x_res, y_res)
        grey = _to_grey(img)
        if (w, h) != grey.size:
            from PIL import Image

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


def _scaled_size(img: "Image.Image", width: int, x_res: float, y_res: float) -> tuple[int, int]:
    """Size in pels of the picture at (x_res, y_res), no wider than ``width``."""
    dpi = img.info.get("dpi")
    try:
        src_x, src_y = (float(v) for v in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        src_x = src_y = 0.0
    if src_x > 1.0 and src_y > 1.0:
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
        # wide samples: Pillow's convert would clip at 255, so rescale
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") else max(255.0, float(a.max(initial=0)))
        return Image.fromarray(np.clip(a * (255.0 / top), 0, 255).astype(np.uint8))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(paper, rgba)
    return img.convert("L")
