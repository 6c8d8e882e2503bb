"""Code that real fax machines send and T.4 does not foresee, read as libtiff
(and spandsp) read it, checked against libtiff through Pillow.

* A G3 page starts at its first EOL (T.4 §4.1.2): a first coded line with
  no EOL before it is not part of the page.  Reading it would shift the page
  one row against every other decoder.
* A run whose make-up codes reach the end of the line with no terminating
  code before the EOL (white 0, black make-up 1728, EOL) is a whole line.
* A line cut off by the end of the data keeps the pels decoded before the
  end (decode_lenient; decode raises), the lines after it are white.
"""
from __future__ import annotations

import numpy as np
import pytest

from faxengine import t4
from libtiff_util import libtiff_decode

EOL = "000000000001"
WHITE = {0: "00110101", 2: "0111", 4: "1011", 8: "10011", 16: "101010"}
BLACK = {0: "0000110111", 2: "11", 4: "011", 8: "000101", 16: "0000010111"}
WHITE_MAKEUP_1728 = "010011011"
BLACK_MAKEUP_1728 = "0000001100101"
WHITE_LINE_1728 = WHITE_MAKEUP_1728 + WHITE[0]


def to_bytes(bits: str) -> bytes:
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def both(bits: str, width: int, height: int, coding: str) -> np.ndarray:
    """Our strict decoding of the strip, checked equal to libtiff's."""
    data = to_bytes(bits)
    ours = t4.decode(data, width, coding, height=height)
    np.testing.assert_array_equal(ours, libtiff_decode(data, width, height, coding))
    return ours


@pytest.mark.parametrize("coding", ["mh", "mr"])
def test_a_first_line_without_eol_is_dropped(coding):
    tag = "1" if coding == "mr" else ""
    lines = [WHITE[4] + BLACK[4] + WHITE[8],         # no EOL before it: dropped
             EOL + tag + WHITE[16],
             EOL + tag + WHITE[0] + BLACK[16],
             EOL + tag + WHITE[2] + BLACK[2] + WHITE[4] + BLACK[8]]
    out = both(tag + "".join(lines), 16, 3, coding)
    assert out.sum(axis=1).tolist() == [0, 16, 10]
    # also without a height, and when the decoder is lenient
    data = to_bytes(tag + "".join(lines) + (EOL + tag) * 6)
    np.testing.assert_array_equal(t4.decode(data, 16, coding), out)
    lenient, bad = t4.decode_lenient(data, 16, coding)
    np.testing.assert_array_equal(lenient, out)
    assert bad.ok


@pytest.mark.parametrize("coding, after", [("mh", "eol"), ("mh", "fill"), ("mh", "end"),
                                           ("mr", "eol"), ("mr", "fill")])
@pytest.mark.parametrize("makeup", [BLACK_MAKEUP_1728, WHITE_MAKEUP_1728])
def test_a_makeup_code_reaching_the_end_of_the_line_ends_it(coding, makeup, after):
    """after: what follows the make-up code: an EOL, fill then an EOL, or the
    end of the data (libtiff refuses that last one in MR)."""
    tag = "1" if coding == "mr" else ""
    # white 0 + black make-up 1728: a black line; white make-up 1728: white
    line = (WHITE[0] + makeup) if makeup == BLACK_MAKEUP_1728 else makeup
    lines = [EOL + tag + WHITE_LINE_1728, EOL + tag + line]
    if after != "end":
        lines.append(("0" * 13 if after == "fill" else "") + EOL + tag + WHITE_LINE_1728)
    out = both("".join(lines), 1728, len(lines), coding)
    assert out.sum(axis=1).tolist()[:2] == [0, 1728 if makeup == BLACK_MAKEUP_1728 else 0]
    lenient, bad = t4.decode_lenient(to_bytes("".join(lines)), 1728, coding)
    np.testing.assert_array_equal(lenient, out)
    assert bad.ok


def test_a_makeup_code_short_of_the_end_still_needs_its_terminating_code():
    # black make-up 64 on a 1728-pel line, then EOL: a line too short
    data = to_bytes(EOL + WHITE[0] + "0000001111" + EOL + WHITE_LINE_1728 + EOL * 6)
    with pytest.raises(t4.T4Error, match=r"^MH line 1: EOL before the end of the line at bit 30$"):
        t4.decode(data, 1728, "mh")


def bits_of(data: bytes) -> str:
    return "".join(f"{b:08b}" for b in data)


@pytest.mark.parametrize("coding", ["mh", "mr", "mmr"])
def test_data_ending_early(coding):
    """Strict: an error; lenient: the lines decoded, the rest white, as
    libtiff draws them."""
    rng = np.random.default_rng(7)
    image = rng.random((12, 64)) < 0.2
    for lines in (1, 5, 11) if coding != "mr" else (5, 11):  # libtiff fails MR at 1
        bits = bits_of(t4.encode(image[:lines], coding, k=2, rtc=False))
        if coding == "mmr":
            bits = bits.rstrip("0")[:-24]  # no EOFB: the data just end
        strip = to_bytes(bits)
        with pytest.raises(t4.T4Error, match=rf"page ends after {lines} lines"):
            t4.decode(strip, 64, coding, height=12)
        ours, bad = t4.decode_lenient(strip, 64, coding, height=12)
        theirs = libtiff_decode_quietly(strip, 64, 12, coding)
        # libtiff's G3 decoder (through Pillow) leaves one row of leftovers
        # after the premature end; MMR rows it fills white, as we do all
        same = slice(None) if coding == "mmr" else slice(lines)
        np.testing.assert_array_equal(ours[same], theirs[same])
        np.testing.assert_array_equal(ours[:lines], image[:lines])
        assert not ours[lines:].any() and bad.count == 12 - lines


def test_a_line_cut_off_keeps_what_was_decoded():
    # W4 B4 W8, then W2 B2 and the end of the data: libtiff draws 2..3 black
    data = EOL + WHITE[4] + BLACK[4] + WHITE[8] + EOL + WHITE[2] + BLACK[2]
    ours, bad = t4.decode_lenient(to_bytes(data), 16, "mh", height=3)
    np.testing.assert_array_equal(ours, libtiff_decode_quietly(to_bytes(data), 16, 3, "mh"))
    assert ours.sum(axis=1).tolist() == [4, 2, 0] and bad.count == 2


def libtiff_decode_quietly(strip: bytes, width: int, height: int, coding: str) -> np.ndarray:
    """libtiff's pels even when it warns (it reports the premature end)."""
    import io

    from PIL import Image

    from libtiff_util import captured_c_stderr, make_tiff
    with captured_c_stderr():
        image = Image.open(io.BytesIO(make_tiff(strip, width, height, coding)))
        image.load()
    return ~np.asarray(image)
