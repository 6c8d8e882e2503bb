"""The call put back together: frames and bursts in time order, as a receiver would follow them.

Walking the events of all channels in time order:

* DCS (T.30 §5.3.6.2.8) names the modem and rate of what follows: a new
  receiver for it, and the next burst is TCF (§5.3.2.2), judged as our
  terminal judges it (``faxengine.t30.quality.judge_tcf``).  CTC (§A.4.2)
  changes the rate with no TCF.
* V.17 keeps one receiver from the DCS on (the pages' short training needs
  the equaliser the long one trained); V.29 and V.27ter start afresh on
  every burst, each bringing its training.
* Without ECM a page burst's bits are trimmed to the first EOL and RTC and
  decoded leniently; the page counts once the receiver answered MCF or RTP
  (after RTN the sender sends it again).
* With ECM the bursts' HDLC frames go into ``faxengine.t30.ecm``'s
  ``EcmBlockReceiver`` by frame number; a PPS with the block complete
  closes the block (a repeated PPS is skipped), a PPS with a post-page
  command or an EOR closes the page.
"""
from __future__ import annotations

import numpy as np

from faxengine import t4
from faxengine.levels import SAMPLE_RATE, power_to_dbm0
from faxengine.modem import HdlcRx, V17Rx, V27terRx, V29Rx
from faxengine.t30.ecm import EcmBlockReceiver, PartialPage, ctc_mode, eor_post
from faxengine.t30.errors import T30Error
from faxengine.t30.facilities import MODES, V17, V27TER, V29, Dcs
from faxengine.t30.frames import POST_PAGE, Fcf, Frame
from faxengine.t30.link import POOR_SNR_DB, bits_to_bytes
from faxengine.t30.quality import first_eol, judge_tcf, rtc_end
from faxengine.t30.trace import describe_frame
from faxengine.t4.page import RESOLUTIONS

from faxengine.media.analyser.report import Burst, FrameSeen, PageSeen, Report
from faxengine.media.analyser.signals import ChannelScan, Stretch

_RX = {V17: V17Rx, V29: V29Rx, V27TER: V27terRx}
LEAD = 240                  # 30 ms before a burst's detected start go to its receiver
TAIL = 480                  # 60 ms of silence after it, so the carrier is seen to drop
ECM_CHUNK = 256             # bits: an ECM frame's time is known to this many bits
SYMBOLS = 2000              # data symbols kept per burst for its constellation


def frame_seen(time: float, channel: int, data: bytes,
               modem: str = "V.21") -> tuple[FrameSeen, Frame | None]:
    """The record of a frame and the T.30 frame it parses to (None if it is none)."""
    try:
        frame = Frame.parse(data)
    except T30Error as exc:
        return FrameSeen(time, channel, "?", data, f"not a T.30 frame ({exc})", modem), None
    return FrameSeen(time, channel, frame.name, data, describe_frame(frame), modem), frame


