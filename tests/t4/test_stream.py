"""t4.StreamDecoder: a page's data in pieces decode to what decode_lenient makes of them whole.

The pieces are cut at every byte boundary (one byte per feed, so every
boundary is a place where the decoder had to stop and wait), at random
places, and on damaged data (where lenient decoding repairs and counts bad
lines); the CCITT charts in all four codings; a hypothesis fuzz of random
and mutated streams with random cuts.  Equal means the same pels and the
same BadLines.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charts import load_chart
from faxengine import t4

CODINGS = [("mh", None), ("mr", 2), ("mr", 4), ("mmr", None)]
CODING_IDS = ["mh", "mr-k2", "mr-k4", "mmr"]


def streamed(data: bytes, width: int, coding: str, cuts, lines: int = 1 << 20, rows: int = 7,
             **kw):
    """decode ``data`` fed in the pieces between ``cuts``, ``lines`` lines at a
    time, into room first made for ``rows`` lines (the image moves as it grows)."""
    dec = t4.StreamDecoder(width, coding, rows=rows, **kw)
    edges = [0, *sorted(cuts), len(data)]
    for a, b in zip(edges, edges[1:]):
        dec.feed(data[a:b])
        while dec.decode(lines) == lines:
            pass
    return dec.finish()


def assert_same(data: bytes, width: int, coding: str, cuts, lines: int = 1 << 20,
                rows: int = 7, **kw):
    want_image, want_bad = t4.decode_lenient(data, width, coding, **kw)
    image, bad = streamed(data, width, coding, cuts, lines, rows, **kw)
    assert bad == want_bad
    assert image.shape == want_image.shape and np.array_equal(image, want_image)
    return image, bad


def random_page(rng, rows: int, width: int = 1728) -> np.ndarray:
    image = np.zeros((rows, width), dtype=bool)
    for _ in range(rows // 3):
        y, x = rng.integers(0, rows), rng.integers(0, width - 1)
        image[y:y + rng.integers(1, 8), x:x + rng.integers(1, 60)] = True
    return image


@pytest.mark.parametrize("coding, k", CODINGS, ids=CODING_IDS)
def test_every_byte_boundary_on_random_pages(coding, k):
    rng = np.random.default_rng(11)
    for rows in (1, 5, 120):
        page = random_page(rng, rows)
        data = t4.encode(page, coding, k=k)
        image, bad = assert_same(data, 1728, coding, range(1, len(data)))
        assert bad.ok and np.array_equal(image, page)


@pytest.mark.parametrize("coding, k", CODINGS, ids=CODING_IDS)
def test_every_byte_boundary_on_a_ccitt_chart(coding, k):
    chart = load_chart(2)
    data = t4.encode(chart, coding, k=k)
    image, bad = assert_same(data, 1728, coding, range(1, len(data)))
    assert bad.ok and np.array_equal(image, chart)


@pytest.mark.parametrize("number", range(1, 9))
def test_ccitt_charts_in_random_pieces_a_few_lines_at_a_time(number):
    chart = load_chart(number)
    rng = np.random.default_rng(number)
    data = t4.encode(chart, "mmr")
    cuts = rng.choice(len(data), 40, replace=False)
    image, bad = assert_same(data, 1728, "mmr", cuts, lines=7, rows=2400)
    assert bad.ok and np.array_equal(image, chart)


@pytest.mark.parametrize("coding, k", CODINGS, ids=CODING_IDS)
def test_damaged_data_repaired_as_a_whole_decode_repairs_it(coding, k):
    rng = np.random.default_rng(3)
    repaired = 0
    for trial in range(6):
        data = bytearray(t4.encode(random_page(rng, 200), coding, k=k))
        for at in rng.choice(len(data), 1 + trial, replace=False):
            data[at] ^= 1 << int(rng.integers(0, 8))
        data = bytes(data[:len(data) - trial])      # some cut off too
        cuts = rng.choice(np.arange(1, len(data)), 30, replace=False)
        _, bad = assert_same(data, 1728, coding, cuts, lines=int(rng.integers(1, 50)))
        repaired += bad.count
    assert repaired > 0                             # the damage was seen


def test_max_lines_bounds_the_page_as_decode_lenient():
    page = random_page(np.random.default_rng(4), 300)
    data = t4.encode(page, "mmr")
    image, bad = assert_same(data, 1728, "mmr", range(100, len(data), 100), max_lines=120)
    assert image.shape[0] == 120 and bad.total_lines == 120


def test_mh_without_eols_in_pieces():
    page = random_page(np.random.default_rng(6), 50)
    data = t4.encode(page, "mh", eol=False, align=8)
    image, _ = assert_same(data, 1728, "mh", range(1, len(data), 3), eol=False, align=8)
    assert np.array_equal(image, page)


def test_decode_waits_for_data_and_stops_at_the_lines_asked():
    page = random_page(np.random.default_rng(7), 100)
    data = t4.encode(page, "mmr")
    dec = t4.StreamDecoder(1728, "mmr")
    dec.feed(data[:len(data) // 2])
    assert dec.decode(10) == 10 and dec.lines == 10
    got = dec.decode(1000)
    assert 0 < got < 90 and not dec.ended       # not the lines past the data fed
    assert dec.decode(1000) == 0
    dec.feed(data[len(data) // 2:])
    dec.decode(1000)
    assert 95 <= dec.lines <= 100   # the last line may wait: its look-ahead passes the end
    image, bad = dec.finish()
    assert bad.ok and np.array_equal(image, page)


def test_no_use_after_finish():
    dec = t4.StreamDecoder(1728, "mmr")
    dec.finish()
    with pytest.raises(t4.T4ArgumentError, match="finished its page"):
        dec.feed(b"\x00")
    with pytest.raises(t4.T4ArgumentError, match="finished its page"):
        dec.finish()


def test_bad_arguments_say_which():
    with pytest.raises(t4.T4ArgumentError, match="coding must be 'mh', 'mr' or 'mmr'"):
        t4.StreamDecoder(1728, "jbig")
    with pytest.raises(t4.T4ArgumentError, match="width"):
        t4.StreamDecoder(0, "mmr")
    with pytest.raises(t4.T4ArgumentError, match="max_lines"):
        t4.StreamDecoder(1728, "mmr", max_lines=0)


FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.timeout(120)
@FUZZ
@given(data=st.binary(max_size=400), width=st.sampled_from([1, 9, 64, 255, 1728]),
       coding=st.sampled_from(["mh", "mr", "mmr"]), cuts=st.lists(st.integers(0, 400)),
       lines=st.integers(1, 9))
def test_fuzz_random_bytes_in_random_pieces(data, width, coding, cuts, lines):
    assert_same(data, width, coding, [c for c in cuts if c <= len(data)], lines,
                max_lines=500)


@pytest.mark.timeout(120)
@FUZZ
@given(seed=st.integers(0, 2**32 - 1), coding=st.sampled_from(["mh", "mr", "mmr"]),
       width=st.sampled_from([9, 200, 1728]), flips=st.integers(0, 4),
       cuts=st.lists(st.integers(0, 2000), max_size=20), lines=st.integers(1, 9))
def test_fuzz_mutated_streams_in_random_pieces(seed, coding, width, flips, cuts, lines):
    rng = np.random.default_rng(seed)
    data = bytearray(t4.encode(rng.random((12, width)) < 0.2, coding, k=4))
    for _ in range(flips):
        data[int(rng.integers(0, len(data)))] ^= 1 << int(rng.integers(0, 8))
    data = bytes(data)
    assert_same(data, width, coding, [c for c in cuts if c <= len(data)], lines,
                max_lines=500)


def test_eol_find_reads_a_stream_in_pieces_as_whole():
    """t4.eol_find on pieces (each after the bits before it) finds the EOLs
    (eleven or more 0s, then a 1) of the whole stream, with their 0 counts."""
    rng = np.random.default_rng(7)
    bits = (rng.random(5000) < 0.3).astype(np.uint8)
    bits[1000:1015] = 0
    bits[1015] = 1
    ends, zeros, last = t4.eol_find(bits, 0, -1)
    assert 1015 in ends.tolist() and zeros[ends.tolist().index(1015)] >= 15
    assert last == t4.last_one(bits) == int(np.flatnonzero(bits)[-1])
    got_e, got_z, base, at = [], [], 0, -1
    for piece in np.array_split(bits, 7):
        e, z, at = t4.eol_find(np.ascontiguousarray(piece), base, at)
        got_e += e.tolist()
        got_z += z.tolist()
        base += piece.size
    assert got_e == ends.tolist() and got_z == zeros.tolist() and at == last
    assert t4.last_one(np.zeros(9, np.uint8)) == -1
