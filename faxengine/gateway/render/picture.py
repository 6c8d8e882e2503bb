"""TIFF and JPEG to pages.

TIFF goes through ``faxengine.tiff.read`` first: a bilevel page that is
already an A4 fax page at fine resolution (1728 pels, 204 x 196 dpi) passes
pel for pel; a 1728-pel page at standard resolution (204 x 98) has each line
doubled; any other bilevel page is scaled by its resolution (its physical
size kept, shrunk to the line if wider).  A page longer than A4 is cut into
A4 lengths (a last piece that is all white is dropped: paper, not a page).
A TIFF the fax reader refuses (grey, colour, JPEG inside) is
read by Pillow (a grey scan: its photos dithered, its text thresholded), as
are JPEG files: EXIF orientation applied (Pillow's ``ImageOps.exif_transpose``),
scaled to the line width keeping the aspect, dithered.  Enlarging never adds
pages (``common.fit``): a narrow picture is enlarged only as far as one A4 page
holds it, and never below its own pels.

Decompression bombs: the pels a picture declares are checked against
``RenderLimits.max_pixels`` before anything is decoded (Pillow's own
``MAX_IMAGE_PIXELS`` warning is an error too); the bilevel reader bounds the
pels of all pages with ``max_document_pixels``.
"""
from __future__ import annotations

import io
import struct
import warnings

import numpy as np

from faxengine.gateway.render.common import A4_LINES, WIDTH, RenderError, RenderLimits, fit
from faxengine.t4 import Page
# the t4 layer's grey conversion (transparency on white paper, 16-bit and float
# samples rescaled), used by Page.from_pil; one copy of that logic
from faxengine.t4.page import _to_grey

__all__ = ["tiff_pages", "picture_pages"]

# what Pillow's plugins raise on a broken file
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError,
           TypeError, ZeroDivisionError)


def tiff_pages(data: bytes, room: int, what: str,
               limits: RenderLimits) -> tuple[int, list[Page]]:
    """The pages of a TIFF file (when at most ``room``) and their count."""
    from faxengine import tiff

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tiff.TiffWarning)
            read = tiff.read(data, max_pixels=limits.max_document_pixels)
    except tiff.TiffError as exc:
        try:
            return picture_pages(data, room, what, limits, exif=False, dither=None,
                                 every_frame=True)
        except RenderError as pillow:
            if "bomb" in str(pillow):
                raise
            raise RenderError(f"{what}: {exc}") from None
    if not read:
        raise RenderError(f"{what}: the TIFF has no pages")
    count, pages = 0, []
    for i, page in enumerate(read):
        if page.height == 0 or page.width == 0:
            raise RenderError(f"{what}: page {i + 1} is empty ({page.width} x {page.height})")
        n, made = _fax_page(page, room - count)
        count += n
        pages.extend(made)
    return count, pages if count <= room else []


def _fax_page(page: Page, room: int) -> tuple[int, list[Page]]:
    """A bilevel page as A4 fine pages."""
    image = page.image
    if page.width == WIDTH and page.resolution in ("fine", "standard"):
        if page.resolution == "standard":
            image = np.repeat(image, 2, axis=0)     # 3.85 -> 7.7 lines/mm
        cuts = list(range(0, image.shape[0], A4_LINES))
        if len(cuts) > 1 and not image[cuts[-1]:].any():
            cuts.pop()              # blank paper past the A4 length is no page
        if len(cuts) > room:
            return len(cuts), []
        return len(cuts), [Page(image[k:k + A4_LINES], 204.0, 196.0) for k in cuts]
    grey = page.to_pil().convert("L")
    return fit(grey, dither=False, room=room, dpi=(page.x_res, page.y_res))


def picture_pages(data: bytes, room: int, what: str, limits: RenderLimits, *,
                  exif: bool = True, dither: bool | None = True,
                  every_frame: bool = False) -> tuple[int, list[Page]]:
    """The pages of a picture Pillow reads; ``exif``: apply its EXIF
    orientation; ``dither`` as ``common.bilevel`` takes it; ``every_frame``:
    each frame a page (a TIFF), else the first only (a camera's JPEG may be
    an MPO whose second frame is a preview or the other eye)."""
    from PIL import Image, ImageOps

    count, pages = 0, []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                frames = getattr(img, "n_frames", 1) if every_frame else 1
                for k in range(frames):
                    img.seek(k)
                    if img.width * img.height > limits.max_pixels:
                        raise RenderError(
                            f"{what}: a picture of {img.width} x {img.height} pels is more "
                            f"than {limits.max_pixels:,} pels (a decompression bomb?): scale "
                            "it down")
                    if img.format in ("JPEG", "MPO"):
                        # libjpeg decodes at 1/2, 1/4 or 1/8 scale while the
                        # picture stays at least a line wide either way up
                        img.draft("L", (WIDTH, WIDTH))
                    frame = ImageOps.exif_transpose(img) if exif else img
                    n, made = fit(_to_grey(frame), dither=dither, room=room - count)
                    count += n
                    pages.extend(made)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RenderError(f"{what}: refused as a possible decompression bomb: {exc}") from None
    except Image.UnidentifiedImageError:
        odd = _jpeg_frame_error(data)
        raise RenderError(f"{what}: {odd}" if odd else
                          f"{what}: not a picture that can be read (damaged?); "
                          "send it again as JPEG or TIFF") from None
    except RenderError:
        raise
    except _BROKEN as exc:
        raise RenderError(f"{what}: cannot read the picture ({exc}); send it again") from None
    return count, pages if count <= room else []


# T.81 Table B.1: the start-of-frame markers and their coding processes
_SOF_PROCESS = {0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive",
                0xC3: "lossless", 0xC5: "hierarchical", 0xC6: "hierarchical progressive",
                0xC7: "hierarchical lossless", 0xC9: "arithmetic sequential",
                0xCA: "arithmetic progressive", 0xCB: "arithmetic lossless",
                0xCD: "hierarchical arithmetic", 0xCE: "hierarchical arithmetic progressive",
                0xCF: "hierarchical arithmetic lossless"}


def _jpeg_frame_error(data: bytes) -> str | None:
    """Why a JPEG that Pillow refused is a kind it cannot read (T.81 §B.2.2: the
    frame header's sample precision P and the SOF marker's process), as a camera
    or a scanner writes them (12-bit medical and industrial pictures, lossless);
    None when the frame header is ordinary (then the file is damaged)."""
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in _SOF_PROCESS:
            precision = data[pos + 4]
            if precision != 8 or marker in (0xC3, 0xC7, 0xCB, 0xCF):
                return (f"a {precision}-bit {_SOF_PROCESS[marker]} JPEG cannot be read; "
                        "save it as an ordinary 8-bit JPEG (or as PDF) and send it again")
            return None
        if marker == 0xFF:
            pos += 1                                # fill octet (T.81 §B.1.1.2)
            continue
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return None

