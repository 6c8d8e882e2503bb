"""What every fuzz target shares: atheris when it is installed, plain Python when not.

A target module defines ``TestOneInput(data: bytes)`` (raises on a finding:
an exception other than the documented one, a broken invariant) and
``seeds() -> dict[str, bytes]`` (valid inputs that open the deep paths; make_corpus.py
writes them to fuzz/corpus/<target>/).  It imports faxengine inside
``instrumented()`` so atheris sees the Python side's branches, and ends with
``main(TestOneInput)``.

Inputs are plain bytes.  The few parameters a target needs (a coding, a
width, a split of the input into chunks) are read from the first bytes with
:class:`Reader`, so the same bytes mean the same test with or without atheris
(tests/test_fuzz_targets.py replays seeds and random inputs through
``TestOneInput`` directly) and a reproducer file is all that is needed to
replay a finding: ``python fuzz/fuzz_x.py fuzz/crashes/x/FILE``.
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

# The faxengine to fuzz: this checkout (the installed package may be another
# one), or the sanitizer build run.sh makes (FAXENGINE_FUZZ_TREE).
TREE = os.environ.get("FAXENGINE_FUZZ_TREE") or str(Path(__file__).resolve().parent.parent)
if TREE not in sys.path:
    sys.path.insert(0, TREE)

# Imported here so that instrumented() only instruments faxengine: numpy is
# not what is fuzzed, and instrumenting it slows every target down.
import numpy  # noqa: E402,F401

try:  # atheris is an optional tool, not a dependency of faxengine
    import atheris
except ImportError:  # pragma: no cover - depends on the machine
    atheris = None


def instrumented():
    """Context for the imports atheris should instrument (a no-op without atheris)."""
    if atheris is None:
        return contextlib.nullcontext()
    return atheris.instrument_imports()


class Reader:
    """Parameters from the front of a fuzz input; what is left is the payload.

    Reading past the end gives zeros, so every input, even empty, is valid.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u8(self) -> int:
        """One octet (0 when the input is used up)."""
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        """Two octets, little-endian."""
        return self.u8() | self.u8() << 8

    def rest(self) -> bytes:
        """Everything not read yet."""
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out


def splits(n: int, key: int) -> list[int]:
    """Cut points splitting ``n`` items into chunks of varied size, from one octet.

    ``key`` 0 means one chunk; otherwise chunk sizes cycle through 1..key-ish
    values, which reaches the 1-item chunks and the odd boundaries streaming
    code gets wrong.
    """
    if key == 0 or n == 0:
        return []
    sizes = [1 + (key * (i + 1) * 2654435761 >> 7) % (2 * key + 1) for i in range(8)]
    cuts, at, i = [], 0, 0
    while True:
        at += sizes[i % len(sizes)]
        if at >= n:
            return cuts
        cuts.append(at)
        i += 1


def main(test_one_input) -> None:
    """Run the target under atheris/libFuzzer (arguments as libFuzzer takes them).

    Without atheris, replay the files named on the command line instead, so a
    reproducer can be checked on any machine.
    """
    if atheris is not None:
        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()
        return
    paths = [a for a in sys.argv[1:] if not a.startswith("-")]
    if not paths:
        sys.exit("atheris is not installed (pip install atheris); without it, name input "
                 "files to replay them")
    for path in paths:
        files = sorted(Path(path).iterdir()) if Path(path).is_dir() else [Path(path)]
        for file in files:
            test_one_input(file.read_bytes())
            print(f"{file}: ok")
