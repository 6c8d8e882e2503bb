"""Cross-check the T.30 bytes with libspandsp 0.0.6, the reference peer.

``spandsp_t30.c`` (beside this file) is compiled once per session.  It
prints the DIS spandsp's answering terminal builds for given capabilities,
spandsp's own decoding (``t30_decode_dis_dtc_dcs``) of frames we build, and
what spandsp's terminal does when it hears our frames: an answering spandsp
hearing our DCS sets its receiver to the modem and rate we commanded; a
calling spandsp hearing our DIS answers with a DCS we decode.  Whole ECM
pages go both ways frame by frame (FCD, RCP, PPS, PPR, MCF, DCN): spandsp
writes the page we sent, we rebuild the page it sent, pixel for pixel.  Its
non-ECM TCF and page pass our judgements (CFR, MCF) and decode exactly, and
our TCF and non-ECM page (with the fill our DCS announces) pass its.
"""
from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from faxengine.t30 import Capabilities, Dcs, Fcf, Frame, Preferences, choose_dcs
from faxengine.t30.ecm import (EcmBlockReceiver, PartialPage, ctc_mode, ppr_fif, ppr_frames,
                               rcp_frames, reverse_bits, split_page)
from faxengine.t30.facilities import MODES
from faxengine.t30.frames import decode_ident, ident_frame, message
from faxengine.t30.quality import judge_page, judge_tcf, tcf_bits

HERE = Path(__file__).resolve().parent

# spandsp's T30_SUPPORT_* masks (t30.h)
V27TER, V29, V17 = 0x01, 0x02, 0x04
MH, MR, MMR = 0x02, 0x04, 0x08
STANDARD, FINE, SUPERFINE, R300, R400 = 0x01, 0x02, 0x04, 0x100000, 0x200000
W215, W255, W303, UNLIMITED, A4, B4 = 0x01, 0x02, 0x04, 0x10000, 0x20000, 0x40000


