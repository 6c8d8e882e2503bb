"""Page thumbnails of a fax image: small PNGs made from its TIFF, kept in memory.

The first look at a fax's pages decodes its TIFF once and makes every
page's thumbnail (``WIDTH`` pixels wide, pels drawn square: fine resolution
is 204 x 196 dpi), so a detail page whose browser asks for 50 thumbnails at
once decodes the file once, not 50 times -- the requests for one fax wait
for each other (one lock per fax), those for different faxes do not.  The
last ``FAXES`` faxes stay in memory (about 3 kB a page), the oldest go
first.  A file that cannot be read gives no thumbnails, never an error page.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path

__all__ = ["Thumbnails", "WIDTH", "FAXES", "MAX_PAGES"]

WIDTH = 180
FAXES = 32                  # faxes whose thumbnails are kept
MAX_PAGES = 50              # the spec's page limit per request


def render(path: Path) -> tuple[bytes, ...]:
    """The thumbnails of the pages of the TIFF at ``path`` (at most ``MAX_PAGES``)."""
    from PIL import Image

    from faxengine import tiff
    out = []
    for p in tiff.read(path)[:MAX_PAGES]:
        img = Image.fromarray(~p.image).convert("L")
        height = round(img.height * p.x_res / p.y_res * WIDTH / img.width)
        img = img.resize((WIDTH, max(1, height)), Image.Resampling.BOX)
        buf = io.BytesIO()
        img.convert("1", dither=Image.Dither.NONE).save(buf, "PNG", optimize=True)
        out.append(buf.getvalue())
    return tuple(out)


class Thumbnails:
    """The thumbnails of the faxes looked at last (thread-safe)."""

    def __init__(self, faxes: int = FAXES) -> None:
        self.faxes = faxes
        self._cache: OrderedDict[str, tuple[bytes, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[str, threading.Lock] = {}

    def page(self, detail_no: str, path: Path, index: int) -> bytes | None:
        """Page ``index`` (1-based) of fax ``detail_no`` whose image is ``path``, None if none."""
        pngs = self._get(detail_no)
        if pngs is None:
            with self._lock:
                making = self._making.setdefault(detail_no, threading.Lock())
            with making:
                pngs = self._get(detail_no)
                if pngs is None:
                    try:
                        pngs = render(path)
                    except Exception:   # removed meanwhile, or damaged: no thumbnails
                        pngs = ()
                    with self._lock:
                        self._cache[detail_no] = pngs
                        while len(self._cache) > self.faxes:
                            self._cache.popitem(last=False)
            with self._lock:
                self._making.pop(detail_no, None)
        return pngs[index - 1] if 1 <= index <= len(pngs) else None

    def _get(self, detail_no: str) -> tuple[bytes, ...] | None:
        with self._lock:
            pngs = self._cache.get(detail_no)
            if pngs is not None:
                self._cache.move_to_end(detail_no)
            return pngs
