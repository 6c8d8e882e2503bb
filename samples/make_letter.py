"""Render samples/letter.png, the sample page `make run` faxes.

An A4 business letter at fax fine resolution (1728 pels across at 8 pels/mm,
7.7 lines/mm, so 2286 lines for 297 mm), drawn with DejaVu Sans.  Kept as a
script so the sample can be remade rather than trusted.

    python samples/make_letter.py
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
WIDTH, HEIGHT = 1728, 2286  # A4 at R8 x 7.7 lines/mm (T.4 §2.2)
X_DPI, Y_DPI = 204, 196

LETTER = """\
Faxengine Test Office
1-2-3 Example Street, Chiyoda-ku, Tokyo 100-0001
Tel +81 3 0000 0000   Fax +81 3 0000 0001

25 November 2026

To: Receiving Terminal
Re: Group 3 facsimile test transmission

Dear Sir or Madam,

This page was coded by faxengine as T.4 (MH or MR) or T.6 (MMR) data and,
once the softmodems and the T.30 terminal are in place, sent over the
telephone line at up to 14 400 bit/s with V.17.

The lines below test the coder at its edges: long runs across the whole
width, single pels at both margins, fine print and a halftone patch.

Yours faithfully,

The faxengine developers
"""


def _font(name, size_pt):
    # Fine resolution is 204 x 196 dpi, close enough to square pels that the
    # glyphs need no vertical correction.
    return ImageFont.truetype(str(FONT_DIR / name), size_pt)


def render() -> Image.Image:
    img = Image.new("1", (WIDTH, HEIGHT), 1)
    draw = ImageDraw.Draw(img)
    body = _font("DejaVuSans.ttf", 30)
    head = _font("DejaVuSans-Bold.ttf", 44)
    draw.text((120, 110), "FACSIMILE", font=head, fill=0)
    draw.line((120, 175, WIDTH - 120, 175), fill=0, width=4)
    y = 220
    for line in LETTER.splitlines():
        draw.text((120, y), line, font=body, fill=0)
        y += 44
    y += 40
    draw.rectangle((0, y, WIDTH - 1, y + 5), fill=0)  # full-width black runs
    y += 30
    for x in (0, WIDTH - 1):
        draw.point((x, y), fill=0)  # single pels at both edges
    y += 30
    small = _font("DejaVuSans.ttf", 14)
    draw.text((120, y), "Fine print: 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz", font=small, fill=0)
    y += 50
    # A halftone patch: an ordered-dither ramp from white to black.
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]])
    x0, x1, h = 120, WIDTH - 120, 48
    level = 16 * np.arange(x1 - x0) // (x1 - x0)
    xs = np.arange(x0, x1)
    black = bayer[np.arange(h)[:, None] % 4, xs[None, :] % 4] < level[None, :]
    pixels = np.array(img, dtype=bool)  # True = white in mode "1"
    pixels[y : y + h, x0:x1] &= ~black
    return Image.fromarray(pixels)


if __name__ == "__main__":
    out = Path(__file__).with_name("letter.png")
    render().save(out, dpi=(X_DPI, Y_DPI), optimize=True)
    print(f"wrote {out}")
