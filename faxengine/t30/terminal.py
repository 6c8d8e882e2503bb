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

The class is built from modules by concern: this one has the public API,
the link, phase A and the page signal; ``engine`` runs the transition
table (``faxengine.t30.states``), its actions and timers; ``sender`` and
``receiver`` turn each side's frames into the table's events and perform
that side's actions; ``options`` checks what the terminal is given.

How it works
------------
* Protocol: what happens -- a frame heard, a signal ended, a timer run
  out, a transmission finished -- becomes an event of the table, whose
  actions the engine performs.  A frame the state does not expect is
  ignored, as T.30 wants, and so is a malformed one
  (``RemoteProtocolError``); an error of our own (``LocalProtocolError``)
  never is: it ends the call (``LOCAL_ABORT``, with DCN) and says why.
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
  The link's ends are a few methods (``_init_link``, ``_phase_a_signal``,
  ``_listen``, ``_signal_coming``, ``_tcf_signal_of``, ``_page_signal_of``,
  ``_block_signal_of``, ``tx``, ``rx``): ``faxengine.t38.terminal`` gives
  them IFP bodies and runs the same T.30 over T.38.
* Timers (§5.4.3.2): see ``engine``.
* Page quality without ECM: ``decode_lenient``'s bad lines, judged by
  ``quality.judge_page`` (MCF, RTP, RTN); the page is decoded as its bits
  arrive (``link.PageDecoder``).  TCF: ``quality.judge_tcf``.
* Lost audio: ``rx_fillin(n)`` for samples that never arrived; the modems
  keep timing and carrier over the hole (their ``fillin``), ECM asks for
  the frames it spoilt again, without ECM its lines count as bad.
* Page length: a receiver takes pages up to ``max_page_lines`` scan lines
  and its DIS offers the length that allows (``receiver.dis_length``); a
  longer page ends the call, it is never cut.
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

import logging
import os
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from faxengine import t4
from faxengine.errors import FaxError
from faxengine.levels import SAMPLE_RATE, dbm0_to_power
from faxengine.modem import CngTx, CedTx, HdlcRx, ToneDetector, V21Rx
from faxengine.t30 import link
from faxengine.t30.ecm import FRAMES_PER_BLOCK, rcp_frames, split_page
from faxengine.t30.engine import TableEngine
from faxengine.t30.errors import LocalProtocolError, RemoteProtocolError
from faxengine.t30.events import Event, FrameReceived, FrameSent
from faxengine.t30.facilities import MODEM_RATES, V17, V27TER, V29, Capabilities, Dcs
from faxengine.t30.files import TiffSink, load_pages
from faxengine.t30.frames import X_CODES, Fcf, Frame, decode_ident, ident_frame
from faxengine.t30.options import as_int16, check_options, sample_count
from faxengine.t30.quality import (first_eol as _first_eol, judge_page, judge_tcf,
                                   lines_lost as _lines_lost, rtc_end as _rtc_end, tcf_bits)
from faxengine.t30.receiver import MAX_PAGE_LINES, ReceiverSide, b4_lines, dis_length
from faxengine.t30.result import Result
from faxengine.t30.sender import SenderSide
from faxengine.t30.states import END, PAGE_RETRIES, START, timer_samples
from faxengine.t30.trace import describe_frame, log_frame
from faxengine.t4.page import RESOLUTIONS

__all__ = ["FaxTerminal", "Result"]

HOLD_MAX = 2400                 # wait at most 0.3 s for the remote carrier to drop
V21_HOLD_FLAGS = 16             # V.21 flags in a row (107 ms) that rest the high-speed receiver
CED_SILENCE_S = 0.2             # V.25: silence before CED (after the line is connected)
CED_S = 2.6                     # T.30 §4.2: CED lasts 2.6 to 4 s
MIN_PAGE_BITS = 200             # a shorter high-speed signal is noise, not a page
NOT_FAX_DBM0 = -40.0            # phase A: a louder signal with no fax tones is a voice
TRACE_LOGGER = "faxengine.t30"  # the default logger of the trace
_DATA_FRAMES = frozenset({Fcf.FCD, Fcf.RCP})   # ECM data: logged at DEBUG, no events
_IDENTS = frozenset({Fcf.CSI, Fcf.TSI, Fcf.CIG})
_FCD_HEAD = Frame(Fcf.FCD, b"\0", final=False).to_bytes()[:3]     # address, control, FCF
_INT16 = np.dtype(np.int16)      # (a numpy dtype object: np.zeros and the checks take it fastest)


