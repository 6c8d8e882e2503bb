"""The T.30 trace in words on logger faxengine.t30."""
from __future__ import annotations

import logging

import pytest

from faxengine.t30 import Capabilities, Dcs, Fcf, Frame
from faxengine.t30.ecm import PartialPage, fcd_frame, ppr_fif
from faxengine.t30.frames import ident_frame
from faxengine.t30.trace import describe_frame, log_frame

DIS = Capabilities(resolutions=frozenset({"fine", "superfine"}),
                   codings=frozenset({"mr", "mmr"}), ecm=True, max_width="A3")


@pytest.mark.parametrize("frame, words", [
    (Frame(Fcf.DIS, DIS.encode()),
     "DIS: V.17 14400 V.29 V.27ter, fine superfine, MR MMR, ECM, A4 B4 A3, "
     "unlimited length, scan 0 ms"),
    (Frame(Fcf.DCS, Dcs(coding="mmr", ecm=True).encode(), x=True),
     "DCS: V.17 14400, fine, MMR, ECM 256, A4"),
    (Frame(Fcf.MCF, x=True), "MCF"),
    (PartialPage(Fcf.EOP, 1, 0, 37).frame(True), "PPS-EOP page 1 block 0 frames 37"),
    (PartialPage(None, 0, 3, 256).frame(False), "PPS-NULL page 0 block 3 frames 256"),
    (Frame(Fcf.PPR, ppr_fif([4, 17, 200])), "PPR: 3 frames 4 17 200"),
    (ident_frame(Fcf.CSI, "+1 555 0100"), 'CSI "+1 555 0100"'),
    (Frame(Fcf.NSF, b"\x00\x00\x0e\x01"), "NSF (4 octets, not interpreted)"),
    (Frame(Fcf.UNKNOWN, b"\x01", code=0xF0), "unknown FCF 0xF0 fif 01"),
    (fcd_frame(5, b"ab"), "FCD 5 (2 octets)"),
    (Frame(Fcf.DCS, b"\x00\x40\x03"),
     "DCS (invalid: DCS bits 17-18 = 11: invalid recording width (T.30 Table 2)) fif 00 40 03"),
    (Frame(Fcf.PPS, b"\x00"),
     "PPS (invalid: PPS FIF has 1 octets, T.30 §A.4.1 gives it 4) fif 00"),
])
def test_frames_in_words(frame, words):
    assert describe_frame(frame) == words


def test_log_levels(caplog):
    caplog.set_level(logging.DEBUG, logger="faxengine.t30")
    log_frame("tx", Frame(Fcf.DCS, Dcs(coding="mmr", ecm=True).encode(), x=True))
    log_frame("rx", fcd_frame(0, b"x"))
    log_frame("rx", Frame(Fcf.DCN))
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("faxengine.t30", "INFO", "tx DCS: V.17 14400, fine, MMR, ECM 256, A4"),
        ("faxengine.t30", "DEBUG", "rx FCD 0 (1 octets)"),
        ("faxengine.t30", "INFO", "rx DCN"),
    ]
