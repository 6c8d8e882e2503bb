"""T.30 HDLC frames as octets: address, control, FCF and FIF (T.30 §5.3.6).

A T.30 frame between the HDLC flags is ``address control FCF [FIF] FCS``.
This module handles everything but the flags and the FCS, which the HDLC
layer (``faxengine.modem.HdlcTx``/``HdlcRx``) adds, checks and strips.

Bit order, decided once for the whole T.30 layer
------------------------------------------------
HDLC sends each octet least significant bit first.  Every octet here is held
so that **its least significant bit is the first bit on the line**.  T.30
writes its codes in transmission order, first bit leftmost, so a code written
``X100 0001`` in the recommendation is the octet ``0b1000001X`` here:
DIS (``0000 0001``) is 0x80, DCS (``X100 0001``) is 0x82 or 0x83, and the
control octets ``1100 0000`` / ``1100 1000`` are 0x03 / 0x13.  This is also
the convention of spandsp (``t30_fcf.h``), whose frames ours must match
octet for octet.  DIS/DTC/DCS bit *n* (T.30 Table 2) is therefore bit
``(n - 1) % 8`` (value ``1 << ((n - 1) % 8)``) of FIF octet ``(n - 1) // 8``.

The X bit (T.30 §5.3.6.1)
-------------------------
Codes written with an ``X`` carry the X bit as their first bit (the LSB
here).  The station that receives a valid DIS sets it to 1 -- normally the
calling terminal; the station that receives a valid response to its DIS
(DCS, or DTC when polled) sets it to 0 -- normally the answering terminal.
It keeps that value until the station enters phase B again.  The post-page
command carried in the FIF of PPS and EOR has the X bit too.  Codes
without an X (DIS, CSI, NSF, DTC, CIG, ...) have that bit fixed.  The ECM
data frames FCD and RCP (T.4 Annex A) have no X bit either.

Unknown FCFs parse to a frame of kind ``Fcf.UNKNOWN`` that keeps the octet,
since a terminal must ignore frames it does not understand; only frames
that cannot be T.30 frames at all (too short, wrong address or control
octet) raise ``FrameError``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from faxengine.t30.errors import FrameError, LocalProtocolError

ADDRESS = 0xFF          # T.30 §5.3.4: all ones, "1111 1111"
CONTROL = 0x03          # T.30 §5.3.5: "1100 0000", not the last frame
CONTROL_FINAL = 0x13    # T.30 §5.3.5: "1100 1000", the last frame of a message

X_BIT = 0x01            # first bit of the FCF, in this module's bit order


def _octet(notation: str) -> int:
    """The octet of a code written first-bit-leftmost, first bit in the LSB."""
    bits = notation.replace(" ", "").replace("X", "0")
    return sum(1 << i for i, b in enumerate(bits) if b == "1")


class Fcf(enum.IntEnum):
    """Facsimile control field codes, each defined by its T.30 notation.

    The value is the octet with X = 0; ``notation`` is the code as T.30
    §5.3.6.1 (and T.4 Annex A for FCD/RCP) writes it, first bit leftmost,
    "X" marking the X bit.  ``UNKNOWN`` (0x100, not an octet) stands for any
    code not in T.30.
    """

    notation: str

    def __new__(cls, notation: str) -> "Fcf":
        value = _octet(notation) if notation else 0x100
        member = int.__new__(cls, value)
        member._value_ = value
        member.notation = notation
        return member

    @property
    def label(self) -> str:
        """The name as T.30 writes it: ``"PRI-EOP"``."""
        return self.name.replace("_", "-")

    # initial identification, called -> calling (§5.3.6.1.1)
    DIS = "0000 0001"
    CSI = "0000 0010"
    NSF = "0000 0100"
    # commands to send: calling terminal wishing to receive (§5.3.6.1.2)
    DTC = "1000 0001"
    CIG = "1000 0010"
    NSC = "1000 0100"
    PWD = "1000 0011"
    SEP = "1000 0101"
    PSA = "1000 0110"
    CIA = "1000 0111"
    ISP = "1000 1000"
    # commands to receive (§5.3.6.1.3)
    DCS = "X100 0001"
    TSI = "X100 0010"
    NSS = "X100 0100"
    SUB = "X100 0011"
    SID = "X100 0101"
    TSA = "X100 0110"
    IRA = "X100 0111"
    CTC = "X100 1000"
    # pre-message responses (§5.3.6.1.4)
    CFR = "X010 0001"
    FTT = "X010 0010"
    CTR = "X010 0011"
    CSA = "X010 0100"
    # post-message commands (§5.3.6.1.5)
    EOM = "X111 0001"
    MPS = "X111 0010"
    EOP = "X111 0100"
    EOS = "X111 1000"
    PRI_EOM = "X111 1001"
    PRI_MPS = "X111 1010"
    PRI_EOP = "X111 1100"
    PPS = "X111 1101"
    EOR = "X111 0011"
    RR = "X111 0110"
    # post-message responses (§5.3.6.1.6)
    MCF = "X011 0001"
    RTN = "X011 0010"
    RTP = "X011 0011"
    PIN = "X011 0100"
    PIP = "X011 0101"
    PID = "X011 0110"
    RNR = "X011 0111"
    ERR = "X011 1000"
    PPR = "X011 1101"
    FDM = "X011 1111"
    # other line control signals (§5.3.6.1.7)
    DCN = "X101 1111"
    CRP = "X101 1000"
    FNV = "X101 0011"
    TR = "X101 0110"
    TNR = "X101 0111"
    DNK = "X101 1001"
    # ECM data frames (T.4 Annex A, T.30 §A.3)
    FCD = "0110 0000"
    RCP = "0110 0001"
    UNKNOWN = ""


# codes whose first bit is the X bit, and the rest
X_CODES: frozenset[Fcf] = frozenset(f for f in Fcf if f.notation.startswith("X"))
_FIXED = {int(f): f for f in Fcf if f is not Fcf.UNKNOWN and f not in X_CODES}
_WITH_X = {int(f): f for f in X_CODES}

# the post-message commands that may follow a page (and name PPS-xxx / EOR-xxx)
POST_PAGE = frozenset({Fcf.EOM, Fcf.MPS, Fcf.EOP, Fcf.PRI_EOM, Fcf.PRI_MPS, Fcf.PRI_EOP})

IDENT_LENGTH = 20       # T.30 §5.3.6.2.4: identities are 20 characters
_IDENT_CHARS = frozenset("0123456789+ ")
IDENT_FCFS = frozenset({Fcf.CSI, Fcf.TSI, Fcf.CIG, Fcf.PWD, Fcf.SUB, Fcf.SEP,
                         Fcf.SID, Fcf.PSA})


def lookup_fcf(octet: int) -> tuple[Fcf, bool]:
    """The FCF a received octet stands for, and its X bit.

    Returns ``(Fcf.UNKNOWN, False)`` for a code not in T.30.
    """
    fixed = _FIXED.get(octet)
    if fixed is not None:
        return fixed, False
    with_x = _WITH_X.get(octet & ~X_BIT)
    if with_x is not None:
        return with_x, bool(octet & X_BIT)
    return Fcf.UNKNOWN, False


def fcf_octet(fcf: Fcf, x: bool) -> int:
    """The octet for ``fcf`` as sent by a station whose X bit is ``x``."""
    if fcf is Fcf.UNKNOWN:
        raise LocalProtocolError("Fcf.UNKNOWN has no code; build the Frame with code=")
    return int(fcf) | (X_BIT if x and fcf in X_CODES else 0)


@dataclass(frozen=True, slots=True)
class Frame:
    """One T.30 frame: its FCF, X bit, final-frame flag and FIF.

    Attributes:
        fcf: the facsimile control field (``Fcf.UNKNOWN`` for codes not in T.30).
        fif: the facsimile information field, octets in line bit order.
        final: True for the last frame of a message (control 0x13), False
            for the frames before it (control 0x03).
        x: the X bit; always False for codes that have none.
        code: the received FCF octet of an ``Fcf.UNKNOWN`` frame, else None.
    """

    fcf: Fcf
    fif: bytes = b""
    final: bool = True
    x: bool = False
    code: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.fcf, Fcf):
            raise LocalProtocolError(f"Frame.fcf must be an Fcf, got {self.fcf!r}")
        if self.x and self.fcf not in X_CODES:
            raise LocalProtocolError(f"{self.fcf.label} has no X bit (T.30 §5.3.6.1)")
        if self.fcf is Fcf.UNKNOWN:
            if self.code is None or not 0 <= self.code <= 0xFF:
                raise LocalProtocolError("an UNKNOWN frame needs its FCF octet as code=")
        elif self.code is not None:
            raise LocalProtocolError("code= is only for UNKNOWN frames")
        if not isinstance(self.fif, bytes):
            object.__setattr__(self, "fif", bytes(self.fif))

    @property
    def name(self) -> str:
        """The frame's name as T.30 writes it (``"PRI-EOP"``), or ``"UNKNOWN"``."""
        return self.fcf.label

    def to_bytes(self) -> bytes:
        """Address, control, FCF and FIF, ready for the HDLC transmitter."""
        fcf = self.code if self.fcf is Fcf.UNKNOWN else fcf_octet(self.fcf, self.x)
        control = CONTROL_FINAL if self.final else CONTROL
        return bytes((ADDRESS, control, fcf)) + self.fif

    @classmethod
    def parse(cls, data: bytes) -> "Frame":
        """The frame in the octets an HDLC receiver delivered (FCS removed).

        Raises:
            FrameError: fewer than 3 octets, or an address or control octet
                that T.30 §5.3.4/§5.3.5 do not allow.
        """
        data = bytes(data)
        if len(data) < 3:
            raise FrameError(
                f"T.30 frame of {len(data)} octet(s) is too short: address, control "
                "and FCF need 3")
        if data[0] != ADDRESS:
            raise FrameError(f"T.30 frame has address 0x{data[0]:02X}, not 0xFF (§5.3.4)")
        if data[1] not in (CONTROL, CONTROL_FINAL):
            raise FrameError(
                f"T.30 frame has control 0x{data[1]:02X}, not 0x03 or 0x13 (§5.3.5)")
        fcf, x = lookup_fcf(data[2])
        code = data[2] if fcf is Fcf.UNKNOWN else None
        return cls(fcf, data[3:], data[1] == CONTROL_FINAL, x, code)


