"""Make samples/request.eml, the fax send request `make run` mails to the gateway.

A request as a Japanese customer system writes it (mail-gateway.md §1): From
the demo account's registered address, To two numbers of the demo network
(samples/gateway.toml), Subject and body in ISO-2022-JP (RFC 1468), and two
attachments with Japanese file names (RFC 2231): a PDF (``見積書.pdf``, an A4
quotation drawn with IPAex Gothic and written by Pillow) and a TIFF
(``地図.tif``, ``samples/letter.png`` as a bilevel 1728-pel fine-resolution
TIFF-F page, which the gateway sends pel for pel).  The gateway faxes the body
first, then the attachments in code-point order of their names: 地図.tif
(U+5730) before 見積書.pdf (U+898B).

Everything is fixed (Date, Message-ID, boundary, the drawings), so running it
again makes the same octets:

    python samples/make_request.py        # writes samples/request.eml and samples/request/
"""
from __future__ import annotations

import base64
import io
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

FONT = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")   # fonts-ipaexfont-gothic
SENDER = "sample@edicworks.com"
NUMBERS = ("092-123-4567", "0451234567")      # both answer on the demo network
FAX_DOMAIN = "cl1.faximo.jp"
SUBJECT = "FAX送信サンプル福岡"
BODY = """\
株式会社サンプル 御中

いつもお世話になっております。
エディックワークスの山田です。

ご依頼のお見積書と、弊社までの地図をお送りいたします。
ご確認のほど、よろしくお願いいたします。

添付:地図.tif(1枚)、見積書.pdf(1枚)

――――――――――――――――
エディックワークス株式会社 営業部 山田 太郎
TEL 092-000-0000 / FAX 092-000-0001
"""
QUOTE = [("御見積書", 64), ("", 30), ("株式会社サンプル 御中", 36), ("", 30),
         ("件名:FAX送信サービス 導入費用", 30), ("", 30),
         ("品目                数量    金額", 30),
         ("初期設定費            1    50,000円", 30),
         ("月額利用料(12か月)  12   120,000円", 30),
         ("合計                       170,000円(税別)", 30), ("", 30),
         ("有効期限:発行日より30日", 30), ("", 30), ("エディックワークス株式会社", 30)]


def quotation_pdf() -> bytes:
    """An A4 page at 200 dpi, black text on white, as a one-page PDF."""
    width, height = 1654, 2339          # 210 x 297 mm at 200 dpi
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    y = 160
    for text, size in QUOTE:
        if text:
            draw.text((160, y), text, font=ImageFont.truetype(str(FONT), size), fill=0)
        y += int(size * 1.8)
    draw.rectangle((140, 140, width - 140, y + 40), outline=0, width=3)
    out = io.BytesIO()
    fixed = time.struct_time((2010, 1, 20, 15, 0, 0, 2, 20, 0))   # dates fixed: same octets
    img.save(out, "PDF", resolution=200.0, title="quotation", creationDate=fixed,
             modDate=fixed)
    return out.getvalue()


def map_tiff() -> bytes:
    """samples/letter.png as a one-page bilevel TIFF-F at fine resolution, 1728 pels."""
    from faxengine import tiff
    from faxengine.t4.document import load_document

    pages = [p.page for p in load_document([str(HERE / "letter.png")], "fine", False)]
    assert pages[0].width == 1728, pages[0].width
    tmp = HERE / "request" / ".map.tif"
    tiff.write(tmp, pages, coding="mmr")
    data = tmp.read_bytes()
    tmp.unlink()
    return data


def _rfc2231(name: str) -> str:
    from urllib.parse import quote
    return f"filename*=UTF-8''{quote(name.encode('utf-8'), safe='')}"


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")


def _encoded_word(text: str) -> str:
    return f"=?ISO-2022-JP?B?{base64.b64encode(text.encode('iso-2022-jp')).decode()}?="


def request_mail(files: dict[str, bytes]) -> bytes:
    boundary = "----=_faxengine_sample_0001"
    to = ", ".join(f"{n}@{FAX_DOMAIN}" for n in NUMBERS)
    head = (f"From: {_encoded_word('エディックワークス 山田')} <{SENDER}>\r\n"
            f"To: {to}\r\n"
            f"Subject: {_encoded_word(SUBJECT)}\r\n"
            "Date: Thu, 21 Jan 2010 00:00:00 +0900\r\n"
            "Message-ID: <sample-request-0001@edicworks.com>\r\n"
            "MIME-Version: 1.0\r\n"
            f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n")
    body = BODY.replace("\n", "\r\n").encode("iso-2022-jp")
    parts = [f"--{boundary}\r\nContent-Type: text/plain; charset=\"ISO-2022-JP\"\r\n"
             "Content-Transfer-Encoding: 7bit\r\n\r\n".encode() + body]
    types = {".pdf": "application/pdf", ".tif": "image/tiff"}
    for name, data in files.items():
        ctype = types[name[name.rindex("."):]]
        parts.append((f"--{boundary}\r\nContent-Type: {ctype}\r\n"
                      f"Content-Disposition: attachment; {_rfc2231(name)}\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n" + _b64(data)).encode())
    return head.encode() + b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()


def main() -> None:
    out = HERE / "request"
    out.mkdir(exist_ok=True)
    files = {"見積書.pdf": quotation_pdf(), "地図.tif": map_tiff()}
    for name, data in files.items():
        (out / name).write_bytes(data)
    (HERE / "request.eml").write_bytes(request_mail(files))
    print(f"wrote {HERE / 'request.eml'} and {', '.join(str(out / n) for n in files)}")


if __name__ == "__main__":
    main()
