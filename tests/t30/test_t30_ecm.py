"""ECM: splitting pages into blocks and frames, PPS, PPR maps, block reassembly."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faxengine.t30 import EcmError, Fcf, Frame, LocalProtocolError
from faxengine.t30.ecm import (EcmBlockReceiver, PartialPage, ctc_fif, ctc_mode, eor_frame,
                               eor_post, fcd_frame, ppr_fif, ppr_frames, rcp_frames,
                               reverse_bits, split_page)


def test_split_sizes_and_line_bit_order():
    data = bytes(range(256)) * 300                      # 76800 octets
    blocks = split_page(data, 256)
    assert [len(b.frames) for b in blocks] == [256, 44]
    assert all(len(f) == 256 for b in blocks for f in b.frames)
    assert blocks[0].frames[0][:2] == b"\x00\x80"        # 0x01 MSB-first -> 0x80 on the line
    blocks = split_page(b"\x01" * 1000, 64)
    assert [len(f) for f in blocks[0].frames] == [64] * 15 + [40]
    assert split_page(b"", 256)[0].frames == (b"",)
    with pytest.raises(LocalProtocolError, match="64 or 256"):
        split_page(b"x", 128)


def test_fcd_and_rcp_frames():
    frame = fcd_frame(7, b"\xaa\xbb")
    assert frame.to_bytes() == bytes.fromhex("ff030607aabb")
    assert [f.to_bytes() for f in rcp_frames()] == [bytes.fromhex("ff0386")] * 3
    block = split_page(bytes(600), 256)[0]
    assert [f.fif[0] for f in block.fcd_frames([2, 0, 2])] == [0, 2]
    # a PPR map as a Muratec receiver sends it: frames 4-7 and every bit past the block
    ppr = bytes.fromhex("f000") + b"\xff" * 30
    assert [f.fif[0] for f in split_page(bytes(16 * 256))[0].fcd_frames(ppr_frames(ppr))] == [
        4, 5, 6, 7]


def test_pps_field():
    pps = PartialPage(Fcf.EOP, page=1, block=0, frames=37)
    assert pps.frame(x=True).to_bytes() == bytes.fromhex("ff13bf2f010024")
    assert PartialPage.parse(Frame.parse(bytes.fromhex("ff13bf2f010024"))) == pps
    null = PartialPage(None, page=2, block=1, frames=256)
    assert null.frame(x=False).fif == bytes((0, 2, 1, 255)) and null.name == "NULL"
    assert PartialPage.parse(null.frame(x=False)) == null
    # a PPS-MPS as a Muratec service manual shows it: 16 frames of page 0 block 0
    assert PartialPage.parse(Frame.parse(bytes.fromhex("ff13bf4f00000f"))) == PartialPage(
        Fcf.MPS, 0, 0, 16)
    with pytest.raises(EcmError, match="4"):
        PartialPage.parse(Frame(Fcf.PPS, b"\x00\x01"))
    with pytest.raises(EcmError, match="FCF2 0x82"):
        PartialPage.parse(Frame(Fcf.PPS, bytes((0x82, 0, 0, 0))))
    with pytest.raises(LocalProtocolError):
        PartialPage(Fcf.DCN, 0, 0, 1)


def test_eor_and_ctc():
    frame = eor_frame(Fcf.MPS, x=True)
    assert frame.to_bytes() == bytes.fromhex("ff13cf4f")
    assert eor_post(Frame.parse(frame.to_bytes())) is Fcf.MPS
    assert eor_post(eor_frame(None, x=False)) is None
    assert ctc_fif("V.17", 14400) == b"\x00\x20"          # as spandsp sends it
    assert ctc_mode(ctc_fif("V.17", 9600)) == ("V.17", 9600)
    assert ctc_mode(ctc_fif("V.27ter", 4800)) == ("V.27ter", 4800)
    with pytest.raises(EcmError):
        ctc_mode(b"\x00")


def test_ppr_map_bit_order():
    fif = ppr_fif([0, 9, 255])
    assert len(fif) == 32 and fif[0] == 0x01 and fif[1] == 0x02 and fif[31] == 0x80
    assert ppr_frames(fif) == [0, 9, 255]
    with pytest.raises(EcmError, match="32"):
        ppr_frames(b"\x00" * 31)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 3 * 256 * 64 + 100), st.sampled_from([64, 256]), st.integers(0, 2**32),
       st.floats(0.0, 0.6))
def test_reassembly_with_random_loss_and_ppr(size, frame_size, seed, loss):
    rng = random.Random(seed)
    data = rng.randbytes(size)
    blocks = split_page(data, frame_size)
    receiver = EcmBlockReceiver(frame_size)
    out = b""
    for block in blocks:
        n = len(block.frames)
        wanted = None
        for _ in range(50):                    # PPR rounds until complete
            frames = list(block.fcd_frames(wanted))
            rng.shuffle(frames)
            frames += rng.sample(frames, len(frames) // 4)       # duplicates
            for frame in frames:
                if rng.random() >= loss:
                    receiver.add(Frame.parse(frame.to_bytes()))
            burst = n if wanted is None else len(wanted)     # some senders count the burst
            pps = PartialPage.parse(PartialPage(None, 0, block.number, burst).frame(True))
            if receiver.complete(receiver.expect(pps.frames)):
                break
            wanted = ppr_frames(receiver.ppr(receiver.frames))
            assert wanted == receiver.missing(n) and all(0 <= i < n for i in wanted)
        out += receiver.data(n)
        receiver.reset()
    assert out == data


def test_receiver_rejects_bad_frames_and_incomplete_blocks():
    receiver = EcmBlockReceiver(64)
    with pytest.raises(EcmError, match="more than the 64"):
        receiver.add(fcd_frame(0, bytes(65)))
    with pytest.raises(EcmError, match="no frame number"):
        receiver.add(Frame(Fcf.FCD, b"", final=False))
    with pytest.raises(EcmError, match="expected an FCD"):
        receiver.add(Frame(Fcf.RCP))
    receiver.add(fcd_frame(1, b"\x80"))
    assert receiver.missing(3) == [0, 2] and len(receiver) == 1
    with pytest.raises(LocalProtocolError, match="2 of 3 frames missing"):
        receiver.data(3)
    receiver.add(fcd_frame(0, b"\x01"))
    assert receiver.data(2) == b"\x80\x01"               # bits back to MSB first
    assert reverse_bits(b"\x01\xf0") == b"\x80\x0f"


def test_receiver_gives_what_arrived_of_a_block_given_up():
    receiver = EcmBlockReceiver(64)
    assert receiver.count == 0 and receiver.arrived() == b""
    receiver.add(fcd_frame(3, b"\x01"))
    receiver.add(fcd_frame(1, b"\x02"))
    # before any PPS the block runs to its highest frame number; missing frames are left out
    assert receiver.count == 4 and receiver.arrived() == b"\x40\x80"
    receiver.expect(2)                                  # a PPS counts 2 frames: frame 3 is not the block's
    assert receiver.count == 2 and receiver.arrived() == b"\x40"
    receiver.reset()
    assert receiver.count == 0 and receiver.arrived() == b""


def test_receiver_gives_the_frames_in_order_as_they_come():
    receiver = EcmBlockReceiver(64)
    assert receiver.in_order(0) == (0, b"")
    receiver.add(fcd_frame(1, b"\x02"))
    assert receiver.in_order(0) == (0, b"")            # frame 0 is missing: nothing yet
    receiver.add(fcd_frame(0, b"\x01"))
    receiver.add(fcd_frame(3, b"\x08"))
    assert receiver.in_order(0) == (2, b"\x80\x40")    # MSB first, up to the gap
    receiver.add(fcd_frame(2, b"\x04"))
    count, data = receiver.in_order(2)
    assert count == 2 and receiver.data(4) == b"\x80\x40" + data


def _ecm_receiver(page_data: bytes):
    """A receiving terminal in the middle of an ECM page, and the page's frames."""
    from faxengine.t30.facilities import Dcs
    from faxengine.t30.terminal import FaxTerminal
    term = FaxTerminal(False, ecm=True)
    term._dcs = Dcs(coding="mmr", ecm=True, frame_size=64)
    term._state = "C:RECEIVE_PAGE"
    term._ecm_rx = EcmBlockReceiver(64)
    blocks = split_page(page_data, 64)
    return term, blocks


