"""HDLC framing for T.30 (T.30 §5.3.1, ISO/IEC 13239): frames to bits and back.

:class:`HdlcTx` turns frames (``bytes``: address, control, FCF, FIF...) into
line bits: a preamble of flags (T.30 §5.3.1 asks for 1 s ± 15 % of flags
before the first frame; at 300 bit/s that is 38 flags), each frame with zero
bits inserted after five 1s and its CRC-16 FCS appended (ones-complemented,
low-order bit first), a flag after each frame, closing flags at the end.

:class:`HdlcRx` does the reverse on a stream of bits from any modem (V.21 for
T.30 commands, V.27ter/V.29/V.17 for ECM frames): it finds the flags, removes
the inserted zeros, checks the FCS and returns :class:`Frame` objects with an
``ok`` flag.  Frames that are too long, not a whole number of octets or whose
FCS fails come back with ``ok=False`` and are never reported good; fragments
shorter than one octet plus FCS are dropped as noise; a frame cut by an abort
(seven or more 1s) is discarded and counted.  ``framing_ok`` says flags are
arriving (a preamble is on the line), ``idle`` that the line carries 15 or
more 1s in a row.

Bits are numpy ``uint8`` arrays of 0/1 in transmission order.  The bit work
(stuffing, flag search, CRC) runs in C: csrc/hdlc.c.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from faxengine.modem import _hdlc
from faxengine.modem._common import as_bits, as_count
from faxengine.modem.errors import ModemError

__all__ = ["Frame", "HdlcTx", "HdlcRx", "crc16"]

#: T.30 §5.3.1: 1 s ± 15 % of flags before the first frame, at 300 bit/s.
V21_PREAMBLE_FLAGS = 38


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """The ITU-T CRC-16 register (x^16 + x^12 + x^5 + 1, LSB first) after ``data``.

    The FCS sent on the line is ``crc16(frame) ^ 0xFFFF``.
    """
    return _hdlc.crc16(bytes(data), crc)


@dataclass(frozen=True, slots=True)
class Frame:
    """One received HDLC frame: its octets (without FCS) and whether the FCS checked."""

    data: bytes
    ok: bool

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes):
            raise ModemError(f"Frame.data must be bytes, not {type(self.data).__name__}")


class HdlcTx:
    """Frames to bits.

    Args:
        preamble_flags: flags sent before the first frame (default 38: 1 s at
            300 bit/s as T.30 §5.3.1 wants; a few suffice after high-speed
            training).
        closing_flags: flags after the last frame, counting the one that
            closes it (at least 1).

    ``encode(frames)`` returns the preamble (first call only), then each frame
    followed by a flag; call it again to append frames to the same
    transmission; ``finish()`` returns the remaining closing flags and makes
    the next ``encode`` start a new transmission with a new preamble.
    """

    def __init__(self, preamble_flags: int = V21_PREAMBLE_FLAGS, closing_flags: int = 2) -> None:
        if as_count(preamble_flags, "preamble_flags") < 1:
            raise ModemError(f"HDLC needs at least one flag before a frame, got preamble_flags={preamble_flags}")
        if as_count(closing_flags, "closing_flags") < 1:
            raise ModemError(f"HDLC needs at least one flag after a frame, got closing_flags={closing_flags}")
        self.preamble_flags = preamble_flags
        self.closing_flags = closing_flags
        self._started = False

    def encode(self, frames: Iterable[bytes]) -> np.ndarray:
        """Bits for ``frames`` (preamble first if this starts a transmission)."""
        parts = []
        if not self._started:
            parts.append(_hdlc.tx_flags(self.preamble_flags))
            self._started = True
        flag = _hdlc.tx_flags(1)
        for data in frames:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise ModemError(f"an HDLC frame must be bytes, not {type(data).__name__}")
            if len(data) == 0:
                raise ModemError("an HDLC frame needs at least one octet")
            parts.append(_hdlc.tx_frame(bytes(data)))
            parts.append(flag)
        return np.concatenate(parts) if parts else np.zeros(0, np.uint8)

    def flags(self, n: int) -> np.ndarray:
        """``n`` flags, to hold the line between frames (starts a transmission if none is)."""
        n = as_count(n, "flag count")
        self._started = True
        return _hdlc.tx_flags(n)

    def abort(self) -> np.ndarray:
        """An abort (a 0 then seven 1s): the receiver discards the frame in progress."""
        return _hdlc.tx_abort()

    def finish(self) -> np.ndarray:
        """The closing flags; the next :meth:`encode` starts a new transmission."""
        if not self._started:
            return np.zeros(0, np.uint8)
        self._started = False
        return _hdlc.tx_flags(self.closing_flags - 1)


class HdlcRx:
    """Bits to frames.

    Args:
        max_len: the longest frame accepted, in octets without the FCS
            (default 260: an ECM frame of T.30 §A.3 with 256 octets of data);
            longer frames are reported with ``ok=False``, truncated.
        framing_ok_threshold: flags in a row that set :attr:`framing_ok`.
    """

    def __init__(self, max_len: int = 260, framing_ok_threshold: int = 4) -> None:
        if not 1 <= as_count(max_len, "max_len") <= _hdlc.MAX_FRAME:
            raise ModemError(f"max_len must be 1..{_hdlc.MAX_FRAME} octets, got {max_len}")
        self._core = _hdlc.HdlcRxCore(max_len, as_count(framing_ok_threshold, "framing_ok_threshold"))
        self.max_len = max_len

    def decode(self, bits: np.ndarray) -> list[Frame]:
        """The frames completed by ``bits`` (any chunking gives the same frames)."""
        return [Frame(data, ok) for data, ok in self._core.decode(as_bits(bits))]

    def reset(self) -> None:
        """Forget any partial frame and the counters, e.g. after carrier loss."""
        self._core.reset()

    @property
    def framing_ok(self) -> bool:
        """True once enough flags in a row arrived (a preamble is on the line)."""
        return self._core.framing_ok

    @property
    def idle(self) -> bool:
        """True while the line carries a run of 15 or more 1s."""
        return self._core.idle

    @property
    def aborts(self) -> int:
        """Frames discarded because an abort cut them."""
        return self._core.aborts

    @property
    def frames_ok(self) -> int:
        """Frames received with a good FCS."""
        return self._core.frames_ok

    @property
    def frames_bad(self) -> int:
        """Frames reported with ``ok=False``."""
        return self._core.frames_bad
