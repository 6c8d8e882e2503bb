#!/usr/bin/env python3
"""Fuzz target: the T.30 frame and facility parsers, on the octets an HDLC receiver delivers.

The input is a frame as ``HdlcRx`` hands it over (address, control, FCF,
FIF; FCS removed).  Everything that reads what the far end sent may raise
only ``RemoteProtocolError`` (its fault, answered by CRP/DCN), never a
``LocalProtocolError`` (which would mean our own code built something
invalid from the remote's data) nor anything else:

* ``Frame.parse``: and the frame it returns gives the same octets back;
* the trace describes any parsed frame in words;
* ``Capabilities.decode`` (DIS/DTC) and ``Dcs.decode`` of the FIF: what
  they return encodes and decodes to itself;
* a DIS the sender would answer: ``choose_dcs`` against our full
  capabilities gives a DCS (that round-trips) or ``IncompatibleError``,
  ``fallback`` a lower one or None;
* the ECM parsers: PPS, PPR, EOR, CTC, an FCD frame into a block.
"""
from __future__ import annotations

from _harness import instrumented, main

with instrumented():
    from faxengine.t30 import (Capabilities, Dcs, Fcf, Frame, IncompatibleError,
                               RemoteProtocolError, choose_dcs, fallback)
    from faxengine.t30.ecm import (EcmBlockReceiver, PartialPage, ctc_mode, eor_post,
                                   ppr_frames)
    from faxengine.t30.frames import decode_ident
    from faxengine.t30.trace import describe_frame

# Everything faxengine can do: every choice choose_dcs could make is open.
LOCAL = Capabilities(resolutions=frozenset({"fine", "superfine", "300", "400"}),
                     codings=frozenset({"mh", "mr", "mmr"}), max_width="A3",
                     max_length="unlimited", ecm=True)


def remote(parse, *args):
    """parse(*args), or None when it rejects the data as the far end's fault."""
    try:
        return parse(*args)
    except RemoteProtocolError as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return None


def check_facilities(fif: bytes) -> None:
    caps = remote(Capabilities.decode, fif)
    if caps is not None:
        assert Capabilities.decode(caps.encode()) == caps, f"DIS does not round-trip: {caps}"
        try:
            dcs = choose_dcs(LOCAL, caps)
        except IncompatibleError as exc:
            assert str(exc)
        else:
            assert Dcs.decode(dcs.encode()) == dcs, f"chosen DCS does not round-trip: {dcs}"
            lower = fallback(dcs, caps, LOCAL)
            assert lower is None or lower.rate < dcs.rate, (dcs, lower)
    dcs = remote(Dcs.decode, fif)
    if dcs is not None:
        assert Dcs.decode(dcs.encode()) == dcs, f"DCS does not round-trip: {dcs}"


def check_ecm(frame: Frame) -> None:
    pps = remote(PartialPage.parse, frame)
    if pps is not None:
        assert PartialPage.parse(pps.frame(frame.x)) == pps, pps
    missing = remote(ppr_frames, frame.fif)
    if missing is not None:
        assert all(0 <= i < 256 for i in missing) and missing == sorted(set(missing)), missing
    remote(eor_post, frame)
    mode = remote(ctc_mode, frame.fif)
    if mode is not None:
        assert isinstance(mode[0], str) and mode[1] > 0, mode
    for size in (64, 256):
        block = EcmBlockReceiver(size)
        number = remote(block.add, frame)
        if number is not None:
            assert 0 <= number <= 255 and len(block) == 1
            assert block.missing(number + 1) == list(range(number)), block.missing(number + 1)


def TestOneInput(data: bytes) -> None:
    frame = remote(Frame.parse, data)
    if frame is None:
        return
    assert frame.to_bytes() == data, "Frame.parse(x).to_bytes() != x"
    assert isinstance(describe_frame(frame), str)
    assert isinstance(decode_ident(frame.fif), str)
    check_facilities(frame.fif)
    check_ecm(frame)


def seeds() -> dict[str, bytes]:
    """One of each frame the parsers read: DIS, DCS, PPS, PPR, EOR, CTC, FCD, CSI."""
    from faxengine.t30.ecm import ctc_fif, eor_frame, fcd_frame, ppr_fif
    from faxengine.t30.frames import ident_frame

    full = Capabilities(modems=frozenset({"V.27ter", "V.29", "V.17"}),
                        resolutions=frozenset({"fine", "superfine", "300", "400"}),
                        codings=frozenset({"mr", "mmr"}), max_width="A3", ecm=True,
                        min_scan_ms=10, scan_half_fine=True, frames_64_preferred=True)
    frames = {
        "dis": Frame(Fcf.DIS, full.encode()),
        "dis-plain": Frame(Fcf.DIS, Capabilities().encode()),
        "dcs": Frame(Fcf.DCS, Dcs(coding="mmr", ecm=True, resolution="superfine",
                                  frame_size=64).encode(), x=True),
        "dcs-v27": Frame(Fcf.DCS, Dcs(modem="V.27ter", rate=4800, min_scan_ms=20).encode()),
        "pps": PartialPage(Fcf.MPS, 3, 1, 200).frame(True),
        "pps-null": PartialPage(None, 0, 0, 1).frame(False),
        "ppr": Frame(Fcf.PPR, ppr_fif([0, 7, 100, 255])),
        "eor": eor_frame(Fcf.EOP, False),
        "ctc": Frame(Fcf.CTC, ctc_fif("V.29", 7200)),
        "fcd": fcd_frame(5, bytes(range(64))),
        "csi": ident_frame(Fcf.CSI, "+1 555 0100"),
    }
    return {name: frame.to_bytes() for name, frame in frames.items()}


if __name__ == "__main__":
    main(TestOneInput)
