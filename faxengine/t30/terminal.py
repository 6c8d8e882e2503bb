"""The T.30 fax terminal, sans I/O: samples in, samples out, time counted in samples.

``FaxTerminal`` is a whole Group 3 fax machine without a telephone line:
``tx(n)`` gives the next ``n`` samples to send (silence while it listens),
``rx(samples)`` takes what it heard, ``finished`` and ``result`` say how the
call ended.  It never reads a clock, sleeps or opens anything but the
TIFF files it was given, so a call replays bit for bit and runs back to
back with another terminal much faster than real time.

How it works
------------
* Protocol: phases B to E follow the transition table of
  ``faxengine.t30.states`` (side -> state -> event -> new state, actions).
  This module turns what happens -- a frame heard, a signal ended, a timer
  run out, a transmission finished -- into the table's events, performs
  the actions it names and runs the timers it lists for each state.
* Phase A (T.30 §4): the calling terminal sends CNG (1100 Hz, 0.5 s on,
  3 s off) until it hears V.21 flags; the answering terminal sends 0.2 s
  of silence, CED for 2.6 s, and then its DIS 75 ms later.  Meanwhile the
  caller's ``ToneDetector`` listens for CED and V.21: either marks a fax
  (one that answers without CED, or whose frames do not get through, is
  still one); audio above ``NOT_FAX_DBM0`` with neither by the end of T1
  is a voice (or other device), ``NOT_FAX``.
* Link (``faxengine.t30.link``): half duplex.  A transmission is queued
  whole (V.21 frames) or as a ``link.HsSignal`` that codes and modulates
  TCF, a page or an ECM block as ``tx`` pulls it (no step does a page's
  work); while the queue has samples the terminal is deaf.  When it listens it runs the
  V.21 receiver and, where T.30 expects image data or TCF, the high-speed
  receiver of the DCS in parallel.  A transmission that follows reception
  waits until the remote V.21 carrier is off (at most ``HOLD_MAX``: noise
  can hold a carrier detector on), then 75 ms of silence (§5.3.2.3).
* Timers (§5.4.3.2): T1 runs from the start of the call; T2, T4 and T5
  start when the state is entered, or when the transmission that entered
  it has ended.  T2 and T4 are held while a signal is coming in (V.21 flags
  or a trained high-speed carrier): they time silence, not long pages.
* Page quality without ECM: ``decode_lenient``'s bad lines, judged by
  ``quality.judge_page`` (MCF, RTP, RTN).  TCF: ``quality.judge_tcf``.
* Lost audio: ``rx_fillin(n)`` for samples that never arrived; the modems
  keep timing and carrier over the hole (their ``fillin``), ECM asks for
  the frames it spoilt again, without ECM its lines count as bad.
* Page length: a receiver takes pages up to ``max_page_lines`` scan lines
  and its DIS offers the length that allows; a longer page ends the call.
* ECM (Annex A): ``ecm.split_page`` blocks, FCD and 3 RCP frames at the
  image rate, PPS over V.21; PPR resends the frames asked for; the fourth
  PPR for a block brings CTC at the next lower rate, or EOR at the lowest.
* Received pages go into a TIFF-F file with ``tiff.TiffWriter`` as each is
  confirmed, so a call that breaks off keeps the pages before.
* Trace: every frame sent and received on logger ``faxengine.t30``
  (``trace.log_frame``), and state changes at DEBUG.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence

import numpy as np

from faxengine import t4
from faxengine.errors import FaxError
from faxengine.levels import SAMPLE_RATE, dbm0_to_power
from faxengine.modem import CngTx, CedTx, HdlcRx, ToneDetector, V21Rx
from faxengine.t30 import link
from faxengine.t30.ecm import (
    FRAMES_PER_BLOCK, EcmBlockReceiver, PartialPage, ctc_fif, ctc_mode, eor_frame, eor_post,
    ppr_frames, rcp_frames, split_page)
from faxengine.t30.errors import (
    IncompatibleError, LocalProtocolError, RemoteProtocolError, T30Error)
from faxengine.t30.facilities import (
    MODEM_RATES, MODES, V17, V27TER, V29, Capabilities, Dcs, Preferences, choose_dcs, fallback)
from faxengine.t30.frames import (
    X_CODES, Fcf, Frame, decode_ident, encode_ident, ident_frame, message)
from faxengine.t30.quality import judge_page, judge_tcf, tcf_bits
from faxengine.t30.result import CODES, Result
from faxengine.t30.states import (
    COMMAND_TRIES, END, PAGE_RETRIES, START, TIMERS, timer_samples, transition)
from faxengine.t30.trace import log_frame, logger
from faxengine.t4.page import FAX_WIDTHS, RESOLUTIONS, Page

__all__ = ["FaxTerminal", "Result"]

HOLD_MAX = 2400                 # wait at most 0.3 s for the remote carrier to drop
CED_SILENCE_S = 0.2             # V.25: silence before CED (after the line is connected)
CED_S = 2.6                     # T.30 §4.2: CED lasts 2.6 to 4 s
TCF_MARGIN_S = 0.6              # TCF is judged at the latest 75 ms + training + 1.5 s + this
MIN_PAGE_BITS = 200             # a shorter high-speed signal is noise, not a page
PPR_LIMIT = 4                   # T.30 §A.4.5: the fourth PPR for a block -> CTC or EOR
NOT_FAX_DBM0 = -40.0            # phase A: a louder signal with no fax tones is a voice
_PRI = {Fcf.PRI_MPS: "MPS", Fcf.PRI_EOM: "EOM", Fcf.PRI_EOP: "EOP",
        Fcf.MPS: "MPS", Fcf.EOM: "EOM", Fcf.EOP: "EOP"}
_RESPONSE_FRAMES = {"CFR": Fcf.CFR, "FTT": Fcf.FTT, "MCF": Fcf.MCF, "RTP": Fcf.RTP,
                    "RTN": Fcf.RTN, "CTR": Fcf.CTR, "ERR": Fcf.ERR}
_POST_FRAMES = {"MPS": Fcf.MPS, "EOM": Fcf.EOM, "EOP": Fcf.EOP}
_LENGTH_MM = (("A4", 297.0), ("B4", 364.0))
MAX_PAGE_LINES = 65536          # a receiver's default: 8.5 m at fine, 4.2 m at 400 lines/inch


def _lines_of(length: str) -> int:
    """Scan lines of a page ``length`` ("A4", "B4") long at the finest resolution
    fax has (400 lines/inch): what a receiver must take to offer that length."""
    finest = max(y for _, y in RESOLUTIONS.values())
    return int(np.ceil(dict(_LENGTH_MM)[length] / 25.4 * finest))


def _dis_length(max_page_lines: int) -> str:
    """The recording length (T.30 Table 2, DIS bits 19-20) a receiver that takes
    pages up to ``max_page_lines`` scan lines may offer: "A4" when that is
    less than a B4 page at 400 lines/inch, "unlimited" from there (T.30 has
    no length between B4 and unlimited: a longer page then ends the call
    with a message naming the setting, never a cut page).

    Raises:
        LocalProtocolError: fewer lines than an A4 page at 400 lines/inch.
    """
    if isinstance(max_page_lines, bool) or not isinstance(max_page_lines, int) \
            or max_page_lines < _lines_of("A4"):
        raise LocalProtocolError(
            f"max_page_lines must be an int of at least {_lines_of('A4')} (an A4 page at 400 "
            f"lines/inch, the least a DIS can offer), not {max_page_lines!r}")
    return "A4" if max_page_lines < _lines_of("B4") else "unlimited"


def _load(send) -> list[Page]:
    """The pages to send: paths of TIFF files, Pages, or lists of Pages."""
    from faxengine import tiff

    pages: list[Page] = []
    items = [send] if isinstance(send, (str, os.PathLike, Page)) else list(send)
    for item in items:
        if isinstance(item, Page):
            pages.append(item)
        elif isinstance(item, (str, os.PathLike)):
            pages.extend(tiff.read(item))
        else:
            pages.extend(_load(item))
    if not pages:
        raise LocalProtocolError("nothing to send: the document has no pages")
    return pages


def _eols(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The EOLs in the bits (T.4 §4.1.2: 11 or more zeros, then a 1): the
    index of each one's 1 and the number of zeros before it."""
    ones = np.flatnonzero(bits)
    zeros = np.diff(ones, prepend=-1) - 1
    eol = zeros >= 11
    return ones[eol], zeros[eol]