@pytest.fixture(scope="session")
def spandsp_t30(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a C compiler to build spandsp_t30.c against libspandsp")
    exe = tmp_path_factory.mktemp("spandsp") / "spandsp_t30"
    result = subprocess.run([cc, "-std=c99", "-O1", "-o", str(exe), str(HERE / "spandsp_t30.c"),
                             "-lspandsp"], capture_output=True, text=True)
    if result.returncode:
        pytest.skip("libspandsp-dev missing? cannot build spandsp_t30.c: "
                    f"{result.stderr.strip()[:300]}")
    return exe


def run(exe: Path, *args: str) -> str:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("masks, expect", [
    ((V27TER | V29 | V17, MH | MR | MMR, STANDARD | FINE | SUPERFINE,
      W215 | W255 | W303 | UNLIMITED, 1),
     dict(modems={"V.27ter", "V.29", "V.17"}, codings={"mh", "mr", "mmr"}, ecm=True,
          max_width="A3", max_length="unlimited", min_scan_ms=0,
          resolutions={"standard", "fine", "200", "superfine"})),
    ((V27TER | V29, MH, STANDARD, W215 | A4, 0),
     dict(modems={"V.27ter", "V.29"}, codings={"mh"}, ecm=False, max_width="A4",
          max_length="A4", resolutions={"standard"})),
    ((V27TER, MH | MR, STANDARD | FINE | R300 | R400, W215 | W255 | A4 | B4, 0),
     dict(modems={"V.27ter"}, codings={"mh", "mr"}, max_width="B4", max_length="B4",
          resolutions={"standard", "fine", "200", "300", "400", "r16-superfine"})),
])
def test_we_read_the_dis_spandsp_sends(spandsp_t30, masks, expect):
    frame = Frame.parse(bytes.fromhex(run(spandsp_t30, "dis", *map(hex, masks)).strip()))
    assert frame.fcf is Fcf.DIS and frame.final
    caps = Capabilities.decode(frame.fif)
    for name, value in expect.items():
        assert getattr(caps, name) == value, name


WIDTH_WORDS = {"A4": "215mm", "B4": "255mm", "A3": "303mm"}
LENGTH_WORDS = {"A4": "A4 (297mm)", "B4": "B4 (364mm)", "unlimited": "Unlimited"}
RES_LINES = {"fine": "R8x7.7lines/mm", "200": "R8x7.7lines/mm", "superfine": "R8x15.4lines/mm",
             "300": "300x300pels/25.4mm", "400": "R16x15.4lines/mm",
             "r16-superfine": "R16x15.4lines/mm"}

DCSS = [
    Dcs(),
    Dcs(modem="V.17", rate=12000, resolution="superfine", coding="mmr", width="B4", length="B4",
        ecm=True, frame_size=64),
    Dcs(modem="V.29", rate=7200, resolution="300", coding="mr", width="A3",
        length="unlimited", min_scan_ms=10),
    Dcs(modem="V.27ter", rate=4800, resolution="standard", min_scan_ms=40),
    Dcs(modem="V.27ter", rate=2400, resolution="400", min_scan_ms=5, ecm=True),
    Dcs(modem="V.17", rate=9600, resolution="r16-superfine", coding="mr", min_scan_ms=20),
    Dcs(modem="V.17", rate=7200, resolution="200", ecm=True),
    Dcs(modem="V.29", rate=9600, resolution="fine", coding="mr", min_scan_ms=0),
]


def set_lines(log: str) -> set[str]:
    """The names of the bits spandsp reports as "Set"."""
    return {line.split("= ", 1)[1].rsplit(":", 1)[0] for line in log.splitlines()
            if line.endswith(": Set")}


@pytest.mark.parametrize("dcs", DCSS, ids=lambda d: f"{d.modem}-{d.rate}-{d.resolution}")
def test_spandsp_reads_our_dcs(spandsp_t30, dcs):
    log = run(spandsp_t30, "decode", Frame(Fcf.DCS, dcs.encode(), x=True).to_bytes().hex())
    assert log.startswith("DCS:")
    # spandsp writes "V.29, 9600bps" but "V.29 7200bps"
    assert f"Selected data signalling rate: {dcs.modem} {dcs.rate}bps" in log.replace(",", "")
    assert f"Recording width: {WIDTH_WORDS[dcs.width]}" in log
    assert f"Recording length: {LENGTH_WORDS[dcs.length]}" in log
    assert f"Minimum scan line time: {dcs.min_scan_ms}ms" in log
    assert ("Error correction mode (ECM): ECM" in log) == dcs.ecm
    if dcs.ecm:
        assert f"Frame size: {dcs.frame_size} octets" in log
    flags = set_lines(log)
    assert ("2-D coding" in flags) == (dcs.coding == "mr")
    assert ("T.6 coding" in flags) == (dcs.coding == "mmr")
    res = {n for n in flags if "lines/mm" in n or "pels" in n}
    expected = {line for r, line in RES_LINES.items() if r == dcs.resolution}
    assert {n.split(" and/or")[0] for n in res} == expected
    if "Resolution type selection" in log:         # only when the DCS reaches bit 44
        assert f"Resolution type selection: {'Inch' if dcs.inch else 'Metric'}" in log
    else:
        assert not dcs.inch


def test_spandsp_reads_our_dis(spandsp_t30):
    caps = Capabilities(modems=frozenset({"V.27ter", "V.29"}), min_scan_ms=10,
                        scan_half_fine=True, max_width="B4", max_length="B4",
                        resolutions=frozenset({"fine", "300", "400"}), inch_preferred=True,
                        ecm=True, codings=frozenset({"mr", "mmr"}))
    log = run(spandsp_t30, "decode", Frame(Fcf.DIS, caps.encode()).to_bytes().hex())
    assert log.startswith("DIS:")
    for words in ("Supported data signalling rates: V.27 ter and V.29",
                  "Recording width: 215mm +- 1% and 255mm +- 1%",
                  "Recording length: A4 (297mm) and B4 (364mm)",
                  "Receiver's minimum scan line time: 10ms at 3.85 l/mm; T7.7 = 1/2 T3.85",
                  "Error correction mode (ECM): ECM"):
        assert words in log
    assert {"Can receive fax", "2-D coding", "T.6 coding", "300x300pels/25.4mm",
            "Inch-based resolution preferred"} <= set_lines(log)


# spandsp's T30_MODEM_* codes (t30.h)
MODEM_CODE = {"V.27ter": 5, "V.29": 6, "V.17": 7}


@pytest.mark.parametrize("mode", MODES, ids=lambda m: f"{m[0]}-{m[1]}")
def test_spandsp_receiver_trains_as_our_dcs_commands(spandsp_t30, tmp_path, mode):
    dcs = Dcs(modem=mode[0], rate=mode[1], coding="mr")
    frames = [ident_frame(Fcf.TSI, "+1 555 0100", x=True),
              Frame(Fcf.DCS, dcs.encode(), x=True)]
    out = run(spandsp_t30, "answer", str(tmp_path / "rx.tif"),
              *(f.to_bytes().hex() for f in frames)).splitlines()
    after = out[max(i for i, line in enumerate(out) if line.startswith("rx ")) + 1:]
    assert f"rx_type {MODEM_CODE[mode[0]]} {mode[1]}" in after      # ready for TCF
    assert not any(line.startswith("tx ") for line in after)         # no FTT, DCN or CRP


@pytest.fixture(scope="module")
def tx_tiff(tmp_path_factory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("tiff") / "page.tif"
    Image.new("1", (1728, 200), 1).save(path, compression="group4", dpi=(204, 196))
    return path


@pytest.mark.parametrize("caps", [
    Capabilities(modems=frozenset({"V.27ter"}), codings=frozenset({"mr"}), min_scan_ms=40),
    Capabilities(codings=frozenset({"mr", "mmr"}), ecm=True),
    Capabilities(modems=frozenset({"V.27ter", "V.29"}), min_scan_ms=10, scan_half_fine=True),
    Capabilities(codings=frozenset({"mr"}), min_scan_ms=20, scan_half_fine=True),
    Capabilities(modems=frozenset(), codings=frozenset({"mr"}), ecm=True, min_scan_ms=5),
], ids=["v27ter-40ms", "ecm-mmr", "v29-half", "v17-mr-half", "fallback-2400-ecm"])
def test_spandsp_sender_answers_our_dis(spandsp_t30, tx_tiff, caps):
    out = run(spandsp_t30, "call", str(tx_tiff), Frame(Fcf.DIS, caps.encode()).to_bytes().hex())
    sent = sent_frames(out)
    dcs_frames = [f for f in sent if f.fcf is Fcf.DCS]
    assert len(dcs_frames) == 1 and dcs_frames[0].x            # the caller got a DIS: X = 1
    theirs = Dcs.decode(dcs_frames[0].fif)
    ours = choose_dcs(Capabilities(codings=frozenset({"mr", "mmr"}), ecm=True), caps,
                      Preferences(resolution="fine"))
    for name in ("modem", "rate", "coding", "ecm", "resolution", "width", "min_scan_ms"):
        assert getattr(theirs, name) == getattr(ours, name), name


# --- a whole ECM page into spandsp's terminal, without audio ------------------

def ecm_call_script(dcs: Dcs, data: bytes, drop: set[int]) -> list[str]:
    """Our side of an ECM call to an answering spandsp, frame by frame.

    Block 0 is first sent without the frames in ``drop``; the script then
    sends exactly those again, as the PPR spandsp should answer with asks.
    """
    lines = ["log"] + ["step"] * 3                         # CED, then spandsp's CSI + DIS
    lines += ["hdlc " + f.to_bytes().hex() for f in
              message(ident_frame(Fcf.TSI, "+1 555 0100", x=True),
                      Frame(Fcf.DCS, dcs.encode(), x=True))]
    tcf = tcf_bits(dcs.rate) // 8
    lines += ["hdlcstatus -1", "bitstatus -4", f"zeros {tcf}", "bitstatus -1", "step", "step"]
    blocks = split_page(data, dcs.frame_size)
    for block in blocks:
        post = Fcf.EOP if block is blocks[-1] else None
        bursts = [None] if block.number or not drop else [
            [i for i in range(len(block.frames)) if i not in drop], sorted(drop)]
        for wanted in bursts:
            lines += ["hdlcstatus -2", "hdlcstatus -4"]
            lines += ["hdlc " + f.to_bytes().hex() for f in block.fcd_frames(wanted)]
            lines += ["hdlc " + f.to_bytes().hex() for f in rcp_frames()]
            lines += ["hdlcstatus -1"]
            pps = PartialPage(post, 0, block.number, len(block.frames)).frame(x=True)
            lines += ["hdlc " + pps.to_bytes().hex(), "hdlcstatus -1", "step", "step"]
    lines += ["hdlc " + Frame(Fcf.DCN, x=True).to_bytes().hex(), "hdlcstatus -1", "end"]
    return lines


def page_image(rows: int = 400, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.zeros((rows, 1728), bool)
    for _ in range(rows // 2):
        y, x = rng.integers(0, rows - 8), rng.integers(0, 1700)
        image[y:y + rng.integers(1, 8), x:x + rng.integers(1, 120)] = True
    image[::37, ::3] = True                                # dotted lines: more data
    return image


@pytest.mark.parametrize("coding, frame_size, drop, rows", [
    ("mmr", 256, set(), 400), ("mmr", 64, {0, 3, 9}, 400),
    ("mr", 64, {1, 255}, 800),                  # two blocks of 64-octet frames
    ("mh", 256, {2}, 400),
])
def test_spandsp_receives_our_ecm_page(spandsp_t30, tmp_path, coding, frame_size, drop, rows):
    from PIL import Image

    from faxengine import t4

    image = page_image(rows)
    data = t4.encode(image, coding)
    dcs = Dcs(modem="V.17", rate=14400, resolution="fine", coding=coding, ecm=True,
              frame_size=frame_size)
    blocks = split_page(data, frame_size)
    assert len(blocks[0].frames) > max(drop, default=0)
    rx = tmp_path / "rx.tif"
    out = subprocess.run([str(spandsp_t30), "script", "answer", str(rx)], check=True,
                         input="\n".join(ecm_call_script(dcs, data, drop)) + "\n",
                         capture_output=True, text=True).stdout
    sent = sent_frames(out)
    names = [f.name for f in sent]
    assert names == ["CSI", "DIS", "CFR"] + ["PPR"] * bool(drop) + ["MCF"] * len(blocks), names
    assert decode_ident(sent[0].fif) == "+1 555 0199"
    assert 'Remote gave TSI as: "+1 555 0100"' in out       # our TSI, read by spandsp
    if drop:
        ppr = next(f for f in sent if f.fcf is Fcf.PPR)
        assert [i for i in ppr_frames(ppr.fif) if i < len(blocks[0].frames)] == sorted(drop)
    assert "phase_e 0" in out                              # spandsp: T30_ERR_OK
    received = ~np.asarray(Image.open(rx).convert("1"), dtype=bool)
    assert received.shape == image.shape and np.array_equal(received, image)


def sent_frames(out: str) -> list[Frame]:
    """The frames spandsp sent, from the harness's "tx HEX" lines."""
    return [Frame.parse(bytes.fromhex(line[3:])) for line in out.splitlines()
            if line.startswith("tx ")]


def rebuild_page(frames: list[Frame], width: int = 1728) -> np.ndarray:
    """The one-block ECM page in spandsp's frames, rebuilt and decoded as ours would."""
    from faxengine import t4

    dcs = Dcs.decode(next(f for f in frames if f.fcf is Fcf.DCS).fif)
    receiver = EcmBlockReceiver(dcs.frame_size)
    for frame in frames:
        if frame.fcf is Fcf.FCD:
            receiver.add(frame)
    assert [f.name for f in frames if f.fcf is Fcf.RCP] == ["RCP"] * 3
    pps = PartialPage.parse(next(f for f in frames if f.fcf is Fcf.PPS))
    assert (pps.post, pps.page, pps.block) == (Fcf.EOP, 0, 0)
    assert receiver.complete(receiver.expect(pps.frames))
    return t4.decode(receiver.data(pps.frames), width, dcs.coding)


def save_tiff(path: Path, image: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(~image).convert("1").save(path, compression="group4", dpi=(204, 196))
    return path


def hear(frame: Frame, steps: int) -> list[str]:
    """Script lines: spandsp hears ``frame`` over V.21, then sends for ``steps`` steps."""
    return [f"hdlc {frame.to_bytes().hex()}", "hdlcstatus -1"] + ["step"] * steps


@pytest.mark.parametrize("coding", ["mmr", "mr"])
def test_we_receive_spandsps_ecm_page(spandsp_t30, tmp_path, coding):
    image = page_image(300)
    ours = Capabilities(codings=frozenset({coding}), ecm=True)
    lines = ["step"] * 2 + hear(Frame(Fcf.DIS, ours.encode()), 6)
    lines += hear(Frame(Fcf.CFR), 300) + hear(Frame(Fcf.MCF), 3)
    out = subprocess.run([str(spandsp_t30), "script", "call",
                          str(save_tiff(tmp_path / "tx.tif", image))], check=True,
                         input="\n".join(lines) + "\n", capture_output=True, text=True).stdout
    frames = sent_frames(out)
    dcs = Dcs.decode(next(f for f in frames if f.fcf is Fcf.DCS).fif)
    assert (dcs.ecm, dcs.coding, dcs.frame_size) == (True, coding, 256)
    tsi = next(f for f in frames if f.fcf is Fcf.TSI)
    assert tsi.x and not tsi.final and decode_ident(tsi.fif) == "+44 20 7946 0000"
    assert np.array_equal(rebuild_page(frames), image)
    assert frames[-1].fcf is Fcf.DCN and frames[-1].x and "phase_e 0" in out


def test_we_poll_spandsp(spandsp_t30, tmp_path):
    """Polling: its DIS offers a document (bit 9), our CIG + DTC, its DCS with X = 0."""
    image = page_image(200)
    ours = Capabilities(codings=frozenset({"mr", "mmr"}), ecm=True)
    lines = ["log"] + ["step"] * 3
    lines += [f"hdlc {f.to_bytes().hex()}" for f in
              message(ident_frame(Fcf.CIG, "+1 555 0100"), Frame(Fcf.DTC, ours.encode()))]
    lines += ["hdlcstatus -1"] + ["step"] * 6
    lines += hear(Frame(Fcf.CFR, x=True), 300) + hear(Frame(Fcf.MCF, x=True), 3)
    out = subprocess.run([str(spandsp_t30), "script", "polled",
                          str(save_tiff(tmp_path / "tx.tif", image))], check=True,
                         input="\n".join(lines) + "\n", capture_output=True, text=True).stdout
    frames = sent_frames(out)
    dis = next(f for f in frames if f.fcf is Fcf.DIS)
    assert Capabilities.decode(dis.fif).ready_to_transmit
    assert 'Remote gave CIG as: "+1 555 0100"' in out
    # the polled answerer received a DTC, not a DIS: its X bit is 0 (T.30 §5.3.6.1)
    after_dtc = [f for f in frames if f.fcf in (Fcf.TSI, Fcf.DCS, Fcf.PPS, Fcf.DCN)]
    assert [f.name for f in after_dtc] == ["TSI", "DCS", "PPS", "DCN"]
    assert not any(f.x for f in after_dtc)
    assert np.array_equal(rebuild_page(frames), image)
    assert "phase_e 0" in out


def test_spandsp_resends_what_our_ppr_asks_then_ctc(spandsp_t30, tmp_path):
    """Four PPRs for frames 1 and 5: spandsp resends just those, then CTC; CTR; MCF."""
    from faxengine import t4

    image = page_image(300)
    tx = save_tiff(tmp_path / "tx.tif", image)
    ours = Capabilities(codings=frozenset({"mmr"}), ecm=True)
    lines = ["step"] * 2 + hear(Frame(Fcf.DIS, ours.encode()), 6) + hear(Frame(Fcf.CFR), 60)
    for _ in range(4):
        lines += hear(Frame(Fcf.PPR, ppr_fif([1, 5])), 12)
    lines += hear(Frame(Fcf.CTR), 12) + hear(Frame(Fcf.MCF), 3)
    out = subprocess.run([str(spandsp_t30), "script", "call", str(tx)], check=True,
                         input="\n".join(lines) + "\n", capture_output=True, text=True).stdout
    frames = sent_frames(out)
    bursts: list[list[int]] = [[]]
    receiver = EcmBlockReceiver(256)
    for frame in frames:
        if frame.fcf is Fcf.FCD:
            bursts[-1].append(receiver.add(frame))
        elif frame.fcf is Fcf.PPS:
            receiver.expect(PartialPage.parse(frame).frames)
            bursts.append([])
        elif frame.fcf is Fcf.CTC:
            assert ctc_mode(frame.fif) == ("V.17", 14400)
    assert len(bursts[0]) == receiver.frames > 5
    assert bursts[1:] == [[1, 5]] * 4 + [[]]       # 4 resends, then the last PPS's burst
    assert [f.name for f in frames if f.fcf not in (Fcf.FCD, Fcf.RCP)] == [
        "TSI", "DCS", "PPS", "PPS", "PPS", "PPS", "CTC", "PPS", "DCN"]
    assert np.array_equal(t4.decode(receiver.data(receiver.frames), 1728, "mmr"), image)
    assert "phase_e 0" in out


def data_groups(out: str) -> list[bytes]:
    """The runs of "data HEX" lines (TCF, pages) spandsp's non-ECM transmitter sent."""
    runs = itertools.groupby(out.splitlines(), key=lambda line: line.startswith("data"))
    return [b"".join(bytes.fromhex(line[5:]) for line in lines) for is_data, lines in runs
            if is_data]


@pytest.mark.parametrize("coding, scan_ms", [("mr", 10), ("mh", 0)])
def test_we_judge_spandsps_tcf_and_non_ecm_page(spandsp_t30, tmp_path, coding, scan_ms):
    from faxengine import t4

    image = page_image(300)
    ours = Capabilities(codings=frozenset({coding}), ecm=False, min_scan_ms=scan_ms)
    lines = ["step"] * 2 + hear(Frame(Fcf.DIS, ours.encode()), 3) + ["getdata", "step"]
    lines += hear(Frame(Fcf.CFR), 0) + ["getdata", "step", "step"] + hear(Frame(Fcf.MCF), 3)
    out = subprocess.run([str(spandsp_t30), "script", "call",
                          str(save_tiff(tmp_path / "tx.tif", image))], check=True,
                         input="\n".join(lines) + "\n", capture_output=True, text=True).stdout
    frames = sent_frames(out)
    dcs = Dcs.decode(next(f for f in frames if f.fcf is Fcf.DCS).fif)
    assert (dcs.ecm, dcs.coding, dcs.min_scan_ms) == (False, coding, scan_ms)
    tcf, page = data_groups(out)
    tcf_line_bits = np.unpackbits(np.frombuffer(tcf, np.uint8))
    assert len(tcf_line_bits) == tcf_bits(dcs.rate) and judge_tcf(tcf_line_bits, dcs.rate)
    # octets came LSB first, as on the line; the codec reads MSB first
    received, bad = t4.decode_lenient(reverse_bits(page), dcs.pels, dcs.coding)
    assert bad.count == 0 and judge_page(bad, dcs.resolution) is Fcf.MCF
    assert np.array_equal(received[:image.shape[0]], image)
    assert [f.name for f in frames if f.fcf in (Fcf.EOP, Fcf.DCN)] == ["EOP", "DCN"]
    assert "phase_e 0" in out


@pytest.mark.parametrize("coding, scan_ms", [("mr", 10), ("mh", 20)])
def test_spandsp_receives_our_non_ecm_page(spandsp_t30, tmp_path, coding, scan_ms):
    """TCF, then a page coded with the fill the DCS announces, then EOP: spandsp says MCF."""
    from PIL import Image

    from faxengine import t4

    image = page_image(300)
    dcs = Dcs(modem="V.29", rate=9600, resolution="fine", coding=coding, min_scan_ms=scan_ms)
    data = reverse_bits(t4.encode(image, coding, k=4, min_bits_per_line=dcs.min_bits_per_line))
    lines = ["step"] * 3 + [f"hdlc {f.to_bytes().hex()}" for f in
                            message(ident_frame(Fcf.TSI, "1", x=True),
                                    Frame(Fcf.DCS, dcs.encode(), x=True))]
    lines += ["hdlcstatus -1", "bitstatus -4", f"zeros {tcf_bits(dcs.rate) // 8}",
              "bitstatus -1", "step", "step", "bitstatus -2", "bitstatus -4"]
    lines += [f"chunk {data[i:i + 256].hex()}" for i in range(0, len(data), 256)]
    lines += ["bitstatus -1"] + hear(Frame(Fcf.EOP, x=True), 2)
    lines += hear(Frame(Fcf.DCN, x=True), 0) + ["end"]
    rx = tmp_path / "rx.tif"
    out = subprocess.run([str(spandsp_t30), "script", "answer", str(rx)], check=True,
                         input="\n".join(lines) + "\n", capture_output=True, text=True).stdout
    assert [f.name for f in sent_frames(out)] == ["CSI", "DIS", "CFR", "MCF"]
    assert "phase_e 0" in out
    received = ~np.asarray(Image.open(rx).convert("1"), dtype=bool)
    assert np.array_equal(received, image)
