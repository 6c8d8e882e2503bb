"""docs/ says what the code does: the generated T.30 sections match the code
now, the pages link what exists, the figures are there and small, and
docs/make_figures.py draws (when matplotlib is installed)."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def _load_make_figures():
    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mf = _load_make_figures()
REGENERATE = "the table changed without the doc: run python docs/make_figures.py --only {}"


def test_state_diagrams_are_the_transition_table_now():
    md = (DOCS / "t30.md").read_text()
    assert mf.section(md, "t30-states") == mf.t30_states().strip("\n"), REGENERATE.format("t30-states")


def _frames(ladder: str) -> list[str]:
    """The arrows and notes of a sequenceDiagram without line times."""
    steps = [ln.strip() for ln in ladder.splitlines() if "->>" in ln or ln.strip().startswith("Note")]
    return [re.sub(r"\b\d+\.\d+ s\b", "<t>", s) for s in steps]


def test_call_ladders_are_what_a_call_does_now():
    md = (DOCS / "t30.md").read_text()
    doc = mf.section(md, "t30-ladders")
    ecm, plain = [m.group(1) for m in re.finditer(r"```mermaid\n(.*?)```", doc, re.S)]
    for text, is_ecm in ((ecm, True), (plain, False)):
        now = mf.ladder(mf.call_trace(is_ecm))
        assert _frames(text) == _frames(now), REGENERATE.format("t30-ladders")
    # the ECM call carries its page in a partial page, the other with EOP
    assert any("PPS-EOP" in s for s in _frames(ecm)) and not any("PPS" in s for s in _frames(plain))
    assert any(s.startswith("S->>R") and s.endswith("EOP") for s in _frames(plain))


def test_ladder_pairs_a_frame_with_its_reception():
    records = [(0.0, "R", "tx DIS: x"), (0.5, "S", "timer T1 expired in B:WAIT_DIS"),
               (1.25, "S", "rx DIS: x"), (1.5, "S", "tx page 1: 9 octets"), (3.0, "S", "tx DCN")]
    assert mf.ladder(records).splitlines()[3:] == [
        "    R->>S: 1.25 s DIS: x",
        "    Note left of S: 0.50 s timer T1 expired in B:WAIT_DIS",
        "    S-->>R: 1.50 s page 1: 9 octets",
        "    S->>R: 3.00 s DCN",                   # never received: the time it was sent
    ]


def test_sections_and_links_resolve():
    for page in ("index.md", "codec.md", "modems.md", "t30.md"):
        md = (DOCS / page).read_text()
        for name, (doc, _) in mf.SECTIONS.items():
            if doc == page:
                assert mf.section(md, name).strip(), f"{page}: section {name} is empty"
        for target in re.findall(r"\]\(([^)#]+)\)", md):
            assert (DOCS / target).resolve().exists(), f"{page} links {target}, which is absent"
    with pytest.raises(KeyError):
        mf.section("no markers", "t30-states")


def test_figures_are_committed_and_small():
    pngs = {p.stem: p for p in (DOCS / "figures").glob("*.png")}
    assert set(pngs) == set(mf.FIGURE_MAKERS)
    for p in pngs.values():
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sum(p.stat().st_size for p in pngs.values()) < 1_500_000


def test_make_figures_draws_the_constellations(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="matplotlib is absent: pip install -e .[docs]")
    monkeypatch.setattr(mf, "FIGURES", tmp_path)
    assert mf.main(["--only", "constellations"]) == 0
    from PIL import Image
    with Image.open(tmp_path / "constellations.png") as im:
        assert im.width > 600 and im.height > 400


def test_ideal_points_are_the_recommendations():
    # V.29 Table 1 at 9600: 16 points, 4 amplitudes; V.27ter 4800: 8-PSK;
    # V.17 14400: 128 points
    v29 = mf.ideal_points("v29", 9600)
    assert len(v29) == 16 and sorted({round(abs(p) ** 2) for p in v29}) == [2, 9, 18, 25]
    assert len(mf.ideal_points("v29", 4800)) == 4 and len(mf.ideal_points("v27ter", 2400)) == 4
    assert len(mf.ideal_points("v27ter", 4800)) == 8
    assert len(set(mf.ideal_points("v17", 14400))) == 128
