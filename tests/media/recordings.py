"""Recordings of whole fax calls for the WAV and analyser tests.

``record_call(caller, answerer)`` pumps two terminals (ours, or spandsp's
through tests/spandsp) back to back in 20 ms blocks, as
``spandsp.run_call`` does, and keeps what each one sent: a stereo array,
caller in channel 0, answerer in channel 1.  ``mono`` mixes the two
directions as a recorder on the line hears them.
"""
from __future__ import annotations

import numpy as np

from faxengine.t4 import Page

BLOCK = 160


def page(seed: int, rows: int = 400, width: int = 1728) -> Page:
    """A fine-resolution page of random black bars, different per seed."""
    rng = np.random.default_rng(seed)
    image = np.zeros((rows, width), dtype=bool)
    for _ in range(80):
        y, x = rng.integers(0, rows - 10), rng.integers(0, width - 60)
        image[y:y + rng.integers(1, 10), x:x + rng.integers(2, 60)] = True
    return Page(image, 204.0, 196.0)


def record_call(caller, answerer, max_seconds: float = 300.0, lines=(None, None)) -> np.ndarray:
    """Run the call to its end; (n, 2) int16: what the caller and the answerer
    sent, as the other end heard it through ``lines`` (line models, each way)
    if given."""
    sent: tuple[list, list] = ([], [])
    for _ in range(int(max_seconds * 8000) // BLOCK):
        if caller.finished and answerer.finished:
            break
        a, b = caller.tx(BLOCK), answerer.tx(BLOCK)
        if lines[0] is not None:
            a = lines[0].process(a)
        if lines[1] is not None:
            b = lines[1].process(b)
        sent[0].append(a)
        sent[1].append(b)
        answerer.rx(a)
        caller.rx(b)
    return np.column_stack([np.concatenate(sent[0]), np.concatenate(sent[1])])


def mono(stereo: np.ndarray) -> np.ndarray:
    """Both directions mixed into one channel."""
    return np.clip(stereo.astype(np.int32).sum(axis=1), -32768, 32767).astype(np.int16)
