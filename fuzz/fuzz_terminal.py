#!/usr/bin/env python3
"""Fuzz target: a whole ``FaxTerminal`` against a hostile peer that sends any T.30 frames.

Input layout::

    octet 0   bit 0: 0 = our terminal answers and receives (the peer calls
              and sends), 1 = ours calls and sends a one-page document (the
              peer answers and receives); bit 1: offer ECM
    rest      the peer's frames, each as one length octet L (bit 7: the last
              frame of a message, bits 0-6: octets) then L octets: FCF and
              FIF (address and control are added: 0xFF, 0x03 or 0x13)

The peer sends one message (its frames in one V.21 transmission, HDLC
flags before and after) each time our terminal has been quiet for
``PEER_WAIT`` samples, then falls silent.  Oracle: ``tx``/``rx`` never
raise; the call ends by itself within ``END_WITHIN_S`` seconds of line
time after the peer's last signal (T.30's timers bound every wait: T1 35 s,
T2 6 s, T4 3 s x 3, T5 60 s); ``result.code`` is one of the stable codes.
Each input is a call of up to two minutes of line time: few executions a
second, but each one walks the state machine as far as the frames take it.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from _harness import Reader, instrumented, main

with instrumented():
    from faxengine.modem import HdlcTx, V21Tx
    from faxengine.t30.result import CODES
    from faxengine.t30.terminal import FaxTerminal
    from faxengine.t4 import Page

STEP = 400                      # samples per tx/rx round (50 ms)
PEER_WAIT = 1200                # the peer answers after 150 ms of quiet
END_WITHIN_S = 130.0
MAX_MESSAGES = 24
PAGE = Page(np.zeros((20, 1728), dtype=bool))
_OUT = Path(tempfile.mkdtemp(prefix="fuzz_terminal_")) / "received.tif"


def messages(payload: bytes) -> list[list[bytes]]:
    """The peer's messages: lists of frames with address and control."""
    out, frames, i = [], [], 0
    while i < len(payload) and len(out) < MAX_MESSAGES:
        head = payload[i]
        body = payload[i + 1:i + 1 + (head & 0x7F)]
        i += 1 + (head & 0x7F)
        final = bool(head & 0x80) or i >= len(payload)
        frames.append(bytes((0xFF, 0x13 if final else 0x03)) + body)
        if final:
            out.append(frames)
            frames = []
    return out


def signal(frames: list[bytes]) -> np.ndarray:
    """One V.21 transmission carrying the frames."""
    hdlc = HdlcTx(preamble_flags=12)
    bits = np.concatenate([hdlc.encode(frames), hdlc.finish()])
    v21 = V21Tx()
    return np.concatenate([v21.modulate(bits), v21.finish()])


def call(calling: bool, ecm: bool, peer: list[list[bytes]]) -> FaxTerminal:
    if calling:
        term = FaxTerminal(True, send=[PAGE], ecm=ecm)
    else:
        term = FaxTerminal(False, receive=_OUT, ecm=ecm)
    pending = np.zeros(0, dtype=np.int16)
    quiet = 0
    silent_for = 0
    while not term.finished:
        out = term.tx(STEP)
        quiet = 0 if term.transmitting or np.any(out) else quiet + STEP
        if not pending.size and peer and quiet >= PEER_WAIT:
            pending = signal(peer.pop(0))
        chunk, pending = pending[:STEP], pending[STEP:]
        if chunk.size < STEP:
            chunk = np.concatenate([chunk, np.zeros(STEP - chunk.size, dtype=np.int16)])
        term.rx(chunk)
        if not peer and not pending.size:
            silent_for += STEP
            assert silent_for <= END_WITHIN_S * 8000, (
                f"the call did not end {END_WITHIN_S} s after the peer fell silent "
                f"(state {term.state})")
    return term


def TestOneInput(data: bytes) -> None:
    r = Reader(data)
    mode = r.u8()
    term = call(bool(mode & 1), bool(mode & 2), messages(r.rest()))
    result = term.result
    assert result.code in CODES, result
    assert isinstance(result.message, str) and result.message


def seeds() -> dict[str, bytes]:
    """The peer's side of plausible calls: DIS/DCS/CFR/MCF/DCN, PPS, PPR, CRP, RNR."""
    from faxengine.t30.ecm import PartialPage, ppr_fif
    from faxengine.t30.facilities import Capabilities, Dcs
    from faxengine.t30.frames import Fcf, Frame, ident_frame

    def msg(*frames: Frame) -> bytes:
        out = b""
        for i, f in enumerate(frames):
            body = f.to_bytes()[2:]
            out += bytes(((0x80 if i == len(frames) - 1 else 0) | len(body),)) + body
        return out

    dis = Frame(Fcf.DIS, Capabilities(ecm=True, codings=frozenset({"mr", "mmr"})).encode())
    dcs = Frame(Fcf.DCS, Dcs(modem="V.29", rate=9600, ecm=True, coding="mmr").encode(), x=True)
    return {
        # our terminal receives: the peer sends DCS (with TSI), then post-page commands
        "recv-dcs": bytes((0,)) + msg(ident_frame(Fcf.TSI, "+1 555 0100", x=True), dcs),
        "recv-dcs-eop-dcn": bytes((2,)) + msg(dcs) + msg(Frame(Fcf.EOP, x=True))
        + msg(Frame(Fcf.DCN, x=True)),
        "recv-pps": bytes((2,)) + msg(dcs) + msg(PartialPage(Fcf.EOP, 0, 0, 3).frame(True))
        + msg(Frame(Fcf.CRP, x=True)),
        # our terminal sends: the peer answers DIS, CFR, MCF, PPR, RNR, DCN
        "send-dis-cfr-mcf": bytes((1,)) + msg(dis) + msg(Frame(Fcf.CFR)) + msg(Frame(Fcf.MCF))
        + msg(Frame(Fcf.DCN)),
        "send-ecm-ppr": bytes((3,)) + msg(dis) + msg(Frame(Fcf.CFR))
        + msg(Frame(Fcf.PPR, ppr_fif([0, 1]))) + msg(Frame(Fcf.RNR)) + msg(Frame(Fcf.MCF)),
        "send-ftt": bytes((1,)) + msg(dis) + msg(Frame(Fcf.FTT)) + msg(Frame(Fcf.FTT)),
    }


if __name__ == "__main__":
    main(TestOneInput)
