"""Error correction mode: blocks, FCD/RCP frames, PPS and PPR (T.30 Annex A, T.4 Annex A).

With ECM a page's coded data travels in HDLC frames at the image modem's
rate.  The sender cuts the page into **frames** of 256 (or 64, as the DCS
says) octets and groups up to 256 frames into a **block** (a "partial
page").  Each frame is an FCD frame whose FIF is the frame number within
its block (0-255) followed by the data; the last frame of a page may be
shorter.  Three RCP frames end the block (T.4 §A.3.6.2).  The sender then
sends PPS over V.21: its FIF is the post-page command (EOM, MPS, EOP,
PRI-xxx, with the sender's X bit, or NULL 0x00 when the page goes on in
another block), the page counter, the block counter and the number of
frames of the block minus one, each modulo 256 (T.30 §A.4.1).  Counters
start at 0 for the first page and block.

The receiver answers MCF when every frame of the block arrived, else PPR
with a 256-bit map (32 octets) where bit *i* -- value ``1 << (i % 8)`` of
octet ``i // 8``, first bit on the line first as everywhere in
``faxengine.t30`` -- asks for frame *i* again.  Ours sets only the bits of
missing frames; some receivers also set every bit past the block, which
``Block.fcd_frames`` ignores.  T.30 leaves open whether the frame count of
a PPS after a retransmission is the block's or the burst's (spandsp 0.0.6
counts the burst); ours sends the block's, and ``EcmBlockReceiver.expect``
keeps the largest count seen for the block.  ``EcmBlockReceiver`` keeps a
block's frames, however they arrive (late, twice, out of order), makes the
map and hands the block back whole.

Bit order of the image data: ``faxengine.t4`` writes the first bit of the
code in the MSB of each octet (TIFF FillOrder 1); HDLC sends the LSB first.
So ``split_page`` reverses the bits of every octet for the line and
``EcmBlockReceiver.data`` reverses them back -- here, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from faxengine.t30.errors import EcmError, FacilitiesError, LocalProtocolError
from faxengine.t30.facilities import Dcs
from faxengine.t30.frames import POST_PAGE, X_BIT, Fcf, Frame, lookup_fcf, fcf_octet

FRAMES_PER_BLOCK = 256
PPR_MAP_OCTETS = FRAMES_PER_BLOCK // 8
RCP_COUNT = 3                   # T.4 §A.3.6.2: three RCP frames end a block
NULL = 0x00                     # FCF2 of PPS when the page continues (PPS-NULL)

# octet -> the same octet with its bits in the other order
_REVERSE = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def reverse_bits(data: bytes) -> bytes:
    """Every octet with its bit order reversed (MSB-first <-> LSB-first)."""
    return bytes(data).translate(_REVERSE)


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a page: its counter and its frames' data, in line bit order."""

    number: int
    frames: tuple[bytes, ...]

    def fcd_frames(self, which: Iterable[int] | None = None) -> Iterator[Frame]:
        """The FCD frames of the block, or of the frame numbers in ``which``.

        Numbers beyond the block are skipped: receivers in the field set
        every bit past the block's last frame in their PPR maps.
        """
        numbers = range(len(self.frames)) if which is None else sorted(set(which))
        for i in numbers:
            if 0 <= i < len(self.frames):
                yield fcd_frame(i, self.frames[i])


def split_page(data: bytes, frame_size: int = 256) -> list[Block]:
    """Cut a page's coded data (MSB first, as ``faxengine.t4`` writes it) into blocks.

    Every frame but the last of the page holds ``frame_size`` octets; a
    block holds up to 256 frames.  An empty page gives one block of one
    empty frame, so that a PPS always has a frame to count.
    """
    if frame_size not in (64, 256):
        raise LocalProtocolError(f"ECM frame size is 64 or 256 octets, not {frame_size}")
    line = reverse_bits(data)
    frames = [line[i:i + frame_size] for i in range(0, len(line), frame_size)] or [b""]
    return [Block(n, tuple(frames[i:i + FRAMES_PER_BLOCK]))
            for n, i in enumerate(range(0, len(frames), FRAMES_PER_BLOCK))]


def fcd_frame(number: int, data: bytes) -> Frame:
    """The FCD frame carrying frame ``number`` of a block (T.4 §A.3.6.1)."""
    if not 0 <= number < FRAMES_PER_BLOCK:
        raise LocalProtocolError(f"ECM frame number {number} is outside 0-255")
    return Frame(Fcf.FCD, bytes((number,)) + data, final=False)


def rcp_frames() -> list[Frame]:
    """The three RCP frames that end a block."""
    return [Frame(Fcf.RCP, final=False) for _ in range(RCP_COUNT)]


