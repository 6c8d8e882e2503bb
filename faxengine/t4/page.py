"""A fax page: a bilevel image and the resolution it was scanned at.

T.30 §5.3.6.2 (DIS/DCS bits 15, 41–45) and T.4 §2 name the resolutions a
Group 3 terminal may use.  The metric ones are R8 (8 pels/mm across) by 3.85,
7.7 or 15.4 lines/mm; the inch-based ones are 200, 300 and 400 pels/inch both
ways.  TIFF Class F records R8 × 3.85 as 204 × 98 dpi and R8 × 7.7 as
204 × 196 dpi, so those figures are the ones kept here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
