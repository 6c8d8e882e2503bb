"""fuzz/run.sh as a user runs it: a run that fuzzes nothing fails and says why;
the replay example in fuzz/README.md works as written."""
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_sh(tmp_path, *args):
    """fuzz/run.sh on a machine with neither clang nor atheris."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "mkdir", "sed"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    (bin_dir / "python3").symlink_to(sys.executable)
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "atheris.py").write_text("raise ImportError('atheris hidden by the test')\n")
    env = {"PATH": str(bin_dir), "PYTHON": "python3", "PYTHONPATH": str(hide),
           "HOME": str(tmp_path)}
    return subprocess.run(["/bin/sh", str(ROOT / "fuzz" / "run.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_run_that_can_fuzz_nothing_fails_and_says_why(tmp_path):
    proc = run_sh(tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "run.sh: nothing ran: atheris is missing (pip install atheris) and clang is missing"
        " (apt-get install clang)")


def test_only_c_targets_without_clang_fail(tmp_path):
    proc = run_sh(tmp_path, "c-t4", "c-hdlc")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "run.sh: nothing ran: clang is missing (apt-get install clang)")


def test_unknown_targets_and_times_are_refused(tmp_path):
    proc = run_sh(tmp_path, "t5")
    assert proc.returncode == 2 and proc.stderr.startswith("run.sh: unknown target 't5'; the "
                                                           "targets are: t4 t4_libtiff tiff")
    proc = subprocess.run(["/bin/sh", str(ROOT / "fuzz" / "run.sh"), "-t", "soon"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "run.sh: -t takes a whole number of seconds, not 'soon'\n"


def test_the_readme_replay_example_runs_as_written():
    text = (ROOT / "fuzz" / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(.*?)```", text, re.S).group(1)
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        paths = [w for w in words if w.startswith("fuzz/")]
        assert all((ROOT / p).exists() for p in paths), line
        if words[:1] == ["python"]:
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            proc = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, proc.stderr      # replayed: no finding
