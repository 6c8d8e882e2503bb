"""T.4 and T.6 image coding: MH, MR and MMR pages to bytes and back.

What it does
    :func:`encode` codes a bilevel page as a Group 3 terminal sends it (MH or
    MR, T.4) or as a Group 4 / ECM terminal and TIFF store it (MMR, T.6);
    :func:`decode` turns such a stream back into pels and raises
    :class:`T4Error` at the first error; :func:`decode_lenient` is a receiver
    on a noisy line without ECM: it repairs what it can and counts the bad
    lines (T.30 picks MCF, RTP or RTN from :class:`BadLines`).

Stream layouts (bytes MSB first, TIFF FillOrder 1)
    MH   EOL + line, for every line; the page ends with RTC (6 x EOL).
    MR   EOL + tag bit + line, tag 1 = one-dimensional, 0 = two-dimensional;
         the first line and every K-th line after it are one-dimensional;
         RTC is 6 x (EOL + 1).
    MMR  two-dimensional lines, no EOLs, EOFB (2 x EOL) at the end.
    The last byte is padded with zeros.  With ``rtc=False`` MH and MR come
    out exactly as libtiff writes a Group 3 strip (EOL before every line, no
    RTC); MMR always comes out exactly as libtiff writes a Group 4 strip.

Fill bits (T.4 §4.1.3)
    ``min_bits_per_line`` is the shortest *total coded scan line* T.30's
    minimum scan line time allows at the bit rate in use (e.g. 20 ms at
    9600 bit/s = 192 bits).  A total coded scan line runs from the start of
    its EOL to the start of the next EOL (or of RTC): EOL, tag bit, data and
    fill zeros, which go just before the next EOL.

Lines without EOL (TIFF Compression 2 and 32771)
    TIFF also stores MH pages with no EOL at all: TIFF 6.0 §10 "CCITT
    modified Huffman RLE" (Compression 2) starts every line on a byte
    boundary, libtiff's "CCITT RLEW" (Compression 32771) on a 16-bit word
    boundary.  ``eol=False`` selects this framing for ``"mh"``, ``align`` the
    boundary in bits, counted from the first bit of the data: 8 for
    Compression 2, 16 for 32771, 1 for none (lines back to back).  The zeros
    before a boundary are not looked at when decoding.  A line ends where its
    runs reach the width; there is no RTC, the page ends with the data (or
    at ``height``).  MR needs its EOLs (they carry the tag bit) and MMR has
    none, so both refuse ``eol=False``.  With nothing to resynchronise on,
    :func:`decode_lenient` treats such a page as MMR: it ends at the first
    bad line.

K (T.4 §4.2)
    At most K - 1 lines follow a one-dimensional line two-dimensionally.
    T.4 says K = 2 at standard and 4 at fine resolution; :func:`encode`
    knows no resolution, so it takes K = 2 unless ``k`` says otherwise:
    callers sending fine pages pass ``k=4``.

How
    The work happens in C (``csrc/t4_codes.c``, ``t4_t6_encode.c``,
    ``t4_t6_decode.c``), one call per page: changing elements are found 8 pels
    at a time, run codes are precomputed words, decoding uses direct lookup
    tables on a 64-bit bit window.

Invalid code
    Besides bad codes and wrong lengths, :func:`decode` refuses code that
    T.4/T.6 forbid and that decoders read differently (libtiff among them):
    a horizontal mode with an empty run in mid-line (T.4 §4.2.1.3.1), an
    empty run in mid-line of an MR one-dimensional line, the reference of
    the lines below it (§4.1.1).  No encoder sends them; :func:`decode_lenient`
    counts such a line bad.  MH lines with an empty run still decode: their
    pels are unambiguous.

Where we read as libtiff does (and spandsp, for the first two)
    * A G3 page starts at its first EOL (T.4 §4.1.2: EOL precedes the first
      line): anything before it is dropped, even a coded line, or the page
      would stand one row off theirs.
    * A run whose make-up codes reach the end of the line exactly, with no
      terminating code before the EOL (white 0, black make-up 1728, EOL),
      is a line: it ends there.
    * A pass mode whose b2 is the end of the line (no encoder codes it:
      T.4 §4.2.1.3.2 passes only b2 left of a1) carries a0's colour to the
      end of the line and ends it.

Lines in error messages are counted from 1; bit offsets from the first bit
of the data.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from faxengine.t4 import _t4
from faxengine.t4.errors import T4ArgumentError, T4Error

__all__ = ["encode", "eol_find", "last_one", "decode", "decode_lenient", "StreamDecoder", "StreamEncoder", "T4Error", "T4ArgumentError",
           "BadLines", "CODINGS", "DEFAULT_MAX_LINES"]

#: Compiled scans of a coded bit stream held one bit a byte (csrc/t4_eol.c):
#: ``eol_find(bits, base, last_one)`` gives the stream indices of the EOLs'
#: 1s, the zeros before each and the last 1 (for a stream read in pieces:
#: ``base`` bits came before, their last 1 at ``last_one``, -1 for none);
#: ``last_one(bits)`` the index of the last 1, or -1.
eol_find = _t4.eol_find
last_one = _t4.last_one

# The coding names and the numbers csrc/t4_codes.h gives them.
CODINGS = {"mh": 1, "mr": 2, "mmr": 3}

# No fax page is longer (20000 lines is 2.6 m at fine resolution); the bound
# keeps garbage from growing an image without end when no height is given.
DEFAULT_MAX_LINES = 20000

MAX_WIDTH = 65535
# Rows and K cross into C as an int.
MAX_LINES = (1 << 31) - 1
MAX_K = MAX_LINES
# The longest minimum coded scan line (T.4 §4.1.3) we take, in bits: T.30's
# longest minimum scan line time, 40 ms, at V.34's 33600 bit/s is 1344 bits;
# ten times that leaves room and still bounds the fill of a page.
MAX_MIN_BITS_PER_LINE = 1 << 14

# csrc/t4_t6_decode.h enum t4_decode_error -> what went wrong
_ERRORS = {
    1: "invalid white code",
    2: "invalid black code",
    3: "invalid mode code",
    4: "uncompressed mode (extension code 0000001111 / 000000001111) is not supported",
    5: "unsupported extension code (0000001xxx)",
    6: "EOL before the end of the line",
    7: "run goes past the end of the line",
    8: "vertical mode code puts a1 outside the line",
    9: "line longer than the width: no EOL where the line ends",
    11: "data end inside the line (truncated)",
    13: "out of memory",
    14: "horizontal mode with an empty run in mid-line (a1 = a0 or a2 = a1, T.4 §4.2.1.3.1)",
    16: "empty run in mid-line of a one-dimensional line (T.4 §4.1.1: only the first"
        " white run may be empty)",
}
_SHORT_PAGE, _NO_LINE = 12, 17

@dataclass(frozen=True, slots=True)
class BadLines:
    """What :func:`decode_lenient` had to repair on a page.

    ``count``: lines replaced (bad, or missing at the end of a page of known
    height); ``longest_run``: the most consecutive ones; ``total_lines``: the
    lines of the page returned.
    """

    count: int
    longest_run: int
    total_lines: int

    @property
    def ok(self) -> bool:
        """True when no line needed repair."""
        return self.count == 0


def _coding(coding: str) -> int:
    try:
        return CODINGS[coding]
    except (KeyError, TypeError):
        raise T4ArgumentError(f"coding must be 'mh', 'mr' or 'mmr', not {coding!r}") from None


def _whole(name: str, value, low: int, high: int, hint: str = "") -> int:
    """``value`` as an int from ``low`` to ``high``, or a T4ArgumentError that
    says so (also for floats, strings and other non-integers)."""
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or not low <= number <= high:
        shown = f"{value!r} ({type(value).__name__})" if number is None else f"{number}"
        raise T4ArgumentError(f"{name} must be a whole number from {low} to {high}{hint}, "
                              f"not {shown}")
    return number


def _framing(code: int, eol: bool, align: int) -> int:
    """The C framing flags for lines with (0) or without EOLs."""
    if eol:
        if align != 1:
            raise T4ArgumentError("align is for lines without EOL (eol=False): lines with "
                                  "EOLs are found by their EOLs")
        return 0
    if code != CODINGS["mh"]:
        raise T4ArgumentError("eol=False is for MH only (TIFF Compression 2 and 32771): MR "
                              "lines need their EOL and tag bit, MMR has no EOLs anyway")
    if not isinstance(align, int) or align not in _t4.FRAMING:
        raise T4ArgumentError(f"align must be 1, 8 or 16 bits, not {align!r}")
    return _t4.FRAMING[align]


def _check_width(width: int) -> int:
    return _whole("width (pels per line)", width, 1, MAX_WIDTH)


def _data(data) -> bytes:
    """The coded data as bytes (any bytes-like object)."""
    if isinstance(data, bytes):
        return data
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise T4ArgumentError(f"data must be bytes (or another bytes-like object), not "
                              f"{type(data).__name__}") from None


def _code_args(coding: str, k, min_bits_per_line, eol: bool, align: int
               ) -> tuple[int, int, int, int]:
    """The coder's (coding, k, fill, framing), checked (see ``encode``)."""
    code = _coding(coding)
    framing = _framing(code, eol, align)
    if k is None or code != CODINGS["mr"]:
        k = 2  # only MR has a K
    else:
        k = _whole("k", k, 1, MAX_K, " (T.4 §4.2.1: 2 at standard, 4 at fine resolution)")
    min_bits = _whole("min_bits_per_line", min_bits_per_line, 0, MAX_MIN_BITS_PER_LINE,
                      " (T.4 §4.1.3: minimum scan line time x bit rate)")
    if framing and min_bits:
        raise T4ArgumentError("min_bits_per_line is fill before an EOL: lines without EOL "
                              "(eol=False) take none")
    return code, k, min_bits, framing


