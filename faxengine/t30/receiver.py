"""The receiving side of ``FaxTerminal``: frames heard turned into table events, and its actions.

``ReceiverSide`` is one part of ``faxengine.t30.terminal.FaxTerminal`` (a
mixin; the engine, timers and the link live there).  It checks a DCS
against what this terminal offered, starts the high-speed receiver for it,
collects ECM blocks (PPS: complete or PPR; EOR keeps what arrived; CTC
changes the rate, T.30 Annex A), answers with the responses the table
names, and hands each confirmed page on as a ``PageReceived`` event -- the
terminal's listeners (``files.TiffSink`` for ``receive="out.tif"``) write
it; the engine itself opens no file.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from faxengine import t4
from faxengine.errors import FaxError
from faxengine.t30 import link
from faxengine.t30.ecm import EcmBlockReceiver, PartialPage, ctc_mode, eor_post
from faxengine.t30.events import EcmStats, PageReceived, TrainingResult
from faxengine.t30.facilities import Dcs
from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.frames import Fcf, Frame
from faxengine.t30.sender import _LENGTH_MM
from faxengine.t4 import BadLines
from faxengine.t4.page import RESOLUTIONS

TCF_MARGIN_S = 0.6              # TCF is judged at the latest 75 ms + training + 1.5 s + this
PRI = {Fcf.PRI_MPS: "MPS", Fcf.PRI_EOM: "EOM", Fcf.PRI_EOP: "EOP",
       Fcf.MPS: "MPS", Fcf.EOM: "EOM", Fcf.EOP: "EOP"}
RESPONSE_FRAMES = {"CFR": Fcf.CFR, "FTT": Fcf.FTT, "MCF": Fcf.MCF, "RTP": Fcf.RTP,
                   "RTN": Fcf.RTN, "CTR": Fcf.CTR, "ERR": Fcf.ERR}
MAX_PAGE_LINES = 65536          # a receiver's default: 8.5 m at fine, 4.2 m at 400 lines/inch


def _lines_of(length: str) -> int:
    """Scan lines of a page ``length`` ("A4", "B4") long at the finest resolution
    fax has (400 lines/inch): what a receiver must take to offer that length."""
    finest = max(y for _, y in RESOLUTIONS.values())
    return int(np.ceil(dict(_LENGTH_MM)[length] / 25.4 * finest))


def dis_length(max_page_lines: int) -> str:
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


def b4_lines(resolution: str) -> int:
    """Scan lines of a B4 page (364 mm, T.4 §2.2) at ``resolution``: the room a
    received page's image is first made with."""
    return int(364 / 25.4 * RESOLUTIONS[resolution][1]) + 1


