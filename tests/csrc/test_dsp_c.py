"""Builds and runs the C unit test of the modem receiver blocks (dsp_test.c:
alternation timing, equaliser, PLL, shaper and front end, power detector,
scramblers, bit queue) under AddressSanitizer and UBSan."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CSRC = HERE.parent.parent / "csrc"
SOURCES = ["dsp_agc.c", "dsp_carrier.c", "dsp_equalizer.c", "dsp_filter.c", "dsp_timing.c"]


@pytest.mark.timeout(300)
def test_dsp_blocks_under_sanitizers(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path / "dsp_test"
    cmd = [cc, "-std=c99", "-O1", "-g", "-Wall", "-Werror", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", f"-I{CSRC}",
           str(HERE / "dsp_test.c"), *[str(CSRC / s) for s in SOURCES], "-lm", "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    if build.returncode != 0 and "sanitize" in build.stderr:
        pytest.skip(f"compiler without sanitizers: {build.stderr.strip()[:200]}")
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "ok"
