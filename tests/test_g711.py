"""G.711 companding (faxengine.g711, as faxengine.line re-exports it) against facts of G.711 Tables 1 and 2.

The characters are checked as transmitted (A-law with even bits inverted,
µ-law with all bits inverted), the decoded values against the interval
middles of the tables, and the round trip for idempotence and symmetry;
then every value against spandsp's coders, when the harness can be built.
"""
from __future__ import annotations

import numpy as np
import pytest

from faxengine import line

ALL = np.arange(-32768, 32768).astype(np.int16)


def test_alaw_characters_of_table_1():
    enc = lambda v: int(line.alaw_encode(np.array([v], dtype=np.int16))[0])  # noqa: E731
    assert enc(0) == 0xD5 and enc(15) == 0xD5           # +0: 1101 0101 on the line
    assert enc(-1) == 0x55 and enc(-16) == 0x55         # -0: 0101 0101
    assert enc(16) == 0xD4                              # next interval, segment 0
    assert enc(32767) == 0xAA and enc(-32768) == 0x2A   # the largest magnitudes
    # segment boundaries in 13-bit units: 32, 64, 128, ..., 2048 (times 8 in 16 bits)
    for seg in range(1, 8):
        first = (1 << (seg + 4)) * 8
        assert (enc(first) ^ 0x55) == 0x80 | (seg << 4)
        assert (enc(first - 1) ^ 0x55) == 0x80 | ((seg - 1) << 4) | 0x0F


def test_alaw_decoded_values_of_table_1():
    dec = line.alaw_decode(np.arange(256, dtype=np.uint8)).astype(np.int32)
    # decoder output values in 13-bit units: 1, 3, ..., 31 (segment 0), 33, ..., 63,
    # then (2m + 33) << (s - 1) up to 4032
    assert dec[0xD5] == 1 * 8 and dec[0xD4] == 3 * 8
    assert dec[0xAA] == 4032 * 8 and dec[0x2A] == -4032 * 8
    assert dec[(0x80 | (1 << 4)) ^ 0x55] == 33 * 8
    assert dec[(0x80 | (7 << 4)) ^ 0x55] == 2112 * 8
    assert np.array_equal(dec[np.arange(256) ^ 0x80], -dec)   # sign bit mirrors
    assert len(np.unique(dec)) == 256


def test_ulaw_characters_of_table_2():
    enc = lambda v: int(line.ulaw_encode(np.array([v], dtype=np.int16))[0])  # noqa: E731
    assert enc(0) == 0xFF and enc(3) == 0xFF            # +0: 1111 1111
    assert enc(-1) == 0x7F and enc(-3) == 0x7F          # -0: 0111 1111
    assert enc(-4) == 0x7E
    assert enc(4) == 0xFE                               # first step of 2 (14-bit units)
    assert enc(32767) == 0x80 and enc(-32768) == 0x00   # the largest magnitudes
    # segment s starts at 14-bit magnitude 2**(s+5) - 33: 31, 95, 223, ..., 8159 is the end
    for seg in range(1, 8):
        first = ((1 << (seg + 5)) - 33) * 4
        assert enc(first) == 0xFF ^ (seg << 4)
        assert enc(first - 1) == 0xFF ^ (((seg - 1) << 4) | 0x0F)
        assert enc(-first) == 0x7F ^ (seg << 4)


def test_ulaw_decoded_values_of_table_2():
    dec = line.ulaw_decode(np.arange(256, dtype=np.uint8)).astype(np.int32)
    # decoder outputs in 14-bit units: 0, 2, 4, ..., 30, 33, 37, ..., up to 8031
    assert dec[0xFF] == 0 and dec[0x7F] == 0
    assert dec[0xFE] == 2 * 4 and dec[0xF0] == 30 * 4
    assert dec[0xEF] == 33 * 4 and dec[0xEE] == 37 * 4
    assert dec[0x80] == 8031 * 4 and dec[0x00] == -8031 * 4
    assert np.array_equal(dec[np.arange(256) ^ 0x80], -dec)
    assert len(np.unique(dec)) == 255                   # +0 and -0 both decode to 0


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_roundtrip_is_idempotent_monotonic_and_symmetric(law):
    once = line.g711_roundtrip(ALL, law).astype(np.int32)
    assert np.array_equal(line.g711_roundtrip(once.astype(np.int16), law), once)
    assert np.all(np.diff(once) >= 0)
    if law == "alaw":
        # mid-riser: x and -x - 1 land on mirror-image values
        assert np.array_equal(once, -once[::-1])
    else:
        # mid-tread: x and -x land on mirror-image values, -3..3 on zero
        assert np.array_equal(once[1:], -once[1:][::-1])
        assert np.all(once[32768 - 3: 32768 + 4] == 0) and once[32768 + 4] == 8 and once[32768 - 4] == -8


@pytest.mark.parametrize("law,levels,max_abs", [("alaw", 256, 32256), ("ulaw", 255, 32124)])
def test_roundtrip_levels_and_error(law, levels, max_abs):
    once = line.g711_roundtrip(ALL, law).astype(np.int32)
    assert len(np.unique(once)) == levels and once.max() == max_abs
    # the round trip of a -10 dBm0 sine keeps about 38 dB of SNR (G.711 companding)
    t = np.arange(8000)
    x = np.round(32767 * 10 ** ((-3.14 - 10) / 20) * np.sin(2 * np.pi * 1004 * t / 8000))
    y = line.g711_roundtrip(x.astype(np.int16), law)
    snr = 10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2))
    assert 35 < snr < 40


def test_codec_and_roundtrip_agree_and_refuse_bad_input():
    assert np.array_equal(line.alaw_decode(line.alaw_encode(ALL)), line.g711_roundtrip(ALL, "alaw"))
    assert np.array_equal(line.ulaw_decode(line.ulaw_encode(ALL)), line.g711_roundtrip(ALL, "ulaw"))
    with pytest.raises(ValueError, match="'alaw' or 'ulaw'"):
        line.g711_roundtrip(ALL, "mu")
    with pytest.raises(TypeError, match="int16"):
        line.g711_roundtrip(np.zeros(3), "alaw")


def test_coders_match_spandsp_value_for_value():
    spandsp = pytest.importorskip("spandsp", reason="the spandsp harness lives in tests/spandsp")
    if not spandsp.spandsp_available():
        pytest.skip(spandsp.REASON)
    tables = spandsp.g711_tables()
    assert np.array_equal(line.alaw_encode(ALL), tables["alaw_encode"])
    assert np.array_equal(line.ulaw_encode(ALL), tables["ulaw_encode"])
    codes = np.arange(256, dtype=np.uint8)
    assert np.array_equal(line.alaw_decode(codes), tables["alaw_decode"])
    assert np.array_equal(line.ulaw_decode(codes), tables["ulaw_decode"])