def _pels(image) -> np.ndarray:
    """A page's scan lines as the coder takes them: C-contiguous uint8 0/1, checked."""
    try:
        pels = np.asarray(image)
    except Exception as exc:  # an object numpy cannot make an array of
        raise T4ArgumentError(f"image must be a 2-D array, not {type(image).__name__}") from exc
    if pels.ndim != 2:
        raise T4ArgumentError(f"image must be 2-D (rows x pels), got {pels.ndim}-D")
    _check_width(pels.shape[1])
    _whole("image height", pels.shape[0], 0, MAX_LINES)
    if pels.dtype.kind not in "biuf":
        raise T4ArgumentError(f"image must hold bools or 0/1 numbers, not {pels.dtype}")
    if pels.dtype == np.bool_:
        return np.ascontiguousarray(pels).view(np.uint8)
    return np.ascontiguousarray(pels != 0).view(np.uint8)


def encode(image: np.ndarray, coding: str, k: int | None = None,
           min_bits_per_line: int = 0, *, rtc: bool = True, eol: bool = True,
           align: int = 1) -> bytes:
    """Code a page in MH, MR or MMR.

    Args:
        image: 2-D array, one row per scan line, True (or 1) = black; bool or
            uint8 0/1.  Width 1..65535 (fax widths 1728, 2048, 2432, 2592,
            3456, 4864...), any height including 0.
        coding: ``"mh"`` (T.4 1-D), ``"mr"`` (T.4 2-D) or ``"mmr"`` (T.6).
        k: MR only: the K parameter, default 2 (pass 4 for fine resolution).
        min_bits_per_line: MH/MR: fill so that every total coded scan line
            (EOL to next EOL) has at least this many bits.
        rtc: MH/MR: end the page with RTC (default).  ``False`` gives
            libtiff's Group 3 strip.  MMR always ends with EOFB.
        eol: MH: ``False`` codes the lines without EOLs and without RTC
            (``rtc`` does not apply), as TIFF Compression 2 and 32771 store
            them; see the module docstring.
        align: with ``eol=False``: each line starts on a multiple of this
            many bits, 1 (no alignment), 8 (Compression 2) or 16 (32771).

    Returns:
        The coded page, first bit in the MSB of the first byte.

    Raises:
        T4ArgumentError: (a ValueError) a bad image shape or type, coding, k
            (1..2**31-1), fill (0..MAX_MIN_BITS_PER_LINE) or framing.
    """
    code, k, min_bits, framing = _code_args(coding, k, min_bits_per_line, eol, align)
    pels = _pels(image)
    return _t4.encode_page(pels, code, k, min_bits, bool(rtc), framing)


