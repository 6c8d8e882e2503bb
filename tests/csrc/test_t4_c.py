"""Builds and runs the C unit test of the T.4 coder (t4_test.c) under
AddressSanitizer and UndefinedBehaviorSanitizer, so an out-of-bounds read or
write or undefined behaviour in csrc/t4_*.c fails the suite."""
from __future__ import annotations

import pytest
from _cbuild import build_and_run

SOURCES = ["t4_codes.c", "t4_t6_encode.c", "t4_t6_decode.c"]


@pytest.mark.timeout(300)
def test_t4_c_unit_under_sanitizers(tmp_path):
    build_and_run("t4_test.c", SOURCES, tmp_path)
