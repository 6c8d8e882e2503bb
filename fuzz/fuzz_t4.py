#!/usr/bin/env python3
"""Fuzz target: the T.4/T.6 decoders (``t4.decode``, ``t4.decode_lenient``) and round trips.

Input layout (see _harness.Reader)::

    octet 0   bits 0-1: 0 MH, 1 MR, 2 MMR, 3 round trip (below)
              bit 2: pass a height (octet 3 + 1) instead of None
              bit 3: any width 1..65535 (else 1..4864), with max_lines 64
              bits 4-5: MR K - 1 (round trip); bits 6-7: fill (round trip)
    octets 1-2 width, little-endian
    octet 3   height - 1
    rest      the coded page (decoders) or the pels, one bit each (round trip)

Decoders: ``decode`` returns a (h, width) bool array, h = height when one is
given, else at most max_lines, or raises ``T4Error`` and nothing else;
``decode_lenient`` never raises, returns as many lines as asked but at most
max_lines, a consistent BadLines; and where ``decode`` succeeded,
``decode_lenient`` returns the same pels with no bad line.

Round trip: the page drawn from the payload, encoded in MH, MR (K from
octet 0) and MMR with or without fill and RTC, decodes to itself with both
decoders.
"""
from __future__ import annotations

import sys

import numpy as np

from _harness import Reader, instrumented, main

with instrumented():
    from faxengine import t4

MAX_LINES = 2000
WIDE_MAX_LINES = 64
FAX_WIDTH = 4864


def check_decoders(data: bytes, width: int, coding: str, height: int | None,
                   max_lines: int) -> None:
    """The contract of decode and decode_lenient on any bytes."""
    try:
        strict = t4.decode(data, width, coding, height=height, max_lines=max_lines)
    except t4.T4Error as exc:
        assert str(exc), "T4Error without a message"
        strict = None
    else:
        assert strict.dtype == np.bool_ and strict.ndim == 2, (strict.dtype, strict.shape)
        assert strict.shape[1] == width, strict.shape
        if height is not None:
            assert strict.shape[0] == height, (strict.shape, height)
        else:
            assert strict.shape[0] <= max_lines, strict.shape
    image, bad = t4.decode_lenient(data, width, coding, height=height, max_lines=max_lines)
    assert image.dtype == np.bool_ and image.ndim == 2 and image.shape[1] == width, image.shape
    if height is not None:
        assert image.shape[0] == min(height, max_lines), (image.shape, height, max_lines)
    else:
        assert image.shape[0] <= max_lines, image.shape
    assert bad.total_lines == image.shape[0], (bad, image.shape)
    assert 0 <= bad.longest_run <= bad.count <= bad.total_lines, bad
    assert (bad.longest_run == 0) == (bad.count == 0), bad
    if strict is not None:
        assert bad.count == 0, f"decode accepted the page, decode_lenient found {bad}"
        # (a height lifts max_lines for decode, not for decode_lenient)
        assert np.array_equal(strict[:max_lines], image), \
            "decode and decode_lenient differ on a good page"


def pels(payload: bytes, height: int, width: int) -> np.ndarray:
    """A height x width page whose pels are the payload's bits, repeated."""
    if height == 0 or not payload:
        return np.zeros((height, width), dtype=bool)
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8)).astype(bool)
    return np.resize(bits, height * width).reshape(height, width)


def check_round_trip(image: np.ndarray, k: int, fill: int) -> None:
    """Every coding gives the page back, with and without RTC and a height."""
    height, width = image.shape
    for coding in ("mh", "mr", "mmr"):
        for rtc in (True, False):
            data = t4.encode(image, coding, k=k, min_bits_per_line=fill, rtc=rtc)
            back = t4.decode(data, width, coding, height=height or None)
            assert np.array_equal(back, image), f"{coding} rtc={rtc} k={k}: decode differs"
            lenient, bad = t4.decode_lenient(data, width, coding)
            assert bad.count == 0 and np.array_equal(lenient, image), \
                f"{coding} rtc={rtc} k={k}: decode_lenient differs ({bad})"


def TestOneInput(data: bytes) -> None:
    r = Reader(data)
    mode = r.u8()
    raw_width = r.u16()
    raw_height = r.u8()
    payload = r.rest()
    if mode & 3 == 3:
        width = 1 + raw_width % 300
        check_round_trip(pels(payload, raw_height % 40, width), 1 + (mode >> 4 & 3),
                         (mode >> 6) * 120)
        return
    coding = ("mh", "mr", "mmr")[mode & 3]
    height = raw_height + 1 if mode & 4 else None
    if mode & 8:
        width, max_lines = max(1, raw_width), WIDE_MAX_LINES
        if height is not None:
            height = min(height, WIDE_MAX_LINES)
    else:
        width, max_lines = 1 + raw_width % FAX_WIDTH, MAX_LINES
    check_decoders(payload, width, coding, height, max_lines)


def header(mode: int, width: int, height: int = 1) -> bytes:
    """The four parameter octets of a decoder input (TestOneInput reads them back)."""
    raw_width = width if mode & 8 else width - 1
    return bytes((mode,)) + raw_width.to_bytes(2, "little") + bytes((height - 1,))


def seeds() -> dict[str, bytes]:
    """Valid pages of every coding at fax and odd widths, and round-trip pages."""
    rng = np.random.default_rng(4)
    out = {}
    for c, coding in enumerate(("mh", "mr", "mmr")):
        for width, density in ((1728, 0.05), (9, 0.5), (200, 0.2), (2560, 0.01)):
            image = rng.random((6, width)) < density
            image[2, :] = True          # a whole black line: the makeup codes
            data = t4.encode(image, coding, k=2, min_bits_per_line=100 if c == 0 else 0)
            out[f"{coding}-w{width}"] = header(c, width) + data
            out[f"{coding}-w{width}-h6"] = header(c | 4, width, 6) + data
        image = rng.random((3, 7000)) < 0.1
        out[f"{coding}-w7000"] = header(c | 8, 7000) + t4.encode(image, coding)
    out["roundtrip-k2"] = header(3 | 1 << 4, 100, 13) + rng.bytes(64)
    out["roundtrip-k4-fill"] = header(3 | 3 << 4 | 2 << 6, 33, 20) + rng.bytes(40)
    return out


if __name__ == "__main__":
    main(TestOneInput)
