"""Builds and runs the C unit test of the modem receiver blocks (dsp_test.c:
alternation timing, equaliser, PLL, shaper and front end, power detector,
scramblers, bit queue, the differential phase coder of V.29 and V.27ter)
under AddressSanitizer and UBSan."""
from __future__ import annotations

import pytest
from _cbuild import build_and_run

SOURCES = ["dsp_agc.c", "dsp_carrier.c", "dsp_equalizer.c", "dsp_filter.c", "dsp_timing.c"]


@pytest.mark.timeout(300)
def test_dsp_blocks_under_sanitizers(tmp_path):
    build_and_run("dsp_test.c", SOURCES, tmp_path, libs=("-lm",))
