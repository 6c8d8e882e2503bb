"""RTP packets as octets (RFC 3550 §5.1, §5.3.1).

::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
    |                           timestamp                           |
    |           synchronization source (SSRC) identifier            |
    |            contributing source (CSRC) identifiers  (CC of them)|
    | [X] profile-defined 16 bits   |  extension length in words    |
    |                      [X] extension words ...                  |
    |                          payload ...  [P] padding ... | count |

All fields are network byte order.  With P set, the last octet counts the
padding octets, itself included (§5.1), so it is at least 1 and at most the
octets after the header.  With X set, a header extension follows the CSRC
list: 16 bits defined by the profile, a length in 32-bit words not counting
its own four octets, then the words (§5.3.1).

``RtpPacket.parse`` takes one datagram and raises ``RtpPacketError`` with
the exact fault ("RTP packet has truncated CSRC"); a session catches it,
drops the datagram and counts it.

A call's audio is 50 packets a second each way, nearly all with the first
octet 0x80 (version 2; no padding, extension or CSRC: RFC 3551 §4.2's
audio with a single source).  ``audio_fields`` and ``audio_header`` read and
write those without a packet object (no validation to redo, no copies
beyond the payload), which is what a host carrying hundreds of calls pays
per packet; anything else goes through ``parse``.  Extensions are kept, not interpreted
(no profile we speak defines one).  ``encode`` never pads: G.711 payloads
need no alignment.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from faxengine.media.rtp.errors import RtpLocalError, RtpPacketError

VERSION = 2
HEADER_LENGTH = 12
_FIXED = struct.Struct("!BBHII")
_PLAIN = VERSION << 6            # first octet with P, X and CC all zero


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet.  ``extension`` is (profile bits, words as bytes) or None."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.payload_type <= 127:
            raise RtpLocalError(f"RTP payload type must be 0..127, not {self.payload_type}")
        if not 0 <= self.sequence <= 0xFFFF:
            raise RtpLocalError(f"RTP sequence number must be 0..65535, not {self.sequence}")
        for name, value in (("timestamp", self.timestamp), ("SSRC", self.ssrc)):
            if not 0 <= value <= 0xFFFFFFFF:
                raise RtpLocalError(f"RTP {name} must fit 32 bits, not {value}")
        if len(self.csrc) > 15:
            raise RtpLocalError(f"an RTP packet carries at most 15 CSRCs, not {len(self.csrc)}")
        if self.extension is not None and len(self.extension[1]) % 4:
            raise RtpLocalError("an RTP header extension is whole 32-bit words "
                                f"({len(self.extension[1])} octets given)")

    @classmethod
    def parse(cls, data: bytes) -> "RtpPacket":
        """One datagram -> packet.

        Raises:
            RtpPacketError: the datagram is not an RTP version 2 packet, or a
                field runs past its end (the message names which).
        """
        if len(data) < HEADER_LENGTH:
            raise RtpPacketError(f"RTP packet of {len(data)} octets is shorter than "
                                 f"the {HEADER_LENGTH}-octet fixed header")
        b0, b1, seq, ts, ssrc = _FIXED.unpack_from(data)
        version = b0 >> 6
        if version != VERSION:
            raise RtpPacketError(f"RTP packet has version {version}, not 2")
        cc = b0 & 0x0F
        pos = HEADER_LENGTH + 4 * cc
        if pos > len(data):
            raise RtpPacketError("RTP packet has truncated CSRC")
        csrc = struct.unpack_from(f"!{cc}I", data, HEADER_LENGTH)
        extension = None
        if b0 & 0x10:
            if pos + 4 > len(data):
                raise RtpPacketError("RTP packet has truncated header extension")
            profile, words = struct.unpack_from("!HH", data, pos)
            end = pos + 4 + 4 * words
            if end > len(data):
                raise RtpPacketError("RTP packet has truncated header extension")
            extension = (profile, bytes(data[pos + 4:end]))
            pos = end
        end = len(data)
        if b0 & 0x20:
            padding = data[-1]
            if padding == 0 or padding > end - pos:
                raise RtpPacketError(f"RTP packet has padding length {padding}, "
                                     f"outside 1..{end - pos}")
            end -= padding
        return cls(payload_type=b1 & 0x7F, sequence=seq, timestamp=ts, ssrc=ssrc,
                   payload=bytes(data[pos:end]), marker=bool(b1 & 0x80), csrc=csrc,
                   extension=extension)

    def encode(self) -> bytes:
        """The packet as octets (never padded)."""
        b0 = VERSION << 6 | (0x10 if self.extension is not None else 0) | len(self.csrc)
        b1 = (0x80 if self.marker else 0) | self.payload_type
        parts = [_FIXED.pack(b0, b1, self.sequence, self.timestamp, self.ssrc),
                 struct.pack(f"!{len(self.csrc)}I", *self.csrc)]
        if self.extension is not None:
            profile, words = self.extension
            parts.append(struct.pack("!HH", profile, len(words) // 4) + words)
        parts.append(self.payload)
        return b"".join(parts)


def audio_fields(data: bytes) -> tuple[int, int, int, int, bool, memoryview] | None:
    """(payload type, sequence, timestamp, SSRC, marker, payload) of a plain
    packet (first octet 0x80, at least one payload octet), else None: the
    caller then goes through ``RtpPacket.parse`` for the exact fault."""
    if len(data) <= HEADER_LENGTH or data[0] != _PLAIN:
        return None
    _, b1, seq, ts, ssrc = _FIXED.unpack_from(data)
    return b1 & 0x7F, seq, ts, ssrc, b1 >= 0x80, memoryview(data)[HEADER_LENGTH:]


def audio_header(payload_type: int, sequence: int, timestamp: int, ssrc: int,
                 marker: bool) -> bytes:
    """The 12-octet fixed header of a plain packet (what ``RtpPacket.encode``
    gives with no CSRC and no extension); the caller checked the ranges."""
    return _FIXED.pack(_PLAIN, payload_type | (0x80 if marker else 0), sequence, timestamp, ssrc)
