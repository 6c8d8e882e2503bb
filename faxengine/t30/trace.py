"""The T.30 trace: every frame sent and received, in words, on logger ``faxengine.t30``.

``describe_frame`` puts one frame into words (``DCS: V.17 14400, fine, MMR,
ECM 256, A4``, ``CSI "+1 555 0100"``, ``PPS-EOP page 0 block 0 frames 37``,
``PPR: 3 frames 4 17 200``); ``log_frame`` logs it with the direction.
Control frames log at INFO.  The ECM data frames FCD and RCP -- up to 256
per block -- log at DEBUG, so that the INFO trace reads like a call log.
Describing never raises: a frame whose FIF is invalid is shown with the
reason and its octets in hex.
"""
from __future__ import annotations

import logging

from faxengine.t30.ecm import PartialPage, ctc_mode, eor_post, ppr_frames
from faxengine.t30.errors import T30Error
from faxengine.t30.facilities import Capabilities, Dcs, describe
from faxengine.t30.frames import IDENT_FCFS, Fcf, Frame, decode_ident

logger = logging.getLogger("faxengine.t30")

_DATA_FRAMES = frozenset({Fcf.FCD, Fcf.RCP})


def describe_frame(frame: Frame) -> str:
    """One frame in words, for the trace."""
    try:
        return _describe(frame)
    except T30Error as exc:
        return f"{frame.name} (invalid: {exc}) fif {frame.fif.hex(' ')}"


def _describe(frame: Frame) -> str:
    fcf = frame.fcf
    if fcf is Fcf.UNKNOWN:
        return f"unknown FCF 0x{frame.code:02X}" + (f" fif {frame.fif.hex(' ')}"
                                                   if frame.fif else "")
    if fcf in (Fcf.DIS, Fcf.DTC):
        return describe(Capabilities.decode(frame.fif), frame.name)
    if fcf is Fcf.DCS:
        return describe(Dcs.decode(frame.fif))
    if fcf in IDENT_FCFS:
        return f'{frame.name} "{decode_ident(frame.fif)}"'
    if fcf is Fcf.PPS:
        pps = PartialPage.parse(frame)
        return f"PPS-{pps.name} page {pps.page} block {pps.block} frames {pps.frames}"
    if fcf is Fcf.EOR:
        post = eor_post(frame)
        return f"EOR-{'NULL' if post is None else post.label}"
    if fcf is Fcf.PPR:
        wanted = ppr_frames(frame.fif)
        return f"PPR: {len(wanted)} frames" + "".join(f" {i}" for i in wanted)
    if fcf is Fcf.CTC:
        modem, rate = ctc_mode(frame.fif)
        return f"CTC: continue at {modem} {rate}"
    if fcf is Fcf.FCD and frame.fif:
        return f"FCD {frame.fif[0]} ({len(frame.fif) - 1} octets)"
    if fcf in (Fcf.NSF, Fcf.NSC, Fcf.NSS) and frame.fif:
        return f"{frame.name} ({len(frame.fif)} octets, not interpreted)"
    return frame.name + (f" fif {frame.fif.hex(' ')}" if frame.fif else "")


def log_frame(direction: str, frame: Frame, log: logging.Logger = logger) -> None:
    """Log ``frame`` as sent (``"tx"``) or received (``"rx"``)."""
    level = logging.DEBUG if frame.fcf in _DATA_FRAMES else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "%s %s", direction, describe_frame(frame))