def _rows_bound(nbytes: int, code: int, align: int | None) -> int:
    """The most lines ``nbytes`` of data can hold: a G3 line needs an EOL, a
    line without EOL a white run code (4 bits or more) and its alignment."""
    bits = nbytes * 8
    if align is not None:
        return bits // max(4, align) + 2
    return bits + 2 if code == CODINGS["mmr"] else bits // 12 + 2


def _decode(data: bytes, width: int, coding: str, height: int | None, max_lines: int,
            lenient: bool, eol: bool, align: int):
    code = _coding(coding)
    framing = _framing(code, eol, align)
    width = _check_width(width)
    if height is not None:
        height = _whole("height", height, 0, MAX_LINES)
    max_lines = _whole("max_lines", max_lines, 1, MAX_LINES - 1)
    data = _data(data)
    if height == 0:
        return np.zeros((0, width), dtype=bool), None, (0, 0)
    if lenient and height is not None:
        # lines are padded up to the height without data: max_lines bounds them
        height = min(height, max_lines)
    # Without a height, one line more than allowed tells a page of exactly
    # max_lines from a longer one.
    image, error, bad = _t4.decode_page(
        data, width, code, height or 0, max_lines if lenient else max_lines + 1, lenient,
        _rows_bound(len(data), code, None if eol else align), framing)
    return image.view(bool), error, bad


