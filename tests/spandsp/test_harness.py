"""The spandsp harness itself: spandsp to spandsp, so that a failure in an
interop test can be blamed on our side, not on the harness.

Every modem and rate: spandsp's transmitter into spandsp's receiver recovers
random bits with zero errors, from the first data bit on, on a clean line and
through G.711; the streaming classes give the one-shot output whatever the
block sizes; HDLC frames of every length round trip and corruption is
flagged; V.21 + HDLC works through the line model; the CNG and CED tones are
generated and detected.
"""
from __future__ import annotations

import numpy as np
import pytest

import spandsp
from faxengine import line

pytestmark = pytest.mark.skipif(not spandsp.spandsp_available(), reason=spandsp.REASON)

MODEMS = [(kind, rate) for kind in ("v29", "v27ter", "v17") for rate in spandsp.RATES[kind]]
IDS = [f"{k}-{r}" for k, r in MODEMS]


def random_bits(n, seed=1):
    return np.random.default_rng(seed).integers(0, 2, n).astype(np.uint8)


def random_splits(total, longest, rng):
    """(start, end) pairs cutting range(total) into random pieces of 1..longest-1."""
    cuts = [0]
    while cuts[-1] < total:
        cuts.append(min(total, cuts[-1] + int(rng.integers(1, longest))))
    return list(zip(cuts[:-1], cuts[1:]))


def assert_recovered(received, sent):
    """The receiver's output starts with exactly the sent bits."""
    assert len(received) >= len(sent), f"only {len(received)} of {len(sent)} bits came out"
    errors = int(np.count_nonzero(received[: len(sent)] != sent))
    assert errors == 0, f"{errors} bit errors"


@pytest.mark.parametrize("kind,rate", MODEMS, ids=IDS)
def test_spandsp_to_spandsp_clean(kind, rate):
    bits = random_bits(rate * 2)                       # 2 s of data
    samples = spandsp.modem_tx(kind, rate, bits)
    assert samples.dtype == np.int16
    received, report = spandsp.modem_rx(kind, rate, samples, report=True)
    assert report.trained and report.training_failed == 0
    assert_recovered(received, bits)
    # what follows the data is the turn-off: a few symbols' worth, starting
    # with ones (V.17's ends in garbage as its carrier goes)
    tail = received[len(bits):]
    assert 32 <= len(tail) < 400 and np.all(tail[:32] == 1)
    assert spandsp.align(received, bits) == 0
    # spandsp's default level, -14 dBm0 for V.29 (our meter agrees within 0.2 dB)
    if kind == "v29":
        assert line.on_power_dbm0(samples) == pytest.approx(-14.0, abs=0.2)


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
@pytest.mark.parametrize("kind,rate", [("v29", 9600), ("v29", 4800), ("v27ter", 4800),
                                       ("v27ter", 2400), ("v17", 14400)],
                         ids=["v29-9600", "v29-4800", "v27ter-4800", "v27ter-2400", "v17-14400"])
def test_spandsp_to_spandsp_through_g711(kind, rate, law):
    bits = random_bits(rate, seed=2)
    heard = line.Line(g711=law).process(spandsp.modem_tx(kind, rate, bits))
    assert_recovered(spandsp.modem_rx(kind, rate, heard), bits)


def test_spandsp_through_an_impaired_line():
    # offset, drift, band filter, A-law and 30 dB SNR: spandsp's V.29 still copes
    bits = random_bits(9600 * 2, seed=3)
    samples = spandsp.modem_tx("v29", 9600, bits)
    noise = line.noise_dbm0_for_snr(samples, 30.0)
    ch = line.Line(offset_hz=5.0, drift_ppm=50.0, bandpass=True, g711="alaw", noise_dbm0=noise, seed=1)
    heard = np.concatenate([ch.process(samples), ch.flush()])
    assert_recovered(spandsp.modem_rx("v29", 9600, heard), bits)


