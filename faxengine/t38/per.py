"""The few ASN.1 PER rules T.38 needs, ALIGNED variant (ITU-T X.691).

T.38 Annex A says its ASN.1 is encoded with the Packed Encoding Rules,
BASIC-ALIGNED.  What that means for the types T.38 uses:

* a bit-field of a few bits (the presence bitmap of OPTIONAL components,
  a CHOICE index, an extension bit, a constrained whole number whose range
  fits 8 bits) is packed into the current octet, no alignment (X.691 §10.5.7.1);
* a value of a type with an extension marker, outside the root, is an
  extension bit 1 and a *normally small non-negative whole number*: a 0 bit
  and six bits when below 64 (X.691 §10.6);
* a constrained whole number with a range of 257..65536 is two octets,
  octet-aligned (X.691 §10.5.7.3): ``seq-number INTEGER (0..65535)`` and the
  length of ``field-data OCTET STRING (SIZE(1..65535))``;
* an unconstrained length (SEQUENCE OF, open types, unconstrained OCTET
  STRING) is octet-aligned, then one octet ``0xxxxxxx`` below 128 or two
  octets ``10xxxxxx xxxxxxxx`` below 16384 (X.691 §10.9.3.5-7); longer
  lengths are fragmented (``11xxxxxx``), which no T.38 datagram needs:
  the encoder refuses them and the decoder reports them as unsupported;
* the whole encoding is padded to a whole octet (X.691 §10.1.3).

``BitWriter`` and ``BitReader`` implement exactly these.  They work on a few
bits of header at a time; octet strings are copied as slices.
"""
from __future__ import annotations

from faxengine.t38.errors import T38Error

MAX_LENGTH = 16383   # the longest length without fragmentation (X.691 §10.9.3.7)


class BitWriter:
    """Builds an ALIGNED PER encoding, most significant bit first."""

    __slots__ = ("_out", "_acc", "_nbits")

    def __init__(self) -> None:
        self._out = bytearray()
        self._acc = 0       # bits not yet in _out, as an integer
        self._nbits = 0     # how many of them

    def bits(self, value: int, width: int) -> None:
        """Append ``value`` as ``width`` bits."""
        self._acc = (self._acc << width) | (value & ((1 << width) - 1))
        self._nbits += width

    def align(self) -> None:
        """Pad with 0 bits to the next octet boundary."""
        if self._nbits:
            pad = -self._nbits % 8
            self._out += (self._acc << pad).to_bytes((self._nbits + pad) // 8, "big")
            self._acc = self._nbits = 0

    def octets(self, data: bytes) -> None:
        """Append octets, octet-aligned."""
        self.align()
        self._out += data

    def small_number(self, value: int) -> None:
        """A normally small non-negative whole number below 64 (X.691 §10.6)."""
        self.bits(value, 7)     # a 0 bit, then six bits

    def length(self, n: int, what: str) -> None:
        """An unconstrained length determinant (X.691 §10.9.3.5-7)."""
        if n > MAX_LENGTH:
            raise T38Error(f"{what}: {n} is longer than {MAX_LENGTH}, which "
                           f"would need PER fragmentation; send less at once")
        self.align()
        if n < 128:
            self._out.append(n)
        else:
            self._out += (0x8000 | n).to_bytes(2, "big")

    def getvalue(self) -> bytes:
        """The encoding so far, padded to a whole octet."""
        self.align()
        return bytes(self._out)


class BitReader:
    """Reads an ALIGNED PER encoding; every overrun is a ``T38Error``."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0        # in bits
        self.what = what    # names the packet in error messages

    @classmethod
    def of(cls, data: object, what: str) -> "BitReader":
        """A reader of ``data``, which must be non-empty bytes-like."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise T38Error(f"{what}: expected bytes, not {type(data).__name__}")
        if not data:
            raise T38Error(f"{what}: empty")
        return cls(bytes(data), what)

    def error(self, message: str) -> T38Error:
        return T38Error(f"{self.what}: {message} (at octet {self.pos // 8} "
                        f"of {len(self.data)})")

    def bits(self, width: int, name: str) -> int:
        end = self.pos + width
        if end > 8 * len(self.data):
            raise self.error(f"truncated in {name}")
        last = (end + 7) >> 3
        chunk = int.from_bytes(self.data[self.pos >> 3:last], "big")
        self.pos = end
        return (chunk >> (8 * last - end)) & ((1 << width) - 1)

    def align(self) -> None:
        self.pos = (self.pos + 7) & ~7

    def octets(self, n: int, name: str) -> bytes:
        self.align()
        start = self.pos >> 3
        if start + n > len(self.data):
            raise self.error(f"{name} says {n} octets but only "
                             f"{len(self.data) - start} follow")
        self.pos += 8 * n
        return bytes(self.data[start:start + n])

    def small_number(self, name: str) -> int:
        if self.bits(1, name):
            raise self.error(f"{name} is not a small number (64 or more)")
        return self.bits(6, name)

    def length(self, name: str) -> int:
        self.align()
        at = self.pos >> 3
        data = self.data
        if at < len(data) and data[at] < 0x80:
            self.pos += 8
            return data[at]
        if at + 1 < len(data) and data[at] < 0xC0:
            self.pos += 16
            return ((data[at] & 0x3F) << 8) | data[at + 1]
        if at < len(data) and data[at] >= 0xC0:
            raise self.error(f"{name} uses a fragmented length, which no T.38 "
                             f"datagram needs and this decoder does not support")
        raise self.error(f"truncated in length of {name}")

    def remaining_octets(self) -> int:
        """Whole octets after the current position, rounded to a boundary."""
        return len(self.data) - ((self.pos + 7) >> 3)
