"""UDPTL: IFP packets over UDP with error recovery (T.38 §9.1, Annex A).

One UDP datagram carries one ``UDPTLPacket``::

    UDPTLPacket ::= SEQUENCE {
        seq-number          INTEGER (0..65535),
        primary-ifp-packet  TYPE-IDENTIFIER.&Type(IFPPacket),
        error-recovery      CHOICE {
            secondary-ifp-packets  SEQUENCE OF TYPE-IDENTIFIER.&Type(IFPPacket),
            fec-info               SEQUENCE {
                fec-npackets  INTEGER,
                fec-data      SEQUENCE OF OCTET STRING } } }

in ALIGNED PER (``faxengine.t38.per``): two octets of sequence number, the
primary IFP packet as an open type (a length, then its octets), one octet
whose first bit chooses the error recovery (``0x00`` redundancy, ``0x80``
FEC), then either the count of secondary IFP packets and each as an open
type, or the FEC: ``fec-npackets`` as an unconstrained integer (a length
octet, then the value), the count of FEC entries and each as a length and
octets.

Redundancy: the secondary IFP packets are the packets sent just before this
one, most recent first (``seq - 1``, ``seq - 2``, ...), so a receiver that
lost a datagram finds its IFP packet in one of the next.  Common practice
(spandsp, Asterisk, gateways' defaults) repeats more of the few, vital
control packets than of the many image packets: ``UdptlSender`` defaults to
3 secondaries for indicators and V.21 control data and 1 for image data.

Parity FEC, as implemented by Asterisk's ``udptl.c`` (the receiver side is
what T.38 requires of us): a datagram ``seq`` with ``fec-npackets`` = *span*
and *entries* FEC words carries, as word ``m``, the XOR of the IFP packets
``seq + m - span*entries + j*entries`` for ``j`` in ``0..span-1``, each
padded with zero octets to the longest.  A receiver missing exactly one of
those packets rebuilds it: the word XOR the others.  The rebuilt packet is
as long as the longest it was XORed with, so it is decoded allowing zero
octets after its end.

``UdptlReceiver`` is sans-I/O: datagram octets in, IFP packets out in
sequence order, each ``(seq, packet)`` or ``(seq, LOST)``.  It drops
duplicates and late packets, holds a few packets to put reordered ones back
in order (``reorder_window``), fills gaps from the redundancy or FEC of later
datagrams, and reports a gap as ``LOST`` once ``reorder_window`` later
packets have come without filling it.  An IFP packet that does not decode
counts as a gap (a good copy may still come).  ``flush()`` hands up what it
holds.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Union

from faxengine.t38.errors import T38Error
from faxengine.t38.ifp import Data, IfpPacket, T30Data, decode, encode
from faxengine.t38.per import BitReader, BitWriter

SEQ_MODULO = 0x10000
MAX_JUMP = 2000        # a step beyond this is a new sequence, not a gap (as spandsp)
HISTORY = 64           # IFP packets and FEC words kept for FEC repair
CONTROL_DATA = (T30Data.V21, T30Data.V8, T30Data.V34_CC_1200)


class Lost(enum.Enum):
    """Stands for an IFP packet that never arrived and could not be rebuilt."""

    LOST = "lost"

    def __repr__(self) -> str:
        return "LOST"


LOST = Lost.LOST


@dataclass(frozen=True, slots=True)
class FecInfo:
    """``fec-info``: ``npackets`` (the span) and the FEC words."""

    npackets: int
    data: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class UdptlPacket:
    """One ``UDPTLPacket``: IFP packets as octets (the open types).

    ``secondary`` are the redundant packets, most recent first; ``fec`` is
    set instead when the datagram carries parity FEC.
    """

    seq: int
    primary: bytes
    secondary: tuple[bytes, ...] = ()
    fec: Optional[FecInfo] = None

    def __post_init__(self) -> None:
        if not (isinstance(self.seq, int) and 0 <= self.seq < SEQ_MODULO):
            raise T38Error(f"UDPTL: seq-number must be 0..65535, not {self.seq!r}")
        if self.fec is not None and self.secondary:
            raise T38Error("UDPTL: a packet carries secondary IFP packets or FEC, not both")


def encode_datagram(packet: UdptlPacket) -> bytes:
    """The datagram octets of a ``UdptlPacket``."""
    w = BitWriter()
    w.bits(packet.seq, 16)
    w.length(len(packet.primary), "UDPTL primary-ifp-packet")
    w.octets(packet.primary)
    if packet.fec is None:
        w.bits(0, 1)
        w.length(len(packet.secondary), "UDPTL secondary-ifp-packets")
        for s in packet.secondary:
            w.length(len(s), "UDPTL secondary IFP packet")
            w.octets(s)
    else:
        w.bits(1, 1)
        n = packet.fec.npackets
        value = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
        w.length(len(value), "UDPTL fec-npackets")
        w.octets(value)
        w.length(len(packet.fec.data), "UDPTL fec-data")
        for d in packet.fec.data:
            w.length(len(d), "UDPTL FEC entry")
            w.octets(d)
    return w.getvalue()


def decode_datagram(data: bytes) -> UdptlPacket:
    """A ``UdptlPacket`` from datagram octets; any fault is a ``T38Error``."""
    r = BitReader.of(data, "UDPTL datagram")
    seq = r.bits(16, "seq-number")
    primary = r.octets(r.length("primary-ifp-packet"), "primary-ifp-packet")
    if not primary:
        raise r.error("empty primary-ifp-packet")
    secondary: list[bytes] = []
    fec = None
    if r.bits(1, "error-recovery") == 0:
        for i in range(r.length("secondary-ifp-packets")):
            s = r.octets(r.length(f"secondary IFP packet {i}"), f"secondary IFP packet {i}")
            if not s:
                raise r.error(f"empty secondary IFP packet {i}")
            secondary.append(s)
    else:
        n = r.length("fec-npackets")
        if not 1 <= n <= 2:
            raise r.error(f"fec-npackets of {n} octets (a span this large is not FEC)")
        span = int.from_bytes(r.octets(n, "fec-npackets"), "big", signed=True)
        if span < 0:
            raise r.error(f"fec-npackets is negative ({span})")
        words = tuple(r.octets(r.length(f"FEC entry {i}"), f"FEC entry {i}")
                      for i in range(r.length("fec-data")))
        fec = FecInfo(span, words)
    r.align()
    if r.remaining_octets():
        raise r.error(f"{r.remaining_octets()} octet(s) after the UDPTL packet")
    return UdptlPacket(seq, primary, tuple(secondary), fec)


def is_image(packet: IfpPacket) -> bool:
    """True for image data (high-speed modem data), False for control packets."""
    return isinstance(packet, Data) and packet.kind not in CONTROL_DATA


def _check_count(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise T38Error(f"UDPTL: {name} must be an integer {low}..{high}, not {value!r}")
    return value


class UdptlSender:
    """Turns IFP packets into UDPTL datagrams, with redundancy or FEC.

    Args:
        version: the negotiated T38FaxVersion, 0 to 3.
        redundancy_control: secondaries in a datagram whose primary is an
            indicator or control data (V.21): 3 by default.
        redundancy_image: secondaries when the primary is image data: 1.
        fec: ``(span, entries)`` to send parity FEC instead of redundancy
            (``T38FaxUdpEC: t38UDPFEC``), e.g. ``(3, 3)``.
        max_datagram: the peer's ``T38FaxMaxDatagram``: secondaries (or FEC
            words) are left out, oldest first, to stay within it.
        first_seq: the first sequence number (0 by default).

    Raises:
        T38Error: a bad setting; from ``send``: a packet that does not fit
            ``max_datagram`` even alone.
    """

    def __init__(self, version: int, *, redundancy_control: int = 3,
                 redundancy_image: int = 1, fec: Optional[tuple[int, int]] = None,
                 max_datagram: Optional[int] = None, first_seq: int = 0) -> None:
        encode(Data(T30Data.V21), version)          # checks the version
        self.version = version
        self.redundancy_control = _check_count("redundancy_control", redundancy_control, 0, 32)
        self.redundancy_image = _check_count("redundancy_image", redundancy_image, 0, 32)
        if fec is not None:
            if not (isinstance(fec, tuple) and len(fec) == 2):
                raise T38Error(f"UDPTL: fec must be (span, entries), not {fec!r}")
            _check_count("FEC span", fec[0], 1, 16)
            _check_count("FEC entries", fec[1], 1, 16)
            if fec[0] * fec[1] > HISTORY:
                raise T38Error(f"UDPTL: FEC span x entries must be at most {HISTORY}, "
                               f"not {fec[0] * fec[1]}")
        self.fec = fec
        self.max_datagram = None if max_datagram is None else \
            _check_count("max_datagram", max_datagram, 8, 65507)
        self.seq = _check_count("first_seq", first_seq, 0, SEQ_MODULO - 1)
        self._sent: list[bytes] = []                 # IFP octets, most recent last
        self._count = 0                              # packets sent so far

    def send(self, packet: IfpPacket) -> bytes:
        """The datagram that carries ``packet`` next; advances the sequence."""
        primary = encode(packet, self.version)
        if self.fec is not None:
            datagram = self._with_fec(primary)
        else:
            depth = self.redundancy_image if is_image(packet) else self.redundancy_control
            secondary = self._sent[::-1][:depth]
            datagram = encode_datagram(UdptlPacket(self.seq, primary, tuple(secondary)))
            while self.max_datagram and len(datagram) > self.max_datagram and secondary:
                secondary.pop()
                datagram = encode_datagram(UdptlPacket(self.seq, primary, tuple(secondary)))
        if self.max_datagram and len(datagram) > self.max_datagram:
            raise T38Error(f"UDPTL: {packet} makes a datagram of {len(datagram)} octets, "
                           f"over the peer's T38FaxMaxDatagram of {self.max_datagram}; "
                           f"send less image data per IFP packet")
        self._sent.append(primary)
        del self._sent[:-HISTORY]
        self._count += 1
        self.seq = (self.seq + 1) % SEQ_MODULO
        return datagram

    def _with_fec(self, primary: bytes) -> bytes:
        span, entries = self.fec
        if self._count < span * entries:             # wind up as the first packets go
            entries = self._count // span
        words = []
        for m in range(entries):
            # packets count - span*entries + m + j*entries, j < span; as offsets back from now
            covered = [self._sent[len(self._sent) - (span * entries - m - j * entries)]
                       for j in range(span)]
            words.append(_xor(covered))
        while True:
            datagram = encode_datagram(UdptlPacket(
                self.seq, primary, fec=FecInfo(span if words else 0, tuple(words))))
            if not (self.max_datagram and len(datagram) > self.max_datagram and words):
                return datagram
            words.pop()


def _xor(packets: list[bytes]) -> bytes:
    """The XOR of octet strings, each padded with zeros to the longest."""
    n = max((len(p) for p in packets), default=0)
    acc = 0
    for p in packets:
        acc ^= int.from_bytes(p.ljust(n, b"\0"), "big")
    return acc.to_bytes(n, "big")


@dataclass
class UdptlStats:
    """What a ``UdptlReceiver`` has seen, for logs and tests."""

    datagrams: int = 0      # decodable datagrams received
    duplicates: int = 0     # primaries of packets held (received or rebuilt), not yet due
    late: int = 0           # primaries of packets already handed up (late or repeated)
    redundancy: int = 0     # packets rebuilt from secondaries
    fec: int = 0            # packets rebuilt from FEC
    lost: int = 0           # LOST handed up
    malformed: int = 0      # IFP packets that did not decode (handed up as LOST)
    restarts: int = 0       # jumps of more than MAX_JUMP: a new sequence


Delivered = tuple[int, Union[IfpPacket, Lost]]


@dataclass
class UdptlReceiver:
    """Puts UDPTL datagrams back into an in-order stream of IFP packets.

    Args:
        version: the negotiated T38FaxVersion, 0 to 3.
        reorder_window: how many later packets may arrive while a missing
            one is still awaited (reordered, or rebuilt from later FEC)
            before it is handed up as ``LOST``; 0 hands up a gap as soon as
            the next packet cannot fill it.
    """

    version: int
    reorder_window: int = 2
    stats: UdptlStats = field(default_factory=UdptlStats)

    def __post_init__(self) -> None:
        encode(Data(T30Data.V21), self.version)      # checks the version
        _check_count("reorder_window", self.reorder_window, 0, 64)
        self._next: Optional[int] = None   # next sequence to hand up (unwrapped)
        self._highest = -1                 # highest primary seen (unwrapped)
        self._held: dict[int, Union[IfpPacket, Lost]] = {}
        self._raw: dict[int, bytes] = {}   # IFP octets by seq, for FEC repair
        self._fec: dict[int, FecInfo] = {}

    def receive(self, datagram: bytes) -> list[Delivered]:
        """Take one datagram; return the IFP packets now due, in order.

        Raises:
            T38Error: the octets are not a UDPTL packet (the receiver's
                state is unchanged; the caller may log it and go on).
        """
        packet = decode_datagram(datagram)
        self.stats.datagrams += 1
        out: list[Delivered] = []
        if self._next is None:
            # a first datagram may carry the packets before it as redundancy
            self._next = self._highest = packet.seq - min(len(packet.secondary), packet.seq)
        seq = self._unwrap(packet.seq)
        if not self._next - MAX_JUMP <= seq < self._next + MAX_JUMP:
            out += self.flush()
            self.stats.restarts += 1
            self._next = self._highest = seq
        if seq < self._next:
            self.stats.late += 1
            return out
        if self._held.get(seq, LOST) is not LOST:
            self.stats.duplicates += 1
        else:
            self._store(seq, packet.primary)
        for back, octets in enumerate(packet.secondary, start=1):
            # fill a gap, or replace a copy that did not decode
            if seq - back >= self._next and self._held.get(seq - back, LOST) is LOST:
                self._store(seq - back, octets)
                self.stats.redundancy += 1
        if packet.fec is not None and packet.fec.npackets * len(packet.fec.data) <= HISTORY:
            # (a larger FEC reaches back beyond what is kept: it cannot repair)
            self._fec[seq] = packet.fec
            self._repair_from_fec()
        self._highest = max(self._highest, seq)
        self._prune()
        return out + self._due()

    def flush(self) -> list[Delivered]:
        """Hand up everything held, gaps as ``LOST`` (the end of the stream)."""
        out: list[Delivered] = []
        if self._next is None:
            return out
        while self._next <= self._highest:
            out.append(self._hand_up())
        return out

    # -- inside -------------------------------------------------------------

    def _unwrap(self, seq16: int) -> int:
        """The unwrapped sequence number nearest to what is expected next."""
        d = (seq16 - self._next) % SEQ_MODULO
        return self._next + d if d < SEQ_MODULO // 2 else self._next + d - SEQ_MODULO

    def _store(self, seq: int, octets: bytes, padded: bool = False) -> None:
        self._raw[seq] = octets
        try:
            self._held[seq] = decode(octets, self.version, padded=padded)
        except T38Error:
            self.stats.malformed += 1
            self._held[seq] = LOST

    def _hand_up(self) -> Delivered:
        seq = self._next
        item = self._held.pop(seq, LOST)
        if item is LOST:
            self.stats.lost += 1
        self._next += 1
        return seq % SEQ_MODULO, item

    def _due(self) -> list[Delivered]:
        out = []
        # a copy that did not decode is awaited like a gap: a good one may follow
        while self._next <= self._highest and (
                self._held.get(self._next, LOST) is not LOST
                or self._highest > self._next + self.reorder_window):
            out.append(self._hand_up())
        return out

    def _repair_from_fec(self) -> None:
        progress = True
        while progress:
            progress = False
            for s, info in list(self._fec.items()):
                span, entries = info.npackets, len(info.data)
                for m, word in enumerate(info.data):
                    covered = [s + m - span * entries + j * entries for j in range(span)]
                    missing = [k for k in covered if k not in self._raw]
                    if len(missing) != 1 or missing[0] < self._next:
                        continue
                    others = [self._raw[k] for k in covered if k != missing[0]]
                    self._store(missing[0], _xor([word] + others), padded=True)
                    self.stats.fec += 1
                    progress = True

    def _prune(self) -> None:
        oldest = self._highest - HISTORY
        for d in (self._raw, self._fec):
            if len(d) > 2 * HISTORY:        # now and then, not on every datagram
                for k in [k for k in d if k < oldest]:
                    del d[k]
