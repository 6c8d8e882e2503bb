"""HDLC framing (T.30 §5.3.1): stuffing, FCS, flags, aborts, limits, streaming."""
import numpy as np
import pytest
from _hsutil import needs_spandsp

import spandsp
from faxengine.modem import ModemError
from faxengine.modem.hdlc import Frame, HdlcRx, HdlcTx, crc16

FLAG = [0, 1, 1, 1, 1, 1, 1, 0]


def reference_bits(data: bytes) -> list[int]:
    """Stuffed bits of data + FCS, written from the standard's words, bit by bit."""
    crc = 0xFFFF
    for octet in data:
        for i in range(8):
            fb = ((crc ^ (octet >> i)) & 1)
            crc >>= 1
            if fb:
                crc ^= 0x8408
    fcs = crc ^ 0xFFFF
    raw = [(o >> i) & 1 for o in data + bytes([fcs & 0xFF, fcs >> 8]) for i in range(8)]
    out, ones = [], 0
    for b in raw:
        out.append(b)
        ones = ones + 1 if b else 0
        if ones == 5:
            out.append(0)
            ones = 0
    return out


def test_crc16_check_value():
    # The CRC-16 of ISO/IEC 13239 over "123456789": FCS 0x906E (CRC-16/X-25).
    assert crc16(b"123456789") ^ 0xFFFF == 0x906E
    # Over a frame plus its FCS the register ends at the good residue.
    fcs = crc16(b"\xff\x13\x80") ^ 0xFFFF
    assert crc16(b"\xff\x13\x80" + bytes([fcs & 0xFF, fcs >> 8])) == 0xF0B8


def test_tx_bits_match_the_standard():
    tx = HdlcTx(preamble_flags=2, closing_flags=2)
    data = b"\xff\x13\x80\x00\x7e\xf8"
    bits = np.concatenate([tx.encode([data]), tx.finish()])
    expected = FLAG * 2 + reference_bits(data) + FLAG * 2
    assert bits.dtype == np.uint8
    assert bits.tolist() == expected


def test_preamble_is_38_flags_by_default():
    bits = HdlcTx().encode([b"\x01"])
    assert bits[: 38 * 8].tolist() == FLAG * 38
    assert bits[38 * 8 : 39 * 8].tolist() != FLAG


def random_frames(rng, lengths):
    frames = []
    for n in lengths:
        # Half the frames rich in 1s, to exercise zero-bit insertion.
        if rng.random() < 0.5:
            frames.append(bytes(rng.integers(0, 256, n, dtype=np.uint8)))
        else:
            frames.append(bytes(rng.choice([0xFF, 0x7E, 0xFE, 0x3F, 0x00], n).astype(np.uint8)))
    return frames


def test_every_length_1_to_260_round_trips():
    rng = np.random.default_rng(1)
    frames = random_frames(rng, range(1, 261))
    tx = HdlcTx()
    bits = np.concatenate([tx.encode(frames), tx.finish()])
    rx = HdlcRx()
    got = rx.decode(bits)
    assert got == [Frame(f, True) for f in frames]
    assert rx.frames_ok == 260 and rx.frames_bad == 0


@pytest.mark.parametrize("chunk", [1, 7, 160, 100000])
def test_streaming_invariance(chunk):
    rng = np.random.default_rng(2)
    frames = random_frames(rng, rng.integers(1, 261, 40))
    tx = HdlcTx(preamble_flags=3)
    bits = np.concatenate([tx.encode(frames[:20]), tx.flags(5), tx.encode(frames[20:]), tx.finish()])
    # Some corruption too, so bad frames must also come out the same.
    bits[rng.integers(0, len(bits), 30)] ^= 1
    whole = HdlcRx().decode(bits)
    rx = HdlcRx()
    pieces = []
    for i in range(0, len(bits), chunk):
        pieces += rx.decode(bits[i : i + chunk])
    assert pieces == whole
    assert sum(f.ok for f in whole) >= 5