def test_transmit_level_and_receiver_cutoff():
    bits = random_bits(4800, seed=4)
    quiet = spandsp.modem_tx("v29", 9600, bits, power_dbm0=-40.0)
    assert line.on_power_dbm0(quiet) == pytest.approx(-40.0, abs=0.3)
    # spandsp's V.29 receiver ignores a -40 dBm0 signal at its default cutoff ...
    received, report = spandsp.modem_rx("v29", 9600, quiet, report=True)
    assert not report.trained and len(received) == 0
    # ... and takes it with a lower one
    received, report = spandsp.modem_rx("v29", 9600, quiet, cutoff_dbm0=-45.5, report=True)
    assert report.trained
    assert_recovered(received, bits)
    assert report.signal_power_dbm0 == pytest.approx(-40.0, abs=2.0)


@pytest.mark.parametrize("level", [0.0, -13.0, -30.0])
def test_our_dbm0_is_spandsps(level):
    # faxengine.line's 0 dBm0 (3.14 dB below a full-scale sine) reads the same
    # on spandsp's power meter, so levels mean the same on both sides
    t = np.arange(80000)
    amplitude = 32767 * 10 ** ((level - line.DBM0_FULL_SCALE_SINE) / 20)
    sine = np.round(amplitude * np.sin(2 * np.pi * 1004 * t / 8000)).astype(np.int16)
    assert line.power_dbm0(sine) == pytest.approx(level, abs=0.01)
    assert spandsp.power_meter_dbm0(sine) == pytest.approx(level, abs=0.05)


def test_v17_tep_and_short_train_change_the_preamble():
    bits = random_bits(1440, seed=5)
    long = spandsp.modem_tx("v17", 14400, bits)
    short = spandsp.modem_tx("v17", 14400, bits, short_train=True)
    tep = spandsp.modem_tx("v17", 14400, bits, tep=True)
    # V.17 long training 1393 ms, short 142 ms (V.17 Table 3); TEP is
    # 185-200 ms of tone and 20 ms of silence
    assert (len(long) - len(short)) / 8000 == pytest.approx(1.25, abs=0.02)
    assert (len(tep) - len(long)) / 8000 == pytest.approx(0.22, abs=0.01)
    assert_recovered(spandsp.modem_rx("v17", 14400, tep), bits)
    # a short training needs the equaliser of an earlier long one: a fresh
    # receiver fails on it, one restarted after a long training succeeds
    _, report = spandsp.modem_rx("v17", 14400, short, short_train=True, report=True)
    assert not report.trained
    rx = spandsp.ModemRx("v17", 14400)
    assert_recovered(rx.demodulate(np.concatenate([long, np.zeros(800, dtype=np.int16)])), bits)
    rx.restart(14400, short_train=True)
    got = rx.demodulate(np.concatenate([short, np.zeros(800, dtype=np.int16)]))
    assert rx.report().trained
    assert_recovered(got, bits)


@pytest.mark.parametrize("kind,rate", [("v29", 9600), ("v27ter", 2400), ("v17", 12000), ("v21", 300)],
                         ids=["v29", "v27ter", "v17", "v21"])
def test_streaming_matches_one_shot(kind, rate):
    bits = random_bits(3000, seed=6)
    whole = spandsp.modem_tx(kind, rate, bits)
    rng = np.random.default_rng(7)
    tx = spandsp.ModemTx(kind, rate)
    parts = [tx.modulate(bits[a:b]) for a, b in random_splits(len(bits), 700, rng)]
    parts.append(tx.finish())
    assert tx.underruns == 0
    assert np.array_equal(np.concatenate(parts), whole)
    assert tx.finish().size == 0

    one_call = spandsp.modem_rx(kind, rate, whole)
    rx = spandsp.ModemRx(kind, rate)
    got = [rx.demodulate(whole[a:b]) for a, b in random_splits(len(whole), 3000, rng)]
    assert np.array_equal(np.concatenate(got), one_call)


def test_bad_kind_rate_and_samples_are_refused():
    with pytest.raises(ValueError, match="runs at"):
        spandsp.modem_tx("v29", 14400, random_bits(10))
    with pytest.raises(ValueError, match="modem kind"):
        spandsp.modem_rx("v34", 9600, np.zeros(10, dtype=np.int16))
    with pytest.raises(TypeError, match="int16"):
        spandsp.modem_rx("v29", 9600, np.zeros(10))