@pytest.mark.parametrize("changed", [False, True], ids=["frames-as-fed", "frame-changed"])
def test_ecm_page_decoded_as_frames_come_is_the_whole_page(changed):
    """Frames fed to the page's decoder as they come in order, the rest when
    PPS confirms the block: the page decode_lenient makes of the whole data;
    when a frame fed changed under its number, the whole data decoded again."""
    import numpy as np
    from faxengine import t4
    rng = np.random.default_rng(1)
    image = rng.random((300, 1728)) < 0.05
    data = t4.encode(image, "mmr")
    term, blocks = _ecm_receiver(data)
    frames = list(blocks[0].fcd_frames(None))
    for frame in frames[:len(frames) // 2]:        # half the block, in order
        term._ecm_rx.add(Frame.parse(frame.to_bytes()))
        term._decode_ahead()
    assert 0 < term._page_decoder.lines < 300
    if changed:                                     # a frame fed is not the block's any more
        first = frames[0]
        term._ecm_rx.add(fcd_frame(first.fif[0], bytes(len(first.fif) - 1)))
    for frame in frames[len(frames) // 2:]:
        term._ecm_rx.add(Frame.parse(frame.to_bytes()))
    term._ecm_rx.expect(len(frames))
    term._keep_block(partial=False)
    for block in blocks[1:]:
        for frame in block.fcd_frames(None):
            term._ecm_rx.add(Frame.parse(frame.to_bytes()))
        term._ecm_rx.expect(len(block.frames))
        term._keep_block(partial=False)
    got, bad = term._ecm_page()
    size = len(frames[0].fif) - 1                   # frame 0's octets
    sent = bytes(size) + data[size:] if changed else data
    want = t4.decode_lenient(sent, 1728, "mmr")
    assert bad == want[1] and np.array_equal(got, want[0])
    assert changed or np.array_equal(got, image)


def test_a_block_receiver_says_which_frames_have_come():
    rx = EcmBlockReceiver(64)
    rx.add(Frame(Fcf.FCD, bytes([3]) + b"x" * 64, final=False))
    rx.add_fcd(bytes([0]) + b"y" * 10)
    assert 3 in rx and 0 in rx and 1 not in rx and len(rx) == 2
