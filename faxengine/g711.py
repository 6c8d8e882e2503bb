"""G.711 A-law and µ-law companding, as a telephone network's 64 kbit/s PCM
does to every sample.  A base module: the line models and the media layer
(RTP G.711 payloads) both use it; ``faxengine.line`` re-exports it.

The encoders and decoders follow G.711 Tables 1 (A-law) and 2 (µ-law),
worked out once over all 65 536 int16 values into lookup tables, so a block
is coded by two numpy indexing operations.

* A-law codes 13-bit linear samples (the int16 value shifted right by 3): a
  segment number 0–7 and a 4-bit step within it; segments 0 and 1 have steps
  of 2, segment s ≥ 2 steps of 2**s.  The character is sign (1 = positive),
  segment, step, with the even bits inverted (XOR 0x55) as transmitted.
* µ-law codes 14-bit linear samples (shifted right by 2): magnitude plus 33
  has its leading one in bit 5 + segment; the character is sign (0 =
  positive), segment and step, all bits inverted as transmitted, so positive
  characters are 0x80–0xFF and +0 is 0xFF.
* Decoders return the middle of each quantisation interval, scaled back to
  16 bits: A-law reaches ±32 256, µ-law ±32 124.

The 16-bit samples are mapped onto G.711's grid as its quantisers are
shaped.  A-law has no zero output (mid-riser, symmetric about the decision
value 0), so a negative sample is coded through its one's complement
(−x − 1): 0…15 and −1…−16 fall in mirror-image intervals and a round trip is
an odd function of x + ½.  µ-law has a zero output (mid-tread, −0 and +0 both
decode to 0), so a negative sample is coded through −x: −3…3 decode to 0 and
a round trip is an odd function of x.  Both match spandsp's coders value for
value (tests/test_g711.py checks this when libspandsp is here).
"""
from __future__ import annotations

import numpy as np

__all__ = ["alaw_encode", "alaw_decode", "ulaw_encode", "ulaw_decode", "g711_roundtrip", "LAWS"]

LAWS = ("alaw", "ulaw")

_ALL = np.arange(-32768, 32768, dtype=np.int32)


def _alaw_table() -> tuple[np.ndarray, np.ndarray]:
    positive = _ALL >= 0
    mag = np.where(positive, _ALL, -_ALL - 1) >> 3            # 13-bit magnitude 0..4095
    seg = np.zeros_like(mag)
    for s in range(1, 8):                                      # segment s starts at 2**(s+4)
        seg[mag >= (1 << (s + 4))] = s
    shift = np.maximum(seg, 1)
    step = (mag >> shift) & 0x0F
    code = (np.where(positive, 0x80, 0) | (seg << 4) | step) ^ 0x55
    enc = code.astype(np.uint8)

    c = np.arange(256) ^ 0x55
    s = (c >> 4) & 0x07
    m = c & 0x0F
    # interval middle in 13-bit units: 2m+1 (segment 0), (2m+33) << (s-1) otherwise
    mid = np.where(s == 0, 2 * m + 1, (2 * m + 33) << np.maximum(s - 1, 0))
    dec = np.where(c & 0x80, mid, -mid) * 8
    return enc, dec.astype(np.int16)


def _ulaw_table() -> tuple[np.ndarray, np.ndarray]:
    positive = _ALL >= 0
    mag = np.minimum(np.abs(_ALL) >> 2, 8158)                  # 14-bit magnitude
    biased = mag + 33                                          # 33..8191
    seg = np.zeros_like(biased)
    for s in range(1, 8):                                      # leading one in bit 5 + s
        seg[biased >= (1 << (s + 5))] = s
    step = (biased >> (seg + 1)) & 0x0F
    code = ~(np.where(positive, 0, 0x80) | (seg << 4) | step) & 0xFF
    enc = code.astype(np.uint8)

    c = ~np.arange(256) & 0xFF
    s = (c >> 4) & 0x07
    m = c & 0x0F
    mid = ((2 * m + 33) << s) - 33                             # 14-bit units
    dec = np.where(c & 0x80, -mid, mid) * 4
    return enc, dec.astype(np.int16)


_ALAW_ENC, _ALAW_DEC = _alaw_table()
_ULAW_ENC, _ULAW_DEC = _ulaw_table()


def _index(samples) -> np.ndarray:
    x = np.asarray(samples)
    if x.dtype != np.int16:
        raise TypeError(f"G.711 codes int16 samples, not {x.dtype}")
    return x.astype(np.int32) + 32768


def alaw_encode(samples) -> np.ndarray:
    """int16 samples -> A-law characters (uint8, as transmitted)."""
    return _ALAW_ENC[_index(samples)]


def alaw_decode(codes) -> np.ndarray:
    """A-law characters (uint8) -> int16 samples."""
    return _ALAW_DEC[np.asarray(codes, dtype=np.uint8)]


def ulaw_encode(samples) -> np.ndarray:
    """int16 samples -> µ-law characters (uint8, as transmitted)."""
    return _ULAW_ENC[_index(samples)]


def ulaw_decode(codes) -> np.ndarray:
    """µ-law characters (uint8) -> int16 samples."""
    return _ULAW_DEC[np.asarray(codes, dtype=np.uint8)]


_ROUNDTRIP = {"alaw": _ALAW_DEC[_ALAW_ENC], "ulaw": _ULAW_DEC[_ULAW_ENC]}


def g711_roundtrip(samples, law: str) -> np.ndarray:
    """Encode and decode int16 samples with ``law`` ('alaw' or 'ulaw')."""
    try:
        table = _ROUNDTRIP[law]
    except KeyError:
        raise ValueError(f"G.711 law must be 'alaw' or 'ulaw', not {law!r}") from None
    return table[_index(samples)]