class FaxTerminal(TableEngine, SenderSide, ReceiverSide):
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
        max_page_lines: the longest page a receiver takes, in scan lines
            (default 65 536).  The DIS offers "unlimited" length from a B4
            page at 400 lines/inch up, else A4; a longer page ends the call
            (``LOCAL_ABORT``, the message says so), it is never cut.
        logger: where the trace goes (default logger ``faxengine.t30``); give
            each of several concurrent calls its own (or a ``LoggerAdapter``
            that adds the call's context) to keep their traces apart.
        on_event: a callable given each event as it happens; the events are
            then not kept for ``events()`` (which returns none).  Without it
            they wait in memory until ``events()`` takes them, received
            page images included (4 MB a fine page): a program that pumps a
            long call and never calls ``events()`` passes one (a no-op drops
            them; ``faxengine loopback`` does).

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
                 max_page_lines: int = MAX_PAGE_LINES,
                 logger: logging.Logger | logging.LoggerAdapter | None = None,
                 on_event: Callable[[Event], None] | None = None) -> None:
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
        max_length = dis_length(max_page_lines)
        self.max_page_lines = max_page_lines
        self._x = self.calling          # T.30 §5.3.6.1: X = 1 at the station that received DIS
        self._pages = load_pages(send) if send is not None else []
        self._codings = codings
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
        self._init_engine(START[(self.side, self.role)])
        self._init_sender()
        self._init_receiver()
        if self.side == "receiver":     # the first DCS's receiver, built with the terminal
            self._prepare_receiver()
        # the file layer listens to the events (and codes a page a slice a step)
        self._sink = TiffSink(receive, receive_coding) if receive is not None else None
        if self._sink is not None:
            self._listeners.append(self._sink)
        if on_event is not None:
            if not callable(on_event):
                raise LocalProtocolError(f"on_event must be callable (it is given each event), "
                                         f"not {type(on_event).__name__}")
            self._keep_events = False
            self._listeners.append(on_event)
        # transmit side
        self._txq: list[np.ndarray] = []
        self._txq_pos = 0
        self._hold = 0                  # samples held waiting for the remote carrier to drop
        self._holding = False
        self._after_tx = None           # event fired when the queue drains
        self._hs_chunk: link.HsSignal | None = None    # the page/block signal, for progress
        self._hs_sent = 0
        # receive side
        self._hs: link.HsReceiver | None = None
        self._v21_rests = False     # V.21 not listening while a high-speed signal holds the line
        self._carrier_since: int | None = None
        self._heard_fax = False
        self._heard_energy = False
        self._energy_floor = dbm0_to_power(NOT_FAX_DBM0)     # mean square
        self._init_link()
        # negotiated
        self._remote: Capabilities | None = None
        self._dcs: Dcs | None = None
        self._next_dcs: Dcs | None = None
        self._trained = False           # V.17 short training allowed (CFR at this rate)
        self.remote_ident = ""
        first = self._phase_a_signal()
        if first is not None:
            self._queue(first)
        if not self.calling:            # answering: CED, then DIS (or DIS offering a document)
            self._fresh_cmd = True
            self._do("send DIS")
        self._enter(self._state)

    # ------------------------------------------------------- the link's ends
    # (what runs T.30 over audio; faxengine.t38.terminal runs it over IFP packets
    # by giving these methods other bodies)
    def _init_link(self) -> None:
        """The line's transmitters and receivers: CNG, V.21 and phase A's tone detector."""
        self._cng = CngTx(self.power_dbm0) if self.calling else None
        self._v21 = V21Rx()
        self._hdlc = HdlcRx()
        # phase A: the caller listens for CED and V.21 (the marks of a fax answer)
        self._tones = ToneDetector() if self.calling else None

    def _phase_a_signal(self):
        """What the terminal sends first: the answering one 0.2 s of silence and
        CED (T.30 §4.2); the calling one's CNG comes from ``_cng`` as it listens."""
        if self.calling:
            return None
        ced = CedTx(self.power_dbm0, duration_s=CED_S, silence_before_s=CED_SILENCE_S,
                    silence_after_s=0.0)
        return ced.generate(int(round((CED_SILENCE_S + CED_S) * SAMPLE_RATE)))

    def _listen(self) -> None:
        """Our transmission ended: the receivers start afresh."""
        self._v21.restart()
        self._hdlc.reset()

    def _signal_coming(self) -> bool:
        """True while a signal comes in (V.21 flags, or a high-speed carrier):
        T2 and T4 time silence, not long signals (``engine``).

        A high-speed carrier holds them even when its training was missed
        (the sender is still sending a burst), but noise can hold a carrier
        detector on: at most as long as the longest ECM block takes."""
        hs = self._hs
        if hs is None:
            carrier = receiving = False
        else:
            carrier = hs._rx._core.carrier_present
            receiving = carrier and hs._count > 0      # (hs.receiving, once a block)
        if not carrier or receiving:
            self._carrier_since = None
        elif self._carrier_since is None:
            self._carrier_since = self._now
        held = carrier and (receiving or self._now - self._carrier_since < (
            FRAMES_PER_BLOCK * 256 * 8 / hs.rate + 10) * SAMPLE_RATE)
        # (flags seen last stay "seen" after the carrier went: the V.21 receiver
        # gives no bits without one)
        return held or (self._v21._core.carrier_present and self._hdlc._core.framing_ok)

    def _tcf_signal_of(self) -> link.HsSignal:
        """TCF (T.30 §5.3.2.2): 1.5 s of zeros at the DCS's mode."""
        dcs = self._dcs
        return link.hs_signal(dcs.modem, dcs.rate, np.zeros(tcf_bits(dcs.rate), np.uint8),
                              power_dbm0=self.power_dbm0)

    def _page_signal_of(self, page) -> link.HsSignal:
        """A non-ECM page as one high-speed transmission at the DCS's mode."""
        dcs = self._dcs
        return link.page_signal(dcs.modem, dcs.rate, page.image, dcs.coding, dcs.k,
                                dcs.min_bits_per_line, short_train=self._trained,
                                power_dbm0=self.power_dbm0)

    def _block_signal_of(self, frames: list[Frame]) -> link.HsSignal:
        """ECM frames (FCD, RCP) as one high-speed transmission at the DCS's mode."""
        dcs = self._dcs
        return link.block_signal(dcs.modem, dcs.rate, frames, short_train=self._trained,
                                 power_dbm0=self.power_dbm0)

    # ------------------------------------------------------------------ public
    @property
    def finished(self) -> bool:
        """True once the call has ended (phase E done, or a failure)."""
        return self._finished

    @property
    def heard_fax(self) -> bool:
        """True once the far end has shown it is a fax machine (CED, CNG or a
        V.21 frame heard): the moment a SIP leg may switch to T.38."""
        return self._heard_fax

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
        """Pages confirmed so far: sent whole (sender) or received and kept
        (receiver; with ``receive=`` a file, once written there, which the file
        layer does a slice a step after the page is confirmed)."""
        if self.side == "sender":
            return self._page_i - len(self._incomplete)
        return len(self._saved) - (self._sink.unwritten if self._sink is not None else 0)

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
        frac = chunk.fraction if chunk is not None and chunk.size else 0.0
        if self._blocks:
            frac = (self._block_i + frac) / len(self._blocks)
        return page, len(self._pages), min(frac, 1.0)

    def tx(self, n: int) -> np.ndarray:
        """The next ``n`` samples to send (int16; silence while listening).

        What goes out mid-signal may be a view of the signal's samples
        (never written again): copy it to keep it beyond the next ``tx``.
        Silence is a new block each time, never one shared: what a caller
        hands it to may write into it (spandsp's ``fax_rx`` restores the DC
        in place, through ctypes, which ignores a read-only flag).

        Raises:
            LocalProtocolError: ``n`` is not a whole number of samples >= 0.
        """
        if n.__class__ is not int or n < 0:     # (the usual int needs no more checks)
            n = sample_count(n)
        if self._holding:
            if self._v21._core.carrier_present and self._hold < HOLD_MAX:
                self._hold += n
                self._tx_time += n
                return np.zeros(n, _INT16)
            self._holding = False
        txq = self._txq
        if txq:
            # the usual step mid-signal: all its samples from the signal at hand
            chunk = txq[0]
            if chunk.__class__ is link.HsSignal:
                pos = chunk._pos
                if n and pos + n <= chunk._buf.size:
                    # (HsSignal.take's usual step, without the call)
                    chunk._pos = pos + n
                    chunk._sent += n
                    self._step_work()
                    self._tx_time += n
                    return chunk._buf[pos:pos + n]
            elif n and self._txq_pos + n < chunk.size:
                pos = self._txq_pos
                self._txq_pos = pos + n
                self._step_work()
                self._tx_time += n
                return chunk[pos:pos + n]
        else:
            # listening: silence, or CNG while a caller waits in phase A
            self._step_work()
            self._tx_time += n
            if self._cng is not None and not self._finished:
                return self._cng.generate(n)
            return np.zeros(n, _INT16)
        out = np.zeros(n, _INT16)
        pos = 0
        while pos < n and txq:
            chunk = txq[0]
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
            pos += take
            if ended:
                txq.pop(0)
                self._txq_pos = 0
                if not txq:
                    self._drained()
        self._step_work()
        if pos < n and self._cng is not None and not self._finished:
            out[pos:] = self._cng.generate(n - pos)
        self._tx_time += n
        return out

    def _step_work(self) -> None:
        """Work spread over the steps, a bounded piece per step: ECM pages coded
        ahead or decoded as they come, received pages written, the next
        high-speed receiver built."""
        busy = False
        dcs = self._dcs
        if dcs is not None and dcs.ecm and not self._finished:
            if self._pages:
                self._code_ahead()
            else:
                busy = self._decode_ahead()
        sink = self._sink
        if sink is not None and sink.waiting:
            busy = True
            try:
                sink.step()
            except (FaxError, OSError) as exc:  # e.g. the TIFF file cannot be written
                self._failed(exc)
        if not busy and self._next_mode not in self._ready and self.side == "receiver" \
                and not self._finished:
            self._prepare_receiver()

    def rx(self, samples) -> None:
        """Take the samples heard on the line: int16 at 8000/s, mono.

        Integer arrays whose values fit in int16 (int8, uint8, int32...)
        are taken as they are; float audio is refused, as the modems refuse
        it: scale and round it to int16 first.

        Raises:
            LocalProtocolError: float, bool or complex samples, values
                outside int16, or not a 1-D array.
        """
        if self._txq and not self._holding and samples.__class__ is np.ndarray \
                and samples.dtype is _INT16 and samples.ndim == 1:
            self._now += samples.size       # half duplex: deaf while sending (the
            return                          # usual block needs no more checks then)
        samples = as_int16(samples)
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
            LocalProtocolError: ``n`` is not a whole number of samples >= 0.
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise LocalProtocolError(f"rx_fillin takes a count of samples (int >= 0), not {n!r}")
        self._now += n
        if self._finished or (self._txq and not self._holding) or n == 0:
            return
        try:
            if self._v21_rest():
                self._hs_heard(self._hs.fillin(n))
                if self._state != END:
                    self._timers()
                return
            for f in self._hdlc.decode(self._v21.fillin(n)):
                if f.ok:
                    self._frame_in(f.data)
                if self._state == END:
                    return
            if self._hs is not None and not self._v21_holds_line():
                self._hs_heard(self._hs.fillin(n))
            if self._state != END:
                self._timers()
        except (FaxError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """A local failure mid-call (not the remote's fault): hang up with DCN."""
        self.log.error("call aborted: %s", exc)
        if self._state != END:
            self._detail = str(exc)
            self._end("LOCAL_ABORT", "send DCN")

    def _v21_rest(self) -> bool:
        """True while V.21 need not listen: a trained high-speed signal with
        good decisions holds the line (``link.HsReceiver.holds_line``), and
        no V.21 frame can come with it (T.30 is half duplex; spandsp's
        fax_modems likewise drops its V.21 receiver once the fast modem has
        trained).  V.21 listens afresh when the signal ends."""
        if self._hs is not None and self._hs.holds_line:
            self._v21_rests = True
            return True
        if self._v21_rests:
            self._v21_rests = False
            self._listen()
        return False

    def _rx(self, samples: np.ndarray) -> None:
        hs = self._hs
        if hs is not None:
            # the usual step under a page: a V.17 signal holds the line
            # (``_v21_rest``), its block demodulated and booked in one
            # compiled call (``link.HsReceiver.held_block``)
            ended = hs.held_block(samples)
            if ended is not False:
                self._v21_rests = True
                if ended is None and not hs.frames and self._tcf_deadline is None:
                    # (_hs_heard with the signal going on: receiving, nothing else
                    # to do; _timers with _signal_coming's answer: busy)
                    self._page_signal = True
                    self._carrier_since = None
                    self._timers(True)
                    return
                self._hs_heard(ended)
                if self._state != END:
                    self._timers()
                return
            if self._v21_rests:             # the signal that held the line ended
                self._v21_rests = False
                self._listen()
        # the samples are checked int16 (``rx``): straight to the compiled cores
        frames = self._hdlc._core.decode(self._v21._core.demodulate(samples))
        if self._cng is not None:
            self._phase_a(samples)
        for data, ok in frames:
            if ok:
                self._frame_in(data)
            if self._state == END:
                return
        if self._hs is not None and not self._v21_holds_line():
            self._hs_heard(self._hs.feed(samples))
        if self._state != END:
            self._timers()

    def _v21_holds_line(self) -> bool:
        """True while a V.21 preamble comes in (carrier, and ``V21_HOLD_FLAGS``
        flags in a row: what a high-speed training or noise never makes, unlike
        the four of ``framing_ok``) and no high-speed signal does: the
        high-speed receiver rests then, as V.21 rests under a high-speed
        signal (``_v21_rest``); T.30 is half duplex.  A high-speed signal
        still in progress is heard to its end (a V.29 or V.27ter receiver may
        deliver a page's last bits after V.21 flags began: its carrier
        detector lags).  It listens again at the first frame's closing flag
        or when the V.21 carrier drops."""
        return (self._hdlc._core.flag_run >= V21_HOLD_FLAGS and self._v21._core.carrier_present
                and not self._hs.receiving)

    def _hs_heard(self, ended: np.ndarray | None) -> None:
        """The high-speed receiver took a block (heard or filled in): its
        frames, and the end of its signal (carrier lost, or TCF waited for)."""
        hs = self._hs
        receiving = hs.receiving
        self._page_signal |= receiving
        if (not receiving and hs.decoder is None and self._expect_page and self._dcs is not None
                and not self._dcs.ecm):
            # a non-ECM page is decoded as it comes (link.PageDecoder)
            hs.decoder = link.PageDecoder(self._dcs.pels, self._dcs.coding,
                                          self.max_page_lines + 1,
                                          rows=b4_lines(self._dcs.resolution))
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
        self._listen()
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
        if data[:3] == _FCD_HEAD and not self.log.isEnabledFor(logging.DEBUG):
            # an ECM data frame (most frames of a page), not traced: its FIF
            # kept as below, without a Frame made
            self._heard_fax = True
            if self._ecm_rx is not None and len(data) > 3:
                try:
                    self._ecm_rx.add_fcd(data[3:])
                except RemoteProtocolError:     # not one of this block's frames
                    pass
            return
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
        self._page_image, self._page_bad = image, bad
        answer = judge_page(bad, dcs.resolution)
        self.log.info("rx page: %d lines, %d bad (longest run %d): %s", bad.total_lines,
                    bad.count, bad.longest_run, answer.name)
        self._event({Fcf.MCF: "PAGE_GOOD", Fcf.RTP: "PAGE_POOR"}.get(answer, "PAGE_BAD"))

    def _send_page(self) -> None:
        dcs = self._dcs
        if dcs.ecm:
            self._send_block(None)
            return
        page = self._pages[self._page_i]
        self._post = self._post_page(self._page_i)
        self.log.info("tx page %d: %d lines %s at %s %d", self._page_i + 1, page.height,
                      dcs.coding.upper(), dcs.modem, dcs.rate)
        # coded a slice at a time as the modem wants the bits (link.page_bits)
        self._queue_image(self._page_signal_of(page))
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
            coder = self._page_coder(index)
            if not coder.done:
                coder.step()

    def _send_block(self, which: list[int] | None) -> None:
        """Send an ECM block: all its frames, or those a PPR asked for."""
        dcs = self._dcs
        if not self._blocks:
            data = self._page_coder(self._page_i).data()     # coded ahead (_code_ahead)
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
        self._queue_image(self._block_signal_of(frames))
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
            image, bad = self._ecm_page()
            if bad.count:
                self.log.info("rx page: %d of %d lines repaired", bad.count, bad.total_lines)
        else:
            image = self._page_image
            self._page_image = None
            bad = self._page_bad
        try:
            self._keep_page(image, bad)
        finally:
            if self._sink is not None:
                self._sink.received = None      # (offered for this page only)

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
