"""DIS, DTC and DCS information fields, bit by bit (T.30 Table 2).

A DIS (or DTC) says what a terminal can do: ``Capabilities``.  A DCS says
what the sender will do for the next pages: ``Dcs``.  Both encode to and
decode from the FIF octets, in the bit order of ``faxengine.t30.frames``:
Table 2 bit *n* is ``1 << ((n - 1) % 8)`` of octet ``(n - 1) // 8``.

The field grows by octets.  Octets 1-3 (bits 1-24) are always present; bit
24, 32, 40, ... ("extend field") set to 1 says another octet follows.
Encoding writes the fewest octets that hold every bit set.  Decoding is
lenient, as terminals in the field are: a field that ends early means the
missing capabilities are absent, octets after an extend bit of 0 and bits
this module does not know are ignored.  Only a DCS that selects something
invalid (a reserved modem code, width or length code 11, MMR without ECM)
raises ``FacilitiesError``: the page could not be received as announced.

The coded fields, bits listed in transmission order (bit 11 first):

* bits 11-14, modems.  DIS/DTC: 0000 V.27 ter fall-back (2400 only), 0100
  V.27 ter, 1000 V.29, 1100 V.27 ter and V.29, 1101 V.27 ter, V.29 and
  V.17.  DCS: 0000 2400 V.27 ter, 0100 4800 V.27 ter, 1000 9600 V.29,
  1100 7200 V.29, 0001 14400 V.17, 0101 12000 V.17, 1001 9600 V.17,
  1101 7200 V.17 (the V.33 codes are not supported).
* bits 17-18, width.  DIS: 00 A4 (215 mm), 10 A4 and B4 (255 mm), 01 A4,
  B4 and A3 (303 mm).  DCS: 00 A4, 10 B4, 01 A3.  11 is invalid.
* bits 19-20, length.  DIS: 00 A4, 10 A4 and B4, 01 unlimited.  DCS: 00
  A4, 10 B4, 01 unlimited.
* bits 21-23, minimum scan line time.  DIS: the time at 3.85 lines/mm and
  whether T7.7 = T3.85 or 1/2 T3.85: 000 20 ms, 001 40 ms, 010 10 ms,
  100 5 ms, 011 10 ms with 1/2, 110 20 ms with 1/2, 101 40 ms with 1/2,
  111 0 ms.  Bit 46 adds T15.4 = 1/2 T7.7 for the higher resolutions.
  DCS: the time for the resolution in use, 000 20, 001 40, 010 10, 100 5,
  111 0 ms; with ECM the time is 0 ms (T.4 Annex A has no fill).
* resolutions: bit 15 R8 x 7.7 lines/mm and/or 200 x 200 pels/inch ("fine",
  "200"), bit 41 R8 x 15.4 ("superfine"), bit 42 300 x 300 ("300"), bit 43
  R16 x 15.4 and/or 400 x 400 ("r16-superfine", "400"); DIS bits 44/45
  inch/metric preferred, DCS bit 44 inch-based (1) or metric (0).  The
  names are those of ``faxengine.t4.page.RESOLUTIONS``.
* coding: bit 16 MR (two-dimensional), bit 31 MMR (T.6, only with ECM),
  bit 26 uncompressed mode.  ECM: bit 27; DCS bit 28 64-octet frames (0 =
  256); DIS bit 7 64-octet frames preferred.
* bit 9: DIS/DTC a document is ready to be polled; bit 10: DIS/DTC can
  receive, DCS "receiver: set yourself to receive" (always 1).

``choose_dcs`` picks the best mode both ends share, ``fallback`` the next
lower rate after FTT, ``min_bits_per_line`` turns the scan time into the
codec's fill target, ``describe`` puts a DIS or DCS into words for the trace.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Iterable

from faxengine.t30.errors import FacilitiesError, IncompatibleError, LocalProtocolError
from faxengine.t4.page import FAX_WIDTHS

V27TER, V29, V17 = "V.27ter", "V.29", "V.17"

# (modem, rate) from fastest to slowest: the order of choose_dcs and of the
# fall-back after FTT (T.30 §5.3.2.2: the sender steps down the rates the
# DIS allows).  At 9600 and 7200 V.17 is taken before V.29 when both ends
# have it: its trellis code trains more robustly at the same rate.
MODES: tuple[tuple[str, int], ...] = (
    (V17, 14400), (V17, 12000), (V17, 9600), (V29, 9600),
    (V17, 7200), (V29, 7200), (V27TER, 4800), (V27TER, 2400),
)
MODEM_RATES: dict[str, tuple[int, ...]] = {
    V17: (14400, 12000, 9600, 7200), V29: (9600, 7200), V27TER: (4800, 2400),
}

# DIS/DTC bits 11-14 (as an integer, bit 11 = 1 << 0) <-> modems offered.
# The empty set is the V.27 ter fall-back mode: 2400 bit/s only.
_DIS_MODEMS: dict[int, frozenset[str]] = {
    0b0000: frozenset(),
    0b0010: frozenset({V27TER}),
    0b0001: frozenset({V29}),
    0b0011: frozenset({V27TER, V29}),
    0b1011: frozenset({V27TER, V29, V17}),
}
_DIS_MODEMS_CODE = {v: k for k, v in _DIS_MODEMS.items()}
# DCS bits 11-14 <-> (modem, rate)
_DCS_MODE: dict[int, tuple[str, int]] = {
    0b0000: (V27TER, 2400), 0b0010: (V27TER, 4800),
    0b0001: (V29, 9600), 0b0011: (V29, 7200),
    0b1000: (V17, 14400), 0b1010: (V17, 12000),
    0b1001: (V17, 9600), 0b1011: (V17, 7200),
}
_DCS_MODE_CODE = {v: k for k, v in _DCS_MODE.items()}

WIDTHS = ("A4", "B4", "A3")                   # 215, 255, 303 mm
LENGTHS = ("A4", "B4", "unlimited")           # 297 mm, 364 mm, any
# bits 17-18 / 19-20 as integers (bit 17 or 19 = 1 << 0)
_DIS_WIDTH = {0b00: "A4", 0b01: "B4", 0b10: "A3"}
_DCS_WIDTH = {0b00: "A4", 0b01: "B4", 0b10: "A3"}
_DIS_LENGTH = {0b00: "A4", 0b01: "B4", 0b10: "unlimited"}
_DCS_LENGTH = {0b00: "A4", 0b01: "B4", 0b10: "unlimited"}

# DIS bits 21-23 (bit 21 = 1 << 0) <-> (ms at 3.85 lines/mm, T7.7 = 1/2 T3.85)
_DIS_SCAN: dict[int, tuple[int, bool]] = {
    0b000: (20, False), 0b100: (40, False), 0b010: (10, False), 0b001: (5, False),
    0b110: (10, True), 0b011: (20, True), 0b101: (40, True), 0b111: (0, False),
}
_DIS_SCAN_CODE = {v: k for k, v in _DIS_SCAN.items()}
# DCS bits 21-23 <-> ms
_DCS_SCAN = {0b000: 20, 0b100: 40, 0b010: 10, 0b001: 5, 0b111: 0}
_DCS_SCAN_CODE = {v: k for k, v in _DCS_SCAN.items()}

CODINGS = ("mh", "mr", "mmr")
RESOLUTIONS = ("standard", "fine", "200", "superfine", "300", "r16-superfine", "400")
INCH_RESOLUTIONS = frozenset({"200", "300", "400"})
# resolution -> the DIS/DCS bit that carries it (standard has none)
_RES_BIT = {"fine": 15, "200": 15, "superfine": 41, "300": 42,
            "r16-superfine": 43, "400": 43}
# resolution -> the line density class its scan time is given for; 300 x 300
# (11.8 lines/mm) takes the 7.7 class's time, the longer and so the safe one
_SCAN_CLASS = {"standard": 3.85, "fine": 7.7, "200": 7.7, "300": 7.7,
               "superfine": 15.4, "r16-superfine": 15.4, "400": 15.4}


class _Bits:
    """A Table 2 field as a set of bit numbers, with octet-level encoding."""

    __slots__ = ("bits",)

    def __init__(self, bits: Iterable[int] = ()) -> None:
        self.bits = set(bits)

    @classmethod
    def from_fif(cls, fif: bytes, what: str) -> "_Bits":
        if not fif:
            raise FacilitiesError(f"{what} has an empty information field (T.30 Table 2)")
        bits: set[int] = set()
        for index, octet in enumerate(fif):
            bits.update(index * 8 + i + 1 for i in range(8) if octet >> i & 1)
            # octets 3, 4, ... end with the extend bit: 0 ends the field
            if index >= 2 and not octet & 0x80:
                break
        return cls(bits)

    def __contains__(self, bit: int) -> bool:
        return bit in self.bits

    def field(self, first: int, count: int) -> int:
        """Bits first..first+count-1 as an integer, bit ``first`` = 1 << 0."""
        return sum(1 << i for i in range(count) if first + i in self.bits)

    def set_field(self, first: int, value: int, count: int) -> None:
        self.bits.update(first + i for i in range(count) if value >> i & 1)

    def to_fif(self) -> bytes:
        bits = {b for b in self.bits if b % 8 or b < 24}   # extend bits are ours
        octets = max(3, math.ceil(max(bits, default=1) / 8))
        bits.update(8 * k for k in range(3, octets))
        return bytes(sum(1 << ((b - 1) % 8) for b in bits if (b - 1) // 8 == k)
                     for k in range(octets))


def _check_one_of(name: str, value: object, allowed: Iterable[object]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise LocalProtocolError(f"{name} must be one of {allowed}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a terminal can do, as a DIS or DTC states it.

    Attributes:
        modems: subset of {"V.27ter", "V.29", "V.17"} that T.30 can express:
            {}, {V.27ter}, {V.29}, {V.27ter, V.29} or all three.  The empty
            set is the V.27 ter fall-back mode (2400 bit/s only).
        resolutions: the resolutions it accepts; "standard" is always in;
            "fine" and "200" (bit 15), "r16-superfine" and "400" (bit 43)
            come in pairs.
        codings: subset of {"mh", "mr", "mmr"}; "mh" is always in.
        max_width: "A4", "B4" or "A3": the widest paper it prints.
        max_length: "A4", "B4" or "unlimited".
        min_scan_ms: minimum scan line time at 3.85 lines/mm (0, 5, 10, 20, 40).
        scan_half_fine: T7.7 = 1/2 T3.85 (else T7.7 = T3.85).
        scan_half_superfine: T15.4 = 1/2 T7.7 (bit 46; else T15.4 = T7.7).
        ecm: error correction mode (T.30 Annex A).
        frames_64_preferred: prefers 64-octet ECM frames (bit 7).
        uncompressed: uncompressed mode (bit 26).
        inch_preferred, metric_preferred: bits 44, 45.
        can_receive: bit 10, ready to receive documents.
        ready_to_transmit: bit 9, a document waits to be polled.
    """

    modems: frozenset[str] = frozenset({V27TER, V29, V17})
    resolutions: frozenset[str] = frozenset({"standard", "fine", "200"})
    codings: frozenset[str] = frozenset({"mh", "mr"})
    max_width: str = "A4"
    max_length: str = "unlimited"
    min_scan_ms: int = 0
    scan_half_fine: bool = False
    scan_half_superfine: bool = False
    ecm: bool = False
    frames_64_preferred: bool = False
    uncompressed: bool = False
    inch_preferred: bool = False
    metric_preferred: bool = False
    can_receive: bool = True
    ready_to_transmit: bool = False

    def __post_init__(self) -> None:
        modems = frozenset(self.modems)
        if modems not in _DIS_MODEMS_CODE:
            raise LocalProtocolError(
                f"T.30 DIS bits 11-14 cannot offer modems {sorted(modems)}; offer V.27ter, "
                "V.29, V.27ter+V.29 or all three")
        resolutions = set(self.resolutions) | {"standard"}
        for name in resolutions:
            _check_one_of("resolution", name, RESOLUTIONS)
        for a, b in (("fine", "200"), ("r16-superfine", "400")):   # one bit each
            if a in resolutions or b in resolutions:
                resolutions |= {a, b}
        codings = set(self.codings) | {"mh"}
        for name in codings:
            _check_one_of("coding", name, CODINGS)
        _check_one_of("max_width", self.max_width, WIDTHS)
        _check_one_of("max_length", self.max_length, LENGTHS)
        if (self.min_scan_ms, self.scan_half_fine) not in _DIS_SCAN_CODE:
            raise LocalProtocolError(
                f"T.30 DIS bits 21-23 cannot express {self.min_scan_ms} ms with "
                f"T7.7 = {'1/2 ' if self.scan_half_fine else ''}T3.85")
        object.__setattr__(self, "modems", modems)
        object.__setattr__(self, "resolutions", frozenset(resolutions))
        object.__setattr__(self, "codings", frozenset(codings))

    def modes(self) -> tuple[tuple[str, int], ...]:
        """The (modem, rate) pairs offered, fastest first, in ``MODES`` order."""
        if not self.modems:
            return ((V27TER, 2400),)
        return tuple(m for m in MODES if m[0] in self.modems)

    def min_scan_for(self, resolution: str) -> int:
        """The minimum scan line time in ms this receiver needs at ``resolution``.

        Halving may give 2.5 ms, which no DCS code expresses; it rounds up to
        the next code (5 ms).
        """
        ms: float = self.min_scan_ms
        if _SCAN_CLASS[resolution] >= 7.7 and self.scan_half_fine:
            ms /= 2
        if _SCAN_CLASS[resolution] >= 15.4 and self.scan_half_superfine:
            ms /= 2
        return min(v for v in _DCS_SCAN_CODE if v >= ms)

    def encode(self) -> bytes:
        """The DIS/DTC FIF octets."""
        b = _Bits()
        for flag, bit in ((self.frames_64_preferred, 7), (self.ready_to_transmit, 9),
                          (self.can_receive, 10), ("mr" in self.codings, 16),
                          (self.uncompressed, 26), (self.ecm, 27),
                          ("mmr" in self.codings, 31), (self.inch_preferred, 44),
                          (self.metric_preferred, 45), (self.scan_half_superfine, 46)):
            if flag:
                b.bits.add(bit)
        b.set_field(11, _DIS_MODEMS_CODE[self.modems], 4)
        b.bits.update(_RES_BIT[r] for r in self.resolutions if r != "standard")
        b.set_field(17, _key(_DIS_WIDTH, self.max_width), 2)
        b.set_field(19, _key(_DIS_LENGTH, self.max_length), 2)
        b.set_field(21, _DIS_SCAN_CODE[self.min_scan_ms, self.scan_half_fine], 3)
        return b.to_fif()

    @classmethod
    def decode(cls, fif: bytes) -> "Capabilities":
        """The capabilities in a DIS/DTC FIF, read leniently.

        Reserved codes are read as the most a peer could mean by them:
        reserved modem codes by their bits (11 V.29, 12 V.27 ter, 14 with
        11 and 12 V.17), width or length 11 as A4.

        Raises:
            FacilitiesError: the field is empty.
        """
        b = _Bits.from_fif(fif, "DIS/DTC")
        code = b.field(11, 4)
        modems = _DIS_MODEMS.get(code)
        if modems is None:
            named = {V29} if code & 1 else set()
            named |= {V27TER} if code & 2 else set()
            if code & 8 and code & 3 == 3:
                named.add(V17)
            modems = frozenset(named)
        resolutions = {"standard"} | {r for r, bit in _RES_BIT.items() if bit in b}
        codings = {"mh"} | ({"mr"} if 16 in b else set()) | ({"mmr"} if 31 in b else set())
        ms, half = _DIS_SCAN[b.field(21, 3)]
        return cls(
            modems=modems, resolutions=frozenset(resolutions), codings=frozenset(codings),
            max_width=_DIS_WIDTH.get(b.field(17, 2), "A4"),
            max_length=_DIS_LENGTH.get(b.field(19, 2), "A4"),
            min_scan_ms=ms, scan_half_fine=half, scan_half_superfine=46 in b,
            ecm=27 in b, frames_64_preferred=7 in b, uncompressed=26 in b,
            inch_preferred=44 in b, metric_preferred=45 in b,
            can_receive=10 in b, ready_to_transmit=9 in b)


