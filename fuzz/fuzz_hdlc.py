#!/usr/bin/env python3
"""Fuzz target: the HDLC receiver, ``faxengine.modem.HdlcRx``, over any bit stream.

Input layout::

    octet 0   max_len: one of MAX_LENS (index modulo its length)
    octet 1   how to split the bits into decode() calls (0: one call)
    rest      the line bits, octet by octet, MSB first

Oracle: a reference receiver written here bit by bit from the rules of
ISO/IEC 13239 as T.30 §5.3.1 uses them (flag 01111110, a 0 after five 1s
removed, seven 1s abort, the frame's octets LSB first, FCS residue 0xF0B8)
gives the frames that may be reported good.  HdlcRx must report exactly
those as ok, in order (a good FCS on whole octets, at most ``max_len``
octets besides the FCS), never a frame longer than max_len, the same
frames and counters whatever the chunking, and counters that match what it
returned.
"""
from __future__ import annotations

import numpy as np

from _harness import Reader, instrumented, main, splits

with instrumented():
    from faxengine.modem.hdlc import HdlcRx, HdlcTx, crc16

MAX_LENS = (1, 2, 3, 4, 64, 260, 2048)
GOOD_RESIDUE = 0xF0B8


def reference_frames(bits: np.ndarray, max_len: int) -> list[tuple[bytes, bool]]:
    """(octets without FCS, FCS good) for every frame of 3+ octets between flags.

    Frames that are not whole octets count as bad, as do longer ones; what is
    between an abort and the next flag is no frame.
    """
    frames = []
    ones = 0
    body: list[int] | None = None      # destuffed bits of the open frame
    for bit in bits.tolist():
        if bit:
            ones += 1
            if ones == 7:
                body = None            # abort: hunt for the next flag
            elif body is not None:
                body.append(1)
            continue
        run, ones = ones, 0
        if run == 6:                   # a flag: 0 111111 0, its leading 0 is in body
            if body is not None and len(body) >= 7 + 24:
                content = body[:-7]    # drop the flag's 0 and six 1s
                frames.append(_frame(content, max_len))
            body = []
        elif run >= 7:
            continue
        elif body is not None and run != 5:
            body.append(0)             # after five 1s the 0 was inserted: dropped
    return frames


def _frame(content: list[int], max_len: int) -> tuple[bytes, bool]:
    n = len(content) // 8
    octets = bytes(sum(content[8 * i + j] << j for j in range(8)) for i in range(n))
    good = (len(content) % 8 == 0 and n - 2 <= max_len
            and crc16(octets) == GOOD_RESIDUE)
    return octets[:-2][:max_len], good


def decode_all(max_len: int, bits: np.ndarray, cuts: list[int]) -> tuple[list, tuple]:
    rx = HdlcRx(max_len=max_len)
    frames = []
    for chunk in np.split(bits, cuts):
        frames += rx.decode(chunk)
    return ([(f.data, f.ok) for f in frames],
            (rx.frames_ok, rx.frames_bad, rx.aborts, rx.framing_ok, rx.idle))


def TestOneInput(data: bytes) -> None:
    r = Reader(data)
    max_len = MAX_LENS[r.u8() % len(MAX_LENS)]
    key = r.u8()
    bits = np.unpackbits(np.frombuffer(r.rest(), dtype=np.uint8))
    frames, counters = decode_all(max_len, bits, [])
    for octets, ok in frames:
        assert isinstance(octets, bytes) and 1 <= len(octets) <= max_len, (len(octets), max_len)
    assert counters[0] == sum(ok for _, ok in frames), counters
    assert counters[1] == sum(not ok for _, ok in frames), counters
    good = [octets for octets, ok in reference_frames(bits, max_len) if ok]
    assert [octets for octets, ok in frames if ok] == good, "good frames differ from the reference"
    if key:
        chunked = decode_all(max_len, bits, splits(len(bits), key))
        assert chunked == (frames, counters), "chunking changed the frames"


def seeds() -> dict[str, bytes]:
    """Good frames (T.30 commands, ECM-sized, all-ones to stress stuffing),
    an abort and a bad FCS, at several max_len."""
    def line(*frames: bytes, abort: bool = False) -> bytes:
        tx = HdlcTx(preamble_flags=3, closing_flags=2)
        parts = []
        if abort:   # a frame cut short by an abort, then the frames
            parts += [tx.encode(frames)[:-30], tx.abort(), tx.flags(2)]
        parts += [tx.encode(frames), tx.finish()]
        return np.packbits(np.concatenate(parts)).tobytes()

    dis = bytes.fromhex("ff13800000ce")
    return {
        "dis": bytes((5, 0)) + line(dis),
        "dis-chunked": bytes((5, 3)) + line(dis, bytes.fromhex("ff13fb")),
        "ones": bytes((4, 7)) + line(b"\xff" * 40, b"\x7e\x7e\x7e"),
        "ecm-256": bytes((5, 0)) + line(bytes.fromhex("ff0306") + bytes(range(256)) + b"\x00"),
        "too-long": bytes((0, 1)) + line(b"abcdef"),
        "abort": bytes((5, 2)) + line(dis, abort=True),
        "bad-fcs": bytes((5, 0)) + line(dis)[:-6] + b"\x55\x7e\x7e\x7e",
    }


if __name__ == "__main__":
    main(TestOneInput)