def test_hdlc_frames_of_every_length_round_trip():
    rng = np.random.default_rng(8)
    frames = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in range(1, 261)]
    frames.append(b"\x7e\xff\x7d\x7e\x00\xfc")          # flag and escape-like octets
    bits = spandsp.hdlc_tx(frames, preamble_flags=4, postamble_flags=2)
    assert np.array_equal(bits[:32], np.tile([0, 1, 1, 1, 1, 1, 1, 0], 4))
    assert np.array_equal(bits[-16:], np.tile([0, 1, 1, 1, 1, 1, 1, 0], 2))
    assert spandsp.hdlc_rx(bits) == [(f, True) for f in frames]
    # CRC-32 framing (T.30 does not use it, ECM over T.38 might)
    assert spandsp.hdlc_rx(spandsp.hdlc_tx(frames[:20], crc32=True), crc32=True) == \
        [(f, True) for f in frames[:20]]


def test_hdlc_zero_bit_insertion_and_fcs():
    # 0xFF is 8 ones: one zero is inserted after the fifth, so the frame
    # 0xFF + FCS (2 octets) takes 8 + 1 + 16 + stuffing bits between two flags
    bits = spandsp.hdlc_tx([b"\xff"], preamble_flags=1, postamble_flags=1)
    body = bits[8:-8]
    assert body[:9].tolist() == [1, 1, 1, 1, 1, 0, 1, 1, 1]
    ones = max(len(run) for run in "".join(map(str, body)).split("0"))
    assert ones <= 5


def test_corrupt_hdlc_frames_are_flagged_bad():
    frames = [bytes(range(40)), b"\xff\x13\x80\x00", bytes(range(100, 140))]
    bits = spandsp.hdlc_tx(frames, preamble_flags=2)
    first_frame_bits = 16 + 8 * 10               # well inside the first frame
    bad = bits.copy()
    bad[first_frame_bits] ^= 1
    got = spandsp.hdlc_rx(bad)
    assert [ok for _, ok in got] == [False, True, True]
    assert got[1:] == [(frames[1], True), (frames[2], True)]


def test_v21_hdlc_both_ways_through_an_alaw_line():
    frames = [b"\xff\x13\x80" + bytes(range(16)), b"\xff\x13\xfb"]
    samples = spandsp.v21_hdlc_tx(frames)
    # 40 flags of preamble at 300 bit/s: about 1.07 s before the first frame
    assert len(samples) / 8000 == pytest.approx((40 * 8 + 2 * 8 + 8 * 24 + 16) / 300, abs=0.1)
    ch = line.Line(g711="alaw", offset_hz=-7.0, drift_ppm=-100.0, noise_dbm0=-50.0, seed=4)
    heard = np.concatenate([np.zeros(2400, dtype=np.int16), ch.process(samples), ch.flush(),
                            np.zeros(2400, dtype=np.int16)])
    assert spandsp.v21_hdlc_rx(heard) == [(f, True) for f in frames]


@pytest.mark.parametrize("kind,rate", [("v29", 9600), ("v27ter", 4800), ("v17", 14400)],
                         ids=["v29", "v27ter", "v17"])
def test_hdlc_over_the_high_speed_modems(kind, rate):
    # ECM frames (T.30 Annex A) travel as HDLC over the image modem
    rng = np.random.default_rng(10)
    frames = [b"\xff\x03\x06" + bytes([k]) + rng.integers(0, 256, 256, dtype=np.uint8).tobytes()
              for k in range(8)]
    bits = spandsp.hdlc_tx(frames, preamble_flags=20, postamble_flags=2)
    heard = line.Line(g711="ulaw").process(spandsp.modem_tx(kind, rate, bits))
    assert spandsp.hdlc_rx(spandsp.modem_rx(kind, rate, heard)) == [(f, True) for f in frames]


