"""2-D mode codes no encoder sends: decode() refuses those decoders read
differently, decode_lenient() counts the line bad.

T.4 §4.2.1.3.1 defines a1 as the next changing element right of a0 and a2
as the next right of a1, and §4.2.1.3.2 codes pass mode only when b2 lies
left of a1 (a1 <= width).  So in horizontal mode an empty first run is only
the first run of a line (a0 the imaginary element before it, the line
starting black) and an empty second run only ends the line.
Streams that break these rules are read differently by different decoders
(libtiff keeps an empty run in the next line's reference): fuzz/crashes/t4_libtiff
holds what the differential fuzzer found.  A pass mode whose b2 is the end
of the line is no valid code either, but libtiff reads it one way (it ends
the line), and so do we.  The valid edge cases next to
them (an empty first run at the start of a line, an empty second run at the
end) must still decode, as libtiff and our encoder write them.
"""
from __future__ import annotations

import numpy as np
import pytest

from faxengine import t4
from libtiff_util import libtiff_decode

# T.4 Tables 1, 2 and 4 (only the codes used here)
V0, VR1, VL3, PASS, HORIZ = "1", "011", "0000010", "0001", "001"
WHITE = {0: "00110101", 2: "0111", 3: "1000", 4: "1011", 7: "1111", 8: "10011",
         16: "101010"}
BLACK = {0: "0000110111", 2: "11", 3: "10", 4: "011", 5: "0011", 16: "0000010111"}
EOL = "000000000001"
EOFB = EOL + EOL


def to_bytes(bits: str) -> bytes:
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def h(white: int, black: int) -> str:
    """Horizontal mode from a white a0 (white run, then black run)."""
    return HORIZ + WHITE[white] + BLACK[black]


def row(width: int, *black: tuple[int, int]) -> list[bool]:
    out = [False] * width
    for a, b in black:
        out[a:b] = [True] * (b - a)
    return out


# ---- horizontal mode -------------------------------------------------------

def test_empty_first_run_at_the_start_of_a_line_decodes():
    # a0 is the imaginary element before the line: W0 B5 is a line starting black
    data = to_bytes(h(0, 5) + V0 + EOFB)
    assert t4.decode(data, 16, "mmr").tolist() == [row(16, (0, 5))]


def test_empty_second_run_where_a1_ends_the_line_decodes():
    # a1 = width, so a2 = a1 = width: libtiff writes this at the end of a line
    data = to_bytes(h(4, 4) + h(8, 0) + EOFB)
    assert t4.decode(data, 16, "mmr").tolist() == [row(16, (4, 8))]


@pytest.mark.parametrize("line, bit", [
    # a1 = a0 = 7 in mid-line: an empty white run after W4 B3
    (h(4, 3) + h(0, 2) + V0, 3 + 4 + 2),
    # a2 = a1 = 4 < width: an empty black run in mid-line
    (h(4, 0) + V0, 0),
])
def test_empty_run_in_mid_line_is_an_error(line, bit):
    data = to_bytes(V0 + line + EOFB)  # a white line first: the error is on line 2
    with pytest.raises(t4.T4Error, match=rf"^MMR line 2: horizontal mode with an empty run"
                                          rf" in mid-line .* at bit {1 + bit}$"):
        t4.decode(data, 16, "mmr")
    image, bad = t4.decode_lenient(data, 16, "mmr")
    assert (bad.count, bad.total_lines) == (1, 2)
    assert not image.any()  # the bad line is a copy of the white one above


# ---- pass mode -------------------------------------------------------------

def test_pass_mode_left_of_a1_decodes():
    # line 1 black at 4..7; line 2 passes b1 = 4, b2 = 8, then V0 to the end
    data = to_bytes(h(4, 4) + V0 + PASS + V0 + EOFB)
    assert t4.decode(data, 16, "mmr").tolist() == [row(16, (4, 8)), row(16)]