def test_corrupt_frames_are_never_good():
    rng = np.random.default_rng(3)
    tx = HdlcTx(preamble_flags=1, closing_flags=1)
    rx = HdlcRx()
    returned = 0
    for trial in range(3000):
        data = random_frames(rng, [int(rng.integers(1, 261))])[0]
        body = tx.encode([data])
        tx.finish()
        # Flip 1 to 3 bits inside the frame (not in the opening flag).
        nflip = int(rng.integers(1, 4))
        pos = rng.choice(np.arange(8, len(body) - 8), nflip, replace=False)
        body[pos] ^= 1
        frames = rx.decode(body)
        returned += len(frames)
        assert all(not f.ok for f in frames), (trial, data, pos)
    assert returned > 2000  # most corruptions come back flagged bad


def test_too_long_frames_are_bad():
    rng = np.random.default_rng(4)
    frames = random_frames(rng, [259, 260, 261, 300, 1000])
    tx = HdlcTx(preamble_flags=1)
    got = HdlcRx(max_len=260).decode(np.concatenate([tx.encode(frames), tx.finish()]))
    assert [f.ok for f in got] == [True, True, False, False, False]
    assert got[1].data == frames[1]
    assert all(len(f.data) <= 260 for f in got)


def test_abort_discards_the_frame_in_progress():
    tx = HdlcTx(preamble_flags=2)
    first = tx.encode([b"\x01\x02\x03"])
    cut = tx.encode([b"\x55" * 40])[:150]
    bits = np.concatenate([first, cut, tx.abort(), tx.flags(2), tx.encode([b"\x09\x08"]), tx.finish()])
    rx = HdlcRx()
    assert rx.decode(bits) == [Frame(b"\x01\x02\x03", True), Frame(b"\x09\x08", True)]
    assert rx.aborts == 1


def test_idle_and_framing_ok():
    rx = HdlcRx(framing_ok_threshold=4)
    rx.decode(np.ones(20, np.uint8))
    assert rx.idle and not rx.framing_ok
    rx.decode(np.array(FLAG * 3, np.uint8))
    assert not rx.idle and not rx.framing_ok
    rx.decode(np.array(FLAG, np.uint8))
    assert rx.framing_ok
    # A frame ends the preamble.
    tx = HdlcTx(preamble_flags=1)
    rx.decode(tx.encode([b"\x42"]))
    assert not rx.framing_ok


def test_flags_sharing_zeros():
    # "0111111011111101111110": flags may share their 0s (ISO/IEC 13239 §4.3.1).
    data = b"\xff\x03"
    bits = [0] + [1, 1, 1, 1, 1, 1, 0] * 3 + reference_bits(data) + FLAG + [1, 1, 1, 1, 1, 1, 0] * 2
    assert HdlcRx().decode(np.array(bits, np.uint8)) == [Frame(data, True)]


def test_frame_not_a_whole_number_of_octets_is_bad():
    data = b"\x12\x34\x56"
    body = reference_bits(data)
    body.insert(10, 0)
    bits = FLAG + body + FLAG
    (frame,) = HdlcRx().decode(np.array(bits, np.uint8))
    assert not frame.ok


def test_noise_gives_no_good_frames():
    rng = np.random.default_rng(5)
    frames = HdlcRx().decode(rng.integers(0, 2, 200000, dtype=np.uint8))
    assert not any(f.ok for f in frames)


def test_bad_arguments():
    with pytest.raises(ModemError, match="at least one octet"):
        HdlcTx().encode([b""])
    with pytest.raises(ModemError, match="preamble_flags"):
        HdlcTx(preamble_flags=0)
    with pytest.raises(ModemError, match="max_len"):
        HdlcRx(max_len=0)
    with pytest.raises(ModemError, match="1-D"):
        HdlcRx().decode(np.zeros((2, 8), np.uint8))
    with pytest.raises(ModemError, match="Frame.data must be bytes, not str"):
        Frame("text", True)



