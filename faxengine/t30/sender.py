"""The sending side of ``FaxTerminal``: frames heard turned into table events, and its actions.

``SenderSide`` is one part of ``faxengine.t30.terminal.FaxTerminal`` (a
mixin; the engine, timers and the link live there).  It knows the document
(its pages, grouped by resolution and width: a change needs EOM and a new
phase B), what the receiver has confirmed (``pages_done``, ``PageSent``
events) and how to turn each frame heard into an event of the transition
table (``faxengine.t30.states``): DIS/DTC become a DCS chosen with
``choose_dcs``, FTT a ``fallback``, the fourth PPR for a block CTC at a
lower rate (T.30 §A.4.5), a DIS in phase D the receiver's return to phase B.
What each phase-D state waits for comes from ``states.PHASE_D``, never
from the state's name.
"""
from __future__ import annotations


from faxengine.t30 import link
from faxengine.t30.ecm import PartialPage, ctc_fif, eor_frame, ppr_frames
from faxengine.t30.errors import IncompatibleError, LocalProtocolError
from faxengine.t30.events import PageSent, TrainingResult
from faxengine.t30.facilities import Capabilities, Preferences, choose_dcs, fallback
from faxengine.t30.frames import Fcf, Frame, message
from faxengine.t30.states import PHASE_D, timer_samples
from faxengine.t4.page import FAX_WIDTHS, RESOLUTIONS

PPR_LIMIT = 4                   # T.30 §A.4.5: the fourth PPR for a block -> CTC or EOR
POST_FRAMES = {"MPS": Fcf.MPS, "EOM": Fcf.EOM, "EOP": Fcf.EOP}
_LENGTH_MM = (("A4", 297.0), ("B4", 364.0))


