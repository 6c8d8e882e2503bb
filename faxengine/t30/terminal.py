"""The T.30 fax terminal, sans I/O: samples in, samples out, time counted in samples.

``FaxTerminal`` is a whole Group 3 fax machine without a telephone line:
``tx(n)`` gives the next ``n`` samples to send (silence while it listens),
``rx(samples)`` takes what it heard, ``finished`` and ``result`` say how the
call ended, ``events()`` what happened (``faxengine.t30.events``: frames,
training, pages with their images, the end).  It never reads a clock,
sleeps or opens a file, so a call replays bit for bit and runs back to
back with another terminal much faster than real time; ``send=`` paths
and ``receive=`` are read and written by ``faxengine.t30.files``, a layer
that listens to the events (``receive=None`` keeps pages in memory only).

The class is built from three modules by concern: this one is the engine
(the table, timers, the link, phase A, the page signal), ``sender`` and
``receiver`` hold each side's frames-to-events logic and actions.

How it works
------------
* Protocol: phases B to E follow the transition table of
  ``faxengine.t30.states`` (side -> state -> event -> new state, actions).
  This module turns what happens -- a frame heard, a signal ended, a timer
  run out, a transmission finished -- into the table's events, performs
  the actions it names (``ACTION_HANDLERS``: one method per action of
  ``states.ACTIONS``, checked complete at import) and runs the timers it
  lists for each state.  An event the state does not list is ignored, as
  T.30 wants; an error of our own (``LocalProtocolError``) never is: it
  ends the call (``LOCAL_ABORT``, with DCN) and says why.
* Phase A (T.30 §4): the calling terminal sends CNG (1100 Hz, 0.5 s on,
  3 s off) until it hears V.21 flags; the answering terminal sends 0.2 s
  of silence, CED for 2.6 s, and then its DIS 75 ms later.  Meanwhile the
  caller's ``ToneDetector`` listens for CED and V.21: either marks a fax
  (one that answers without CED, or whose frames do not get through, is
  still one); audio above ``NOT_FAX_DBM0`` with neither by the end of T1
  is a voice (or other device), ``NOT_FAX``.
* Link (``faxengine.t30.link``): half duplex.  A transmission is built in
  one go (V.21 frames, TCF, a page, an ECM block) and queued; while the
  queue has samples the terminal is deaf.  When it listens it runs the
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
* ECM (Annex A): ``ecm.split_page`` blocks, FCD and 3 RCP frames at the
  image rate, PPS over V.21; PPR resends the frames asked for; the fourth
  PPR for a block brings CTC at the next lower rate, or EOR at the lowest.
* Received pages are reported as each is confirmed (``PageReceived``);
  ``files.TiffSink`` appends them to the TIFF-F file then, so a call that
  breaks off keeps the pages before.
* Trace: every frame sent and received on the terminal's own logger
  (``logger=``, default ``faxengine.t30``; ``trace.log_frame``), state
  changes at DEBUG, and one "call ended" line per call.
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from faxengine import t4
from faxengine.errors import FaxError
from faxengine.levels import SAMPLE_RATE, dbm0_to_power
from faxengine.modem import CngTx, CedTx, HdlcRx, ToneDetector, V21Rx
from faxengine.t30 import link
from faxengine.t30.ecm import FRAMES_PER_BLOCK, EcmBlockReceiver, rcp_frames, split_page
from faxengine.t30.errors import LocalProtocolError, RemoteProtocolError
from faxengine.t30.events import CallEnded, Event, FrameReceived, FrameSent
from faxengine.t30.facilities import MODEM_RATES, V17, V27TER, V29, Capabilities, Dcs
from faxengine.t30.files import TiffSink, load_pages
from faxengine.t30.frames import X_CODES, Fcf, Frame, decode_ident, ident_frame
from faxengine.t30.options import check_options
from faxengine.t30.quality import judge_page, judge_tcf
from faxengine.t30.receiver import RESPONSE_FRAMES, ReceiverSide
from faxengine.t30.result import CODES, Result
from faxengine.t30.sender import POST_FRAMES, SenderSide
from faxengine.t30.states import (
    ACTIONS, COMMAND_TRIES, END, PAGE_RETRIES, START, TIMERS, timer_samples, transition)
from faxengine.t30.trace import describe_frame, log_frame
from faxengine.t4.page import RESOLUTIONS

__all__ = ["FaxTerminal", "Result"]

HOLD_MAX = 2400                 # wait at most 0.3 s for the remote carrier to drop
CED_SILENCE_S = 0.2             # V.25: silence before CED (after the line is connected)
CED_S = 2.6                     # T.30 §4.2: CED lasts 2.6 to 4 s
MIN_PAGE_BITS = 200             # a shorter high-speed signal is noise, not a page
NOT_FAX_DBM0 = -40.0            # phase A: a louder signal with no fax tones is a voice
TRACE_LOGGER = "faxengine.t30"  # the default logger of the trace
_DATA_FRAMES = frozenset({Fcf.FCD, Fcf.RCP})   # ECM data: logged at DEBUG, no events
_IDENTS = frozenset({Fcf.CSI, Fcf.TSI, Fcf.CIG})


def _eols(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The EOLs in the bits (T.4 §4.1.2: 11 or more zeros, then a 1): the
    index of each one's 1 and the number of zeros before it."""
    ones = np.flatnonzero(bits)
    zeros = np.diff(ones, prepend=-1) - 1
    eol = zeros >= 11
    return ones[eol], zeros[eol]