@dataclass(frozen=True, slots=True)
class PartialPage:
    """The FIF of PPS (and the FCF2 of EOR): what follows the block and its counters.

    Attributes:
        post: the post-page command (``Fcf.EOM``, ``MPS``, ``EOP``, ``PRI_xxx``)
            or None for PPS-NULL, the page goes on.
        page: page counter modulo 256, 0 for the first page.
        block: block counter modulo 256, 0 for the page's first block.
        frames: number of frames in the block, 1-256.
    """

    post: Fcf | None
    page: int
    block: int
    frames: int

    def __post_init__(self) -> None:
        if self.post is not None and self.post not in POST_PAGE:
            raise LocalProtocolError(f"{self.post.label} is not a post-page command")
        if not 0 <= self.page <= 255 or not 0 <= self.block <= 255:
            raise LocalProtocolError("PPS page and block counters are 0-255 (modulo 256)")
        if not 1 <= self.frames <= FRAMES_PER_BLOCK:
            raise LocalProtocolError(f"a block has 1-256 frames, not {self.frames}")

    @property
    def name(self) -> str:
        """``"PPS-EOP"``-style suffix: ``"NULL"`` or the post-page command."""
        return "NULL" if self.post is None else self.post.label

    def frame(self, x: bool) -> Frame:
        """The PPS frame, sent by a station whose X bit is ``x``."""
        fcf2 = NULL if self.post is None else fcf_octet(self.post, x)
        return Frame(Fcf.PPS, bytes((fcf2, self.page, self.block, self.frames - 1)), x=x)

    @classmethod
    def parse(cls, frame: Frame) -> "PartialPage":
        """The partial page signal a received PPS carries.

        Raises:
            EcmError: not a PPS, FIF not 4 octets, or an FCF2 that is no
                post-page command.
        """
        if frame.fcf is not Fcf.PPS:
            raise EcmError(f"expected PPS, got {frame.name}")
        if len(frame.fif) != 4:
            raise EcmError(f"PPS FIF has {len(frame.fif)} octets, T.30 §A.4.1 gives it 4")
        return cls(_post_page(frame.fif[0], "PPS"), frame.fif[1], frame.fif[2],
                   frame.fif[3] + 1)


def _post_page(octet: int, what: str) -> Fcf | None:
    if octet & ~X_BIT == NULL:
        return None
    fcf, _ = lookup_fcf(octet)
    if fcf not in POST_PAGE:
        raise EcmError(f"{what} FCF2 0x{octet:02X} is not NULL, EOM, MPS, EOP or PRI-xxx")
    return fcf


def eor_frame(post: Fcf | None, x: bool) -> Frame:
    """EOR with its FCF2 (EOR-NULL, EOR-MPS, ...): give up on the block."""
    if post is not None and post not in POST_PAGE:
        raise LocalProtocolError(f"{post.label} is not a post-page command")
    fcf2 = NULL if post is None else fcf_octet(post, x)
    return Frame(Fcf.EOR, bytes((fcf2,)), x=x)


def eor_post(frame: Frame) -> Fcf | None:
    """The post-page command an EOR carries (None for EOR-NULL).

    Raises:
        EcmError: not an EOR or its FIF is not one valid FCF2 octet.
    """
    if frame.fcf is not Fcf.EOR or len(frame.fif) != 1:
        raise EcmError(f"expected EOR with a 1-octet FIF, got {frame.name} "
                       f"with {len(frame.fif)}")
    return _post_page(frame.fif[0], "EOR")


