"""The eight CCITT (ITU-T) facsimile test charts, read from outside the repository.

They live in ``../shared/testdata/ccitt`` beside the repository (test data,
never copied in) as binary PBM (P4) files, 1728 x 2376, 1 = black.
:func:`read_pbm` turns one into a 2-D bool array, True = black;
:func:`load_chart` reads a chart once, caches it read-only, and skips the
calling test (or benchmark) with the reason when the folder is absent.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CCITT_DIR = REPO_ROOT.parent / "shared" / "testdata" / "ccitt"
CCITT_CHARTS = tuple(range(1, 9))
ABSENT = f"CCITT charts not found: {CCITT_DIR} is absent (they are not in the repository)"


def _pbm_tokens(data: bytes, count: int) -> tuple[list[int], int]:
    """The first ``count`` header numbers of a PBM and the offset of its raster.

    Netpbm headers are whitespace-separated ASCII with ``#`` comments to the end
    of the line; exactly one whitespace byte follows the last number.
    """
    numbers: list[int] = []
    i = 2                                  # after the magic number
    while len(numbers) < count:
        c = data[i:i + 1]
        if not c:
            raise ValueError("PBM header ends early")
        if c == b"#":
            while data[i:i + 1] not in (b"\n", b"\r", b""):
                i += 1
        elif c.isspace():
            i += 1
        else:
            start = i
            while data[i:i + 1].isdigit():
                i += 1
            if start == i:
                raise ValueError(f"bad PBM header byte {c!r} at offset {i}")
            numbers.append(int(data[start:i]))
    return numbers, i + 1


def read_pbm(path: Path | str) -> np.ndarray:
    """A binary PBM (P4) file as a 2-D bool array, True = black (PBM's 1 bits)."""
    data = Path(path).read_bytes()
    if data[:2] != b"P4":
        raise ValueError(f"{path}: not a binary PBM (P4) file")
    (width, height), at = _pbm_tokens(data, 2)
    stride = (width + 7) // 8
    raster = np.frombuffer(data, dtype=np.uint8, count=stride * height, offset=at)
    return np.unpackbits(raster.reshape(height, stride), axis=1)[:, :width].astype(bool)


@lru_cache(maxsize=None)
def _chart(number: int) -> np.ndarray:
    image = read_pbm(CCITT_DIR / f"itu{number}.pbm")
    image.setflags(write=False)            # shared between tests: nobody may change it
    return image


def load_chart(number: int) -> np.ndarray:
    """CCITT chart ``number`` (1..8), 1728 x 2376, read once and cached read-only.

    Skips the calling test when the charts folder is absent.
    """
    if not CCITT_DIR.is_dir():
        pytest.skip(ABSENT)
    return _chart(number)
