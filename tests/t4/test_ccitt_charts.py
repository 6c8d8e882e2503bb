"""The eight CCITT test charts through faxengine.t4 and libtiff, both ways.

For every chart and coding: libtiff decodes our stream to the chart, we
decode libtiff's stream to the chart.  Our MMR is libtiff's byte for byte
(T.6 leaves an encoder no choice).  Our MH and MR sizes, without RTC, are
within 1 % of the reference sizes of ``../shared/testdata/ccitt/README.md``
(libtiff 4.7: EOL before every line, no fill bits, no RTC; MR K = 2 and 4).
Skips with the reason when the charts folder is absent.
"""
from __future__ import annotations

import pytest

from charts import load_chart
from faxengine import t4
from libtiff_util import DPI_FOR_K, libtiff_decode, libtiff_encode

# chart -> bytes, from ../shared/testdata/ccitt/README.md (libtiff 4.7.2 through Pillow 13)
REFERENCE_SIZES = {
    #     MH       MR K=2   MR K=4   MMR
    1: (37_414, 29_915, 25_958, 18_103),
    2: (34_358, 24_662, 19_646, 10_803),
    3: (65_025, 49_132, 40_788, 28_706),
    4: (108_066, 90_446, 81_805, 69_275),
    5: (68_308, 52_240, 44_147, 32_222),
    6: (51_162, 35_944, 28_235, 16_651),
    7: (106_411, 89_610, 81_456, 69_282),
    8: (62_792, 43_106, 33_004, 19_099),
}
REFERENCE_TOTALS = (533_536, 415_055, 355_039, 264_141)

# (coding, K, column of REFERENCE_SIZES)
CODINGS = [("mh", None, 0), ("mr", 2, 1), ("mr", 4, 2), ("mmr", None, 3)]
CODING_IDS = ["mh", "mr-k2", "mr-k4", "mmr"]


def test_reference_table_adds_up():
    """The table above is the README's (its column totals agree with its rows)."""
    columns = tuple(sum(sizes[c] for sizes in REFERENCE_SIZES.values()) for c in range(4))
    assert columns == REFERENCE_TOTALS


def test_libtiff_makes_the_reference_sizes(ccitt_chart):
    """The README's table is what this libtiff writes: the comparison below compares like with like."""
    number, chart = ccitt_chart
    sizes = tuple(len(libtiff_encode(chart, coding, dpi=DPI_FOR_K[k] if k else None)) for coding, k, _ in CODINGS)
    assert sizes == REFERENCE_SIZES[number]


@pytest.mark.parametrize("coding,k,column", CODINGS, ids=CODING_IDS)
def test_chart_both_ways(ccitt_chart, coding, k, column):
    number, chart = ccitt_chart
    height, width = chart.shape
    dpi = DPI_FOR_K[k] if k else None

    ours = t4.encode(chart, coding, k=k, rtc=False)
    theirs = libtiff_encode(chart, coding, dpi=dpi)

    decoded_by_libtiff = libtiff_decode(ours, width, height, coding)
    assert (decoded_by_libtiff == chart).all(), f"libtiff decodes our {coding} of chart {number} differently"
    decoded_by_us = t4.decode(theirs, width, coding)
    assert decoded_by_us.shape == chart.shape
    assert (decoded_by_us == chart).all(), f"we decode libtiff's {coding} of chart {number} differently"

    if coding == "mmr":
        assert ours == theirs, f"our MMR of chart {number} is not libtiff's byte for byte"
    else:
        reference = REFERENCE_SIZES[number][column]
        assert abs(len(ours) - reference) <= 0.01 * reference, (
            f"chart {number} {coding} K={k}: {len(ours)} bytes, reference {reference}")


@pytest.mark.parametrize("coding,k", [("mh", None), ("mr", 2), ("mr", 4)], ids=CODING_IDS[:3])
def test_chart_with_rtc_decodes_in_libtiff(coding, k):
    """A whole page as a fax sends it, RTC included, is still a clean strip for libtiff."""
    chart = load_chart(1)
    stream = t4.encode(chart, coding, k=k)
    assert (libtiff_decode(stream, chart.shape[1], chart.shape[0], coding) == chart).all()
    assert (t4.decode(stream, chart.shape[1], coding) == chart).all()