@needs_spandsp
def test_interop_with_spandsp_hdlc():
    rng = np.random.default_rng(6)
    frames = random_frames(rng, range(1, 261))
    # spandsp frames -> ours
    got = HdlcRx().decode(spandsp.hdlc_tx(frames, preamble_flags=3, postamble_flags=2))
    assert got == [Frame(f, True) for f in frames]
    # ours -> spandsp
    tx = HdlcTx(preamble_flags=3)
    theirs = spandsp.hdlc_rx(np.concatenate([tx.encode(frames), tx.finish()]))
    assert theirs == [(f, True) for f in frames]


def test_every_length_1_to_260_over_v29():
    """ECM frames ride the high-speed modems: HDLC over V.29 9600 through A-law."""
    from faxengine import line
    from faxengine.modem import V29Rx, V29Tx

    rng = np.random.default_rng(7)
    frames = random_frames(rng, range(1, 261))
    tx = HdlcTx(preamble_flags=10)
    mod = V29Tx(9600)
    samples = np.concatenate([mod.modulate(np.concatenate([tx.encode(frames), tx.finish()])), mod.finish(),
                              np.zeros(800, np.int16)])     # room for the line's delay
    heard = line.Line(g711="alaw", offset_hz=7.0, seed=1).process(samples)
    got = HdlcRx().decode(V29Rx(9600).demodulate(heard))
    assert got == [Frame(f, True) for f in frames]


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(frames=st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=8),
       cuts=st.lists(st.integers(min_value=0, max_value=30000), max_size=12))
def test_round_trip_any_frames_any_chunking(frames, cuts):
    tx = HdlcTx(preamble_flags=2)
    bits = np.concatenate([tx.encode(frames), tx.finish()])
    rx = HdlcRx(max_len=260)
    edges = sorted({0, len(bits), *(c % (len(bits) + 1) for c in cuts)})
    got = [f for a, b in zip(edges, edges[1:]) for f in rx.decode(bits[a:b])]
    assert [f.data for f in got] == [f[:260] for f in frames]
    assert [f.ok for f in got] == [len(f) <= 260 for f in frames]


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=4000))
def test_any_bit_stream_is_safe(raw):
    bits = np.unpackbits(np.frombuffer(raw, np.uint8))
    frames = HdlcRx(max_len=40).decode(bits)
    assert all(isinstance(f, Frame) and len(f.data) <= 40 for f in frames)


def test_empty_inputs():
    assert HdlcRx().decode(np.zeros(0, np.uint8)) == []
    assert len(HdlcTx().encode([])) == 38 * 8
    assert len(HdlcTx().finish()) == 0


@pytest.mark.parametrize("seed", range(4))
def test_octets_taken_whole_decode_as_bits_one_at_a_time(seed):
    """The receiver takes a frame's octets eight bits at once when no 0 was
    inserted in them (csrc/hdlc.c): on any mix of frames, flags, aborts, idle
    and noise it reports what the bit-at-a-time path reports (fed one bit a
    call it never takes eight at once), frames, counters and states alike."""
    rng = np.random.default_rng(seed)
    tx = HdlcTx(preamble_flags=2)
    parts = []
    for frame in random_frames(rng, rng.integers(1, 300, 40)):
        parts.append(tx.encode([frame]))
        kind = rng.integers(0, 5)
        if kind == 0:
            parts.append(rng.integers(0, 2, rng.integers(1, 60), dtype=np.uint8))  # noise
        elif kind == 1:
            parts.append(np.array([0] + [1] * int(rng.integers(7, 20)), np.uint8))  # abort, idle
        elif kind == 2:
            parts.append(tx.finish())
    bits = np.concatenate(parts + [tx.finish()])
    whole, serial = HdlcRx(max_len=260), HdlcRx(max_len=260)
    got = whole.decode(bits)
    expect = [f for i in range(bits.size) for f in serial.decode(bits[i:i + 1])]
    assert got == expect and sum(f.ok for f in got) >= 10
    for attr in ("aborts", "frames_ok", "frames_bad", "flag_run", "framing_ok", "idle"):
        assert getattr(whole._core, attr) == getattr(serial._core, attr), attr