def encode_ident(ident: str) -> bytes:
    """The 20-octet FIF of CSI/TSI/CIG (and PWD/SUB/SEP/SID) for ``ident``.

    T.30 §5.3.6.2.4: up to 20 characters from digits, "+" and space, padded
    with spaces to 20, the last character of the number sent first -- the
    field is the right-aligned number in reverse order.

    Raises:
        LocalProtocolError: longer than 20 characters or another character.
    """
    if len(ident) > IDENT_LENGTH:
        raise LocalProtocolError(
            f"identity {ident!r} has {len(ident)} characters; T.30 allows 20")
    bad = sorted(set(ident) - _IDENT_CHARS)
    if bad:
        raise LocalProtocolError(
            f"identity {ident!r} contains {''.join(bad)!r}; T.30 §5.3.6.2.4 allows "
            "digits, '+' and space")
    return ident.rjust(IDENT_LENGTH)[::-1].encode("ascii")


def decode_ident(fif: bytes) -> str:
    """The identity in a CSI/TSI/CIG FIF, leniently.

    Many machines send letters too, so any printable ASCII is kept; other
    octets become "?".  Leading and trailing spaces are dropped.
    """
    text = "".join(chr(b) if 0x20 <= b < 0x7F else "?" for b in reversed(fif))
    return text.strip(" ")


def ident_frame(fcf: Fcf, ident: str, x: bool = False) -> Frame:
    """A non-final CSI/TSI/CIG/... frame carrying ``ident``."""
    if fcf not in IDENT_FCFS:
        raise LocalProtocolError(f"{fcf.label} does not carry a 20-digit identity")
    return Frame(fcf, encode_ident(ident), final=False, x=x and fcf in X_CODES)


def message(*frames: Frame) -> list[Frame]:
    """The frames of one T.30 message, only the last marked final (§5.3.5).

    E.g. ``message(ident_frame(Fcf.CSI, "+1 555 0100"), Frame(Fcf.DIS, fif))``.
    """
    if not frames:
        raise LocalProtocolError("a T.30 message has at least one frame")
    return [Frame(f.fcf, f.fif, i == len(frames) - 1, f.x, f.code)
            for i, f in enumerate(frames)]