def _first_eol(bits: np.ndarray) -> int:
    """Index of the first run of 11 zeros followed by a 1 (T.4 EOL), else 0.

    Bits a receiver delivers before the first EOL (the end of its training)
    are not image data; dropping them keeps line 1 intact.
    """
    ends, zeros = _eols(bits)
    return int(ends[0] - zeros[0]) if ends.size else 0


def _rtc_end(bits: np.ndarray) -> int:
    """Where RTC (six EOLs in a row, T.4 §4.1.4) ends in the bits, else their length.

    What a receiver delivers after RTC (the modem's turn-off, a V.21 signal
    it took for data) is not part of the page.
    """
    eols, _ = _eols(bits)
    step = np.diff(eols)
    if step.size < 5:
        return bits.size
    empty = ((step == 12) | (step == 13)).astype(np.int8)      # MH EOL, MR EOL + 1
    hit = np.flatnonzero(np.convolve(empty, np.ones(5, np.int8), "valid") == 5)
    return bits.size if hit.size == 0 else min(int(eols[hit[0] + 5]) + 2, bits.size)


def _lines_lost(bits: np.ndarray, window: int = 20, factor: float = 4.0) -> int:
    """Scan lines a non-ECM page lost in stretches of garbage, judged from its EOLs.

    A noise burst turns the lines sent during it into one stretch of bits
    that the decoder counts as a single bad line.  A gap between EOLs (11 or
    more zeros, then a 1: T.4 §4.1.2) more than ``factor`` times as long as
    every gap among its ``window`` neighbours on each side (and than 64
    bits) is such a stretch; it stands for as many lines as its neighbours'
    median length would fill.  Coded lines grow and shrink gradually down a
    page, so a clean page has no such gap (none on the eight CCITT charts in
    MH or MR).
    """
    gaps = np.diff(_eols(bits)[0]).astype(np.float64)
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


