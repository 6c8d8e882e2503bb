"""The T.30 link layer: which modem sends and which receives, and the timings between them.

T.30 is half duplex.  At any moment a terminal either sends one signal --
a tone, V.21 channel 2 frames, or a high-speed (V.17, V.29, V.27ter)
transmission carrying TCF, a non-ECM page or ECM frames -- or it listens.
This module builds the samples of each signal (the modems do the
per-sample work in C) and wraps the high-speed receivers so that the
terminal sees a *signal*: its bits from the end of training to the loss of
carrier.

A V.21 signal is short and built in one call (``v21_signal``).  A
high-speed one can last minutes, so ``HsSignal`` builds it as it goes out:
each ``take(n)`` modulates only the next piece of bits it needs, and the
bits come from a generator that codes them just as late -- a page is coded
``PAGE_SLICE_ROWS`` scan lines at a time (``page_bits``), an ECM block
``FRAMES_PER_PIECE`` frames at a time (``hdlc_pieces``).  So no step of a
call does a page's worth of work (the bits and samples are the same as
coding and modulating the whole signal at once).

Timings (T.30):

* §5.3.2.3 (and Figure 5-2 note): 75 ms +- 20 ms of silence between the end
  of a received signal and the start of a transmission, and between two
  signals a station sends (DCS then TCF; page then post-page command).
  Every signal built here starts with ``SILENCE_75MS``.
* §5.3.1: V.21 frames are preceded by 1 s +- 15 % of flags
  (``faxengine.modem.hdlc.V21_PREAMBLE_FLAGS``).
* §5.3.2.2: TCF is 1.5 s of zeros at the DCS rate (``quality.tcf_bits``).
* T.4 Annex A / T.30 §A.3: ECM frames at the image rate follow a short
  preamble of flags after the modem's training (``HS_PREAMBLE_FLAGS``).
* V.17: the first transmission after a DCS uses the long training, later
  ones at the same rate the short one (T.30 §5.3.2.2 note, as spandsp).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from faxengine import t4

from faxengine.levels import SAMPLE_RATE
from faxengine.modem import HdlcRx, HdlcTx, V17Rx, V17Tx, V21Tx, V27terRx, V27terTx, V29Rx, V29Tx
from faxengine.modem._common import as_bits
from faxengine.t30.facilities import V17, V27TER, V29
from faxengine.t30 import _link
from faxengine.t30.frames import Frame

SILENCE_75MS = 600              # T.30 §5.3.2.3: 75 ms between signals
HS_PREAMBLE_FLAGS = 32          # flags before the first ECM frame (~18-107 ms)
HS_CLOSING_FLAGS = 4
TX_POWER_DBM0 = -13.0
PIECE_BITS = 2048               # bits modulated at a time by HsSignal (~140 ms at 14400)
PAGE_SLICE_ROWS = 128           # scan lines coded at a time by page_bits
FRAMES_PER_PIECE = 8            # ECM frames HDLC-coded at a time by hdlc_pieces
DECODE_PIECE_BITS = 8192        # a non-ECM page is decoded once this many bits wait ...
DECODE_PIECE_LINES = 256        # ... at most this many lines at a time
TAIL_SAMPLES = 300              # about what a modem's turn-off adds (progress only)

_TX = {V17: V17Tx, V29: V29Tx, V27TER: V27terTx}
_RX = {V17: V17Rx, V29: V29Rx, V27TER: V27terRx}

# seconds of the long training each modem sends before data (V.17 §5.3.2,
# V.29 §5, V.27ter §2.5 Table 3): how long after the 75 ms a TCF's zeros start
TRAINING_S = {(V17, 14400): 1.393, (V17, 12000): 1.393, (V17, 9600): 1.393,
              (V17, 7200): 1.393, (V29, 9600): 0.253, (V29, 7200): 0.253,
              (V27TER, 4800): 0.708, (V27TER, 2400): 0.943}


def silence(n: int) -> np.ndarray:
    """``n`` samples of silence."""
    return np.zeros(n, dtype=np.int16)


def v21_signal(frames: Iterable[Frame], power_dbm0: float = TX_POWER_DBM0) -> np.ndarray:
    """75 ms of silence, then one V.21 transmission: 1 s of flags and ``frames``."""
    hdlc = HdlcTx()
    modem = V21Tx(power_dbm0)
    bits = np.concatenate([hdlc.encode([f.to_bytes() for f in frames]), hdlc.finish()])
    return np.concatenate([silence(SILENCE_75MS), modem.modulate(bits), modem.finish()])


def hs_signal(modem: str, rate: int, bits, short_train: bool = False,
              power_dbm0: float = TX_POWER_DBM0, nbits: int | None = None) -> HsSignal:
    """75 ms of silence, then one high-speed transmission of ``bits``, as an
    ``HsSignal`` that modulates them as it goes out.

    ``bits``: one bit array, or an iterable of them coded as they are asked
    for (then ``nbits`` estimates their number, for progress).
    ``short_train`` applies to V.17 only; V.29 and V.27ter always send
    their (long) training, as T.30 uses them.
    """
    if isinstance(bits, np.ndarray):
        bits, nbits = [as_bits(bits)], bits.size       # (checked: HsSignal does not)
    return HsSignal(modem, rate, bits, short_train, power_dbm0, nbits or 0)


def hdlc_bits(frames: Iterable[Frame], preamble: int = HS_PREAMBLE_FLAGS) -> np.ndarray:
    """Bits of ECM frames for a high-speed transmission: flags, frames, closing flags."""
    return np.concatenate(list(hdlc_pieces(frames, preamble)))


def hdlc_pieces(frames: Iterable[Frame], preamble: int = HS_PREAMBLE_FLAGS
                ) -> Iterator[np.ndarray]:
    """The bits of ``hdlc_bits``, coded ``FRAMES_PER_PIECE`` frames at a time as they are asked for."""
    hdlc = HdlcTx(preamble_flags=preamble, closing_flags=HS_CLOSING_FLAGS)
    frames = list(frames)
    for i in range(0, len(frames), FRAMES_PER_PIECE):
        yield hdlc.encode([f.to_bytes() for f in frames[i:i + FRAMES_PER_PIECE]])
    yield hdlc.finish()


def page_bits(image: np.ndarray, coding: str, k: int | None = None,
              min_bits_per_line: int = 0, rows: int = PAGE_SLICE_ROWS,
              rtc: bool = True) -> Iterator[np.ndarray]:
    """The line bits of ``t4.encode(image, coding, k, min_bits_per_line, rtc=rtc)``
    without the zero padding of its last octet, coded ``rows`` scan lines at
    a time as they are asked for (``t4.StreamEncoder``: the coder keeps its
    reference line and fill across the slices, so the bits are the same),
    then the end code (RTC, EOFB) in a piece of its own."""
    encoder = t4.StreamEncoder(image.shape[1], coding, k, min_bits_per_line, rtc=rtc)
    given = 0
    for top in range(0, image.shape[0], rows):
        encoder.rows(image[top:top + rows])
        bits = bytes_to_bits(encoder.take())
        given += bits.size
        yield bits
    rest = bytes_to_bits(encoder.end())
    yield rest[:encoder.bits - given]


class PageCoder:
    """A page's coded data (``t4.encode``'s bytes, ``rtc`` as there), coded
    ahead a slice at a time: ``step()`` codes the next ``PAGE_SLICE_ROWS``
    scan lines (the terminal calls it once per block while other signals go
    out; the TIFF sink while it waits to write a received page), ``data()``
    codes what is left and returns the page.  ``key`` is what it codes: (page
    index, coding, k) for the sender."""

    def __init__(self, key: tuple, image: np.ndarray, coding: str, k: int | None,
                 rtc: bool = True) -> None:
        self.key = key
        self._image = image
        self._encoder = t4.StreamEncoder(image.shape[1], coding, k, rtc=rtc)
        self._top = 0
        self._data: list[bytes] = []
        self.done = False

    def step(self) -> None:
        """Code one slice, or the end of the page after the last (nothing once done)."""
        if self.done:
            return
        top = self._top
        if top < self._image.shape[0]:
            self._encoder.rows(self._image[top:top + PAGE_SLICE_ROWS])
            self._top = top + PAGE_SLICE_ROWS
            self._data.append(self._encoder.take())
        else:
            self._data.append(self._encoder.end())
            self.done = True

    def data(self) -> bytes:
        while not self.done:
            self.step()
        return b"".join(self._data)


class HsSignal:
    """One high-speed transmission, modulated as it goes out.

    75 ms of silence, then the modem's training and ``bits`` (an iterable of
    bit arrays, taken one at a time as the samples are wanted), then its
    turn-off.  ``take(n)`` returns the next ``n`` samples (fewer only at the
    end); ``done`` says all went out.  ``pieces`` counts the bit arrays
    taken so far (each one a bounded piece of coding work).

    ``size`` estimates the samples in all from ``nbits``; ``fraction`` is
    the share sent, which only goes up, estimated (when the source says it
    yields ``npieces`` arrays) from the bits of those taken so far.
    """

    def __init__(self, modem: str, rate: int, bits: Iterable[np.ndarray],
                 short_train: bool = False, power_dbm0: float = TX_POWER_DBM0,
                 nbits: int = 0, npieces: int | None = None) -> None:
        if modem == V17:
            self._tx = V17Tx(rate=rate, short_train=short_train, power_dbm0=power_dbm0)
        else:
            self._tx = _TX[modem](rate=rate, power_dbm0=power_dbm0)
        self._core = self._tx._core
        self._source = iter(bits)
        self._buf = silence(SILENCE_75MS)
        self._pos = 0
        self._ended = False
        self._held = np.zeros(0, np.uint8)
        self._rate = rate
        self._npieces = npieces
        self._coded = 0
        self._sent = 0
        self._fraction = 0.0
        self.pieces = 0
        train = 0.0 if modem == V17 and short_train else TRAINING_S[modem, rate]
        self._fixed = SILENCE_75MS + int(train * SAMPLE_RATE) + TAIL_SAMPLES
        self.size = self._estimate = self._fixed + int(nbits * SAMPLE_RATE / rate)

    @property
    def done(self) -> bool:
        return self._ended and self._pos >= self._buf.size

    @property
    def fraction(self) -> float:
        """The share of the transmission sent so far (0.0-1.0, never going down:
        the estimate of the whole may grow as its pieces are coded)."""
        if self.done:
            return 1.0
        self._fraction = max(self._fraction, min(self._sent / max(self._estimate, 1), 0.99))
        return self._fraction

    def _next_bits(self) -> np.ndarray | None:
        """At most PIECE_BITS bits from the source, or None at its end."""
        while self._held.size == 0:
            piece = next(self._source, None)
            if piece is None:
                return None
            self.pieces += 1
            # (the pieces are this module's own 0/1 bits: the modulator's core
            # takes them without the facade's checks, see take)
            self._held = np.ascontiguousarray(piece, np.uint8)
            self._coded += self._held.size
            if self._npieces:
                nbits = self._coded * max(self._npieces, self.pieces) / self.pieces
                self._estimate = self._fixed + int(nbits * SAMPLE_RATE / self._rate)
        bits, self._held = self._held[:PIECE_BITS], self._held[PIECE_BITS:]
        return bits

    def take(self, n: int) -> np.ndarray:
        pos = self._pos
        if pos + n <= self._buf.size:       # the usual step: all from the piece at hand
            self._pos = pos + n
            self._sent += n
            return self._buf[pos:pos + n]   # (a view: the piece is never written again)
        parts = []
        while n > 0:
            if self._pos >= self._buf.size:
                if self._ended:
                    break
                bits = self._next_bits()
                if bits is None:
                    self._buf, self._ended = self._tx.finish(), True
                else:
                    self._buf = self._core.modulate(bits, False)     # (_tx.modulate, unchecked)
                self._pos = 0
                continue
            got = self._buf[self._pos:self._pos + n]
            self._pos += got.size
            n -= got.size
            parts.append(got)
        out = parts[0] if len(parts) == 1 else (
            np.concatenate(parts) if parts else np.zeros(0, np.int16))
        self._sent += out.size
        return out


def page_signal(modem: str, rate: int, image: np.ndarray, coding: str, k: int | None,
                min_bits_per_line: int, short_train: bool = False,
                power_dbm0: float = TX_POWER_DBM0) -> HsSignal:
    """A non-ECM page as one high-speed transmission, coded (``page_bits``)
    and modulated as it goes out."""
    height, width = image.shape
    npieces = -(-height // PAGE_SLICE_ROWS) + 1         # (page_bits: the slices, the end)
    return HsSignal(modem, rate, page_bits(image, coding, k, min_bits_per_line), short_train,
                    power_dbm0, nbits=height * max(min_bits_per_line, width // 16),
                    npieces=npieces)


def block_signal(modem: str, rate: int, frames: list[Frame], short_train: bool = False,
                 power_dbm0: float = TX_POWER_DBM0) -> HsSignal:
    """ECM frames as one high-speed transmission, HDLC-coded (``hdlc_pieces``)
    and modulated as it goes out."""
    nbits = sum(8 * len(f.fif) + 48 for f in frames)    # with address, FCF, FCS, flag
    return HsSignal(modem, rate, hdlc_pieces(frames), short_train, power_dbm0, nbits=nbits,
                    npieces=-(-len(frames) // FRAMES_PER_PIECE) + 1)


def bytes_to_bits(data: bytes) -> np.ndarray:
    """Coded image data (first bit in the MSB, as ``faxengine.t4`` writes it) as line bits."""
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


def bits_to_bytes(bits: np.ndarray) -> bytes:
    """Line bits back to MSB-first octets for ``faxengine.t4`` (zero padded)."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


