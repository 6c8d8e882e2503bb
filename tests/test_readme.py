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
