"""Text to pages: the body and .txt files typeset in IPAexGothic.

The page is A4 (2287 lines), 15 mm margins, 10.5 pt type (the size of
Japanese business letters) on a 1.5 line pitch: 47 lines of about 50
full-width characters.  FreeType draws each character once, in grey at 204
dpi both ways (its pels are square), scaled to 196 lines per inch; the page
is inked from these glyphs (cached per process) and thresholded, so the
strokes stay crisp.  Every text page is a full A4 page.

Lines are broken as JIS X 4051 (日本語文書の組版方法) describes, kinsoku shori:

* a line does not start with closing brackets, 、。 and other punctuation, small
  kana, the prolonged sound mark ー or iteration marks (``NO_START``);
* a line does not end with an opening bracket (``NO_END``);
* 、。，． that do not fit hang in the right margin (ぶら下げ) rather than
  move to the next line; other characters move back (追い出し) with the
  characters they must stay with;
* Latin words and numbers are not broken inside, unless one is longer than a
  line; the spaces where a line is broken are dropped.

Tabs go to the next stop every 8 half-width columns (4 em); a form feed
starts a new page (not after the last text); empty lines are kept; other
control characters are dropped; CR LF and CR are line ends.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from faxengine.gateway.render.common import (A4_LINES, THRESHOLD, WIDTH, X_DPI, Y_DPI,
                                             RenderError)
from faxengine.t4 import Page

__all__ = ["FONT_SIZE_PT", "NO_START", "NO_END", "HANGING", "font", "wrap_text", "text_pages"]

FONT_SIZE_PT = 10.5
FONT_NAME = "IPAexGothic"
# Debian's fonts-ipaexfont-gothic, and the alternatives link it installs
FONT_PATHS = ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
              "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf")
MARGIN_MM = 15.0
LINE_PITCH = 1.5
TAB_EMS = 4                     # 8 half-width columns

# JIS X 4051 §4.1 (行頭禁則: closing brackets, punctuation, small kana, ー, 々 ...)
NO_START = frozenset(
    "、。，．・：；？！゛゜ヽヾゝゞ々〻ー‐〜～―"
    "）〕］｝〉》」』】〙〗’”｠»"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    "ｧｨｩｪｫｯｬｭｮｰ｡､｣"
    ",.:;?!)]}%‰℃°′″")
# JIS X 4051 §4.2 (行末禁則: opening brackets)
NO_END = frozenset("（〔［｛〈《「『【〘〖‘“｟«([{｢￥＄$£€#＃")
# punctuation that may hang in the margin (ぶら下げ, JIS X 4051 §4.3)
HANGING = frozenset("、。，．,.")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u2028\u2029]")


@lru_cache(maxsize=4)
def font_path() -> str:
    """The file of IPAexGothic.

    Raises:
        RenderError: the font is not installed.
    """
    for path in FONT_PATHS:
        if os.path.isfile(path):
            return path
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", FONT_NAME], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        if "ipaex" in os.path.basename(found).lower():
            return found
    raise RenderError(f"the Japanese font {FONT_NAME} is not installed, so text cannot be "
                      "rendered: install it (apt-get install fonts-ipaexfont-gothic)")


@lru_cache(maxsize=4)
def font(size_px: float = FONT_SIZE_PT * X_DPI / 72):
    """IPAexGothic at ``size_px`` pels per em (10.5 pt at 204 dpi by default)."""
    from PIL import ImageFont

    return ImageFont.truetype(font_path(), size_px)


def _word(c: str) -> bool:
    """Part of a Latin word or number: nothing breaks inside these."""
    return not c.isspace() and ord(c) < 0x2E80 and unicodedata.east_asian_width(c) != "W"


def _can_break(line: str, b: int) -> bool:
    """May a line end between ``line[b-1]`` and ``line[b]``?"""
    before, after = line[b - 1], line[b]
    if after == " ":
        return True
    if after in NO_START or before in NO_END:
        return False
    if before == " ":
        return True
    return not (_word(before) and _word(after))


def wrap_text(text: str, width_px: float, font) -> list[str]:
    """Break text into lines no wider than ``width_px`` (the kinsoku rules above).

    Args:
        text: the text; ``\\n`` ends a line (an empty line stays one).
        width_px: the width of the line in pels.
        font: a Pillow FreeType font, which measures the characters.

    Returns:
        The lines, without the line ends and without the spaces a break
        falls on.  A hanging 、 or 。 may pass ``width_px`` by its own width.
    """
    return list(_lines(text, width_px, font))


def _lines(text: str, width_px: float, font) -> Iterator[str]:
    advances: dict[str, float] = {}
    tab = TAB_EMS * font.size

    def advance(c: str) -> float:
        w = advances.get(c)
        if w is None:
            w = advances[c] = font.getlength(c)
        return w

    for line in text.split("\n"):
        yield from _wrap_line(line, width_px, advance, tab)


def _wrap_line(line: str, width: float, advance, tab: float) -> Iterator[str]:
    n, start = len(line), 0
    if n == 0:
        yield ""
        return
    while start < n:
        x, i = 0.0, start
        while i < n:
            c = line[i]
            w = tab - x % tab if c == "\t" else advance(c)
            if x + w > width and i > start:
                break
            x += w
            i += 1
        if i >= n:
            yield line[start:]
            return
        if line[i] in HANGING and (i + 1 >= n or _can_break(line, i + 1)):
            brk = i + 1                          # ぶら下げ
        else:
            brk = i
            while brk > start + 1 and not _can_break(line, brk):
                brk -= 1                         # 追い出し
            if not _can_break(line, brk) or not line[start:brk].strip(" "):
                brk = i                          # longer than a line: cut where it is full
        yield line[start:brk].rstrip(" ")
        start = brk
        while start < n and line[start] == " ":
            start += 1


def text_pages(text: str, room: int, deadline: float, what: str) -> tuple[int, list[Page]]:
    """Typeset text on A4 pages.

    Returns:
        The page count (stopping at ``room`` + 1) and the pages.

    Raises:
        RenderError: the font is missing, or it took past ``deadline``.
    """
    f = font()
    margin = round(MARGIN_MM / 25.4 * X_DPI)
    square_lines = round(A4_LINES * X_DPI / 196.0)       # the page at 204 x 204 dpi
    pitch = round(f.size * LINE_PITCH)
    per_page = (square_lines - 2 * margin) // pitch
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    sheets = text.split("\f")
    if len(sheets) > 1 and not sheets[-1].strip("\n"):
        sheets.pop()                # a form feed at the end starts no page
    pages: list[Page] = []

    def pages_of(lines: Iterator[str]) -> Iterator[list[str]]:
        sheet: list[str] = []
        for line in lines:
            sheet.append(line)
            if len(sheet) == per_page:
                yield sheet
                sheet = []
        if sheet:
            yield sheet

    for body in sheets:
        for sheet in pages_of(_lines(body, WIDTH - 2 * margin, f)):
            if len(pages) >= room:
                return len(pages) + 1, []
            if time.monotonic() > deadline:
                raise RenderError(f"{what}: typesetting page {len(pages) + 1} took past the "
                                  "time limit; send it in parts")
            ink = np.zeros((A4_LINES, WIDTH), dtype=np.uint8)
            for k, line in enumerate(sheet):
                _draw_line(ink, line, margin, (margin + k * pitch) * Y_DPI / X_DPI, f)
            pages.append(Page(ink > 255 - THRESHOLD, X_DPI, Y_DPI))
    return len(pages), pages


def _draw_line(ink: np.ndarray, line: str, left: int, top: float, f) -> None:
    """Ink one line on a page of 196 lines per inch, its tabs taken to the next stop."""
    tab = TAB_EMS * f.size
    x = 0.0
    y = round(top)
    for c in line:
        if c == "\t":
            x += tab - x % tab
            continue
        glyph, dx, dy = _glyph(f.size, c)
        if glyph.size:
            x0, y0 = left + round(x) + dx, y + dy
            x1, y1 = min(ink.shape[1], x0 + glyph.shape[1]), min(ink.shape[0], y0 + glyph.shape[0])
            if x0 >= 0 and y0 >= 0 and x1 > x0 and y1 > y0:
                region = ink[y0:y1, x0:x1]
                np.maximum(region, glyph[:y1 - y0, :x1 - x0], out=region)
        x += _advance(f.size, c)


@lru_cache(maxsize=16384)
def _advance(size: float, c: str) -> float:
    return font(size).getlength(c)


@lru_cache(maxsize=16384)
def _glyph(size: float, c: str) -> tuple[np.ndarray, int, int]:
    """A character's coverage (0-255) at 204 x 196 dpi and its offset from the
    pen (left, top of the line): FreeType draws at 204 dpi both ways, the
    glyph is then scaled to 196 lines per inch, once per character."""
    from PIL import Image, ImageDraw

    f = font(size)
    left, top, right, bottom = f.getbbox(c, anchor="la")
    if right <= left or bottom <= top:
        return np.zeros((0, 0), dtype=np.uint8), 0, 0
    img = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(img).text((-left, -top), c, font=f, fill=255, anchor="la")
    lines = max(1, round((bottom - top) * Y_DPI / X_DPI))
    img = img.resize((right - left, lines), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.uint8), left, round(top * Y_DPI / X_DPI)