class FaxTerminal(SenderSide, ReceiverSide):
    """A Group 3 fax terminal (T.30), calling or answering, sending or receiving.

    Args:
        calling: the calling terminal (sends CNG, waits for DIS) or the
            answering one (sends CED and DIS).
        send: the document: TIFF paths, ``Page`` objects or lists of them.
            None: this terminal receives.
        receive: where to write the received pages (TIFF-F), or None to keep
            them in memory only (``PageReceived`` events).  A calling
            terminal that does not send polls (DTC).
        ecm: offer and use error correction mode (T.30 Annex A).
        max_rate: the highest image rate to offer or use (14400 ... 2400).
        modems: the image modems offered: a subset T.30 can express of
            "V.17", "V.29", "V.27ter".
        codings: the codings offered / allowed, best first ("mmr", "mr", "mh").
        frame_size: ECM frame size the sender uses, 256 or 64 octets.
        ident: the identity sent as CSI/TSI/CIG (digits, "+", space), or None.
        receive_coding: the coding of the TIFF-F file written ("mh", "mr", "mmr").
        power_dbm0: transmit level, -60 to -3 dBm0.
        page_retries: how often a sender retrains and resends a page after
            RTN (1 to 10).
        logger: where the trace goes (default logger ``faxengine.t30``); give
            each of several concurrent calls its own to keep their traces apart.

    Raises:
        LocalProtocolError: send and receive both given, a bad option, a page
            fax cannot carry, or a receive path that cannot be written.
    """

    def __init__(self, calling: bool = True, send=None, receive: str | os.PathLike | None = None,
                 ecm: bool = True, *, max_rate: int = 14400,
                 modems: Iterable[str] = (V17, V29, V27TER),
                 codings: Sequence[str] = ("mmr", "mr", "mh"), frame_size: int = 256,
                 ident: str | None = None, receive_coding: str = "mmr",
                 power_dbm0: float = link.TX_POWER_DBM0, page_retries: int = PAGE_RETRIES,
                 logger: logging.Logger | None = None) -> None:
        if send is not None and receive is not None:
            raise LocalProtocolError("send or receive, not both, in one call")
        modems, codings = check_options(
            max_rate=max_rate, modems=modems, codings=codings, frame_size=frame_size,
            ident=ident, receive_coding=receive_coding, power_dbm0=power_dbm0,
            page_retries=page_retries)
        self.log = logger if logger is not None else logging.getLogger(TRACE_LOGGER)
        self.calling = bool(calling)
        self.side = "sender" if send is not None else "receiver"
        self.role = "calling" if calling else "answering"
        self.ecm = bool(ecm)
        self.ident = ident
        self.power_dbm0 = float(power_dbm0)
        self.page_retries = int(page_retries)
        self._x = self.calling          # T.30 §5.3.6.1: X = 1 at the station that received DIS
        self._pages = load_pages(send) if send is not None else []
        self._codings = codings
        self._frame_size = frame_size
        self._max_rate = max_rate
        # a modem none of whose rates is allowed is not offered
        offered = frozenset(m for m in modems if min(MODEM_RATES[m]) <= max_rate)
        self._local = Capabilities(
            modems=offered, codings=frozenset(codings),
            resolutions=frozenset(RESOLUTIONS), max_width="A3", max_length="unlimited",
            ecm=self.ecm, can_receive=self.side == "receiver",
            ready_to_transmit=self.side == "sender" and not self.calling)
        for i in range(len(self._pages)):
            self._mode_of(i)                    # refuse pages fax cannot carry, now
        # what happened, for events(); listeners see each event as it comes
        self._events: list[Event] = []
        self._listeners: list[Callable[[Event], None]] = []
        if receive is not None:
            self._listeners.append(TiffSink(receive, receive_coding))
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
        self._t1_after_eom = False          # T1 runs again in phase B after EOM
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
        # sender progress
        self._page_i = 0                # the page being sent: the pages before are confirmed
        self._retries = 0
        self._blocks: list = []
        self._block_i = 0
        self._post = "EOP"
        self._ppr_count = 0
        self._ppr_want: list[int] = []
        self._page_incomplete = False
        self._incomplete: list[int] = []    # pages that went (or came) with EOR
        # receiver progress
        self._pages_ended = 0               # pages received, saved or not
        self._saved: list[int] = []         # the numbers of those saved
        self._expect_page = False
        self._page_signal = False           # high-speed data came since our answer
        self._answered = ""                 # the last response sent (CFR, MCF, ...)
        self._page_image: np.ndarray | None = None
        self._page_bad: t4.BadLines | None = None
        self._ecm_rx: EcmBlockReceiver | None = None
        self._page_data: list[bytes] = []
        self._page_blocks = self._page_frames = self._page_ppr = 0
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
    def pages_done(self) -> int:
        """Pages confirmed so far: sent whole (sender) or received and kept (receiver)."""
        if self.side == "sender":
            return self._page_i - len(self._incomplete)
        return len(self._saved)

    def events(self) -> list[Event]:
        """The events since the last call, oldest first (``faxengine.t30.events``).

        ``CallEnded`` is the last event of a call.
        """
        events, self._events = self._events, []
        return events

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
        """The next ``n`` samples to send (int16; silence while listening).

        Raises:
            LocalProtocolError: ``n`` is not a whole number of samples >= 0.
        """
        n = _sample_count(n)
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
            take = min(n - pos, chunk.size - self._txq_pos)
            if chunk is self._hs_chunk:
                self._hs_sent += take
            out[pos:pos + take] = chunk[self._txq_pos:self._txq_pos + take]
            pos += take
            self._txq_pos += take
            if self._txq_pos >= chunk.size:
                self._txq.pop(0)
                self._txq_pos = 0
                if not self._txq:
                    self._drained()
        if pos < n and self._cng is not None and not self._finished:
            out[pos:] = self._cng.generate(n - pos)
        self._tx_time += n
        return out

    def rx(self, samples) -> None:
        """Take the samples heard on the line: int16 at 8000/s, mono.

        Integer arrays whose values fit in int16 (int8, uint8, int32...)
        are taken as they are; float audio is refused, as the modems refuse
        it: scale and round it to int16 first.

        Raises:
            LocalProtocolError: float, bool or complex samples, values
                outside int16, or not a 1-D array.
        """
        samples = _as_int16(samples)
        self._now += samples.size
        if self._finished or (self._txq and not self._holding):
            return                          # half duplex: deaf while sending
        try:
            self._rx(samples)
        except (FaxError, OSError) as exc:  # e.g. the TIFF file cannot be written
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """A local failure mid-call (not the remote's fault): hang up with DCN."""
        self.log.error("call aborted: %s", exc)
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
        hs = self._hs
        if hs is not None:
            ended = hs.feed(samples)
            self._page_signal |= hs.receiving
            if hs.frames:
                for data in hs.frames:
                    self._frame_in(data, high_speed=True)
                hs.frames.clear()
            if ended is not None:
                self._signal_end(ended)
            elif self._tcf_deadline is not None and self._now >= self._tcf_deadline:
                self._signal_end(hs.end())
        if self._state != END:
            self._timers()

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
            self._trace("tx", f)
        self._queue(link.v21_signal(frames, self.power_dbm0))

    def _trace(self, direction: str, frame: Frame, raw: bytes | None = None) -> None:
        """A frame sent or received: on the trace, and as an event (control frames)."""
        log_frame(direction, frame, self.log)
        if frame.fcf not in _DATA_FRAMES:
            kind = FrameSent if direction == "tx" else FrameReceived
            self._emit(kind(self._clock_s(), frame.name, describe_frame(frame),
                            frame.to_bytes() if raw is None else raw))

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
        """A good frame heard: into the table's event, or kept (FCD, identities).

        A malformed or invalid frame (``RemoteProtocolError``) is ignored, as
        T.30 wants: the state's timer brings a repeat.  A ``LocalProtocolError``
        is our own fault and is not caught here: the call ends on it.
        """
        try:
            frame = Frame.parse(data)
        except RemoteProtocolError:
            return
        self._trace("rx", frame, data)
        self._heard_fax = True
        fcf = frame.fcf
        if fcf is Fcf.FCD:
            if self._ecm_rx is not None and frame.fif:
                try:
                    self._ecm_rx.add(frame)
                except RemoteProtocolError:     # not one of this block's frames
                    pass
            return
        if fcf is Fcf.RCP or high_speed or not frame.final and fcf not in _IDENTS:
            return
        try:
            if fcf in _IDENTS:
                self.remote_ident = decode_ident(frame.fif)
                return
            event = self._frame_event(frame)
        except RemoteProtocolError as exc:
            self.log.info("ignored %s: %s", frame.name, exc)
            return
        if event is not None:
            self._event(event)

    def _frame_event(self, frame: Frame) -> str | None:
        """The table event a frame is, judged by this terminal's side."""
        if self.side == "sender":
            return self._sender_frame(frame)
        return self._receiver_frame(frame)

    def _signal_end(self, bits: np.ndarray) -> None:
        """A high-speed signal ended (carrier lost, or TCF waited for long enough)."""
        if self._state == "B:RECEIVE_TCF":
            self._tcf_deadline = None
            good = judge_tcf(bits, self._dcs.rate)
            self.log.info("rx TCF: %d bits, %s", bits.size, "good" if good else "bad")
            self._event("TCF_GOOD" if good else "TCF_BAD")
        elif (self._state == "C:RECEIVE_PAGE" and self._expect_page and not self._dcs.ecm
              and bits.size >= MIN_PAGE_BITS):
            self._judge_page(bits)

    def _judge_page(self, bits: np.ndarray) -> None:
        dcs = self._dcs
        self._expect_page = False
        start, stop = _first_eol(bits), _rtc_end(bits)
        bits = bits[start:stop]
        image, bad = t4.decode_lenient(link.bits_to_bytes(bits), dcs.pels, dcs.coding)
        # A noise burst leaves one bad line where many were lost: count them,
        # from the EOLs and from the time the modem had lost the signal
        share, longest = self._hs.poor_share(start, stop) if self._hs else (0.0, 0.0)
        gap_lost = _lines_lost(bits)
        lost = max(gap_lost, round(share * bad.total_lines))
        if lost > 0:
            run = max(bad.longest_run, gap_lost, round(longest * bad.total_lines))
            bad = t4.BadLines(bad.count + lost, run, bad.total_lines + lost)
        self._page_image, self._page_bad = image, bad
        answer = judge_page(bad, dcs.resolution)
        self.log.info("rx page: %d lines, %d bad (longest run %d): %s", bad.total_lines,
                    bad.count, bad.longest_run, answer.name)
        self._event({Fcf.MCF: "PAGE_GOOD", Fcf.RTP: "PAGE_POOR"}.get(answer, "PAGE_BAD"))

    # ---------------------------------------------------------- table engine
    def _event(self, name: str) -> bool:
        """Look ``name`` up in the table and apply it; False when the state ignores it."""
        if self._state == END:
            return False
        t = transition(self.side, self._state, name)
        if t is None:
            self.log.debug("%s: %s ignored", self._state, name)
            return False
        self.log.debug("%s --%s--> %s %s", self._state, name, t.state, list(t.actions))
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
            self._t1_after_eom = True
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
        self.log.info("timer %s expired in %s", name, self._state)
        if name == "T1" and self.calling and not self._heard_fax and self._heard_energy:
            self._end("NOT_FAX", "hang up")
            return
        # T1 again after EOM: the other terminal stopped mid-document, it did answer
        if name == "T1" and self._t1_after_eom and self._event("T1_AFTER_EOM"):
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
        self.log.info("call ended: %s (%s), %d page(s), %.1f s", code, words, self.pages_done,
                      self.result.duration_s)
        try:
            self._emit(CallEnded(self._clock_s(), self.result))
        except (FaxError, OSError) as exc:      # the file cannot be closed: say so, once
            self.log.error("closing the received file failed: %s", exc)

    # ----------------------------------------------------------------- events
    def _clock_s(self) -> float:
        """Line time now, in seconds: samples heard or sent, whichever is further."""
        return max(self._now, self._tx_time) / SAMPLE_RATE

    def _emit(self, event: Event) -> None:
        """Queue ``event`` for ``events()`` and hand it to the listeners (the
        file layer); a listener's failure (a disk full) propagates to the
        caller, which ends the call as a local failure."""
        self._events.append(event)
        for listener in self._listeners:
            listener(event)

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
        """Perform one action of the table (``ACTION_HANDLERS``)."""
        try:
            handler = ACTION_HANDLERS[action]
        except KeyError:
            raise LocalProtocolError(
                f"the terminal does not implement the action {action!r}") from None
        handler(self)

    def _repeat_command(self) -> None:
        self._tries += 1
        for fn in self._cmd:
            fn()

    def _repeat_response(self) -> None:
        for fn in self._resp:
            fn()

    def _send_dcn(self) -> None:
        self._send_frames(self._x_frame(Fcf.DCN))

    def _hang_up(self) -> None:
        """Nothing to send: the engine ends the call."""

    def _send_page(self) -> None:
        dcs = self._dcs
        if dcs.ecm:
            self._send_block(None)
            return
        page = self._pages[self._page_i]
        data = t4.encode(page.image, dcs.coding, k=dcs.k, min_bits_per_line=dcs.min_bits_per_line)
        self._post = self._post_page(self._page_i)
        self.log.info("tx page %d: %d octets %s at %s %d", self._page_i + 1, len(data),
                    dcs.coding.upper(), dcs.modem, dcs.rate)
        self._queue_image(link.hs_signal(dcs.modem, dcs.rate, link.bytes_to_bits(data),
                                         short_train=self._trained, power_dbm0=self.power_dbm0))
        self._after_tx = f"PAGE_SENT-{self._post}"

    def _send_block(self, which: list[int] | None) -> None:
        """Send an ECM block: all its frames, or those a PPR asked for."""
        dcs = self._dcs
        if not self._blocks:
            page = self._pages[self._page_i]
            data = t4.encode(page.image, dcs.coding, k=dcs.k)
            self._blocks = split_page(data, dcs.frame_size)
            self._block_i = 0
            self.log.info("tx page %d: %d octets %s, %d block(s), ECM %d at %s %d",
                          self._page_i + 1, len(data), dcs.coding.upper(), len(self._blocks),
                          dcs.frame_size, dcs.modem, dcs.rate)
        block = self._blocks[self._block_i]
        if self._block_i < len(self._blocks) - 1:
            self._post = "NULL"
        else:
            self._post = self._post_page(self._page_i)
        frames = list(block.fcd_frames(which)) + rcp_frames()
        for f in frames:
            log_frame("tx", f, self.log)
        bits = link.hdlc_bits(frames)
        self._queue_image(link.hs_signal(dcs.modem, dcs.rate, bits, short_train=self._trained,
                                         power_dbm0=self.power_dbm0))
        self._after_tx = f"BLOCK_SENT-{self._post}"

    def _queue_image(self, signal: np.ndarray) -> None:
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
            image, bad = t4.decode_lenient(data, dcs.pels, dcs.coding)
            if bad.count:
                self.log.info("rx page: %d of %d lines repaired", bad.count, bad.total_lines)
        else:
            image = self._page_image
            self._page_image = None
            bad = self._page_bad
        self._keep_page(image, bad)


