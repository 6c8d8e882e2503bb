"""Builds and runs the C unit test of the modems' one lifecycle
(modem_lifecycle_test.c: init into caller memory and on the heap, restart,
free, for V.17, V.29, V.27ter, V.21 and the tones, transmitter and receiver)
under AddressSanitizer, its leak check, and UBSan."""
from __future__ import annotations

import pytest
from _cbuild import build_and_run

SOURCES = ["v17tx.c", "v17rx.c", "v17_trellis.c", "v29tx.c", "v29rx.c", "v27ter_tx.c", "v27ter_rx.c",
           "qam_tx.c", "dsp_qamrx.c", "dsp_agc.c", "dsp_filter.c", "dsp_carrier.c", "dsp_equalizer.c",
           "dsp_timing.c", "v21tx.c", "v21rx.c", "tone.c"]


@pytest.mark.timeout(300)
def test_modem_lifecycle_under_sanitizers(tmp_path):
    build_and_run("modem_lifecycle_test.c", SOURCES, tmp_path, libs=("-lm",))