def ppr_fif(missing: Iterable[int]) -> bytes:
    """The 32-octet PPR map asking again for the frame numbers in ``missing``."""
    bitmap = bytearray(PPR_MAP_OCTETS)
    for i in missing:
        if not 0 <= i < FRAMES_PER_BLOCK:
            raise LocalProtocolError(f"ECM frame number {i} is outside 0-255")
        bitmap[i // 8] |= 1 << (i % 8)
    return bytes(bitmap)


def ppr_frames(fif: bytes) -> list[int]:
    """The frame numbers a PPR map asks for, in order.

    Raises:
        EcmError: the map is not 32 octets.
    """
    if len(fif) != PPR_MAP_OCTETS:
        raise EcmError(f"PPR FIF has {len(fif)} octets, T.30 §A.4.4 gives it 32")
    return [i for i in range(FRAMES_PER_BLOCK) if fif[i // 8] >> (i % 8) & 1]


def ctc_fif(modem: str, rate: int) -> bytes:
    """The FIF of CTC: two octets laid out as DCS bits 1-16, only bits 11-14 set (§A.4.2).

    Bits 11-14 carry the DCS code of the rate to continue at, as spandsp
    sends it (``00 20`` for V.17 14400).
    """
    octet2 = Dcs(modem=modem, rate=rate).encode()[1] & 0x3C      # bits 11-14
    return bytes((0, octet2))


def ctc_mode(fif: bytes) -> tuple[str, int]:
    """The (modem, rate) a CTC FIF asks to continue at.

    Raises:
        EcmError: FIF shorter than 2 octets or a reserved rate code.
    """
    if len(fif) < 2:
        raise EcmError(f"CTC FIF has {len(fif)} octets, it needs 2 (DCS bits 1-16)")
    try:
        dcs = Dcs.decode(bytes(fif[:2]) + b"\x00")
    except FacilitiesError as exc:
        raise EcmError(f"CTC: {exc}") from None
    return dcs.modem, dcs.rate


class EcmBlockReceiver:
    """Collects the FCD frames of one block and reassembles it.

    Frames may come in any order, repeated or missing; a repeat replaces
    the earlier copy.  After PPS says how many frames the block has,
    ``missing`` gives the PPR map's frame numbers and ``data`` the block.
    """

    def __init__(self, frame_size: int = 256) -> None:
        if frame_size not in (64, 256):
            raise LocalProtocolError(f"ECM frame size is 64 or 256 octets, not {frame_size}")
        self.frame_size = frame_size
        self.frames = 0
        self._frames: dict[int, bytes] = {}

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, number: int) -> bool:
        """True when frame ``number`` of the block has come (good FCS)."""
        return number in self._frames

    def add(self, frame: Frame) -> int:
        """Keep an FCD frame; returns its frame number.

        Raises:
            EcmError: not an FCD frame, no frame number, or more data than
                the frame size the DCS set.
        """
        if frame.fcf is not Fcf.FCD:
            raise EcmError(f"expected an FCD frame, got {frame.name}")
        return self.add_fcd(frame.fif)

    def add_fcd(self, fif: bytes) -> int:
        """Keep the FIF of an FCD frame (``add`` without a ``Frame``: most
        frames of a page are FCD); returns its frame number.

        Raises:
            EcmError: no frame number, or more data than the DCS's frame size.
        """
        if not fif:
            raise EcmError("FCD frame has no frame number (T.4 §A.3.6.1)")
        if len(fif) - 1 > self.frame_size:
            raise EcmError(f"FCD frame {fif[0]} carries {len(fif) - 1} octets, "
                           f"more than the {self.frame_size} the DCS set")
        self._frames[fif[0]] = fif[1:]
        return fif[0]

    def expect(self, frames: int) -> int:
        """Note the frame count of a PPS; returns the block's count so far.

        A sender may count only the frames of a retransmission burst, so
        the largest count seen for the block is its size.
        """
        self.frames = max(self.frames, frames)
        return self.frames

    @property
    def count(self) -> int:
        """The block's frame count: the PPS's, or before any PPS one past the
        highest frame number in."""
        return self.frames or (max(self._frames) + 1 if self._frames else 0)

    def missing(self, frames: int) -> list[int]:
        """Frame numbers below ``frames`` not yet received (PPR asks for these)."""
        return [i for i in range(frames) if i not in self._frames]

    def ppr(self, frames: int) -> bytes:
        """The PPR FIF for a block of ``frames`` frames."""
        return ppr_fif(self.missing(frames))

    def complete(self, frames: int) -> bool:
        """True when every one of the block's ``frames`` frames is in."""
        return not self.missing(frames)

    def data(self, frames: int) -> bytes:
        """The block's coded data, MSB first again, as ``faxengine.t4`` reads it.

        Raises:
            LocalProtocolError: frames are still missing.
        """
        missing = self.missing(frames)
        if missing:
            raise LocalProtocolError(
                f"block incomplete: {len(missing)} of {frames} frames missing")
        return reverse_bits(b"".join(self._frames[i] for i in range(frames)))

    def arrived(self) -> bytes:
        """What arrived of the block, MSB first: its frames in order, those
        missing left out (EOR keeps what it has of a block it gives up on)."""
        return reverse_bits(b"".join(self._frames.get(i, b"") for i in range(self.count)))

    def in_order(self, start: int) -> tuple[int, bytes]:
        """The frames from number ``start`` on that have arrived with none
        missing before them: how many, and their data MSB first (what
        ``data`` and ``arrived`` will start with past frame ``start``)."""
        if start not in self._frames:
            return 0, b""
        stop = start
        while stop in self._frames:
            stop += 1
        return stop - start, reverse_bits(b"".join(self._frames[i] for i in range(start, stop)))

    def reset(self) -> None:
        """Forget the frames and the count, for the next block."""
        self.frames = 0
        self._frames.clear()
