"""The faxengine command, run as a user runs it."""
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "faxengine", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_demo_codes_the_sample_in_every_coding_and_writes_tiff_f(tmp_path):
    out = tmp_path / "demo.tif"
    proc = run("demo", "samples/letter.png", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for coding in ("mh", "mr", "mmr"):
        row = next(line for line in lines if line.startswith(coding + " "))
        assert row.endswith("pixels equal")
    sizes = {line.split()[0]: int(line.split()[1]) for line in lines
             if line.split() and line.split()[0] in ("mh", "mr", "mmr")}
    # T.4/T.6: each coding exploits more redundancy than the one before.
    assert sizes["mmr"] < sizes["mr"] < sizes["mh"]
    with Image.open(out) as img:
        frames = [np.array(f.convert("1")) for f in ImageSequence.Iterator(img)]
        assert img.info.get("compression") == "group4"
    with Image.open(ROOT / "samples" / "letter.png") as src:
        assert (frames[0] == np.array(src.convert("1"))).all()


def test_demo_reports_a_missing_file_without_a_traceback(tmp_path):
    proc = run("demo", str(tmp_path / "nope.png"))
    assert proc.returncode == 2
    assert "nope.png" in proc.stderr and "Traceback" not in proc.stderr
