"""A document: the pages of any mix of files, each ready to be faxed.

Bilevel TIFFs whose pages are already fax pages (a fax resolution and line
width, T.4 §2.2) are kept pel for pel; every other page (a PNG, a JPEG, a
greyscale or colour TIFF, a scan at 300 dpi 2480 pels wide) is scaled to the
fax line by ``Page.from_pil`` at the resolution asked for, by a threshold or,
with ``dither``, by error diffusion.  Every refusal is an ``InputError``
whose message is one line naming the file.  The ``faxengine`` commands
(``demo``, ``loopback``, ``send``) all load documents here.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from faxengine.errors import FaxError
from faxengine.t4.errors import T4Error
from faxengine.t4.page import Page

__all__ = ["InputError", "LoadedPage", "load_document", "os_error", "plural", "size"]

TIFF_MAGIC = (b"II*\0", b"MM\0*")


class InputError(T4Error):
    """A file or argument the command cannot use; the message names it."""


class _Unreadable(InputError):
    """A file no reader here understands (as against one read and refused)."""


@dataclass(frozen=True, slots=True)
class LoadedPage:
    """A page of the document, where it came from and what was done to it."""

    page: Page
    source: str          # "letter.png", "scan.tif page 2"
    how: str             # "as is", "scaled from 2480 x 3508 pels at 300 x 300 dpi"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def os_error(exc: OSError, path: object = None) -> str:
    """An OSError as one line that names its file: "x.png: No such file or directory"."""
    name = exc.filename if exc.filename is not None else path
    why = exc.strerror or str(exc)
    return f"{name}: {why}" if name is not None else why


def size(width: int, height: int) -> str:
    return f"{width} x {height} {'pel' if width * height == 1 else 'pels'}"


def load_document(names: list[str], resolution: str, dither: bool) -> list[LoadedPage]:
    """The pages of every file, in order, each ready to be faxed.

    Raises:
        InputError: a file that cannot be read or made into pages, named.
    """
    from faxengine import tiff

    pages: list[LoadedPage] = []
    pels = 0
    for name in names:
        for loaded in _load_file(Path(name), resolution, dither):
            # a few bytes of file can hold a thousand pictures: bound the
            # document as tiff.read bounds the pages of one file
            pels += loaded.page.width * loaded.page.height
            if pels > tiff.MAX_DOCUMENT_PIXELS:
                raise InputError(f"{loaded.source}: the document passes {tiff.MAX_DOCUMENT_PIXELS}"
                                 " pels (about 250 A4 pages at fine resolution) here: send it in"
                                 " parts")
            pages.append(loaded)
    return pages


def _load_file(path: Path, resolution: str, dither: bool) -> Iterator[LoadedPage]:
    from faxengine import tiff

    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise InputError(os_error(exc, path)) from None
    if magic in TIFF_MAGIC:
        try:
            pages = tiff.read(path)
        except tiff.TiffError as exc:
            # not bilevel, or a compression only libtiff reads: Pillow may
            # still read it; if not, faxengine's reason is the telling one
            try:
                yield from _load_picture(path, resolution, dither)
                return
            except _Unreadable:
                raise InputError(f"{path}: {exc}") from None
        for i, page in enumerate(pages):
            yield _as_fax_page(page, f"{path} page {i + 1}" if len(pages) > 1 else str(path),
                               resolution, dither)
        return
    yield from _load_picture(path, resolution, dither)


def _as_fax_page(page, source: str, resolution: str, dither: bool) -> LoadedPage:
    """A page read from a bilevel TIFF: kept as is when it is a fax page already."""
    from faxengine.t4 import MAX_LINES, Page

    if page.height == 0:
        raise InputError(f"{source}: an empty page ({size(page.width, 0)}): nothing to send")
    if page.paper is not None:
        if page.height > MAX_LINES:
            raise InputError(f"{source}: a page {page.height} lines long; a fax page has at"
                             f" most {MAX_LINES} lines: split it into pages")
        return LoadedPage(page, source, "as is")
    try:
        fax = Page.from_pil(page.to_pil(), resolution, dither=dither)
    except FaxError as exc:
        raise InputError(f"{source}: {exc}") from None
    return LoadedPage(fax, source, f"scaled from {size(page.width, page.height)} at "
                                   f"{page.x_res:g} x {page.y_res:g} dpi")


def _load_picture(path: Path, resolution: str, dither: bool) -> Iterator[LoadedPage]:
    """Every page of a picture file Pillow reads, scaled to the fax line."""
    import struct

    from PIL import Image, ImageSequence

    from faxengine.t4 import Page

    try:
        with warnings.catch_warnings():
            # Pillow's remarks on odd files ("Corrupt EXIF data") are not the
            # user's business; a picture beyond its size limit is far beyond
            # any fax page, so that warning refuses it
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                frames = ImageSequence.Iterator(img) if img.format == "TIFF" else [img]
                for i, frame in enumerate(frames):
                    dpi = frame.info.get("dpi")
                    several = getattr(img, "n_frames", 1) > 1
                    source = f"{path} page {i + 1}" if several else str(path)
                    how = f"scaled from {size(*frame.size)}"
                    if dpi:
                        how += f" at {' x '.join(f'{round(float(v), 1):g}' for v in dpi)} dpi"
                    yield LoadedPage(Page.from_pil(frame, resolution, dither=dither), source, how)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"{path}: refused as a possible decompression bomb: {exc}") from None
    except Image.UnidentifiedImageError:
        raise _Unreadable(f"{path}: not a picture Pillow reads (PNG, JPEG, TIFF, PBM, GIF, ...)"
                         ) from None
    except FaxError as exc:
        raise InputError(f"{path}: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        # Pillow's plugins report a broken file with any of these
        raise _Unreadable(f"{path}: cannot read the picture: {exc}") from None
    except MemoryError:
        raise InputError(f"{path}: not enough memory to read the picture") from None