def _first_eol(bits: np.ndarray, eols: tuple | None = None) -> int:
    """Index of the first run of 11 zeros followed by a 1 (T.4 EOL), else 0.

    Bits a receiver delivers before the first EOL (the end of its training)
    are not image data; dropping them keeps line 1 intact.  ``eols``: the
    bits' ``_eols``, when already found (``link.EolScan``).
    """
    ends, zeros = _eols(bits) if eols is None else eols
    return int(ends[0] - zeros[0]) if ends.size else 0


def _rtc_end(bits: np.ndarray, eols: tuple | None = None) -> int:
    """Where RTC (six EOLs in a row, T.4 §4.1.4) ends in the bits, else their length.

    What a receiver delivers after RTC (the modem's turn-off, a V.21 signal
    it took for data) is not part of the page.  ``eols`` as for ``_first_eol``.
    """
    eols = (_eols(bits) if eols is None else eols)[0]
    step = np.diff(eols)
    if step.size < 5:
        return bits.size
    empty = ((step == 12) | (step == 13)).astype(np.int8)      # MH EOL, MR EOL + 1
    hit = np.flatnonzero(np.convolve(empty, np.ones(5, np.int8), "valid") == 5)
    return bits.size if hit.size == 0 else min(int(eols[hit[0] + 5]) + 2, bits.size)


def _lines_lost(bits: np.ndarray, window: int = 20, factor: float = 4.0,
                eols: tuple | None = None) -> int:
    """Scan lines a non-ECM page lost in stretches of garbage, judged from its EOLs.

    A noise burst turns the lines sent during it into one stretch of bits
    that the decoder counts as a single bad line.  A gap between EOLs (11 or
    more zeros, then a 1: T.4 §4.1.2) more than ``factor`` times as long as
    every gap among its ``window`` neighbours on each side (and than 64
    bits) is such a stretch; it stands for as many lines as its neighbours'
    median length would fill.  Coded lines grow and shrink gradually down a
    page, so a clean page has no such gap (none on the eight CCITT charts in
    MH or MR).  ``eols`` as for ``_first_eol``.
    """
    gaps = np.diff((_eols(bits) if eols is None else eols)[0]).astype(np.float64)
    if gaps.size < 2 * window:
        return 0
    pad = np.zeros(window)
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate((pad, gaps, pad)), window)
    left, right = windows[:gaps.size], windows[window + 1:window + 1 + gaps.size]
    near = np.maximum(np.maximum(left.max(axis=1), right.max(axis=1)), 64.0)
    burst = np.flatnonzero(gaps > factor * near)
    lost = 0
    for i in burst:
        typical = max(float(np.median(np.concatenate((left[i], right[i])))), 1.0)
        lost += max(int(round(gaps[i] / typical)) - 1, 0)
    return lost


