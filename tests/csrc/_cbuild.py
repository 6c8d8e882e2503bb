"""Builds a C unit test of tests/csrc (a main() that prints "ok", see
ctest.h) with the csrc/ kernels it tests, under AddressSanitizer and
UndefinedBehaviorSanitizer, and runs it: an out-of-bounds access or undefined
behaviour fails the test like a failed CHECK.  Skips without a C compiler or
when the compiler has no sanitizers."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CSRC = HERE.parent.parent / "csrc"


def build_and_run(test_c: str, sources: list[str], tmp_path: Path, libs: tuple[str, ...] = ()) -> None:
    """Compile tests/csrc/<test_c> with csrc/<sources> into tmp_path, run it,
    and assert that it printed "ok" and exited 0."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path / Path(test_c).stem
    cmd = [cc, "-std=c99", "-O1", "-g", "-Wall", "-Werror", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", f"-I{CSRC}",
           str(HERE / test_c), *[str(CSRC / s) for s in sources], *libs, "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    if build.returncode != 0 and "sanitize" in build.stderr:
        pytest.skip(f"compiler without sanitizers: {build.stderr.strip()[:200]}")
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "ok"
