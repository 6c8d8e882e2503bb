"""Builds and runs v21rx_paths_test.c under AddressSanitizer and UBSan: the
V.21 receiver's SSE2 correlators and its plain C give the same bits and the
same state."""
from __future__ import annotations

import pytest
from _cbuild import build_and_run


@pytest.mark.timeout(300)
def test_v21rx_sse2_and_plain_c_agree(tmp_path):
    build_and_run("v21rx_paths_test.c", ["v21rx.c", "v21tx.c", "dsp_carrier.c", "../tests/csrc/v21rx_plain.c"], tmp_path,
                  libs=("-lm",))
