"""Side-by-side benchmarks: ours against the reference C library, ratios at the end.

``python -m pytest -q -s bench`` (``make bench``) runs every ``bench/test_*.py``
(they are named so pytest collects them here, while ``make test`` only runs
``tests/``).  Each benchmark times one contender on one job with
pytest-benchmark and hands its best time to the ``speed`` fixture:

    speed.record(group="mh encode", contender="ours", items=8, seconds=best, required=2.0)
    speed.record(group="mh encode", contender="libtiff", items=8, seconds=best)

A group pairs ``ours`` with one reference contender; ``required`` is the
least ratio ours/reference the issue asks for.  At the end of the session
the table of items per second, ratios and PASS/FAIL is printed and written
to ``bench/results/<name>.txt`` for ``bench/test_<name>_speed.py`` (the folder
is not committed).  The best (minimum) round is used rather than the mean: on a
shared machine the mean measures the neighbours, the minimum the code.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
TESTS_DIR = BENCH_DIR.parent / "tests"
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))      # the shared helpers: charts, libtiff_util

OURS = "ours"


@dataclass
class Entry:
    group: str
    contender: str
    items: int
    seconds: float                          # best round: all ``items`` once
    rounds: int
    unit: str

    @property
    def rate(self) -> float:
        return self.items / self.seconds


@dataclass
class SpeedTable:
    """Results of one benchmark module, in the order they were recorded."""

    title: str
    entries: list[Entry] = field(default_factory=list)
    required: dict[str, float] = field(default_factory=dict)

    def record(self, group: str, contender: str, items: int, seconds: float, rounds: int = 1,
               required: float | None = None, unit: str = "pages/s") -> None:
        self.entries.append(Entry(group, contender, items, seconds, rounds, unit))
        if required is not None:
            self.required[group] = required

    def lines(self) -> list[str]:
        groups: dict[str, dict[str, Entry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.group, {})[entry.contender] = entry
        rows = [f"{'job':<16} {'ours':>10} {'reference':>20} {'ratio':>8} {'required':>9}  verdict"]
        for group, by_name in groups.items():
            ours = by_name.get(OURS)
            others = [e for name, e in by_name.items() if name != OURS]
            theirs = others[0] if others else None
            need = self.required.get(group)
            if ours is None or theirs is None:
                have = ours or theirs
                rows.append(f"{group:<16} {have.contender}: {have.rate:.1f} {have.unit} (nothing to compare with)")
                continue
            ratio = ours.rate / theirs.rate
            verdict = "" if need is None else ("PASS" if ratio >= need else "FAIL")
            reference = f"{theirs.rate:.1f} {theirs.contender}"
            rows.append(f"{group:<16} {ours.rate:>10.1f} {reference:>20} {ratio:>7.2f}x "
                        f"{'' if need is None else f'>= {need:g}x':>9}  {verdict}")
        unit = self.entries[0].unit if self.entries else ""
        return [self.title, f"{unit}, best round of each; ratio = ours / reference"] + rows


def environment() -> str:
    """One line saying where the figures were measured."""
    try:
        from PIL import features
        libtiff = features.version("libtiff")
    except Exception:                       # Pillow without libtiff: the bench says so elsewhere
        libtiff = "?"
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, libtiff {libtiff}")


_TABLES = pytest.StashKey[dict]()


def time_calls(benchmark, speed: SpeedTable, group: str, contender: str, setup, run):
    """Time whole fax calls, best of 3 rounds after one warm-up: ``setup()`` makes
    the two terminals, ``run(a, b)`` pumps them and returns (seconds of line
    time, True when both ended OK).  Records the best round in ``speed`` as
    "x real time"; returns (line time, best round in seconds, or None when
    pytest-benchmark is disabled)."""
    benchmark.group = group
    seen = {}

    def call(a, b):
        seen["line"], seen["ok"] = run(a, b)

    benchmark.pedantic(call, setup=lambda: (setup(), {}), rounds=3, iterations=1,
                       warmup_rounds=1)
    assert seen["ok"], f"{contender} call failed"
    stats = getattr(benchmark, "stats", None)
    if not stats:
        return seen["line"], None
    best = stats.stats.min
    speed.record(group, contender, seen["line"], best, stats.stats.rounds, unit="x real time")
    return seen["line"], best


@pytest.fixture(scope="module")
def chart1(tmp_path_factory):
    """CCITT chart 1 at fine resolution: (the page, a TIFF-F file of it for spandsp)."""
    from charts import load_chart
    from faxengine import tiff
    from faxengine.t4 import Page
    page = Page(load_chart(1), 204, 196)
    path = tmp_path_factory.mktemp("chart1") / "chart1.tif"
    tiff.write(path, [page], coding="mh")
    return page, path


@pytest.fixture(scope="module")
def speed(request) -> SpeedTable:
    """The speed table of the calling benchmark module (see the module docstring)."""
    tables = request.config.stash.setdefault(_TABLES, {})
    module = request.module
    name = Path(module.__file__).stem
    title = (module.__doc__ or name).strip().splitlines()[0]
    return tables.setdefault(name, SpeedTable(title))


@pytest.hookimpl(trylast=True)             # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tables: dict[str, SpeedTable] = config.stash.get(_TABLES, {})
    for name, table in tables.items():
        if not table.entries:
            continue
        text = [environment()] + table.lines()
        terminalreporter.write_sep("=", f"speed: {name}")
        for line in text:
            terminalreporter.write_line(line)
        RESULTS_DIR.mkdir(exist_ok=True)
        out = RESULTS_DIR / f"{name.removeprefix('test_').removesuffix('_speed')}.txt"
        out.write_text("\n".join(text) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"(written to {out.relative_to(BENCH_DIR.parent)})")
