"""Fixtures shared by the whole suite: where the repository is, the CCITT charts.

Tests that need the eight CCITT charts (``../shared/testdata/ccitt``, outside
the repository) take the ``ccitt_dir`` or ``ccitt_chart`` fixtures, which skip
with the reason when the folder is absent; ``charts.py`` reads them.

This directory is put on ``sys.path`` so tests and benchmarks import the
helper modules kept here (``charts``, ``libtiff_util``) by name.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from charts import ABSENT, CCITT_CHARTS, CCITT_DIR, REPO_ROOT, load_chart  # noqa: E402


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top directory."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def ccitt_dir() -> Path:
    """``../shared/testdata/ccitt`` beside the repository; skips when absent."""
    if not CCITT_DIR.is_dir():
        pytest.skip(ABSENT)
    return CCITT_DIR


@pytest.fixture(scope="session", params=CCITT_CHARTS, ids=[f"chart{n}" for n in CCITT_CHARTS])
def ccitt_chart(request) -> tuple[int, np.ndarray]:
    """(number, image) for each of the eight charts in turn; skips when they are absent."""
    return request.param, load_chart(request.param)