def decode(data: bytes, width: int, coding: str, height: int | None = None, *,
           max_lines: int = DEFAULT_MAX_LINES, eol: bool = True, align: int = 1
           ) -> np.ndarray:
    """Decode an MH, MR or MMR page; any error is fatal.

    Reads what :func:`encode` and libtiff write: G3 with fill bits,
    byte-aligned EOLs and RTC or without; G4 with or without EOFB; with
    ``eol=False``, MH lines without EOL (TIFF Compression 2 and 32771).  A
    G3 page starts at its first EOL (see "Where decoders agree" in the
    module docstring) and ends at RTC (two EOLs in a row), EOFB or the end
    of the data.  Data with no line in it and no RTC or EOFB are an error,
    not an empty page (no data at all is an empty page).

    Args:
        data: the coded page, MSB first (TIFF FillOrder 1).
        width: pels per line.
        coding: ``"mh"``, ``"mr"`` or ``"mmr"``.
        height: stop after this many lines (a TIFF strip's rows); fewer lines
            in the data is an error.  None: as many as the data hold.  A
            height lifts ``max_lines``: the page is as tall as it says.
        max_lines: when the height is not given, more lines than this is an
            error (garbage can look like very many short lines).
        eol: MH: ``False`` for lines without EOLs (see the module docstring).
        align: with ``eol=False``: lines start on multiples of 1, 8
            (Compression 2) or 16 (32771) bits.

    Returns:
        2-D bool array, True = black.

    Raises:
        T4Error: corrupt or truncated data, or no line at all; the message
            names the line (from 1) and the bit offset.
        T4ArgumentError: (a T4Error and ValueError) a bad width, coding,
            height, max_lines, framing or data type.
    """
    image, error, _ = _decode(data, width, coding, height, max_lines, False, eol, align)
    name = coding.upper()
    if error is not None:
        err, line, bit = error
        if err == _SHORT_PAGE:
            raise T4Error(f"{name} page ends after {line} lines at bit {bit}, "
                          f"but {height} were expected (truncated data?)")
        if err == _NO_LINE:
            raise T4Error(f"no {name} line in {bit // 8} bytes: no coded line and no end of"
                          f" page ({'RTC' if name != 'MMR' else 'EOFB'}); is the data"
                          f" {name} at all?")
        what = _ERRORS.get(err, f"error {err}")
        raise T4Error(f"{name} line {line + 1}: {what} at bit {bit}")
    if height is None and image.shape[0] > max_lines:
        raise T4Error(f"{name} page has more than {max_lines} lines; pass a "
                      "height or a larger max_lines if that is really so")
    return image