class SenderSide:
    """The sender's half of the terminal (see the module's docstring)."""

    def _init_sender(self) -> None:
        """Where the sender is in its document."""
        self._page_i = 0                # the page being sent: the pages before are confirmed
        self._retries = 0
        self._blocks: list = []
        self._block_i = 0
        self._post = "EOP"
        self._ppr_count = 0
        self._ppr_want: list[int] = []
        self._coder: link.PageCoder | None = None   # ECM: the next page, coded ahead

    # ------------------------------------------------- frames -> table events
    def _sender_frame(self, frame: Frame) -> str | None:
        fcf, state = frame.fcf, self._state
        pending = PHASE_D.get(state)
        if fcf is Fcf.DIS and pending is not None:
            # the receiver is back in phase B (see states.py): after EOM our
            # command was taken and its response lost; after MPS/EOP/NULL the
            # page or block goes again once retrained, within the page's retries
            if self._dis_in_phase_d(pending):
                self._detail = (f"the receiver answered page {self._page_i + 1} with DIS "
                                f"(back to phase B) {self._retries} times instead of confirming it")
                return "RTN_EXHAUSTED"
        if fcf in (Fcf.DIS, Fcf.DTC):
            if state in ("B:WAIT_DIS", "B:WAIT_DTC") or pending is not None:
                self._remote = Capabilities.decode(frame.fif)
                try:
                    self._next_dcs = choose_dcs(self._local, self._remote,
                                                self._preferences(self._page_i))
                except IncompatibleError as exc:
                    self._detail = str(exc)
                    return "INCOMPATIBLE"
            return fcf.name
        if fcf in (Fcf.CFR, Fcf.FTT) and state == "B:WAIT_CFR":
            dcs = self._dcs
            self._emit(TrainingResult(self._clock_s(), dcs.modem, dcs.rate, fcf is Fcf.CFR))
            if fcf is Fcf.FTT:
                self._next_dcs = fallback(dcs, self._remote, self._local)
                return "FTT" if self._next_dcs is not None else "FTT_AT_LOWEST"
            self._trained = True
        if pending is not None and not pending.ecm:
            if fcf in (Fcf.MCF, Fcf.RTP):
                self._page_confirmed(fcf.name)
                self._trained = fcf is Fcf.MCF
            elif fcf is Fcf.RTN:
                self._retries += 1
                self._trained = False
                if self._retries >= self.page_retries:
                    return "RTN_EXHAUSTED"
        elif pending is not None:
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

    def _dis_in_phase_d(self, pending) -> bool:
        """DIS heard while waiting for a post-page response: what it confirms.
        True when the page has now gone unconfirmed ``page_retries`` times."""
        if pending.post != "EOM":
            self._trained = False
            self._retries += 1
            return self._retries >= self.page_retries
        if pending.sent == "eor":                   # as ERR
            self._page_incomplete = True
            self._next_block()
        elif pending.ecm:                           # as MCF
            self._next_block()
        else:                                       # non-ECM: as MCF
            self._page_confirmed("MCF")
        return False

    def _page_confirmed(self, response: str) -> None:
        """The receiver took page ``_page_i`` (MCF, RTP; ERR after EOR): on to the next."""
        if response == "ERR":               # EOR gave up on a block of it
            self._incomplete.append(self._page_i + 1)
        self._emit(PageSent(self._clock_s(), self._page_i + 1, response))
        self._page_i += 1
        self._retries = 0

    def _next_block(self) -> None:
        """The current ECM block is confirmed (MCF) or given up (ERR)."""
        self._ppr_count = 0
        self._retries = 0
        self._block_i += 1
        if self._block_i >= len(self._blocks):
            self._page_confirmed("ERR" if self._page_incomplete else "MCF")
            self._page_incomplete = False
            self._blocks = []
            self._block_i = 0

    # ------------------------------------------------------- sender's actions
    def _send_capabilities(self, fcf: Fcf) -> None:
        """DIS (answering) or DTC (polling), with CSI or CIG before it."""
        ident = Fcf.CSI if fcf is Fcf.DIS else Fcf.CIG
        self._command(lambda: self._send_frames(
            *message(*self._ident(ident), Frame(fcf, self._local.encode()))))

    def _choose_dcs(self) -> None:
        """choose DCS / fall back: the mode found when the DIS or FTT came."""
        self._dcs = self._next_dcs
        self._trained = False

    def _send_dcs(self) -> None:
        dcs = self._dcs
        self._command(lambda: self._send_frames(
            *message(*self._ident(Fcf.TSI), self._x_frame(Fcf.DCS, dcs.encode()))))

    def _send_tcf(self) -> None:
        self._command(lambda: self._queue(self._tcf_signal_of()))

    def _resend_frames(self) -> None:
        """The FCD frames the last PPR asked for (T.30 §A.4.2)."""
        self._send_block(self._ppr_want)

    def _send_post(self, post: str) -> None:
        """MPS, EOM or EOP after a non-ECM page."""
        self._command(lambda f=POST_FRAMES[post]: self._send_frames(self._x_frame(f)))

    def _send_pps(self, post: str) -> None:
        """PPS-NULL/MPS/EOM/EOP after an ECM block (T.30 §A.4.1)."""
        pps = PartialPage(None if post == "NULL" else POST_FRAMES[post],
                          self._page_i % 256, self._block_i % 256,
                          len(self._blocks[self._block_i].frames))
        self._command(lambda: self._send_frames(pps.frame(self._x)))

    def _send_ctc(self) -> None:
        self._choose_dcs()
        fif = ctc_fif(self._dcs.modem, self._dcs.rate)
        self._command(lambda: self._send_frames(self._x_frame(Fcf.CTC, fif)))

    def _send_eor(self) -> None:
        post = None if self._post == "NULL" else POST_FRAMES[self._post]
        self._command(lambda: self._send_frames(eor_frame(post, self._x)))

    def _send_rr(self) -> None:
        if "T5" not in self._deadlines:             # T5 runs from the first RNR
            self._deadlines["T5"] = self._now + timer_samples("T5")
        self._command(lambda: self._send_frames(self._x_frame(Fcf.RR)))

    # -------------------------------------------------------------- document
    def _mode_of(self, index: int) -> tuple[str, str]:
        """(resolution, paper width) of page ``index``, checked.

        Raises:
            LocalProtocolError: a resolution or line width fax does not have,
                or a page without a line (it would go as RTC alone, and both
                terminals would call the call OK with nothing on paper).
        """
        page = self._pages[index]
        if page.height < 1:
            raise LocalProtocolError(
                f"page {index + 1} has no line (0 x {page.width} pels): fax has nothing to "
                "send for it; leave it out of the document")
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