@dataclass(frozen=True, slots=True)
class Dcs:
    """The mode a sender commands for the coming pages, as a DCS states it.

    Attributes:
        modem, rate: one of ``MODES``.
        resolution: a name of ``RESOLUTIONS``; "200", "300" and "400" set
            bit 44 (inch-based), the others are metric.
        coding: "mh", "mr" or "mmr" (MMR only with ECM).
        width: "A4", "B4" or "A3" paper width; ``pels`` gives the line width.
        length: "A4", "B4" or "unlimited".
        min_scan_ms: 0, 5, 10, 20 or 40: the least time a coded line may take
            (fill bits make up the rest); 0 with ECM.
        ecm: error correction mode.
        frame_size: ECM frame size, 256 or 64 octets (256 without ECM).
        uncompressed: uncompressed mode (bit 26).
    """

    modem: str = V17
    rate: int = 14400
    resolution: str = "fine"
    coding: str = "mh"
    width: str = "A4"
    length: str = "A4"
    min_scan_ms: int = 0
    ecm: bool = False
    frame_size: int = 256
    uncompressed: bool = False

    def __post_init__(self) -> None:
        _check_one_of("(modem, rate)", (self.modem, self.rate), MODES)
        _check_one_of("resolution", self.resolution, RESOLUTIONS)
        _check_one_of("coding", self.coding, CODINGS)
        _check_one_of("width", self.width, WIDTHS)
        _check_one_of("length", self.length, LENGTHS)
        _check_one_of("min_scan_ms", self.min_scan_ms, sorted(_DCS_SCAN_CODE))
        _check_one_of("frame_size", self.frame_size, (256, 64))
        if self.coding == "mmr" and not self.ecm:
            raise LocalProtocolError("MMR (T.6) coding needs ECM (T.30 Table 2, bit 31)")
        if self.frame_size == 64 and not self.ecm:
            raise LocalProtocolError("64-octet frames are an ECM setting (T.30 Table 2, bit 28)")

    @property
    def inch(self) -> bool:
        """DCS bit 44: the resolution is inch-based."""
        return self.resolution in INCH_RESOLUTIONS

    @property
    def pels(self) -> int:
        """The scan line width in pels for this resolution and paper width."""
        return FAX_WIDTHS[self.resolution][WIDTHS.index(self.width)]

    @property
    def min_bits_per_line(self) -> int:
        """The fill target of each coded line for the codec (T.4 §4.1.3)."""
        return min_bits_per_line(self.rate, self.min_scan_ms)

    @property
    def k(self) -> int | None:
        """MR's K for the codec (T.4 §4.2.1.2): 2 at standard resolution,
        4 at the higher ones; None for MH and MMR."""
        if self.coding != "mr":
            return None
        return 2 if self.resolution == "standard" else 4

    def encode(self) -> bytes:
        """The DCS FIF octets."""
        b = _Bits({10})
        b.set_field(11, _DCS_MODE_CODE[self.modem, self.rate], 4)
        if self.resolution in _RES_BIT:
            b.bits.add(_RES_BIT[self.resolution])
        if self.inch:
            b.bits.add(44)
        b.set_field(17, _key(_DCS_WIDTH, self.width), 2)
        b.set_field(19, _key(_DCS_LENGTH, self.length), 2)
        b.set_field(21, _DCS_SCAN_CODE[self.min_scan_ms], 3)
        for flag, bit in ((self.coding == "mr", 16), (self.uncompressed, 26), (self.ecm, 27),
                          (self.frame_size == 64, 28), (self.coding == "mmr", 31)):
            if flag:
                b.bits.add(bit)
        return b.to_fif()

    @classmethod
    def decode(cls, fif: bytes) -> "Dcs":
        """The mode a DCS FIF commands.

        Raises:
            FacilitiesError: the field is empty or selects a reserved or
                unsupported modem, width 11, length 11, an invalid scan time
                code, or MMR without ECM.
        """
        b = _Bits.from_fif(fif, "DCS")
        code = b.field(11, 4)
        if code not in _DCS_MODE:
            raise FacilitiesError(
                f"DCS bits 11-14 = {code & 1}{code >> 1 & 1}{code >> 2 & 1}{code >> 3 & 1} "
                "select no modem faxengine has (V.27ter, V.29, V.17; T.30 Table 2)")
        for first, table, what in ((17, _DCS_WIDTH, "width"), (19, _DCS_LENGTH, "length")):
            if b.field(first, 2) not in table:
                raise FacilitiesError(
                    f"DCS bits {first}-{first + 1} = 11: invalid recording {what} (T.30 Table 2)")
        scan = b.field(21, 3)
        if scan not in _DCS_SCAN:
            raise FacilitiesError(
                f"DCS bits 21-23 = {scan & 1}{scan >> 1 & 1}{scan >> 2 & 1}: not a minimum "
                "scan line time a DCS may command (T.30 Table 2)")
        ecm = 27 in b
        if 31 in b and not ecm:
            raise FacilitiesError("DCS selects MMR (bit 31) without ECM (bit 27); T.6 "
                                  "coding needs ECM (T.30 Table 2)")
        inch = 44 in b
        if 43 in b:
            resolution = "400" if inch else "r16-superfine"
        elif 42 in b:
            resolution = "300"
        elif 41 in b:
            resolution = "superfine"
        elif 15 in b:
            resolution = "200" if inch else "fine"
        else:
            resolution = "standard"
        modem, rate = _DCS_MODE[code]
        return cls(
            modem=modem, rate=rate, resolution=resolution,
            coding="mmr" if 31 in b else "mr" if 16 in b else "mh",
            width=_DCS_WIDTH[b.field(17, 2)], length=_DCS_LENGTH[b.field(19, 2)],
            min_scan_ms=_DCS_SCAN[scan], ecm=ecm,
            frame_size=64 if ecm and 28 in b else 256, uncompressed=26 in b)


