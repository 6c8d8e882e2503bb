"""What every renderer shares: the page, the limits, the error, the fitting.

The page is A4 at fine resolution (T.4 §2.2, T.30 DIS bits 15 and 17-18):
1728 pels across (215 mm at 8 pels/mm) and 297 mm at 7.7 lines/mm, 2287 lines.
``fit`` scales a grey picture onto such pages: to the line width (or its own
physical size when it has one and is narrower), cut into A4 lengths, made
bilevel by a threshold or by Floyd-Steinberg error diffusion.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faxengine.gateway.errors import GatewayConfigError, GatewayError
from faxengine.t4 import Page

WIDTH = 1728                # pels of an A4 scan line at R8 (T.4 §2.2)
X_DPI, Y_DPI = 204.0, 196.0  # fine resolution as TIFF-F writes it
A4_LINES = 2287             # 297 mm x 7.7 lines/mm
THRESHOLD = 128             # grey below this is black
PHOTO_BLOCK = 32            # pels square: the unit a page is judged photo or text in
PHOTO_SHARE = 0.35          # ... photo when more of its pels than this are mid-grey
MID_GREY = (48, 208)
CLOSE_BLOCKS = 4            # gaps of up to twice this many blocks inside a photo are photo
SQUEEZE = 0.03              # a picture up to 3 % longer than A4 is shrunk onto one page


class RenderError(GatewayError):
    """A document that cannot be made into fax pages; the message names it."""


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """The bounds on what one document may cost.

    Attributes:
        max_pixels: pels of one picture (a JPEG, a TIFF page) before it is
            decoded; more is refused as a possible decompression bomb.
        max_document_pixels: pels of all pages of a bilevel TIFF together.
        max_seconds: wall time of one document: LibreOffice is killed after
            it, PDF pages stop being rendered after it.
        office_memory: address space of the LibreOffice process (bytes).
        office_file_size: the largest file LibreOffice may write (bytes).
        max_unzipped: what a .docx/.xlsx (a ZIP) may unpack to in all (bytes).
        max_zip_ratio: the largest unpacked/packed ratio of a ZIP member
            over 1 MiB (XML packs 5-20 times; a bomb a thousand times).
    """

    max_pixels: int = 64_000_000
    max_document_pixels: int = 1 << 28
    max_seconds: float = 60.0
    office_memory: int = 2 << 30
    office_file_size: int = 256 << 20
    max_unzipped: int = 256 << 20
    max_zip_ratio: int = 200

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise GatewayConfigError(f"RenderLimits.{name} must be a number of 0 or more, "
                                         f"not {value!r}")


def fit(grey, *, dither: bool | None, room: int, dpi: tuple[float, float] | None = None,
        ) -> tuple[int, list[Page]]:
    """A grey Pillow picture as A4 fax pages.

    Args:
        grey: a mode "L" picture.
        dither: error diffusion, a threshold, or None: each as the part of
            the picture needs (``bilevel``).
        room: render the pages only if there are at most this many.
        dpi: the picture's resolution: kept at its physical size when it is
            narrower than the line; None: scaled to the line width.  Either
            way a picture is enlarged only as far as one page holds it, and
            never below its own pels (enlarging never adds pages).

    Returns:
        The number of pages (the picture cut into A4 lengths) and, when it is
        at most ``room``, the pages.
    """
    from PIL import Image

    w_in, h_in = grey.size
    width = WIDTH * 1.0
    if dpi is not None:
        width = min(width, w_in * X_DPI / dpi[0])
        scale_y = width / w_in * dpi[0] / dpi[1] * Y_DPI / X_DPI
    else:
        scale_y = width / w_in * Y_DPI / X_DPI
    enlarged = width / w_in
    if enlarged > 1 and h_in * scale_y > A4_LINES * (1 + SQUEEZE):
        # a narrow picture (a receipt, a logo, a phone's screenshot) filling the line
        # was enlarged into several pages (100 x 400 pels: 3; 40 x 3000: 55, over the
        # limit): enlarging never adds pages.  It is enlarged only as far as one page
        # holds it, and never made smaller than its own pels (a picture longer than
        # a page even so is cut into A4 lengths as any other)
        shrink = max(1 / enlarged, A4_LINES / (h_in * scale_y))
        width, scale_y = width * shrink, scale_y * shrink
    if A4_LINES < h_in * scale_y <= A4_LINES * (1 + SQUEEZE):
        # A4 at 196 dpi is 2292 lines, 5 more than 297 mm at 7.7 lines/mm: a
        # page that just misses is shrunk onto one page, not cut into two
        shrink = A4_LINES / (h_in * scale_y)
        width, scale_y = width * shrink, scale_y * shrink
    w = max(1, min(WIDTH, round(width)))
    lines = max(1, round(h_in * scale_y))
    count = math.ceil(lines / A4_LINES)
    if count > room:
        return count, []
    pages = []
    for i in range(count):
        top, bottom = i * A4_LINES, min(lines, (i + 1) * A4_LINES)
        # only this page's band of the picture is scaled: memory stays one page
        band = grey.resize((w, bottom - top), Image.Resampling.LANCZOS,
                           box=(0, top / scale_y, w_in, min(h_in, bottom / scale_y)))
        pages.append(bilevel(band, dither=dither))
    return count, pages


def bilevel(grey, *, dither: bool | None) -> Page:
    """A grey picture at most ``WIDTH`` wide as a page, centred on the line.

    ``dither``: True: Floyd-Steinberg error diffusion everywhere (photos);
    False: the threshold everywhere (text, line art); None: each block of
    ``PHOTO_BLOCK`` pels that is mostly mid-grey (a photo on a page of text),
    and the blocks around it, is dithered, the rest thresholded, so the
    text stays crisp and the photo keeps its shades.
    """
    a = np.asarray(grey, dtype=np.uint8)
    black = a < THRESHOLD
    mask = photo_blocks(a) if dither is None else None
    if dither or (mask is not None and mask.any()):
        diffused = ~np.asarray(grey.convert("1"), dtype=bool)
        if mask is None:
            black = diffused
        else:
            # closed (the very light and dark parts inside a photo have no mid
            # grey but belong to it), then one block wider: no hard edges
            grown = _dilate(~_dilate(~_dilate(mask, CLOSE_BLOCKS), CLOSE_BLOCKS), 1)
            full = np.repeat(np.repeat(grown, PHOTO_BLOCK, axis=0), PHOTO_BLOCK, axis=1)
            black = np.where(full[:a.shape[0], :a.shape[1]], diffused, black)
    image = np.zeros((black.shape[0], WIDTH), dtype=bool)
    left = (WIDTH - black.shape[1]) // 2
    image[:, left:left + black.shape[1]] = black
    return Page(image, X_DPI, Y_DPI)


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """The blocks within ``k`` blocks (across, down or diagonally) of a set one."""
    out = mask.copy()
    for _ in range(k):
        rows = out.copy()
        rows[1:] |= out[:-1]
        rows[:-1] |= out[1:]
        out = rows.copy()
        out[:, 1:] |= rows[:, :-1]
        out[:, :-1] |= rows[:, 1:]
    return out


def photo_blocks(a: np.ndarray) -> np.ndarray:
    """Which ``PHOTO_BLOCK``-square blocks of a grey array are photo-like:
    more than ``PHOTO_SHARE`` of their pels mid-grey (anti-aliased text at
    10 pt and more stays under 16 %)."""
    h, w = a.shape
    bh, bw = -(-h // PHOTO_BLOCK), -(-w // PHOTO_BLOCK)
    mid = np.zeros((bh * PHOTO_BLOCK, bw * PHOTO_BLOCK), dtype=np.float32)
    mid[:h, :w] = (a > MID_GREY[0]) & (a < MID_GREY[1])
    share = mid.reshape(bh, PHOTO_BLOCK, bw, PHOTO_BLOCK).mean(axis=(1, 3))
    return share > PHOTO_SHARE
