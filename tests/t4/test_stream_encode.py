"""t4.StreamEncoder: a page coded a few lines at a time gives encode's octets.

The lines are given in random slices (single lines, empty slices, whole
pages) and the octets taken at random moments, for every coding and
framing encode has, with and without fill and RTC; equal means the very
same bytes as ``t4.encode`` of the whole page.
"""
from __future__ import annotations

import numpy as np
import pytest

from charts import load_chart
from faxengine import t4

# (coding, k, min_bits_per_line, rtc, eol, align)
FORMS = [("mh", None, 0, True, True, 1), ("mh", None, 173, False, True, 1),
         ("mr", 2, 0, True, True, 1), ("mr", 4, 300, True, True, 1), ("mr", 4, 0, False, True, 1),
         ("mmr", None, 0, True, True, 1), ("mh", None, 0, True, False, 1),
         ("mh", None, 0, True, False, 8), ("mh", None, 0, True, False, 16)]


def coded_in_slices(image, rng, coding, k, fill, rtc, eol, align) -> tuple[bytes, int]:
    enc = t4.StreamEncoder(image.shape[1], coding, k, fill, rtc=rtc, eol=eol, align=align)
    parts, top = [], 0
    while top < image.shape[0]:
        rows = int(rng.choice([0, 1, 2, 7, 128, 500]))
        enc.rows(image[top:top + rows])
        top += rows
        if rng.random() < 0.6:
            parts.append(enc.take())
    parts.append(enc.end())
    return b"".join(parts), enc.bits


@pytest.mark.parametrize("form", FORMS, ids=lambda f: "-".join(map(str, f)))
@pytest.mark.parametrize("chart", [1, 4])
def test_a_chart_in_random_slices_is_encodes_bytes(form, chart):
    coding, k, fill, rtc, eol, align = form
    image = load_chart(chart)
    whole = t4.encode(image, coding, k=k, min_bits_per_line=fill, rtc=rtc, eol=eol, align=align)
    rng = np.random.default_rng(chart)
    for _ in range(3):
        data, bits = coded_in_slices(image, rng, *form)
        assert data == whole
        assert len(whole) - 1 < bits / 8 <= len(whole)      # only the padding is not counted


def test_an_empty_page_is_its_end_code():
    enc = t4.StreamEncoder(1728, "mmr")
    assert enc.end() == t4.encode(np.zeros((0, 1728), bool), "mmr") and enc.bits == 24


def test_misuse_says_what_was_wrong():
    enc = t4.StreamEncoder(1728, "mh")
    with pytest.raises(t4.T4ArgumentError, match="lines of 100 pels given to the coder of a "
                                                 "page 1728 pels wide"):
        enc.rows(np.zeros((2, 100), bool))
    enc.end()
    with pytest.raises(t4.T4ArgumentError, match="the page was ended: no more rows"):
        enc.rows(np.zeros((2, 1728), bool))
    with pytest.raises(t4.T4ArgumentError, match="the page was ended already"):
        enc.end()
    with pytest.raises(t4.T4ArgumentError, match="min_bits_per_line"):
        t4.StreamEncoder(1728, "mh", min_bits_per_line=10, eol=False)
    with pytest.raises(t4.T4ArgumentError):
        t4.StreamEncoder(0, "mmr")