def decode_lenient(data: bytes, width: int, coding: str, height: int | None = None, *,
                   max_lines: int = DEFAULT_MAX_LINES, eol: bool = True, align: int = 1
                   ) -> tuple[np.ndarray, BadLines]:
    """Decode a page as a receiver without ECM does: repair, count, go on.

    MH/MR: a line with an error (bad code, wrong length, no EOL after it) is
    replaced by the line above it (white for the first line) and decoding
    resumes at the next EOL.  In MR a 2-D line after a bad line is bad too,
    until the next 1-D line, since its reference line is lost.  The page
    starts at its first EOL (what comes before it is not part of the page,
    not even a line that decodes) and ends at RTC (two EOLs in a row) or at
    the end of the data.  Without a height the line count can be off by one
    when a bit error forges or destroys an EOL (one flipped zero in an EOL
    is recognised and costs nothing).

    MMR has no EOL to resume at: the lines before the error are kept, the
    line at the error is a copy of the one above and counted bad, and the
    page ends there.  So does MH with ``eol=False`` (``align`` as in
    :func:`decode`).

    A line cut off by the end of the data keeps the pels decoded before the
    end, the rest white (as libtiff draws it), and is counted bad.  Whatever
    the coding, when ``height`` is given the image has exactly that many
    lines, up to ``max_lines``: lines missing at the end are white and
    counted bad.  Never more than ``max_lines`` lines are returned, so the
    memory taken is bounded by the data and ``max_lines``, whatever
    ``height`` says (pass a larger ``max_lines`` for taller pages).

    Never raises on corrupt input, never reads out of bounds, and its time
    is bounded by the size of the data and ``max_lines``.

    Raises:
        T4ArgumentError: bad arguments, as :func:`decode`.

    Returns:
        (image, BadLines)
    """
    image, _, (count, longest) = _decode(data, width, coding, height, max_lines, True,
                                         eol, align)
    return image, BadLines(count, longest, int(image.shape[0]))