def test_v21_receiver_reports_carrier():
    samples = spandsp.v21_hdlc_tx([b"\xff\x13\xfb"])
    heard = np.concatenate([np.zeros(8000, dtype=np.int16), samples, np.zeros(8000, dtype=np.int16)])
    _, report = spandsp.modem_rx("v21", 300, heard, report=True)
    names = [name for name, _ in report.events]
    assert names == ["CARRIER_UP", "CARRIER_DOWN"]
    up, down = (at for _, at in report.events)
    assert abs(up - 8000) <= 320 and abs(down - (8000 + len(samples))) <= 320


def test_cng_and_ced_tones():
    cng = spandsp.tone_tx(spandsp.CNG, 8000 * 8)
    # CNG: 1100 Hz, 0.5 s on, 3 s off (T.30 §5.2.1)
    on = np.abs(cng.astype(np.int32)).reshape(-1, 400).max(axis=1) > 0
    assert on[:10].all() and not on[10:70].any() and on[70:80].all()   # blocks of 50 ms
    spec = np.abs(np.fft.rfft(cng[:4000]))
    assert np.argmax(spec) * 8000 / 4000 == pytest.approx(1100, abs=2)
    reports = spandsp.tone_rx(spandsp.CNG, cng)
    assert [code for code, _ in reports[:4]] == [spandsp.CNG, 0, spandsp.CNG, 0]

    ced = spandsp.tone_tx(spandsp.CED, 8000 * 5)
    spec = np.abs(np.fft.rfft(ced[4000:12000]))
    assert np.argmax(spec) * 8000 / 8000 == pytest.approx(2100, abs=1)
    nonzero = np.flatnonzero(ced)
    assert (nonzero[-1] - nonzero[0]) / 8000 == pytest.approx(2.6, abs=0.05)
    assert spandsp.tone_rx(spandsp.CED, ced)[0][0] == spandsp.CED
    # each detector ignores the other tone
    assert spandsp.tone_rx(spandsp.CED, cng) == []
    assert spandsp.tone_rx(spandsp.CNG, ced) == []


def test_long_inputs_run_in_c():
    # 60 s of V.29 9600 each way: the harness hands whole blocks to C
    import time

    bits = random_bits(9600 * 60, seed=9)
    start = time.perf_counter()
    samples = spandsp.modem_tx("v29", 9600, bits)
    received = spandsp.modem_rx("v29", 9600, samples)
    elapsed = time.perf_counter() - start
    assert_recovered(received, bits)
    assert elapsed < 10.0       # several hundred times real time even on a loaded machine


@pytest.mark.parametrize("rate", [4800, 2400])
def test_v27ter_at_30_db_snr_trains_unless_the_noise_holds_its_carrier_detector(rate):
    """spandsp's V.27ter at 30 dB SNR: at its -14 dBm0 the noise (-44 dBm0) is
    loud enough to hold its carrier detector on before the signal starts, so
    the training is sought in noise and never found; at -23 dBm0 (noise
    -53 dBm0), the same SNR, every bit arrives.  Its failures at 30 dB are a
    matter of level, not of SNR."""
    bits = np.random.default_rng(5).integers(0, 2, rate * 10).astype(np.uint8)
    for level, trains in ((-14.0, False), (-23.0, True)):
        sent = spandsp.modem_tx("v27ter", rate, bits, power_dbm0=level)
        got, report = spandsp.modem_rx("v27ter", rate, line.add_noise(sent, 30.0, seed=1), report=True)
        assert report.trained == trains, level
        if trains:
            assert np.array_equal(got[:bits.size], bits)


def test_spandsps_fax_terminal_leaves_the_block_it_hears_as_it_was():
    """fax_rx takes the DC out of its input in place; the harness gives it a
    copy, or a terminal's own signal or a shared block that the pump handed
    to spandsp would come back changed for whoever holds it next."""
    term = spandsp.FaxTerminal(False)
    block = np.full(2500, 1000, np.int16)       # a DC offset, over several of the harness's chunks
    block[::7] = -3000
    before = block.copy()
    for _ in range(4):
        term.rx(block)
    assert np.array_equal(block, before)