def _sample_count(n) -> int:
    """``tx``'s ``n`` as an int: a whole number of samples, 0 or more."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise LocalProtocolError(f"tx(n) takes a whole number of samples >= 0 (160 is 20 ms), "
                                 f"not {n!r}")
    return int(n)


def _as_int16(samples) -> np.ndarray:
    """``rx``'s samples as int16, converted only when that is exact."""
    a = np.asarray(samples)
    if a.dtype == np.int16 and a.ndim == 1:
        return a
    if a.ndim != 1:
        raise LocalProtocolError(f"rx takes a 1-D array of mono samples, not one of shape "
                                 f"{a.shape}")
    if a.size == 0 and a.dtype == np.float64:      # rx([]): nothing heard
        return np.zeros(0, np.int16)
    if a.dtype.kind not in "iu":
        raise LocalProtocolError(
            f"rx takes int16 samples (8000/s, mono), not {a.dtype}: scale float audio to "
            "-32768..32767 and round it, e.g. np.round(x * 32767).astype(np.int16)")
    if a.size and (a.min() < -32768 or a.max() > 32767):
        raise LocalProtocolError(
            f"rx takes int16 samples; these {a.dtype} values reach {int(a.min())}.."
            f"{int(a.max())}, outside -32768..32767: scale them first")
    return a.astype(np.int16)


