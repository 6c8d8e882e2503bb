"""The README's examples run as written: docs that match the code."""
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_examples_run_in_order(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    # the last example faxed the letter the first one wrote
    assert namespace["sender"].result.ok and os.path.exists("received.tif")


def test_readme_and_docs_link_only_inside_the_repository():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue                          # a web address or an anchor
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT), f"{page.name} points outside: {target}"
            assert path.exists(), f"{page.name} links to missing {target}"


def test_readme_names_no_path_outside_the_repository():
    # what a user needs (the architecture notes too) is in the repository
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.findall(r"\.\./[\w./-]+", text.replace("](../", "](")) == []


def test_figures_without_matplotlib_say_so_in_one_line():
    import subprocess
    import sys

    script = ("import runpy, sys; sys.modules['matplotlib'] = None;"
              " sys.argv = ['make_figures.py', '--only', 'constellations'];"
              " runpy.run_path('docs/make_figures.py', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 1
    assert proc.stderr == ("figures need matplotlib: pip install -e '.[docs]' (the text sections,"
                           " e.g. --only t30-states, do without)\n")
