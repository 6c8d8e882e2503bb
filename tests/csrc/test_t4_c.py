"""Builds and runs the C unit test of the T.4 coder (t4_test.c) under
AddressSanitizer and UndefinedBehaviorSanitizer, so an out-of-bounds read or
write or undefined behaviour in csrc/t4_*.c fails the suite."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CSRC = HERE.parent.parent / "csrc"
SOURCES = ["t4_codes.c", "t4_t6_encode.c", "t4_t6_decode.c"]


@pytest.mark.timeout(300)
def test_t4_c_unit_under_sanitizers(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path / "t4_test"
    cmd = [cc, "-std=c99", "-O1", "-g", "-Wall", "-Werror", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", f"-I{CSRC}",
           str(HERE / "t4_test.c"), *[str(CSRC / s) for s in SOURCES], "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    if build.returncode != 0 and "sanitize" in build.stderr:
        pytest.skip(f"compiler without sanitizers: {build.stderr.strip()[:200]}")
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "ok"