def _key(table: dict[int, str], value: str) -> int:
    return next(k for k, v in table.items() if v == value)


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the sender wants for a document, for ``choose_dcs``.

    Attributes:
        max_rate: the highest rate to try (e.g. 9600 on a poor line).
        ecm: use ECM when both ends have it.
        frame_size: ECM frame size wanted, 256 or 64.
        codings: codings allowed, best first.
        resolution, width, length: those of the document's pages.
    """

    max_rate: int = 14400
    ecm: bool = True
    frame_size: int = 256
    codings: tuple[str, ...] = ("mmr", "mr", "mh")
    resolution: str = "fine"
    width: str = "A4"
    length: str = "A4"

    def __post_init__(self) -> None:
        _check_one_of("frame_size", self.frame_size, (256, 64))
        _check_one_of("resolution", self.resolution, RESOLUTIONS)
        _check_one_of("width", self.width, WIDTHS)
        _check_one_of("length", self.length, LENGTHS)
        for name in self.codings:
            _check_one_of("coding", name, CODINGS)


def choose_dcs(local: Capabilities, remote: Capabilities,
               prefs: Preferences = Preferences()) -> Dcs:
    """The best mode both terminals share for a document.

    The fastest common (modem, rate) in ``MODES`` order not above
    ``prefs.max_rate``; ECM when both have it and it is wanted; the first of
    ``prefs.codings`` both have (MMR only with ECM); the document's
    resolution, width and length, which the receiver must accept; the
    minimum scan line time the receiver needs at that resolution (0 with
    ECM).

    Raises:
        IncompatibleError: the remote cannot receive (bit 10), no common
            modem at or below ``max_rate``, no common coding, or the receiver
            cannot take the document's resolution, width or length.  The
            message says which.
    """
    if not remote.can_receive:
        raise IncompatibleError("the remote terminal cannot receive documents "
                                "(DIS/DTC bit 10 is 0)")
    modes = [m for m in remote.modes() if m in local.modes() and m[1] <= prefs.max_rate]
    if not modes:
        raise IncompatibleError(
            f"no modem in common at or below {prefs.max_rate} bit/s: the remote offers "
            f"{_modes_words(remote)}, this terminal {_modes_words(local)}")
    ecm = prefs.ecm and local.ecm and remote.ecm
    codings = [c for c in prefs.codings if c in local.codings and c in remote.codings
               and (c != "mmr" or ecm)]
    if not codings:
        raise IncompatibleError(
            f"no coding in common: wanted {', '.join(prefs.codings)}, the remote accepts "
            f"{_codings_words(remote)}{'' if ecm else ' (MMR needs ECM)'}")
    for side, caps in (("remote", remote), ("local", local)):
        if prefs.resolution not in caps.resolutions:
            raise IncompatibleError(
                f"the {side} terminal cannot take {prefs.resolution} resolution; it offers "
                f"{_resolutions_words(caps)}")
    if WIDTHS.index(prefs.width) > WIDTHS.index(remote.max_width):
        raise IncompatibleError(
            f"the remote terminal prints up to {remote.max_width} width, the document is "
            f"{prefs.width}")
    if LENGTHS.index(prefs.length) > LENGTHS.index(remote.max_length):
        raise IncompatibleError(
            f"the remote terminal takes pages up to {remote.max_length} long, the document "
            f"needs {prefs.length}")
    modem, rate = modes[0]
    return Dcs(modem=modem, rate=rate, resolution=prefs.resolution, coding=codings[0],
               width=prefs.width, length=prefs.length,
               min_scan_ms=0 if ecm else remote.min_scan_for(prefs.resolution),
               ecm=ecm, frame_size=prefs.frame_size if ecm else 256)


def fallback(dcs: Dcs, remote: Capabilities,
             local: Capabilities | None = None) -> Dcs | None:
    """The DCS for the next lower rate after FTT, or None at the bottom.

    Steps down ``MODES`` from the current mode to the next rate strictly
    lower that the remote (and ``local``, if given) offers; everything
    else is kept.
    """
    offered = set(remote.modes()) & (set(local.modes()) if local else set(MODES))
    for modem, rate in MODES[MODES.index((dcs.modem, dcs.rate)) + 1:]:
        if rate < dcs.rate and (modem, rate) in offered:
            return dataclasses.replace(dcs, modem=modem, rate=rate)
    return None


def min_bits_per_line(rate: int, ms: int) -> int:
    """Bits a coded line must at least take to last ``ms`` at ``rate`` bit/s."""
    return math.ceil(rate * ms / 1000)


def _modes_words(caps: Capabilities) -> str:
    if not caps.modems:
        return "V.27ter 2400 only"
    return " ".join(f"{m} {MODEM_RATES[m][0]}" if i == 0 else m
                    for i, m in enumerate(m for m in (V17, V29, V27TER) if m in caps.modems))


def _resolutions_words(caps: Capabilities) -> str:
    # one word per DIS bit: 15 fine (and 200), 41 superfine, 42 300, 43 400 (and R16)
    names = ("fine", "superfine", "300", "400")
    return " ".join(n for n in names if n in caps.resolutions) or "standard"


def _codings_words(caps: Capabilities) -> str:
    return " ".join(c.upper() for c in CODINGS if c in caps.codings)


def describe(value: Capabilities | Dcs, name: str | None = None) -> str:
    """A DIS/DTC or DCS in words, as the trace shows it.

    ``DCS: V.17 14400, fine, MMR, ECM 256, A4`` or
    ``DIS: V.17 14400 V.29 V.27ter, fine superfine, MR MMR, ECM, A4 B4 A3,
    unlimited length, scan 0 ms``.
    """
    if isinstance(value, Dcs):
        words = [f"{value.modem} {value.rate}", value.resolution, value.coding.upper(),
                 f"ECM {value.frame_size}" if value.ecm else "no ECM", value.width]
        if value.length != "A4":
            words.append(f"{value.length} length")
        if value.min_scan_ms:
            words.append(f"scan {value.min_scan_ms} ms")
        return f"{name or 'DCS'}: " + ", ".join(words)
    caps = value
    coding = [c.upper() for c in ("mr", "mmr") if c in caps.codings]
    scan = f"scan {caps.min_scan_ms} ms"
    if caps.scan_half_fine:
        scan += ", half at fine"
    if caps.scan_half_superfine:
        scan += ", half at superfine"
    words = [_modes_words(caps), _resolutions_words(caps), " ".join(coding) or "MH",
             ("ECM, 64 preferred" if caps.frames_64_preferred else "ECM") if caps.ecm
             else "no ECM",
             " ".join(WIDTHS[:WIDTHS.index(caps.max_width) + 1]),
             f"{caps.max_length} length" if caps.max_length == "unlimited"
             else f"length up to {caps.max_length}", scan]
    if caps.ready_to_transmit:
        words.append("document to poll")
    if not caps.can_receive:
        words.append("cannot receive")
    return f"{name or 'DIS'}: " + ", ".join(words)