class ReceiverSide:
    """The receiver's half of the terminal (see the module's docstring)."""

    def _init_receiver(self) -> None:
        """What the receiver keeps of the page coming in and those before."""
        self._pages_ended = 0               # pages received, saved or not
        self._saved: list[int] = []         # the numbers of those saved
        self._expect_page = False
        self._page_signal = False           # high-speed data came since our answer
        self._answered = ""                 # the last response sent (CFR, MCF, ...)
        self._page_image: np.ndarray | None = None
        self._page_bad: BadLines | None = None
        self._ecm_rx: EcmBlockReceiver | None = None
        self._page_data: list[bytes] = []
        # ECM: the page decoded as its frames come (_decode_ahead), and the
        # data of the block in progress given to it so far
        self._page_decoder: t4.StreamDecoder | None = None
        self._fed: list[bytes] = []
        self._fed_frames = 0
        self._decoder_lost = False          # the block's data are not what it was fed
        self._stream_more = False           # it may have lines to decode
        self._page_blocks = self._page_frames = self._page_ppr = 0
        self._confirmed: tuple[int, int] | None = None
        self._tcf_deadline: int | None = None
        self._ready: dict[tuple[str, int], link.HsReceiver] = {}    # built ahead
        # what the first DCS most likely commands: the fastest mode offered
        self._next_mode = next((m for m in self._local.modes() if m[1] <= self._max_rate), None)

    def _prepare_receiver(self) -> None:
        """Build ahead the high-speed receiver the next DCS most likely
        commands (``_next_mode``), if it is not built yet (the terminal calls
        this in ``tx`` steps that do nothing else), so that the step that
        takes a DCS or CTC does not build one: a V.17 receiver at 14400 costs
        about 1.4 ms to construct (as much to restart), most of a step's 2 ms."""
        if self._next_mode is not None and self._next_mode not in self._ready:
            self._ready[self._next_mode] = link.HsReceiver(*self._next_mode)

    def _hs_receiver(self, modem: str, rate: int) -> link.HsReceiver:
        """A fresh receiver for (``modem``, ``rate``): the one built ahead, or a
        new one; the next one built ahead is the fallback below this mode (a
        DCS after FTT, a CTC: T.30 §5.3.6.1.4, §A.4.3)."""
        hs = self._ready.pop((modem, rate), None)
        modes = [m for m in self._local.modes() if m[1] <= self._max_rate]
        below = modes.index((modem, rate)) + 1 if (modem, rate) in modes else len(modes)
        self._next_mode = modes[below] if below < len(modes) else None
        return hs if hs is not None else link.HsReceiver(modem, rate)

    # ------------------------------------------------- frames -> table events
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
            self._hs = self._hs_receiver(dcs.modem, dcs.rate)
            # judged when its carrier drops, or when it must be over (noise can
            # hold a carrier detector on): the sender's T4 runs from its end
            wait = 0.075 + link.TRAINING_S[dcs.modem, dcs.rate] + 1.5 + TCF_MARGIN_S
            self._tcf_deadline = self._now + int(wait * link.SAMPLE_RATE)
            return "DCS"
        if fcf is Fcf.DIS:
            return "DIS"
        dcs = self._dcs
        if fcf in PRI and state == "C:RECEIVE_PAGE" and self._expect_page and dcs is not None \
                and not dcs.ecm and (self._page_signal or self._answered != "MCF"):
            # the post-page command came before the page's carrier was seen to
            # drop.  (With no image data at all since an MCF of ours, it is the
            # last command again, our MCF was lost: the table repeats it.)
            bits = self._hs.end() if self._hs is not None else np.zeros(0, np.uint8)
            self._judge_page(bits)
            return PRI[fcf]
        if fcf in PRI:
            return PRI[fcf]
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
            self._page_incomplete = True
            return "EOR-" + ("NULL" if post is None else PRI[post])
        if fcf is Fcf.CTC:
            modem, rate = ctc_mode(frame.fif)
            self._dcs = dataclasses.replace(dcs, modem=modem, rate=rate)
            self._hs = self._hs_receiver(modem, rate)
            self._hs.collect_frames()
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
        self._page_blocks += 1
        self._page_frames += len(rx)
        block = rx.arrived() if partial else rx.data(rx.count)
        self._page_data.append(block)
        rx.reset()
        fed = b"".join(self._fed)
        self._fed, self._fed_frames = [], 0
        if not block.startswith(fed):       # a frame changed under its number
            self._decoder_lost = True
        elif not self._decoder_lost:
            self._page_stream().feed(block[len(fed):])
            self._stream_more = True

    def _page_stream(self) -> t4.StreamDecoder:
        """The decoder of the ECM page coming in (a new one at its first data)."""
        if self._page_decoder is None:
            dcs = self._dcs
            self._page_decoder = t4.StreamDecoder(dcs.pels, dcs.coding,
                                                  max_lines=self.max_page_lines + 1,
                                                  rows=b4_lines(dcs.resolution))
        return self._page_decoder

    def _decode_ahead(self) -> bool:
        """ECM, once per step (True when it did some work): give the page's decoder the frames of the block
        that came in order since the last step, and let it decode at most
        ``link.DECODE_PIECE_LINES`` lines, so the page is decoded as it
        arrives rather than in the step that confirms it.  (An MMR page
        cannot be cut at lines without decoding it: ``t4.StreamDecoder``
        keeps its state from piece to piece.)  A frame is final once its FCS
        is good (T.4 §A.3.6), so what is fed stands; ``_keep_block`` checks
        it against the block and gives the decoder the rest."""
        rx = self._ecm_rx
        if rx is None or self._decoder_lost:
            return False
        if not self._stream_more and self._fed_frames not in rx:
            return False                # (most steps: no frame came in order, nothing waits)
        if not self._in_ecm_page():
            return False
        count, data = rx.in_order(self._fed_frames)
        if count:
            self._fed_frames += count
            self._fed.append(data)
            self._page_stream().feed(data)
            self._stream_more = True
        if not self._stream_more:       # it waits for data, none came
            return False
        got = self._page_decoder.decode(link.DECODE_PIECE_LINES)
        self._stream_more = got == link.DECODE_PIECE_LINES
        return got > 0 or count > 0

    def _write_waiting(self) -> None:
        """The call ends: write the pages the file layer is still coding (it
        codes them a slice a step, ``files.TiffSink``)."""
        if self._sink is not None and self._sink.waiting:
            try:
                self._sink.flush()
            except (FaxError, OSError) as exc:  # the pages not written do not count
                self.log.error("writing the received file failed: %s", exc)

    def _ecm_page(self) -> tuple[np.ndarray, BadLines]:
        """The ECM page just confirmed, its last lines decoded (the rest were
        as it came), or the whole page when the decoder lost track."""
        data, self._page_data = b"".join(self._page_data), []
        decoder, lost = self._page_decoder, self._decoder_lost
        self._page_decoder, self._decoder_lost, self._stream_more = None, False, False
        self._fed, self._fed_frames = [], 0
        if lost or decoder is None:
            return self._decode_page(data)
        image, bad = self._decode_page(None, decoder.finish())
        if self._sink is not None and not bad.count and decoder.end_mark \
                and not self._page_incomplete:
            # every line decoded cleanly up to the page's own end: the file
            # may store these data as they are (files.TiffSink.offer)
            self._sink.offer(self._dcs.coding, data)
        return image, bad

    # ----------------------------------------------------- receiver's actions
    def _send_response(self, what: str) -> None:
        """CFR, FTT, MCF, RTP, RTN, CTR or ERR; CFR and MCF open the next page."""
        self._answered = what
        self._response(lambda f=RESPONSE_FRAMES[what]: self._send_frames(self._x_frame(f)))
        if what in ("CFR", "FTT"):
            dcs = self._dcs
            self._emit(TrainingResult(self._clock_s(), dcs.modem, dcs.rate, what == "CFR"))
        if what == "CFR" or (what == "MCF" and self._state == "C:RECEIVE_PAGE"):
            self._expect_page = True
            self._page_signal = False
            if self._hs is not None and self._dcs.ecm:
                self._hs.collect_frames()

    def _send_ppr(self) -> None:
        fif = self._ecm_rx.ppr(self._ecm_rx.frames)
        self._page_ppr += 1
        self._response(lambda: self._send_frames(self._x_frame(Fcf.PPR, fif)))

    def _discard_page(self) -> None:
        """RTN: the sender sends the page again."""
        self._page_image = None

    def _keep_page(self, image: np.ndarray | None, bad) -> None:
        """Page ``_pages_ended`` is confirmed: report it (listeners write it).

        ``bad`` is the non-ECM page's ``BadLines``; with ECM the page's block
        statistics go with it instead.
        """
        number = self._pages_ended
        if image is None or image.shape[0] == 0:
            self.log.info("rx page %d: no image data arrived, nothing to save", number)
        else:
            x_res, y_res = RESOLUTIONS[self._dcs.resolution]
            ecm = None
            if self._dcs.ecm:
                ecm = EcmStats(blocks=self._page_blocks, frames=self._page_frames,
                               ppr=self._page_ppr, incomplete=self._page_incomplete)
                bad = None
            self._emit(PageReceived(self._clock_s(), number, image, x_res, y_res,
                                    bad_lines=bad, ecm=ecm))
            self._saved.append(number)      # (not when the file layer failed to write it)
            self.log.info("rx page %d saved: %d x %d", len(self._saved), image.shape[1],
                          image.shape[0])
        if self._page_incomplete:
            self._incomplete.append(number)
        self._page_incomplete = False
        self._page_blocks = self._page_frames = self._page_ppr = 0