class StreamDecoder:
    """:func:`decode_lenient` of a page whose data come in pieces, decoded as
    they come, a bounded number of lines at a time.

    A receiver with ECM gets an MMR page block by block (T.4 Annex A), and
    MMR cannot be cut at lines without decoding it (no EOLs): this decoder
    keeps its state across the pieces -- the reference line, the bit
    position, the bad-line counts -- so that the page costs no more at its
    end than one piece.  ``feed(data)`` appends the next bytes (any split,
    even inside a code); ``decode(lines)`` decodes at most that many more
    lines of what has come, stopping before a line whose bits (or the look-
    ahead after them) are not all in yet, to decode it after the next feed;
    ``finish()`` takes the end of the data there and returns what
    ``decode_lenient(all the data, width, coding, max_lines=max_lines, eol=eol,
    align=align)`` returns: the same pels and the same :class:`BadLines`,
    however the data were split.

    Args:
        width, coding, max_lines, eol, align: as :func:`decode_lenient`
            (no ``height``: the page ends where its data say).
        rows: the lines to make room for at first (a B4 page at the
            resolution, say): the image is a block of memory kept from
            pages before (no page faults), its lines cleared a few at a
            time as the decoder reaches them; no line is copied unless the
            page is longer (then it moves once to room for twice as many).

    Raises:
        T4ArgumentError: bad arguments, as :func:`decode`; ``feed`` or
            ``finish`` after ``finish``.
    """

    def __init__(self, width: int, coding: str, *, max_lines: int = DEFAULT_MAX_LINES,
                 eol: bool = True, align: int = 1, rows: int = 4096) -> None:
        code = _coding(coding)
        framing = _framing(code, eol, align)
        self.width = _check_width(width)
        self.coding = coding
        self.max_lines = _whole("max_lines", max_lines, 1, MAX_LINES - 1)
        rows = _whole("rows", rows, 1, MAX_LINES)
        self._c = _t4.StreamDecoder(self.width, code, self.max_lines, framing, rows)

    @property
    def lines(self) -> int:
        """Lines decoded so far."""
        return self._c.rows

    @property
    def ended(self) -> bool:
        """True once the data fed hold the end of the page (RTC, EOFB, or
        ``max_lines``): later data are not read."""
        return self._c.ended

    @property
    def end_mark(self) -> bool:
        """True once the page ended at its own mark (RTC, EOFB), not at the end
        of the data or ``max_lines``: its coded data hold the whole page, as
        a TIFF strip holds it (``finish`` keeps this)."""
        return self._c.end_mark

    def feed(self, data) -> None:
        """Append the next bytes of the page (no decoding: see ``decode``)."""
        self._c.feed(_data(data))

    def decode(self, lines: int) -> int:
        """Decode at most ``lines`` more lines of the data fed so far; returns
        how many were decoded."""
        return self._c.decode(_whole("lines", lines, 0, MAX_LINES))

    def finish(self) -> tuple[np.ndarray, BadLines]:
        """The data end here: decode the rest; returns (image, BadLines) as
        :func:`decode_lenient` does."""
        image, _, (count, longest) = self._c.finish()
        return image.view(bool), BadLines(count, longest, int(image.shape[0]))


class StreamEncoder:
    """:func:`encode` of a page a few lines at a time, as they are wanted.

    A sender codes its page while a call goes on, a bounded piece per step
    (``faxengine.t30.link``), and its coded lines are not whole octets:
    this coder keeps its state across the pieces -- the reference line, the
    bits of a code not yet a whole octet, the fill of the line -- so the
    octets of all the ``take()`` calls, one after another, are what
    ``encode(the whole page, coding, k, min_bits_per_line, rtc=rtc, eol=eol,
    align=align)`` returns, however the lines were split.

    ``rows(image)`` codes the next lines (2-D, the page's width);
    ``take()`` returns the whole octets coded since the last take; ``end()``
    codes the end of the page (RTC, EOFB, the last padding) and returns the
    octets not taken yet; ``bits`` counts the bits coded so far, the
    padding of the last octet not counted.

    Args:
        width, coding, k, min_bits_per_line, rtc, eol, align: as :func:`encode`.

    Raises:
        T4ArgumentError: bad arguments, as :func:`encode`; lines of another
            width; ``rows`` or ``end`` after ``end``.
    """

    def __init__(self, width: int, coding: str, k: int | None = None,
                 min_bits_per_line: int = 0, *, rtc: bool = True, eol: bool = True,
                 align: int = 1) -> None:
        code, k, min_bits, framing = _code_args(coding, k, min_bits_per_line, eol, align)
        self.width = _check_width(width)
        self.coding = coding
        self._c = _t4.StreamEncoder(self.width, code, k, min_bits, bool(rtc), framing)

    @property
    def bits(self) -> int:
        """Bits coded so far (the padding of the last octet not counted)."""
        return self._c.bits

    def rows(self, image) -> None:
        """Code the next lines of the page (2-D: rows x the page's width)."""
        pels = _pels(image)
        if pels.shape[1] != self.width:
            raise T4ArgumentError(f"lines of {pels.shape[1]} pels given to the coder of a "
                                  f"page {self.width} pels wide")
        self._c.rows(pels)

    def take(self) -> bytes:
        """The whole octets coded since the last take."""
        return self._c.take()

    def end(self) -> bytes:
        """End the page (its end code and padding); returns the octets not taken yet."""
        self._c.end()
        return self._c.take()