# what the engine does for each action of the table (states.ACTIONS)
ACTION_HANDLERS: dict[str, Callable[[FaxTerminal], None]] = {
    "repeat command": FaxTerminal._repeat_command,
    "repeat response": FaxTerminal._repeat_response,
    "send DIS": functools.partial(FaxTerminal._send_capabilities, fcf=Fcf.DIS),
    "send DTC": functools.partial(FaxTerminal._send_capabilities, fcf=Fcf.DTC),
    "choose DCS": FaxTerminal._choose_dcs,
    "fall back": FaxTerminal._choose_dcs,
    "send DCS": FaxTerminal._send_dcs,
    "send TCF": FaxTerminal._send_tcf,
    "send page": FaxTerminal._send_page,
    "send block": functools.partial(FaxTerminal._send_block, which=None),
    "resend frames": lambda term: term._send_block(term._ppr_want),
    **{f"send {post}": functools.partial(FaxTerminal._send_post, post=post)
       for post in POST_FRAMES},
    **{f"send PPS-{post}": functools.partial(FaxTerminal._send_pps, post=post)
       for post in ("NULL", *POST_FRAMES)},
    "send CTC": FaxTerminal._send_ctc,
    "send EOR": FaxTerminal._send_eor,
    "send RR": FaxTerminal._send_rr,
    **{f"send {what}": functools.partial(FaxTerminal._send_response, what=what)
       for what in RESPONSE_FRAMES},
    "send PPR": FaxTerminal._send_ppr,
    "save page": FaxTerminal._save_page,
    "discard page": FaxTerminal._discard_page,
    "send DCN": FaxTerminal._send_dcn,
    "hang up": FaxTerminal._hang_up,
}
if set(ACTION_HANDLERS) != set(ACTIONS):            # the table and the engine agree
    raise ImportError(f"T.30 actions without a handler: {sorted(set(ACTIONS) - set(ACTION_HANDLERS))}"
                      f"; handlers without an action: {sorted(set(ACTION_HANDLERS) - set(ACTIONS))}")
