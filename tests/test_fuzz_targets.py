"""The fuzz targets of fuzz/ stay runnable and their oracles hold on known inputs.

Each atheris target's ``TestOneInput`` runs here without atheris over its
seeds, the regression inputs in fuzz/crashes/<target>/ and a few hundred
random and mutated inputs, so a target cannot rot when an API changes and a
fixed bug stays fixed.  Reproducers of bugs still open are listed in
fuzz/crashes/OPEN and expected to fail (strictly: once the owner fixes one,
the test says to take it off the list).  When atheris is installed each
target also runs a few hundred inputs under it, and when clang is installed
the libFuzzer targets of fuzz/c/ are built with ASan/UBSan and replay the
seed corpus.
"""
from __future__ import annotations

import importlib
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FUZZ = REPO / "fuzz"
TARGETS = ("t4", "t4_libtiff", "tiff", "hdlc", "t30", "terminal", "modem", "sip", "ua", "rtp", "t38")
# random/mutated inputs per target, and the longest random input
RANDOM_RUNS = {"t4": 300, "t4_libtiff": 100, "tiff": 300, "hdlc": 200, "t30": 500,
               "terminal": 40, "modem": 60, "sip": 500, "ua": 200, "rtp": 300, "t38": 500}
RANDOM_MAX_LEN = {"t4": 600, "t4_libtiff": 600, "tiff": 600, "hdlc": 300, "t30": 60,
                  "terminal": 200, "modem": 4000, "sip": 600, "ua": 800, "rtp": 600, "t38": 600}


def load(target: str):
    """The target module, imported without atheris instrumentation."""
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))
    harness = importlib.import_module("_harness")
    harness.atheris = None   # the suite's faxengine must stay uninstrumented
    return importlib.import_module(f"fuzz_{target}")


def open_findings() -> dict[str, str]:
    """fuzz/crashes/OPEN: '<target>/<file>  <what is wrong>' per line."""
    path = FUZZ / "crashes" / "OPEN"
    found = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, why = line.partition(" ")
                found[name] = why.strip()
    return found


def regression_inputs():
    open_ = open_findings()
    for target in TARGETS:
        folder = FUZZ / "crashes" / target
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            name = f"{target}/{path.name}"
            marks = [pytest.mark.xfail(strict=True, reason=f"open: {open_[name]}")] \
                if name in open_ else []
            yield pytest.param(target, path, id=name, marks=marks)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """A few bit flips, cuts, insertions, deletions and overwrites."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(out) + 1)
        op = rng.randrange(5)
        if op == 0 and at < len(out):
            out[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            del out[at:]
        elif op == 2:
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op == 3:
            del out[at:at + rng.randint(1, 8)]
        else:
            chunk = rng.choice([b"\x00" * 4, b"\xff" * 4, rng.randbytes(4)])
            out[at:at + len(chunk)] = chunk
    return bytes(out)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("target", TARGETS)
def test_target_on_seeds_and_random_inputs(target):
    module = load(target)
    seeds = list(module.seeds().values())
    assert seeds, f"fuzz_{target}.seeds() is empty"
    for data in seeds:
        module.TestOneInput(data)
    rng = random.Random(f"faxengine-fuzz-{target}")
    for i in range(RANDOM_RUNS[target]):
        if i % 2:
            data = mutate(rng, rng.choice(seeds))
        else:
            data = rng.randbytes(rng.randint(0, RANDOM_MAX_LEN[target]))
        module.TestOneInput(data)


@pytest.mark.parametrize("target, path", list(regression_inputs()))
def test_regression_input(target, path):
    load(target).TestOneInput(path.read_bytes())


def test_open_findings_have_reproducers():
    for name in open_findings():
        assert (FUZZ / "crashes" / name).is_file(), f"fuzz/crashes/OPEN names missing {name}"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("target", TARGETS)
def test_target_runs_under_atheris(target, tmp_path):
    pytest.importorskip("atheris")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, data in load(target).seeds().items():
        (seeds / name).write_bytes(data)
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run(
        [sys.executable, str(FUZZ / f"fuzz_{target}.py"), "-runs=150", "-seed=1",
         "-timeout=10", f"-artifact_prefix={tmp_path}/", str(work), str(seeds)],
        capture_output=True, text=True, timeout=280, cwd=REPO)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done 150 runs" in run.stderr, run.stderr[-2000:]


C_SOURCES = {
    "t4": ["t4_codes.c", "t4_t6_decode.c", "t4_t6_encode.c"],
    "hdlc": ["hdlc.c"],
    "modem": ["v21rx.c", "tone.c", "v27ter_rx.c", "v29rx.c", "v17rx.c", "v17_trellis.c",
              *sorted(p.name for p in (REPO / "csrc").glob("dsp_*.c"))],
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("target", sorted(C_SOURCES))
def test_c_target_replays_seeds(target, tmp_path):
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("no clang: the libFuzzer targets of fuzz/c need it (apt-get install clang)")
    exe = tmp_path / f"{target}_fuzz"
    build = subprocess.run(
        [clang, "-std=c99", "-g", "-O1", "-Wall", "-Werror", "-fsanitize=fuzzer,address,undefined",
         "-fno-sanitize-recover=undefined", f"-I{REPO / 'csrc'}",
         str(FUZZ / "c" / f"{target}_fuzz.c"),
         *[str(REPO / "csrc" / s) for s in C_SOURCES[target]], "-lm", "-o", str(exe)],
        capture_output=True, text=True)
    if build.returncode != 0 and "fuzzer" in build.stderr and "cannot find" in build.stderr:
        pytest.skip(f"clang without libFuzzer: {build.stderr.strip()[:200]}")
    assert build.returncode == 0, build.stderr
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, data in load(target).seeds().items():
        (seeds / name).write_bytes(data)
    crashes = FUZZ / "crashes" / target
    open_ = open_findings()
    inputs = [str(p) for p in sorted(seeds.iterdir())]
    inputs += [str(p) for p in sorted(crashes.iterdir()) if f"{target}/{p.name}" not in open_] \
        if crashes.is_dir() else []
    # named files: libFuzzer runs each once and fails on the first finding
    run = subprocess.run([str(exe), f"-artifact_prefix={tmp_path}/", *inputs],
                         capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stderr[-3000:]
