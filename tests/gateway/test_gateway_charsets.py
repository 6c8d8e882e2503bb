"""Japanese charsets both ways, with CP932's extension characters (① ㈱ 髙)."""
from __future__ import annotations

import pytest

from faxengine.gateway.charsets import decode, decode_iso2022jp, encode_iso2022jp, python_codec

TEXT = "FAX送信サンプル①㈱髙橋﨑ⅰⅲ№ ABC"


@pytest.mark.parametrize("label, data", [
    ("ISO-2022-JP", encode_iso2022jp(TEXT)), ("iso-2022-jp", encode_iso2022jp(TEXT)),
    ("Shift_JIS", TEXT.encode("cp932")), ("windows-31j", TEXT.encode("cp932")),
    ("x-sjis", TEXT.encode("cp932")), ("UTF-8", TEXT.encode("utf-8")),
])
def test_labels_decode_with_the_extensions(label, data):
    assert decode(data, label) == TEXT


def test_euc_jp_and_guessing_without_a_label():
    text = "請求書のご送付"
    assert decode(text.encode("euc_jp"), "EUC-JP") == text
    for data in (text.encode("euc_jp"), text.encode("cp932"), text.encode("utf-8"),
                 text.encode("iso2022_jp")):
        assert decode(data) == text
        assert decode(data, "x-unknown-charset") == text
    assert decode(text.encode("cp932"), "utf-8") == text         # a wrong label is overruled
    assert decode(b"\x81 abc") == "\ufffd abc"                  # nothing fits: U+FFFD


def test_iso_2022_jp_is_the_one_python_writes_for_jis_x_0208():
    text = "【faximoSilver】FAXの送信が完了しました"
    assert encode_iso2022jp(text) == text.encode("iso2022_jp")
    assert decode_iso2022jp(text.encode("iso2022_jp")) == text
    assert encode_iso2022jp("ｶﾞｲﾄﾞ") == "ガイド".encode("iso2022_jp")   # half-width: full width
    assert encode_iso2022jp("①").startswith(b"\x1b$B-!")            # NEC row 13 (CP50221)
    assert encode_iso2022jp("絵文字😀") is None
    assert decode_iso2022jp(b"\x1b$B\x80\x80\x1b(B") is None
    assert decode_iso2022jp(b"\x1b(I1\x1b(B") == "ｱ"


def test_codec_names():
    assert python_codec("Shift_JIS") == "cp932" and python_codec('"EUC-JP"') == "euc-jp"
    assert python_codec("nonsense") is None and python_codec(None) is None
