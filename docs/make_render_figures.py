"""The pictures of docs/gateway.md's "Rendering" section, made by the renderer itself.

``python docs/make_render_figures.py`` (or ``python docs/make_figures.py``,
which makes them with the other figures) writes to docs/figures/:

  render-pages.png   a Japanese text page (the body of a mail) and a PDF page
                     with a photo, as faxed, side by side at a third of their size
  render-detail.png  the top of the text page pel for pel: the type, the line
                     breaks (kinsoku), the tab stops, CP932's extension characters

The inputs are made here (a PDF drawn by Pillow, a photo of seeded noise), so
the pictures come out the same on every machine with the same fonts.
"""
from __future__ import annotations

import io
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
sys.path.insert(0, str(DOCS.parent))

LETTER = """\
株式会社サンプル商事　御中

拝啓　時下ますますご清栄のこととお慶び申し上げます。平素は格別のお引き立てを賜り、厚く御礼申し上げます。さて、先日ご依頼いただきました「FAX送信サンプル福岡」の件につきまして、下記のとおりお見積もりをお送りいたします。ご査収のほど、よろしくお願い申し上げます。

\t品名\t数量\t単価
\t①送信料\t120\t10円
\t②保管料\t1\t500円

担当：髙橋（㈱サンプル）、山﨑
詳細は https://www.example.co.jp/faq/sending-a-fax-by-mail.html をご覧ください。
Long Latin words are kept whole: internationalization, telecommunications.
\t\t\t\t\t\t\t\t敬具
"""


def mixed_pdf() -> bytes:
    """An A4 page at 200 dpi: text drawn anti-aliased, and a photo."""
    from PIL import Image, ImageDraw

    from faxengine.gateway.render.text import font

    page = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(page)
    f = font(34)
    for k, line in enumerate(["お見積書", "", "写真のとおり納品いたしました。",
                              "Photo: the delivered goods, 2026-12-06."]):
        draw.text((150, 150 + 60 * k), line, font=f, fill=0)
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:900, 0:1300]
    photo = 128 + 100 * np.sin(x / 140.0) * np.cos(y / 110.0) + rng.normal(0, 12, (900, 1300))
    page.paste(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)), (180, 500))
    buf = io.BytesIO()
    page.save(buf, "PDF", resolution=200)
    return buf.getvalue()


@lru_cache(maxsize=1)
def _pages():
    """The text page and the PDF page, as Pillow images of mode "1"."""
    from faxengine.gateway.mail import Document
    from faxengine.gateway.render import render_documents

    r = render_documents([Document("", "text", LETTER.encode(), text=LETTER),
                          Document("見積書.pdf", "pdf", mixed_pdf())])
    if r.error:
        raise SystemExit(f"render: {r.error.document}: {r.error.message}")
    return tuple(p.to_pil() for p in r.pages)


def fig_render_pages() -> Path:
    from PIL import Image

    small = [p.convert("L").resize((p.width // 3, p.height // 3), Image.Resampling.BOX)
             for p in _pages()]
    gap = 24
    both = Image.new("L", (small[0].width * 2 + gap * 3, small[0].height + gap * 2), 160)
    for k, img in enumerate(small):
        both.paste(img, (gap + k * (img.width + gap), gap))
    FIGURES.mkdir(exist_ok=True)
    out = FIGURES / "render-pages.png"
    both.save(out, optimize=True)
    return out


def fig_render_detail() -> Path:
    FIGURES.mkdir(exist_ok=True)
    out = FIGURES / "render-detail.png"
    _pages()[0].crop((0, 60, 1728, 760)).save(out, optimize=True)
    return out


# docs/make_figures.py makes these with the others (``--only render-pages``)
FIGURE_MAKERS = {"render-pages": fig_render_pages, "render-detail": fig_render_detail}


if __name__ == "__main__":
    for make in FIGURE_MAKERS.values():
        print(make())