@pytest.mark.parametrize("ref_line", ["", h(4, 4) + V0])
@pytest.mark.parametrize("colour", ["white", "black"])
def test_pass_mode_with_b2_at_the_end_of_the_line_ends_it_as_libtiff_reads_it(ref_line, colour):
    # under a white line b1 = b2 = width; under 4..7 black, after a pass to
    # 8 the next b2 is the end of the line.  No encoder codes that pass, but
    # libtiff reads it as any other: a0's colour runs on to b2,
    # the end of the line, and the line ends; the code after it is line 3.
    first = ref_line or V0
    if colour == "white":
        second = PASS + (PASS if ref_line else "")
        black = []
    else:  # a0 black: V0 at b1 = 4 (4..7 above), VL3 at 13 (white above)
        second = (V0 if ref_line else VL3) + PASS
        black = [(4 if ref_line else 13, 16)]
    data = to_bytes(first + second + V0 * (1 + len(black)) + EOFB)  # line 3 copies line 2
    expected = libtiff_decode(to_bytes(first + second + EOFB), 16, 2, "mmr")
    assert t4.decode(data, 16, "mmr", height=2).tolist() == expected.tolist()
    assert expected[1].tolist() == row(16, *black)
    out = t4.decode(data, 16, "mmr")
    assert out.tolist() == expected.tolist() + [expected[1].tolist()]
    image, bad = t4.decode_lenient(data, 16, "mmr", height=3)
    assert bad.ok and image.tolist() == out.tolist()


def test_mr_line_with_an_invalid_mode_is_bad_and_the_next_1d_line_recovers():
    lines = [EOL + "1" + WHITE[4] + BLACK[4] + WHITE[8],  # 1-D: black 4..7
             EOL + "0" + HORIZ + WHITE[4] + BLACK[0] + V0,  # 2-D: a2 = a1 = 4 mid-line
             EOL + "1" + WHITE[16]]         # 1-D: white
    data = to_bytes("".join(lines) + (EOL + "1") * 6)
    with pytest.raises(t4.T4Error, match=r"^MR line 2: horizontal mode with an empty run"):
        t4.decode(data, 16, "mr")
    image, bad = t4.decode_lenient(data, 16, "mr")
    assert (bad.count, bad.total_lines) == (1, 3)
    assert image.tolist() == [row(16, (4, 8)), row(16, (4, 8)), row(16)]


# ---- empty runs in a one-dimensional line -----------------------------------

EMPTY_BLACK_RUN = WHITE[4] + BLACK[0] + WHITE[4] + BLACK[4] + WHITE[4]  # black 8..11


def test_empty_run_in_an_mr_1d_line_is_an_error():
    # the line is the reference of the 2-D line below: with its empty run a
    # changing element (libtiff) V0 makes pels 4..11 black, without it (the
    # pels) 8..11; no encoder sends it, so neither reading is right
    data = to_bytes(EOL + "1" + EMPTY_BLACK_RUN + EOL + "0" + V0 + V0 + V0 + (EOL + "1") * 6)
    with pytest.raises(t4.T4Error, match=r"^MR line 1: empty run in mid-line of a"
                                          r" one-dimensional line .* at bit 17$"):
        t4.decode(data, 16, "mr")
    image, bad = t4.decode_lenient(data, 16, "mr")
    assert (bad.count, bad.total_lines) == (2, 2)  # and the 2-D line has lost its reference
    # a white run of 0 at the start of the line is how a line starts black
    start_black = to_bytes(EOL + "1" + WHITE[0] + BLACK[4] + WHITE[8] + BLACK[4] + (EOL + "1") * 6)
    assert t4.decode(start_black, 16, "mr").tolist() == [row(16, (0, 4), (12, 16))]


def test_empty_run_in_an_mh_line_still_decodes():
    # MH lines are never a reference: the pels say it all, as libtiff reads them
    data = to_bytes(EOL + EMPTY_BLACK_RUN + EOL * 6)
    assert t4.decode(data, 16, "mh").tolist() == [row(16, (8, 12))]


def test_our_encoder_never_sends_the_invalid_modes():
    # random pages with short runs everywhere, at both edges: every pass and
    # horizontal mode our encoder writes decodes under the rules above
    rng = np.random.default_rng(3)
    for width in (1, 2, 7, 16, 1728):
        image = rng.random((40, width)) < 0.5
        image[::5] = rng.random((8, width)) < 0.05
        for coding in ("mr", "mmr"):
            assert np.array_equal(t4.decode(t4.encode(image, coding, k=4), width, coding), image)
