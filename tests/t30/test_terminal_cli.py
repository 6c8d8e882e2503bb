"""``faxengine loopback``: two terminals back to back, run as a user runs it."""
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from faxengine.t4 import Page

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, "-m", "faxengine", "loopback", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_loopback_faxes_the_sample_between_two_terminals(tmp_path):
    out = tmp_path / "rx.tif"
    proc = run("samples/letter.png", "--out", str(out), "--g711", "alaw", "--snr", "35")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sender: OK" in proc.stdout and "receiver: OK" in proc.stdout
    assert proc.stderr == "page 1/1 sent\n"       # not a terminal: one line per page
    with Image.open(out) as img, Image.open(ROOT / "samples" / "letter.png") as src:
        sent = Page.from_pil(src, resolution="fine").image
        assert (~np.array(img.convert("1")) == sent).all()


def test_loopback_draws_a_progress_bar_on_a_terminal(tmp_path):
    import os
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "faxengine", "loopback", "samples/letter.png",
                               "--out", str(tmp_path / "rx.tif")], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=slave, timeout=120)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0
    text = seen.decode()
    assert "\rpage 1/1 [" in text and "[" + "#" * 30 + "] 100%" in text


def test_loopback_verbose_prints_the_trace_and_fails_on_a_dead_line(tmp_path):
    proc = run("samples/letter.png", "--out", str(tmp_path / "rx.tif"), "-v",
               "--no-ecm", "--rate", "9600", "--snr", "2")
    assert proc.returncode == 1
    assert "tx DIS:" in proc.stdout and "tx DCS: V.17 9600" in proc.stdout
    assert "sender: TRAINING_FAILED" in proc.stdout and "wrote" not in proc.stdout


def test_loopback_reports_a_missing_file(tmp_path):
    proc = run(str(tmp_path / "nope.tif"), "--out", str(tmp_path / "rx.tif"))
    assert proc.returncode == 2 and "nope.tif" in proc.stderr and "Traceback" not in proc.stderr
