"""What ``faxengine.t38.gateway.T38Gateway`` learns from the T.30 frames it
relays, and the edits it makes to them (as spandsp's gateway snoops).

``T30Snoop.frame(data, direction)`` takes a good frame (``t30.frames``
octets, FCS removed) passing either way and returns the octets to send on:

* DIS/DTC (T.30 Table 2): V.8 (bit 6) cleared, and with ``ecm=False``
  error correction (bit 27) and MMR (bit 31, only allowed with ECM): what
  the gateway cannot carry.  The HDLC transmitter puts a new FCS on it;
* NSF, NSC and NSS (T.30 §5.3.6.2: non-standard facilities, a T.35
  country and vendor code then the vendor's own octets), with
  ``nsx_suppression`` (the default): every FIF octet overwritten with zero,
  the frame's length kept, as spandsp's ``t38_gateway_set_nsx_suppression``
  does.  Two machines of one maker that recognise each other in NSF agree
  proprietary modes (compression, speeds) in NSS that the gateway cannot
  demodulate or carry; with the vendor's octets gone no machine recognises
  a partner, so both fall back to what DIS/DCS say.  The frame stays where it was (the V.21 signal
  keeps its frames and timing), only its content is gone;
* DCS sets ``mode`` (modem, rate) and ECM for the high-speed signals that
  follow: the first after a DCS is TCF, never ECM (``next_signal`` "tcf");
  CFR and CTR make them the image ("image": ECM frames when the DCS said
  so); CTC (T.30 §A.4, DCS bits 11-14) changes the rate of an ECM call.
  ``epoch`` counts the modes set, so the gateway knows when to build a new
  high-speed receiver;
* post-message commands (MPS, EOP, EOM and their PRI- forms, PPS-x) and
  MCF count ``pages``; ``document_done`` once the last one (EOP) was
  confirmed; DCN sets ``dcn``.

ECM data frames (FCD, RCP) and octets that are not a T.30 frame pass as
they are, unrecorded; every other frame goes into ``frames`` as
(direction, Frame) and to the log at INFO.
"""
from __future__ import annotations

import logging

from faxengine.t30.errors import RemoteProtocolError
from faxengine.t30.facilities import Dcs
from faxengine.t30.frames import POST_PAGE, Fcf, Frame, lookup_fcf

__all__ = ["T30Snoop", "DIS_V8_BIT", "DIS_ECM_BIT", "DIS_MMR_BIT"]

DIS_V8_BIT, DIS_ECM_BIT, DIS_MMR_BIT = 6, 27, 31        # T.30 Table 2
_DOCUMENT_END = frozenset({Fcf.EOP, Fcf.PRI_EOP})
_NSX = frozenset({Fcf.NSF, Fcf.NSC, Fcf.NSS})      # non-standard facilities: T.35 code, vendor data
_POST_MESSAGE = frozenset({Fcf.EOP, Fcf.PRI_EOP, Fcf.MPS, Fcf.PRI_MPS, Fcf.EOM, Fcf.PRI_EOM})


def _clear(fif: bytearray, n: int) -> None:
    """Clear Table 2 bit ``n`` (``1 << ((n - 1) % 8)`` of octet ``(n - 1) // 8``) if present."""
    if len(fif) > (n - 1) // 8:
        fif[(n - 1) // 8] &= ~(1 << ((n - 1) % 8)) & 0xFF


class T30Snoop:
    """The T.30 state a gateway follows (see the module docstring)."""

    def __init__(self, ecm: bool, log: logging.Logger | logging.LoggerAdapter,
                 nsx_suppression: bool = True) -> None:
        self.ecm, self.log, self.nsx_suppression = ecm, log, nsx_suppression
        self.suppressed = 0                     # NSF/NSC/NSS frames overwritten
        self.dcs: Dcs | None = None
        self.epoch = 0
        self.next_signal = "tcf"
        self.pages = 0
        self.document_done = False
        self.dcn = False
        self.frames: list[tuple[str, Frame]] = []
        self._command: Fcf | None = None

    @property
    def mode(self) -> tuple[str, int] | None:
        """The (modem, rate) of the high-speed signals to come, None before a DCS."""
        return None if self.dcs is None else (self.dcs.modem, self.dcs.rate)

    @property
    def ecm_image(self) -> bool:
        """The next high-speed signal is ECM frames (image, and the DCS chose ECM)."""
        return self.next_signal == "image" and self.dcs is not None and self.dcs.ecm

    def frame(self, data: bytes, direction: str) -> bytes:
        """A good frame passing ``direction``: learn from it; the octets to send on."""
        try:
            frame = Frame.parse(data)
        except RemoteProtocolError:
            return data                         # not T.30: as it is
        fcf = frame.fcf
        if fcf in (Fcf.FCD, Fcf.RCP):
            return data                         # ECM image frames: not recorded one by one
        if fcf in (Fcf.DIS, Fcf.DTC):
            frame = self._edit_dis(frame)
            data = frame.to_bytes()
        elif fcf in _NSX and self.nsx_suppression and frame.fif.strip(b"\0"):
            frame = Frame(frame.fcf, bytes(len(frame.fif)), frame.final, frame.x, frame.code)
            data = frame.to_bytes()
            self.suppressed += 1
        elif fcf is Fcf.DCS:
            try:
                self.dcs = Dcs.decode(frame.fif)
            except RemoteProtocolError as exc:
                self.log.info("DCS not understood (%s): the high-speed mode is unknown", exc)
                self.dcs = None
            self.next_signal = "tcf"
            self.epoch += 1
        elif fcf is Fcf.CTC and self.dcs is not None:
            self._ctc(frame)
        elif fcf in (Fcf.CFR, Fcf.CTR):
            self.next_signal = "image"
        elif fcf is Fcf.PPS and frame.fif:      # T.30 §A.4: PPS-EOP, PPS-MPS, ...
            self._command = lookup_fcf(frame.fif[0])[0]
        elif fcf in _POST_MESSAGE:
            self._command = fcf
        elif fcf is Fcf.MCF and self._command in POST_PAGE:
            self.pages += 1
            self.document_done = self._command in _DOCUMENT_END
            self._command = None
        elif fcf is Fcf.DCN:
            self.dcn = True
        self.frames.append((direction, frame))
        self.log.info("%s %s", direction, frame.name)
        return data

    def signal_ended(self) -> None:
        """A high-speed signal ended: after TCF comes the image (CFR says so too)."""
        if self.next_signal == "tcf":
            self.next_signal = "image"

    def _edit_dis(self, frame: Frame) -> Frame:
        fif = bytearray(frame.fif)
        _clear(fif, DIS_V8_BIT)
        if not self.ecm:
            _clear(fif, DIS_ECM_BIT)
            _clear(fif, DIS_MMR_BIT)
        if fif == frame.fif:
            return frame
        return Frame(frame.fcf, bytes(fif), frame.final, frame.x, frame.code)

    def _ctc(self, frame: Frame) -> None:
        try:                                    # T.30 §A.4: CTC carries DCS bits 11-14
            ctc = Dcs.decode(frame.fif + bytes(max(0, 3 - len(frame.fif))))
        except RemoteProtocolError:
            return
        dcs = self.dcs
        if (ctc.modem, ctc.rate) != (dcs.modem, dcs.rate):
            self.dcs = Dcs(modem=ctc.modem, rate=ctc.rate, resolution=dcs.resolution,
                           coding=dcs.coding, ecm=True, frame_size=dcs.frame_size)
            self.epoch += 1