# the decision SNR (dB) below which a receiver's output is taken as garbage
# while a page comes in: a little under what each mode needs for few errors.
# Measured with our receivers: 41 dB on a clean line, 31 dB through 30 dB of
# line SNR, 5-9 dB during and after a burst of noise that loses the signal.
POOR_SNR_DB = {(V17, 14400): 16.0, (V17, 12000): 14.0, (V17, 9600): 11.0,
               (V17, 7200): 9.0, (V29, 9600): 14.0, (V29, 7200): 11.0,
               (V27TER, 4800): 8.0, (V27TER, 2400): 4.0}


class EolScan:
    """The EOLs of a bit stream that arrives in pieces (T.4 §4.1.2: 11 or more
    zeros, then a 1): ``add(bits)`` for each piece as it comes, so the scan
    of a page costs nothing at its end.  ``eols()`` gives what a scan of
    the whole stream gives: the index of each EOL's 1 and the number of
    zeros before it."""

    def __init__(self) -> None:
        self._ends: list[np.ndarray] = []
        self._zeros: list[np.ndarray] = []
        self._count = 0
        self._last_one = -1

    def found(self, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The EOLs of the ``bits`` that come next: their 1s and the zeros
        before those, as indices in the whole stream (a compiled scan,
        csrc/t4_eol.c); the scan is left as it is."""
        ends, zeros, _ = t4.eol_find(bits, self._count, self._last_one)
        return ends, zeros

    def add(self, bits: np.ndarray, found: tuple | None = None) -> None:
        """Take the next ``bits`` (``found``: their ``found(bits)``, or of more bits
        from the same place: only those inside ``bits`` are kept)."""
        stop = self._count + bits.size
        if found is None:
            ends, zeros, last = t4.eol_find(bits, self._count, self._last_one)
        else:                               # (found over more bits: only those inside)
            ends, zeros = found
            keep = np.searchsorted(ends, stop)
            ends, zeros = ends[:keep], zeros[:keep]
            last = t4.last_one(bits)
            last = self._count + last if last >= 0 else self._last_one
        if ends.size:
            self._ends.append(ends)
            self._zeros.append(zeros)
        self._last_one = last
        self._count = stop

    def eols(self, more: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The EOLs so far (and in ``more`` bits after them, leaving the scan as it is)."""
        ends, zeros = self._ends, self._zeros
        if more is not None and more.size:
            tail = EolScan()
            tail._count, tail._last_one = self._count, self._last_one
            tail.add(more)
            ends, zeros = ends + tail._ends, zeros + tail._zeros
        if not ends:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(ends), np.concatenate(zeros)


class PageDecoder:
    """A non-ECM page decoded as its bits arrive, a piece at a time.

    ``add(bits)`` takes the bits of the signal as they come; once
    ``DECODE_PIECE_BITS`` are waiting, the lines up to the last EOL that
    starts a 1-D line (any EOL in MH; in MR one whose tag bit is 1, T.4
    §4.2.1) within ``DECODE_PIECE_LINES`` are decoded with
    ``t4.decode_lenient``: such a line needs no line above it, so the
    pieces give the lines a whole-page decode gives.  The lines go straight
    into the page's image, made for ``rows`` lines (more if the page is
    longer) and never cleared (each row is written before it is read: the
    memory of the page before is used again as it is), so neither a piece
    nor the end copies or clears the page.
    The page starts at its first EOL, as ``decode_lenient`` starts it.
    ``finish(bits, start, stop)`` decodes what is left of ``bits[start:stop]``
    (``stop``: the end of RTC) and returns the page as ``decode_lenient``
    would, with two differences on damaged pages only: a bad first line of
    a piece is white rather than the line above, and a run of bad lines
    across a cut counts as two runs.
    """

    def __init__(self, width: int, coding: str, max_lines: int, rows: int = 4096) -> None:
        self.width, self.coding, self.max_lines = width, coding, max_lines
        self._image = self._new_image(min(rows, max_lines))
        self.fed = 0                    # bits taken so far
        self._scan = EolScan()          # the EOLs of the bits before the pending ones
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        self._at = 0                    # index in the signal of the first pending bit
        self._started = False
        self._pieces: list[tuple[int, int, int, t4.BadLines]] = []   # bits from, to; lines
        self._rows = 0
        self.pieces_decoded = 0

    def add(self, bits: np.ndarray) -> None:
        self._pending.append(bits)
        self._pending_n += bits.size
        self.fed += bits.size
        if self._pending_n >= DECODE_PIECE_BITS and self._rows < self.max_lines:
            self._decode_ready()

    def _decode_ready(self) -> None:
        buf = np.concatenate(self._pending)
        found = self._scan.found(buf)       # one scan of these bits, kept as they are cut
        ends, zeros = found[0] - self._at, found[1]
        if not self._started:
            if not ends.size:
                self._pending, self._pending_n = [buf], buf.size
                return
            self._started = True
            drop = int(ends[0] - zeros[0])  # what came before the first EOL is no line
            self._scan.add(buf[:drop], found)
            ends, buf = ends - drop, buf[drop:]
            self._at += drop
        if self.coding == "mr":
            one_d = (ends + 1 < buf.size) & (buf[np.minimum(ends + 1, buf.size - 1)] == 1)
        else:
            one_d = np.ones(ends.size, bool)
        # never between two EOLs in a row (RTC, T.4 §4.1.4: the page ends there)
        one_d[1:] &= np.diff(ends) > 13
        cuts = np.flatnonzero(one_d[1:DECODE_PIECE_LINES + 1]) + 1   # not the first EOL
        if not cuts.size:
            self._pending, self._pending_n = [buf], buf.size
            return
        # cut just before the EOL's own 11 zeros: zeros before them may end
        # the line above (a code can end in 0s) or be its fill
        cut = int(ends[cuts[-1]]) - 11
        self._scan.add(buf[:cut], found)
        self._decode(buf[:cut], self._at)
        self._at += cut
        self._pending, self._pending_n = [buf[cut:]], buf.size - cut

    def _decode(self, bits: np.ndarray, at: int) -> None:
        image, bad = t4.decode_lenient(bits_to_bytes(bits), self.width, self.coding,
                                       max_lines=max(self.max_lines - self._rows, 1))
        rows = self._rows + image.shape[0]
        if rows > self._image.shape[0]:             # a page longer than foreseen
            bigger = self._new_image(max(rows, 2 * self._image.shape[0]))
            bigger[:self._rows] = self._image[:self._rows]
            self._image = bigger
        self._image[self._rows:rows] = image
        self._pieces.append((at, at + bits.size, image.shape[0], bad))
        self._rows = rows
        self.pieces_decoded += 1

    def _new_image(self, rows: int) -> np.ndarray:
        # not cleared (every row is written before it is read): memory the
        # allocator had from the page before, or the system maps as written
        return np.empty((rows, self.width), np.bool_)

    def eols(self, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The EOLs of ``bits`` (the bits this decoder was fed), as ``EolScan``
        gives them: those of the pieces decoded were found as they came."""
        return self._scan.eols(bits[self._at:])

    def finish(self, bits: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, t4.BadLines]:
        """The page in ``bits[start:stop]`` (the bits this decoder was fed)."""
        pieces = [p for p in self._pieces if p[0] < stop]
        if pieces and pieces[0][0] != start:        # another start than the first EOL seen
            pieces = []
        self._pieces = pieces
        self._rows = sum(p[2] for p in pieces)
        end = pieces[-1][1] if pieces else start
        if end < stop and self._rows < self.max_lines:
            self._decode(bits[end:stop], end)
        bad = t4.BadLines(sum(p[3].count for p in self._pieces),
                          max((p[3].longest_run for p in self._pieces), default=0), self._rows)
        return self._image[:self._rows], bad


def _longest_run(flags: np.ndarray) -> int:
    """The most consecutive True values in ``flags``."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if starts.size else 0


class HsReceiver(_link.HsBlocks):
    """A high-speed receiver for one (modem, rate), delivering whole signals.

    ``feed(samples)`` runs the demodulator and returns the bits of a signal
    that just ended (carrier lost after data bits came), else None; bits so
    far are in ``bits()``.  ``poor_share`` then says for what share of a
    stretch of the signal the decision SNR was below ``POOR_SNR_DB`` (the
    modem had lost it: those bits are garbage), and ``last_decoder`` its
    page, decoded as the bits came, when the terminal gave a
    ``PageDecoder`` as ``decoder`` (else None).  ``ecm=True`` also runs an HDLC receiver on the
    bits and collects good frames in ``frames``.  V.29 and V.27ter
    receivers are restarted after every signal (each brings its training);
    V.17's keeps its equaliser so the next signal may use the short
    training.

    The per-block bookkeeping (``feed``, ``_took``: the bits appended, the
    block's quality, frames and page lines decoded as they come, the end at
    the carrier's loss) and the properties the terminal reads each block
    (``receiving``, ``holds_line``, ``_count``, ``_flowing``) are compiled
    (``faxengine/t30/_link.pyx``, ``HsBlocks``); the rest is here.
    """

    def __init__(self, modem: str, rate: int, ecm: bool = False) -> None:
        self.modem = modem
        self.rate = rate
        self._rx = _RX[modem](rate=rate)
        self._core = self._rx._core         # (read once per block)
        self._v17 = modem == V17            # (holds_line: see its docstring)
        self._hdlc: HdlcRx | None = None
        self.signals = 0
        self._poor_snr = POOR_SNR_DB[modem, rate]
        # per block taken (HsBlocks): the bits so far, and whether the decision
        # SNR was poor; seen by numpy at the signal's end
        self._last_quality = (np.zeros(0, np.int64), np.zeros(0, bool))
        self.decoder = None                 # a PageDecoder, set by the terminal for a non-ECM page
        self.last_decoder: PageDecoder | None = None
        if ecm:
            self.collect_frames()

    def collect_frames(self) -> None:
        """From now on, also decode HDLC frames (ECM) from the bits."""
        if self._hdlc is None:
            self._hdlc = HdlcRx(max_len=260)
            self._hdlc_core = self._hdlc._core

    # ``receiving``: True while a trained signal is coming in (timers wait
    # meanwhile).  ``holds_line`` (both compiled, HsBlocks): True while a
    # trained signal comes in and its decisions are good (decision SNR at or
    # above ``POOR_SNR_DB``): nothing else can be on the line then (T.30 is
    # half duplex), so the terminal need not listen for V.21 meanwhile.
    # Noise that holds the carrier detector on after the signal ended does
    # not hold the line: the receiver stops giving bits when its signal
    # ends.  Only V.17's receiver does that while the level stays up (its
    # equaliser's output power falls: csrc/v17rx.c); the V.29 and V.27ter
    # receivers go on deciding whatever follows their signal, and a V.21
    # signal can keep their carrier on with passable decisions (seen at
    # V.27ter 2400 on a jammed line), so with them V.21 always listens.

    @property
    def carrier_present(self) -> bool:
        return self._core.carrier_present

    @property
    def snr_db(self) -> float:
        return self._rx.snr_db

    def poor_share(self, start: int, stop: int) -> tuple[float, float]:
        """For the last ended signal, between its bits ``start`` and ``stop``:
        the share of the time the decision SNR was poor, and the share of the
        longest unbroken poor stretch."""
        counts, poor = self._last_quality
        poor = poor[(counts > start) & (counts <= stop)]
        if not poor.size:
            return 0.0, 0.0
        return float(poor.sum()) / poor.size, _longest_run(poor) / poor.size

    def fillin(self, n: int) -> np.ndarray | None:
        """``n`` samples that never arrived: the modem keeps its timing and
        carrier (its ``fillin``) and its bits over the hole keep the place of
        the bits lost, counted as poor (``poor_share``); as ``feed`` otherwise."""
        return self._took(self._rx.fillin(n), True)

    def end(self) -> np.ndarray:
        """End the signal in progress (carrier lost, or the caller gave up on it)."""
        bits, counts, poor = self._take_signal()
        self._last_quality = (counts, poor)
        self.last_decoder, self.decoder = self.decoder, None
        self.signals += 1
        if self._hdlc is not None:
            self._hdlc.reset()
        if self.modem != V17:
            self._rx.restart()
        return bits