class FaxTerminal:
    """A Group 3 fax terminal (T.30), calling or answering, sending or receiving.

    Args:
        calling: the calling terminal (sends CNG, waits for DIS) or the
            answering one (sends CED and DIS).
        send: the document: TIFF paths, ``Page`` objects or lists of them.
        receive: where to write the received pages (TIFF-F), or None.  A
            calling terminal with ``receive`` and no ``send`` polls (DTC).
        ecm: offer and use error correction mode (T.30 Annex A).
        max_rate: the highest image rate to offer or use (14400 ... 2400).
        modems: the image modems offered: a subset T.30 can express of
            "V.17", "V.29", "V.27ter".
        codings: the codings offered / allowed, best first ("mmr", "mr", "mh").
        frame_size: ECM frame size the sender uses, 256 or 64 octets.
        ident: the identity sent as CSI/TSI/CIG (digits, "+", space), or None.
        receive_coding: the coding of the TIFF-F file written.
        power_dbm0: transmit level.
        page_retries: how often a sender retrains and resends a page after RTN.
        max_page_lines: the longest page a receiver takes, in scan lines
            (default 65 536).  The DIS offers "unlimited" length from a B4
            page at 400 lines/inch up, else A4; a longer page ends the call
            (``LOCAL_ABORT``, the message says so), it is never cut.

    Raises:
        LocalProtocolError: nothing to send or receive, or bad options.
    """

    def __init__(self, calling: bool = True, send=None, receive: str | os.PathLike | None = None,
                 ecm: bool = True, *, max_rate: int = 14400,
                 modems: Iterable[str] = (V17, V29, V27TER),
                 codings: Sequence[str] = ("mmr", "mr", "mh"), frame_size: int = 256,
                 ident: str | None = None, receive_coding: str = "mmr",
                 power_dbm0: float = link.TX_POWER_DBM0, page_retries: int = PAGE_RETRIES,
                 max_page_lines: int = MAX_PAGE_LINES) -> None:
        if send is None and receive is None:
            raise LocalProtocolError("a fax terminal needs a document to send or a file to receive")
        if send is not None and receive is not None:
            raise LocalProtocolError("send or receive, not both, in one call")
        if max_rate not in {r for _, r in MODES}:
            raise LocalProtocolError(f"max_rate must be one of 14400, 12000, 9600, 7200, 4800, "
                                     f"2400, not {max_rate}")
        if ident is not None:
            encode_ident(ident)             # refuse a bad identity now, not mid-call
        self.calling = bool(calling)
        self.side = "sender" if send is not None else "receiver"
        self.role = "calling" if calling else "answering"
        self.ecm = bool(ecm)
        self.ident = ident
        self.power_dbm0 = power_dbm0
        self.page_retries = page_retries
        self.max_page_lines = max_page_lines
        max_length = _dis_length(max_page_lines)
        self._x = self.calling          # T.30 §5.3.6.1: X = 1 at the station that received DIS
        self._pages = _load(send) if send is not None else []
        self._receive_path = receive
        self._receive_coding = receive_coding
        self._writer = None
        self._codings = tuple(codings)
        self._frame_size = frame_size
        self._max_rate = max_rate
        # a modem none of whose rates is allowed is not offered
        offered = frozenset(m for m in modems if min(MODEM_RATES[m]) <= max_rate)
        self._local = Capabilities(
            modems=offered, codings=frozenset(codings),
            resolutions=frozenset(RESOLUTIONS), max_width="A3", max_length=max_length,
            ecm=self.ecm, can_receive=self.side == "receiver",
            ready_to_transmit=self.side == "sender" and not self.calling)
        for i in range(len(self._pages)):
            self._mode_of(i)                    # refuse pages fax cannot carry, now
        # clocks: samples sent (line time) and samples heard (timers)
        self._tx_time = 0
        self._now = 0
        # transmit side
        self._txq: list[np.ndarray] = []
        self._txq_pos = 0
        self._hold = 0                  # samples held waiting for the remote carrier to drop
        self._holding = False
        self._after_tx = None           # event fired when the queue drains
        self._hs_chunk: np.ndarray | None = None   # the page/block signal, for progress
        self._hs_sent = 0
        self._cng = CngTx(power_dbm0) if self.calling else None
        # receive side
        self._v21 = V21Rx()
        self._hdlc = HdlcRx()
        self._hs: link.HsReceiver | None = None
        self._carrier_since: int | None = None
        self._heard_fax = False
        self._heard_energy = False
        self._energy_floor = dbm0_to_power(NOT_FAX_DBM0)     # mean square
        # phase A: the caller listens for CED and V.21 (the marks of a fax answer)
        self._tones = ToneDetector() if self.calling else None
        # protocol
        self._state = START[(self.side, self.role)]
        self._t1 = timer_samples("T1")      # from the start of the call
        self._t1_running = True
        self._deadlines: dict[str, int | None] = {}
        self._cmd: list = []            # how to send the last command again
        self._resp: list = []           # ... and the last response
        self._fresh_cmd = self._fresh_resp = True
        self._tries = 0
        self._finished = False
        self._ending: str | None = None
        self._detail = ""
        self.result: Result | None = None
        # negotiated
        self._remote: Capabilities | None = None
        self._dcs: Dcs | None = None
        self._next_dcs: Dcs | None = None
        self._trained = False           # V.17 short training allowed (CFR at this rate)
        self.remote_ident = ""
        self.pages_done = 0
        # sender progress
        self._page_i = 0
        self._retries = 0
        self._blocks: list = []
        self._block_i = 0
        self._coder: link.PageCoder | None = None   # ECM: the next page, coded ahead
        self._post = "EOP"
        self._ppr_count = 0
        self._ppr_want: list[int] = []
        self._page_incomplete = False
        self._incomplete: list[int] = []    # pages that went (or came) with EOR
        self._pages_ended = 0               # pages received, saved or not
        # receiver progress
        self._expect_page = False
        self._page_signal = False           # high-speed data came since our answer
        self._answered = ""                 # the last response sent (CFR, MCF, ...)
        self._page_image: np.ndarray | None = None
        self._ecm_rx: EcmBlockReceiver | None = None
        self._page_data: list[bytes] = []
        self._confirmed: tuple[int, int] | None = None
        self._tcf_deadline: int | None = None
        if not self.calling:            # answering: CED, then DIS (or DIS offering a document)
            ced = CedTx(power_dbm0, duration_s=CED_S, silence_before_s=CED_SILENCE_S,
                        silence_after_s=0.0)
            n = int(round((CED_SILENCE_S + CED_S) * SAMPLE_RATE))
            self._queue(ced.generate(n))
            self._fresh_cmd = True
            self._do("send DIS")
        self._enter(self._state)

    # ------------------------------------------------------------------ public
    @property
    def finished(self) -> bool:
        """True once the call has ended (phase E done, or a failure)."""
        return self._finished

    @property
    def transmitting(self) -> bool:
        """True while the terminal has a signal to send (it hears nothing then)."""
        return bool(self._txq) and not self._holding

    @property
    def state(self) -> str:
        """The current state of the transition table (``END`` at the end)."""
        return self._state

    @property
    def progress(self) -> tuple[int, int, float]:
        """(page, pages, fraction): the page being sent (1-based; for a receiver
        the page being received), how many the document has (0 when a
        receiver cannot know), and how much of its current transmission has
        gone out (0.0-1.0; 1.0 once the page is confirmed)."""
        if self.side == "receiver":
            return self.pages_done + 1, 0, 0.0
        page = min(self._page_i + 1, len(self._pages))
        if self._page_i >= len(self._pages):
            return page, len(self._pages), 1.0
        chunk = self._hs_chunk
        frac = self._hs_sent / chunk.size if chunk is not None and chunk.size else 0.0
        if self._blocks:
            frac = (self._block_i + frac) / len(self._blocks)
        return page, len(self._pages), min(frac, 1.0)

    def tx(self, n: int) -> np.ndarray:
        """The next ``n`` samples to send (int16; silence while listening)."""
        out = np.zeros(n, dtype=np.int16)
        pos = 0
        if self._holding:
            if self._v21.carrier_present and self._hold < HOLD_MAX:
                self._hold += n
                self._tx_time += n
                return out
            self._holding = False
        while pos < n and self._txq:
            chunk = self._txq[0]
            if isinstance(chunk, link.HsSignal):    # built as it goes out
                got = chunk.take(n - pos)
                take = got.size
                out[pos:pos + take] = got
                ended = chunk.done
            else:
                take = min(n - pos, chunk.size - self._txq_pos)
                out[pos:pos + take] = chunk[self._txq_pos:self._txq_pos + take]
                self._txq_pos += take
                ended = self._txq_pos >= chunk.size
            if chunk is self._hs_chunk:     # progress: the share sent, of an estimated size
                self._hs_sent = chunk.fraction * chunk.size
            pos += take
            if ended:
                self._txq.pop(0)
                self._txq_pos = 0
                if not self._txq:
                    self._drained()
        if self._dcs is not None and self._dcs.ecm and self._pages and not self._finished:
            self._code_ahead()
        if pos < n and self._cng is not None and not self._finished:
            out[pos:] = self._cng.generate(n - pos)
        self._tx_time += n
        return out

    def rx(self, samples) -> None:
        """Take ``n`` samples heard on the line (int16)."""
        samples = np.asarray(samples)
        if samples.dtype != np.int16:
            samples = samples.astype(np.int16)
        self._now += samples.size
        if self._finished or (self._txq and not self._holding):
            return                          # half duplex: deaf while sending
        try:
            self._rx(samples)
        except (FaxError, OSError) as exc:  # e.g. the TIFF file cannot be written
            self._failed(exc)

    def rx_fillin(self, n: int) -> None:
        """``n`` samples that never arrived (a lost RTP packet), as spandsp's
        ``fax_rx_fillin``: time goes on (timers run), and the receivers keep
        their timing and carrier and make bits over the hole (``fillin`` of
        the modems), so what comes after keeps its place.  An ECM frame hit
        by the hole fails its FCS and is asked for again (PPR); without ECM
        the lines hit are counted bad and the page judged as any other.

        Raises:
            LocalProtocolError: ``n`` is not a count of samples.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise LocalProtocolError(f"rx_fillin takes a count of samples (int >= 0), not {n!r}")
        self._now += n
        if self._finished or (self._txq and not self._holding) or n == 0:
            return
        try:
            for f in self._hdlc.decode(self._v21.fillin(n)):
                if f.ok:
                    self._frame_in(f.data)
                if self._state == END:
                    return
            if self._hs is not None:
                self._hs_heard(self._hs.fillin(n))
            if self._state != END:
                self._timers()
        except (FaxError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """A local failure mid-call (not the remote's fault): hang up with DCN."""
        logger.error("call aborted: %s", exc)
        if self._state != END:
            self._detail = str(exc)
            self._end("LOCAL_ABORT", "send DCN")

    def _rx(self, samples: np.ndarray) -> None:
        frames = self._hdlc.decode(self._v21.demodulate(samples))
        if self._cng is not None:
            self._phase_a(samples)
        for f in frames:
            if f.ok:
                self._frame_in(f.data)
            if self._state == END:
                return
        if self._hs is not None:
            self._hs_heard(self._hs.feed(samples))
        if self._state != END:
            self._timers()

    def _hs_heard(self, ended: np.ndarray | None) -> None:
        """The high-speed receiver took a block (heard or filled in): its
        frames, and the end of its signal (carrier lost, or TCF waited for)."""
        hs = self._hs
        self._page_signal |= hs.receiving
        if (hs.decoder is None and self._expect_page and self._dcs is not None
                and not self._dcs.ecm and not hs.receiving):
            # a non-ECM page is decoded as it comes (link.PageDecoder)
            hs.decoder = link.PageDecoder(self._dcs.pels, self._dcs.coding,
                                          self.max_page_lines + 1)
        if hs.frames:
            for data in hs.frames:
                self._frame_in(data, high_speed=True)
            hs.frames.clear()
        if ended is not None:
            self._signal_end(ended)
        elif self._tcf_deadline is not None and self._now >= self._tcf_deadline:
            self._signal_end(hs.end())

    def abort(self) -> None:
        """Hang up now: DCN is sent and the result is ``LOCAL_ABORT``."""
        if self._state != END and not self._event("LOCAL_ABORT"):
            self._end("LOCAL_ABORT", "send DCN")

    # ---------------------------------------------------------------- sending
    def _queue(self, samples: np.ndarray) -> None:
        """Append a signal; a transmission that starts now waits for the remote carrier to drop."""
        if samples.size:
            if not self._txq:
                self._holding, self._hold = True, 0
            self._txq.append(samples)

    def _drained(self) -> None:
        """The last queued sample went out: listen again, start waiting timers."""
        self._v21.restart()
        self._hdlc.reset()
        for name, deadline in self._deadlines.items():
            if deadline is None:
                self._deadlines[name] = self._now + timer_samples(name)
        if self._ending is not None:
            self._finish()
            return
        event, self._after_tx = self._after_tx, None
        if event is not None:
            try:
                self._event(event)
            except (FaxError, OSError) as exc:
                self._failed(exc)

    def _send_frames(self, *frames: Frame) -> None:
        for f in frames:
            log_frame("tx", f)
        self._queue(link.v21_signal(frames, self.power_dbm0))

    def _x_frame(self, fcf: Fcf, fif: bytes = b"") -> Frame:
        return Frame(fcf, fif, x=self._x and fcf in X_CODES)

    def _ident(self, fcf: Fcf) -> list[Frame]:
        return [ident_frame(fcf, self.ident, self._x)] if self.ident else []

    # ------------------------------------------------------------- receiving
    def _phase_a(self, samples: np.ndarray) -> None:
        """Caller in phase A: stop CNG at the first V.21 flags; note CED or V.21
        (a fax answered, even if no frame gets through) and loud audio without
        them (a voice: NOT_FAX when T1 ends)."""
        if self._hdlc.framing_ok or self._state != "B:WAIT_DIS":
            self._cng = None
            self._heard_fax = True
            self._tones = None
            return
        if self._tones is not None and any(e.kind in ("CED", "V21")
                                           for e in self._tones.process(samples)):
            self._heard_fax = True
            self._tones = None
        if not self._heard_energy and samples.size:
            power = float(np.dot(samples.astype(np.float64), samples)) / samples.size
            self._heard_energy = power > self._energy_floor

    def _frame_in(self, data: bytes, high_speed: bool = False) -> None:
        try:
            frame = Frame.parse(data)
        except RemoteProtocolError:
            return
        log_frame("rx", frame)
        self._heard_fax = True
        fcf = frame.fcf
        if fcf in (Fcf.CSI, Fcf.TSI, Fcf.CIG):
            self.remote_ident = decode_ident(frame.fif)
            return
        if fcf is Fcf.FCD:
            if self._ecm_rx is not None and frame.fif:
                try:
                    self._ecm_rx.add(frame)
                except T30Error:        # not one of this block's frames
                    pass
            return
        if fcf is Fcf.RCP or high_speed or not frame.final:
            return
        try:
            handler = getattr(self, f"_{self.side}_frame")
            event = handler(frame)
        except T30Error as exc:
            logger.info("ignored %s: %s", frame.name, exc)
            return
        if event is not None:
            self._event(event)

    def _signal_end(self, bits: np.ndarray) -> None:
        """A high-speed signal ended (carrier lost, or TCF waited for long enough)."""
        if self._state == "B:RECEIVE_TCF":
            self._tcf_deadline = None
            good = judge_tcf(bits, self._dcs.rate)
            logger.info("rx TCF: %d bits, %s", bits.size, "good" if good else "bad")
            self._event("TCF_GOOD" if good else "TCF_BAD")
        elif (self._state == "C:RECEIVE_PAGE" and self._expect_page and not self._dcs.ecm
              and bits.size >= MIN_PAGE_BITS):
            self._judge_page(bits)

    def _judge_page(self, bits: np.ndarray) -> None:
        dcs = self._dcs
        self._expect_page = False
        # the page's EOLs were found and its lines decoded as the bits came
        # (link.PageDecoder), when the decoder saw the whole signal
        decoder = self._hs.last_decoder if self._hs is not None else None
        if decoder is None or decoder.fed != bits.size:
            decoder = None
        eols = decoder.eols(bits) if decoder is not None else None
        start, stop = _first_eol(bits, eols), _rtc_end(bits, eols)
        if eols is not None:
            inside = (eols[0] >= start) & (eols[0] < stop)
            eols = eols[0][inside] - start, eols[1][inside]
        if decoder is not None:
            image, bad = self._decode_page(None, decoder.finish(bits, start, stop))
        else:
            image, bad = self._decode_page(link.bits_to_bytes(bits[start:stop]))
        bits = bits[start:stop]
        # A noise burst leaves one bad line where many were lost: count them,
        # from the EOLs and from the time the modem had lost the signal
        share, longest = self._hs.poor_share(start, stop) if self._hs else (0.0, 0.0)
        gap_lost = _lines_lost(bits, eols=eols)
        lost = max(gap_lost, round(share * bad.total_lines))
        if lost > 0:
            run = max(bad.longest_run, gap_lost, round(longest * bad.total_lines))
            bad = t4.BadLines(bad.count + lost, run, bad.total_lines + lost)
        self._page_image = image
        answer = judge_page(bad, dcs.resolution)
        logger.info("rx page: %d lines, %d bad (longest run %d): %s", bad.total_lines,
                    bad.count, bad.longest_run, answer.name)
        self._event({Fcf.MCF: "PAGE_GOOD", Fcf.RTP: "PAGE_POOR"}.get(answer, "PAGE_BAD"))

    # ------------------------------------------------- frames -> table events
    def _sender_frame(self, frame: Frame) -> str | None:
        fcf, state = frame.fcf, self._state
        if fcf is Fcf.DIS and state.startswith("D:") and state != "D:WAIT_CTR":
            # the receiver is back in phase B (see states.py): after EOM our
            # command was taken and its response lost; after MPS/EOP/NULL the
            # page or block goes again once retrained, within the page's retries
            if self._dis_in_phase_d(state):
                self._detail = (f"the receiver answered page {self._page_i + 1} with DIS "
                                f"(back to phase B) {self._retries} times instead of confirming it")
                return "RTN_EXHAUSTED"
        if fcf in (Fcf.DIS, Fcf.DTC):
            if state in ("B:WAIT_DIS", "B:WAIT_DTC") or state.startswith("D:"):
                self._remote = Capabilities.decode(frame.fif)
                try:
                    self._next_dcs = choose_dcs(self._local, self._remote,
                                                self._preferences(self._page_i))
                except IncompatibleError as exc:
                    self._detail = str(exc)
                    return "INCOMPATIBLE"
            return fcf.name
        if fcf is Fcf.FTT and state == "B:WAIT_CFR":
            self._next_dcs = fallback(self._dcs, self._remote, self._local)
            return "FTT" if self._next_dcs is not None else "FTT_AT_LOWEST"
        if fcf is Fcf.CFR and state == "B:WAIT_CFR":
            self._trained = True
        if state.startswith("D:SENT_") and not state.startswith(("D:SENT_PPS", "D:SENT_EOR")):
            if fcf in (Fcf.MCF, Fcf.RTP):
                self.pages_done += 1
                self._page_i += 1
                self._retries = 0
                self._trained = fcf is Fcf.MCF
            elif fcf is Fcf.RTN:
                self._retries += 1
                self._trained = False
                if self._retries >= self.page_retries:
                    return "RTN_EXHAUSTED"
        elif state.startswith(("D:SENT_PPS", "D:RNR_", "D:SENT_EOR")):
            if fcf in (Fcf.MCF, Fcf.ERR):
                self._page_incomplete |= fcf is Fcf.ERR
                self._next_block()
            elif fcf is Fcf.PPR:
                self._ppr_want = ppr_frames(frame.fif)
                self._ppr_count += 1
                if self._ppr_count >= PPR_LIMIT:
                    self._ppr_count = 0
                    self._next_dcs = fallback(self._dcs, self._remote, self._local)
                    return "PPR_4TH" if self._next_dcs is not None else "PPR_GIVE_UP"
        return fcf.label

    def _dis_in_phase_d(self, state: str) -> bool:
        """DIS heard while waiting for a post-page response: what it confirms.
        True when the page has now gone unconfirmed ``page_retries`` times."""
        if not state.endswith("EOM"):
            self._trained = False
            self._retries += 1
            return self._retries >= self.page_retries
        if state.startswith("D:SENT_EOR"):         # as ERR
            self._page_incomplete = True
            self._next_block()
        elif state.startswith(("D:SENT_PPS", "D:RNR_")):    # as MCF
            self._next_block()
        else:                                       # non-ECM: as MCF
            self.pages_done += 1
            self._page_i += 1
            self._retries = 0
        return False

    def _next_block(self) -> None:
        """The current ECM block is confirmed (MCF) or given up (ERR)."""
        self._ppr_count = 0
        self._retries = 0
        self._block_i += 1
        if self._block_i >= len(self._blocks):
            if self._page_incomplete:       # EOR gave up on a block of it
                self._incomplete.append(self._page_i + 1)
            else:
                self.pages_done += 1
            self._page_incomplete = False
            self._page_i += 1
            self._blocks = []
            self._block_i = 0

    def _receiver_frame(self, frame: Frame) -> str | None:
        fcf, state = frame.fcf, self._state
        if fcf is Fcf.DCS:
            if state in ("B:RECEIVE_TCF", "E:WAIT_DCN"):
                return None
            dcs = Dcs.decode(frame.fif)
            problem = self._cannot_receive(dcs)
            if problem:
                self._detail = problem
                return "INCOMPATIBLE"
            self._dcs = dcs
            self._hs = link.HsReceiver(dcs.modem, dcs.rate)
            # judged when its carrier drops, or when it must be over (noise can
            # hold a carrier detector on): the sender's T4 runs from its end
            wait = 0.075 + link.TRAINING_S[dcs.modem, dcs.rate] + 1.5 + TCF_MARGIN_S
            self._tcf_deadline = self._now + int(wait * SAMPLE_RATE)
            return "DCS"
        if fcf is Fcf.DIS:
            return "DIS"
        dcs = self._dcs
        if fcf in _PRI and state == "C:RECEIVE_PAGE" and self._expect_page and dcs is not None \
                and not dcs.ecm and (self._page_signal or self._answered != "MCF"):
            # the post-page command came before the page's carrier was seen to
            # drop.  (With no image data at all since an MCF of ours, it is the
            # last command again, our MCF was lost: the table repeats it.)
            bits = self._hs.end() if self._hs is not None else np.zeros(0, np.uint8)
            self._judge_page(bits)
            return _PRI[fcf]
        if fcf in _PRI:
            return _PRI[fcf]
        if fcf is Fcf.PPS:
            pps = PartialPage.parse(frame)
            if (pps.page, pps.block) == self._confirmed:
                return "PPS-REPEAT"             # our MCF was lost
            return self._pps(pps) if self._in_ecm_page() else None
        if fcf in (Fcf.EOR, Fcf.CTC) and not self._in_ecm_page():
            return None
        if fcf is Fcf.EOR:
            post = eor_post(frame)
            self._keep_block(partial=True)
            if post is not None:
                self._incomplete.append(self._pages_ended + 1)
            return "EOR-" + ("NULL" if post is None else _PRI[post])
        if fcf is Fcf.CTC:
            modem, rate = ctc_mode(frame.fif)
            self._dcs = dataclasses.replace(dcs, modem=modem, rate=rate)
            self._hs = link.HsReceiver(modem, rate, ecm=True)
            return "CTC"
        return fcf.label

    def _in_ecm_page(self) -> bool:
        return (self._state == "C:RECEIVE_PAGE" and self._ecm_rx is not None
                and self._dcs is not None and self._dcs.ecm)

    def _cannot_receive(self, dcs: Dcs) -> str:
        if (dcs.modem, dcs.rate) not in self._local.modes() or dcs.rate > self._max_rate:
            return f"the sender commands {dcs.modem} {dcs.rate}, which this terminal did not offer"
        if dcs.coding not in self._local.codings:
            return f"the sender commands {dcs.coding.upper()} coding, not offered here"
        if dcs.ecm and not self._local.ecm:
            return "the sender commands ECM, which this terminal did not offer"
        return ""

    def _pps(self, pps: PartialPage) -> str:
        key = (pps.page, pps.block)
        frames = self._ecm_rx.expect(pps.frames)
        if not self._ecm_rx.complete(frames):
            return "PPS-INCOMPLETE"
        self._keep_block(partial=False)
        self._confirmed = key
        return "PPS-" + pps.name.replace("PRI-", "")

    def _keep_block(self, partial: bool) -> None:
        """Append the block's data to the page; EOR keeps what arrived of it."""
        rx = self._ecm_rx
        self._page_data.append(rx.arrived() if partial else rx.data(rx.count))
        rx.reset()

    # ---------------------------------------------------------- table engine
    def _event(self, name: str) -> bool:
        """Look ``name`` up in the table and apply it; False when the state ignores it."""
        if self._state == END:
            return False
        t = transition(self.side, self._state, name)
        if t is None:
            logger.debug("%s: %s ignored", self._state, name)
            return False
        logger.debug("%s --%s--> %s %s", self._state, name, t.state, list(t.actions))
        if t.state == END:
            self._end(t.result, *t.actions, event=name)
            return True
        self._state = t.state
        self._fresh_cmd = self._fresh_resp = True
        for action in t.actions:
            self._do(action)
        self._enter(t.state)
        return True

    def _enter(self, state: str) -> None:
        timers = TIMERS[self.side][state]
        t1 = self._t1                   # T1 runs from the start of the call
        t5 = self._deadlines.get("T5")  # T5 from the first RNR
        self._deadlines = {}
        deaf = bool(self._txq)
        if "T1" in timers and not self._t1_running:    # phase B again, after EOM
            t1 = self._t1 = self._now + timer_samples("T1")
        self._t1_running = "T1" in timers
        for name in timers:
            if name == "T1":
                self._deadlines["T1"] = t1
            elif name == "T5" and t5 is not None:
                self._deadlines["T5"] = t5
            else:
                self._deadlines[name] = None if deaf else self._now + timer_samples(name)
        if self._state == "C:RECEIVE_PAGE" and self._dcs is not None and self._dcs.ecm:
            if self._ecm_rx is None or self._ecm_rx.frame_size != self._dcs.frame_size:
                self._ecm_rx = EcmBlockReceiver(self._dcs.frame_size)
            if self._hs is not None:
                self._hs.collect_frames()

    def _timers(self) -> None:
        hs = self._hs
        # A high-speed carrier holds T2/T4 even when its training was missed
        # (the sender is still sending a burst), but noise can hold a carrier
        # detector on: at most as long as the longest ECM block takes.
        receiving = hs is not None and hs.receiving
        carrier = hs is not None and hs.carrier_present
        if not carrier or receiving:
            self._carrier_since = None
        elif self._carrier_since is None:
            self._carrier_since = self._now
        held = carrier and (receiving or self._now - self._carrier_since < (
            FRAMES_PER_BLOCK * 256 * 8 / hs.rate + 10) * SAMPLE_RATE)
        # (flags seen last stay "seen" after the carrier went: the V.21 receiver
        # gives no bits without one)
        busy = (self._v21.carrier_present and self._hdlc.framing_ok) or held
        for name, deadline in list(self._deadlines.items()):
            if deadline is None:
                continue
            if busy and name in ("T2", "T4"):
                self._deadlines[name] = self._now + timer_samples(name)
                continue
            if self._now >= deadline:
                del self._deadlines[name]
                self._expired(name)
                return

    def _expired(self, name: str) -> None:
        logger.info("timer %s expired in %s", name, self._state)
        if name == "T1" and self.calling and not self._heard_fax and self._heard_energy:
            self._end("NOT_FAX", "hang up")
            return
        if name == "T4" and self._tries >= COMMAND_TRIES and self._event("T4_EXHAUSTED"):
            return
        if not self._event(name):       # (a DIS goes on being repeated until T1)
            self._enter(self._state)

    def _end(self, code: str, *actions: str, event: str = "") -> None:
        self._state = END
        self._ending = code
        if event == "INCOMPATIBLE" and not self._detail:
            self._detail = "no common mode"
        for action in actions:
            if action == "send DCN":
                self._txq.clear()
                self._txq_pos = 0
                self._send_frames(self._x_frame(Fcf.DCN))
            elif action != "hang up":
                self._do(action)
        if not self._txq:
            self._finish()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._cng = None
        if self._writer is not None:
            self._writer.close()
        code = self._ending or "LOCAL_ABORT"
        if self._incomplete:
            pages = ", ".join(map(str, self._incomplete))
            self._detail = self._detail or (
                f"page(s) {pages} incomplete: ECM gave up correcting them at the lowest rate "
                "(EOR)")
            if code == "OK":
                code = "PAGE_REJECTED"
        words = CODES[code]
        if self._detail and code != "OK":
            words = f"{words}: {self._detail}"
        dcs = self._dcs
        self.result = Result(
            code=code, message=words, pages=self.pages_done,
            bit_rate=dcs.rate if dcs else 0, ecm=bool(dcs and dcs.ecm),
            coding=dcs.coding if dcs else None, resolution=dcs.resolution if dcs else None,
            remote_ident=self.remote_ident, duration_s=self._tx_time / SAMPLE_RATE)
        logger.info("call ended: %s (%s), %d page(s), %.1f s", code, words, self.pages_done,
                    self.result.duration_s)

    # ---------------------------------------------------------------- actions
    def _command(self, fn) -> None:
        if self._fresh_cmd:
            self._cmd, self._fresh_cmd = [], False
            self._tries = 1
        self._cmd.append(fn)
        fn()

    def _response(self, fn) -> None:
        if self._fresh_resp:
            self._resp, self._fresh_resp = [], False
        self._resp.append(fn)
        fn()

    def _do(self, action: str) -> None:
        verb, _, what = action.partition(" ")
        if action == "repeat command":
            self._tries += 1
            for fn in self._cmd:
                fn()
        elif action == "repeat response":
            for fn in self._resp:
                fn()
        elif action == "send DIS":
            self._command(lambda: self._send_frames(
                *message(*self._ident(Fcf.CSI), Frame(Fcf.DIS, self._local.encode()))))
        elif action == "send DTC":
            self._command(lambda: self._send_frames(
                *message(*self._ident(Fcf.CIG), Frame(Fcf.DTC, self._local.encode()))))
        elif action == "choose DCS" or action == "fall back":
            self._dcs = self._next_dcs
            self._trained = False
        elif action == "send DCS":
            dcs = self._dcs
            self._command(lambda: self._send_frames(
                *message(*self._ident(Fcf.TSI), self._x_frame(Fcf.DCS, dcs.encode()))))
        elif action == "send TCF":
            dcs = self._dcs
            self._command(lambda: self._queue(link.hs_signal(
                dcs.modem, dcs.rate, np.zeros(tcf_bits(dcs.rate), np.uint8),
                power_dbm0=self.power_dbm0)))
        elif action == "send page":
            self._send_page()
        elif action == "send block":
            self._send_block(None)
        elif action == "resend frames":
            self._send_block(self._ppr_want)
        elif verb == "send" and what in _POST_FRAMES:
            self._command(lambda f=_POST_FRAMES[what]: self._send_frames(self._x_frame(f)))
        elif verb == "send" and what.startswith("PPS-"):
            pps = PartialPage(None if what == "PPS-NULL" else _POST_FRAMES[what[4:]],
                              self._page_i % 256, self._block_i % 256,
                              len(self._blocks[self._block_i].frames))
            self._command(lambda: self._send_frames(pps.frame(self._x)))
        elif action == "send CTC":
            self._dcs = self._next_dcs
            self._trained = False
            fif = ctc_fif(self._dcs.modem, self._dcs.rate)
            self._command(lambda: self._send_frames(self._x_frame(Fcf.CTC, fif)))
        elif action == "send EOR":
            post = None if self._post == "NULL" else _POST_FRAMES[self._post]
            self._command(lambda: self._send_frames(eor_frame(post, self._x)))
        elif action == "send RR":
            if "T5" not in self._deadlines:
                self._deadlines["T5"] = self._now + timer_samples("T5")
            self._command(lambda: self._send_frames(self._x_frame(Fcf.RR)))
        elif verb == "send" and what in _RESPONSE_FRAMES:
            self._answered = what
            self._response(lambda f=_RESPONSE_FRAMES[what]: self._send_frames(self._x_frame(f)))
            if what == "CFR" or (what == "MCF" and self._state == "C:RECEIVE_PAGE"):
                self._expect_page = True
                self._page_signal = False
                if self._hs is not None and self._dcs.ecm:
                    self._hs.collect_frames()
        elif action == "send PPR":
            fif = self._ecm_rx.ppr(self._ecm_rx.frames)
            self._response(lambda: self._send_frames(self._x_frame(Fcf.PPR, fif)))
        elif action == "save page":
            self._save_page()
        elif action == "discard page":
            self._page_image = None
        elif action == "send DCN":
            self._send_frames(self._x_frame(Fcf.DCN))
        elif action == "hang up":
            pass
        else:
            raise LocalProtocolError(f"the terminal does not implement the action {action!r}")

    def _send_page(self) -> None:
        dcs = self._dcs
        if dcs.ecm:
            self._send_block(None)
            return
        page = self._pages[self._page_i]
        self._post = self._post_page(self._page_i)
        logger.info("tx page %d: %d lines %s at %s %d", self._page_i + 1, page.height,
                    dcs.coding.upper(), dcs.modem, dcs.rate)
        # coded a slice at a time as the modem wants the bits (link.page_bits)
        self._queue_image(link.page_signal(dcs.modem, dcs.rate, page.image, dcs.coding, dcs.k,
                                           dcs.min_bits_per_line, short_train=self._trained,
                                           power_dbm0=self.power_dbm0))
        self._after_tx = f"PAGE_SENT-{self._post}"

    def _page_coder(self, index: int) -> link.PageCoder:
        """The coder of page ``index`` in the DCS's coding (a new one if the one
        at hand codes something else)."""
        dcs = self._dcs
        key = (index, dcs.coding, dcs.k)
        if self._coder is None or self._coder.key != key:
            self._coder = link.PageCoder(key, self._pages[index].image, dcs.coding, dcs.k)
        return self._coder

    def _code_ahead(self) -> None:
        """ECM: code a slice of the page whose blocks come next, one per step
        (while DCS, TCF or the blocks before go out), so that no step codes a
        whole page (T.4 Annex A blocks are cut from the page's data)."""
        index = self._page_i + 1 if self._blocks else self._page_i
        if index < len(self._pages):
            self._page_coder(index).step()

    def _send_block(self, which: list[int] | None) -> None:
        """Send an ECM block: all its frames, or those a PPR asked for."""
        dcs = self._dcs
        if not self._blocks:
            data = self._page_coder(self._page_i).data()     # coded ahead (_code_ahead)
            self._blocks = split_page(data, dcs.frame_size)
            self._block_i = 0
            logger.info("tx page %d: %d octets %s, %d block(s), ECM %d at %s %d",
                        self._page_i + 1, len(data), dcs.coding.upper(), len(self._blocks),
                        dcs.frame_size, dcs.modem, dcs.rate)
        block = self._blocks[self._block_i]
        if self._block_i < len(self._blocks) - 1:
            self._post = "NULL"
        else:
            self._post = self._post_page(self._page_i)
        frames = list(block.fcd_frames(which)) + rcp_frames()
        for f in frames:
            log_frame("tx", f)
        self._queue_image(link.block_signal(dcs.modem, dcs.rate, frames,
                                            short_train=self._trained, power_dbm0=self.power_dbm0))
        self._after_tx = f"BLOCK_SENT-{self._post}"

    def _queue_image(self, signal: link.HsSignal) -> None:
        """Queue a page or block signal; later ones at this rate may use V.17's short training."""
        self._queue(signal)
        self._hs_chunk, self._hs_sent = signal, 0
        self._trained = True

    def _save_page(self) -> None:
        self._pages_ended += 1
        dcs = self._dcs
        if dcs.ecm:
            data = b"".join(self._page_data)
            self._page_data = []
            image, bad = self._decode_page(data)
            if bad.count:
                logger.info("rx page: %d of %d lines repaired", bad.count, bad.total_lines)
        else:
            image = self._page_image
            self._page_image = None
        if image is None or image.shape[0] == 0:
            logger.info("rx page %d: no image data arrived, nothing to save", self._pages_ended)
            return
        x_res, y_res = RESOLUTIONS[dcs.resolution]
        if self._writer is None:
            from faxengine.tiff import TiffWriter
            self._writer = TiffWriter(self._receive_path, self._receive_coding)
        self._writer.add_page(Page(image, x_res, y_res))
        self.pages_done += 1
        logger.info("rx page %d saved: %d x %d", self.pages_done, image.shape[1], image.shape[0])

    def _decode_page(self, data: bytes | None, decoded: tuple | None = None
                     ) -> tuple[np.ndarray, t4.BadLines]:
        """Decode a received page (or take it ``decoded`` already), as long as
        ``max_page_lines`` allows.

        Raises:
            LocalProtocolError: the page is longer (the call ends, the page is not cut).
        """
        dcs = self._dcs
        limit = self.max_page_lines
        image, bad = decoded or t4.decode_lenient(data, dcs.pels, dcs.coding, max_lines=limit + 1)
        if image.shape[0] > limit:
            raise LocalProtocolError(
                f"page {self.pages_done + 1} is longer than {limit} scan lines, the most this "
                "terminal takes; pass a larger max_page_lines to receive it")
        return image, bad

    def _mode_of(self, index: int) -> tuple[str, str]:
        """(resolution, paper width) of page ``index``, checked.

        Raises:
            LocalProtocolError: a resolution or line width fax does not have.
        """
        page = self._pages[index]
        resolution = page.resolution
        if resolution is None:
            raise LocalProtocolError(
                f"page {index + 1} has a resolution of {page.x_res:g} x {page.y_res:g} dpi, "
                "not one fax knows; convert it with Page.from_pil")
        widths = FAX_WIDTHS[resolution]
        if page.width not in widths:
            raise LocalProtocolError(
                f"page {index + 1} is {page.width} pels wide; at {resolution} resolution fax "
                f"lines are {', '.join(map(str, widths))} pels (A4, B4, A3)")
        return resolution, ("A4", "B4", "A3")[widths.index(page.width)]

    def _group(self, index: int) -> range:
        """The pages sent under one DCS with page ``index``: the run of pages
        around it with the same resolution and width (T.30: a change needs EOM
        and a new phase B)."""
        mode = self._mode_of(index)
        first = index
        while first > 0 and self._mode_of(first - 1) == mode:
            first -= 1
        last = index
        while last + 1 < len(self._pages) and self._mode_of(last + 1) == mode:
            last += 1
        return range(first, last + 1)

    def _post_page(self, index: int) -> str:
        """The post-page command after page ``index``: MPS, EOM (the next page
        needs another DCS) or EOP."""
        if index == len(self._pages) - 1:
            return "EOP"
        return "MPS" if index + 1 in self._group(index) else "EOM"

    def _preferences(self, index: int = 0) -> Preferences:
        """What choose_dcs should aim for to send page ``index`` and its group."""
        resolution, width = self._mode_of(index)
        lines_per_mm = RESOLUTIONS[resolution][1] / 25.4
        tallest = max(self._pages[i].height for i in self._group(index)) / lines_per_mm
        length = next((name for name, mm in _LENGTH_MM if tallest <= mm), "unlimited")
        return Preferences(max_rate=self._max_rate, ecm=self.ecm, frame_size=self._frame_size,
                           codings=self._codings, resolution=resolution, width=width,
                           length=length)