class CallWalker:
    """Follows one call through its frames and bursts (see the module docstring)."""

    def __init__(self, report: Report, out_pages: list[PageSeen]) -> None:
        self.report = report
        self.pages = out_pages
        self.dcs: Dcs | None = None
        self.mode: tuple[str, int] | None = None
        self.rx = None
        self.expect_tcf = False
        self.ecm: EcmBlockReceiver | None = None
        self.page_data: list[bytes] = []
        self.page_incomplete = False
        self.done_blocks: set[tuple[int, int]] = set()
        self.candidate: PageSeen | None = None
        self.pending_bits: np.ndarray | None = None

    # ------------------------------------------------------------- frames
    def frame(self, frame: Frame) -> None:
        fcf = frame.fcf
        try:
            if fcf is Fcf.DCS:
                self.dcs = Dcs.decode(frame.fif)
                self._new_mode(self.dcs.modem, self.dcs.rate)
                self.expect_tcf = True
                self.ecm = EcmBlockReceiver(self.dcs.frame_size) if self.dcs.ecm else None
                self.page_data, self.done_blocks = [], set()
            elif fcf is Fcf.CTC and self.dcs is not None:
                self._new_mode(*ctc_mode(frame.fif))
            elif fcf is Fcf.PPS and self.ecm is not None:
                self._pps(PartialPage.parse(frame))
            elif fcf is Fcf.EOR and self.ecm is not None:
                post = eor_post(frame)
                self.page_data.append(self.ecm.arrived())
                self.ecm.reset()
                self.page_incomplete = True
                if post is not None:
                    self._end_ecm_page()
            elif fcf in POST_PAGE and self.pending_bits is not None:
                self.candidate = self._non_ecm_page(self.pending_bits)
                self.pending_bits = None
            elif fcf in (Fcf.MCF, Fcf.RTP) and self.candidate is not None:
                self.pages.append(self.candidate)
                self.candidate = None
            elif fcf is Fcf.RTN and self.candidate is not None:
                self.report.notes.append("a page was answered RTN (the sender sends it again)")
                self.candidate = None
        except T30Error as exc:
            self.report.notes.append(f"{frame.name}: {exc}")

    def _new_mode(self, modem: str, rate: int) -> None:
        self.mode = (modem, rate)
        self.rx = _RX[modem](rate=rate)

    def _pps(self, pps: PartialPage) -> None:
        key = (pps.page, pps.block)
        if key in self.done_blocks:
            return                                      # the MCF to it was lost
        frames = self.ecm.expect(pps.frames)
        if not self.ecm.complete(frames):
            return                                      # PPR follows, then the frames again
        self.page_data.append(self.ecm.data(frames))
        self.ecm.reset()
        self.done_blocks.add(key)
        if pps.post is not None:
            self._end_ecm_page()

    def _end_ecm_page(self) -> None:
        data = b"".join(self.page_data)
        self.page_data = []
        dcs = self.dcs
        image, bad = t4.decode_lenient(data, dcs.pels, dcs.coding)
        self.pages.append(PageSeen(image, *RESOLUTIONS[dcs.resolution], ecm=True,
                                   bad_lines=bad.count, incomplete=self.page_incomplete))
        self.page_incomplete = False

    def _non_ecm_page(self, bits: np.ndarray) -> PageSeen:
        dcs = self.dcs
        bits = bits[first_eol(bits):rtc_end(bits)]
        image, bad = t4.decode_lenient(bits_to_bytes(bits), dcs.pels, dcs.coding)
        return PageSeen(image, *RESOLUTIONS[dcs.resolution], ecm=False, bad_lines=bad.count)

    # ------------------------------------------------------------- bursts
    def _guess_mode(self, seg: np.ndarray, start: float) -> bool:
        """No DCS heard yet (a recording that starts mid-call): take the first
        mode, fastest first, whose receiver trains on the burst with a decision
        SNR that mode works at.  The burst stays of kind "unknown"."""
        for modem, rate in MODES:
            rx = _RX[modem](rate=rate)
            if rx.demodulate(seg).size and rx.snr_db >= POOR_SNR_DB[modem, rate]:
                self._new_mode(modem, rate)
                self.report.notes.append(
                    f"no DCS before the burst at {start:.2f} s: "
                    f"{modem} {rate} trains on it")
                return True
        return False

    def _ecm_frames(self, b: Burst, bits: np.ndarray) -> None:
        """The HDLC frames of an ECM burst into the report (each timed by its
        last bit, counted back from the burst's end) and into the block."""
        hdlc = HdlcRx(max_len=260)
        for i in range(0, bits.size, ECM_CHUNK):
            when = b.end - (bits.size - min(i + ECM_CHUNK, bits.size)) / b.rate
            for f in hdlc.decode(bits[i:i + ECM_CHUNK]):
                if not f.ok:
                    continue
                seen, frame = frame_seen(when, b.channel, f.data, f"{b.modem} {b.rate}")
                self.report.frames.append(seen)
                try:
                    if frame is not None and frame.fcf is Fcf.FCD:
                        self.ecm.add(frame)
                        b.ecm_frames += 1
                except T30Error as exc:
                    self.report.notes.append(f"ECM frame at {when:.2f} s: {exc}")

    def burst(self, x: np.ndarray, channel: int, st: Stretch, noise: float) -> Burst:
        seg = x[st.start:st.end].astype(np.float64)
        power = float(np.mean(seg * seg)) if seg.size else 0.0
        b = Burst(channel, st.start / SAMPLE_RATE, st.end / SAMPLE_RATE,
                  level_dbm0=power_to_dbm0(power) if power > 0 else None,
                  snr_db=(10 * np.log10(max(power - noise, 1e-9) / noise)) if noise > 0 else None)
        seg = x[max(0, st.start - LEAD):st.end]
        if self.mode is None and not self._guess_mode(seg, b.start):
            return b
        b.modem, b.rate = self.mode
        rx = self.rx
        if b.modem != V17:
            rx.restart()
        got = rx.demodulate(seg)
        b.trained = bool(rx.trained) or got.size > 0
        b.eq_snr_db = float(rx.snr_db) if b.trained else None
        b.symbols = rx.symbols(SYMBOLS) if b.trained else np.zeros(0, np.complex64)
        bits = np.concatenate([got, rx.demodulate(np.zeros(TAIL, np.int16))])
        b.bits = int(bits.size)
        if self.expect_tcf:
            self.expect_tcf = False
            b.kind = "TCF"
            b.tcf = "good" if judge_tcf(bits, b.rate) else "bad"
        elif self.dcs is None:
            b.kind = "unknown"                  # what it carries, only a DCS would say
        elif self.ecm is not None:
            b.kind = "ECM"
            self._ecm_frames(b, bits)
        else:
            b.kind = "page"
            if bits.size:
                self.pending_bits = bits
        return b


def walk(columns: list[np.ndarray], scans: list[ChannelScan], report: Report) -> None:
    """Fill ``report`` with the frames, bursts and pages of the call whose
    channels are ``columns``, as ``scans`` found them."""
    events = []                                 # (sample, order, kind, channel, payload)
    for ch, sc in enumerate(scans):
        events += [(end, 1, "frame", ch, data) for end, data in sc.frames]
        events += [(st.start, 0, "burst", ch, st) for st in sc.bursts]
    events.sort(key=lambda e: (e[0], e[1]))
    walker = CallWalker(report, report.pages)
    for sample, _, kind, ch, payload in events:
        if kind == "frame":
            seen, frame = frame_seen(sample / SAMPLE_RATE, ch, payload)
            report.frames.append(seen)
            if frame is not None:
                walker.frame(frame)
        else:
            report.bursts.append(walker.burst(columns[ch], ch, payload, scans[ch].noise_power))
    if walker.candidate is not None:
        report.notes.append("the last page was not answered before the recording ends")
        report.pages.append(walker.candidate)
