"""Bounded fuzzing of the three decoders.

Random bytes and mutated valid streams (bit flips, truncation, inserted,
deleted and overwritten bytes) go through decode() and decode_lenient() with
assorted widths.  decode() may only return an image or raise T4Error;
decode_lenient() may never raise, returns exactly the height asked for, and
stays within max_lines.  Crashes (out-of-bounds reads show up under the
sanitizer build of tests/csrc) and hangs (pytest timeout) fail the test.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxengine import t4

CODINGS = st.sampled_from(["mh", "mr", "mmr"])
WIDTHS = st.sampled_from([1, 2, 7, 8, 9, 31, 64, 100, 255, 1728, 2560, 4864])
FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check_decoders(data: bytes, width: int, coding: str, height: int | None) -> None:
    try:
        image = t4.decode(data, width, coding, height=height, max_lines=2000)
    except t4.T4Error as e:
        assert "line" in str(e) or "page" in str(e)
    else:
        assert image.dtype == bool and image.shape[1] == width
        if height is not None:
            assert image.shape[0] == height
    image, bad = t4.decode_lenient(data, width, coding, height=height, max_lines=2000)
    assert image.dtype == bool and image.shape[1] == width
    assert bad.total_lines == image.shape[0]
    assert 0 <= bad.longest_run <= bad.count <= image.shape[0]
    if height is not None:
        assert image.shape[0] == height
    else:
        assert image.shape[0] <= 2000


@pytest.mark.timeout(120)
@FUZZ
@given(data=st.binary(max_size=600), width=WIDTHS, coding=CODINGS,
       height=st.one_of(st.none(), st.integers(1, 40)))
def test_random_bytes(data, width, coding, height):
    check_decoders(data, width, coding, height)


@st.composite
def mutated_streams(draw):
    coding = draw(CODINGS)
    width = draw(st.sampled_from([1, 9, 64, 200, 1728]))
    height = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    image = rng.random((height, width)) < draw(st.sampled_from([0.02, 0.2, 0.5]))
    data = bytearray(t4.encode(image, coding, k=draw(st.integers(1, 4)),
                               min_bits_per_line=draw(st.sampled_from([0, 100]))))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        else:
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at:at + len(chunk)] = chunk
    return bytes(data), width, coding, draw(st.one_of(st.none(), st.just(height)))


@pytest.mark.timeout(120)
@FUZZ
@given(case=mutated_streams())
def test_mutated_streams(case):
    check_decoders(*case)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("coding", ["mh", "mr", "mmr"])
def test_pathological_patterns(coding):
    """Streams made of one repeated pattern: all ones, all zeros, EOLs, codes."""
    for pattern in (b"\xff", b"\x00", b"\x00\x10", b"\x00\x1f", b"\x01", b"\x80", b"\x55",
                    b"\xaa", b"\x35", b"\x0f", b"\x02\x00\x01", b"\x03\xff"):
        for size in (1, 3, 64, 3000):
            data = (pattern * size)[:size * len(pattern)]
            check_decoders(data, 64, coding, None)
            check_decoders(data, 1728, coding, 20)
