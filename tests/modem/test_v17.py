"""V.17: constellations, trellis code and Viterbi decoder in the symbol
domain; the transmitter's signal; ours to ours over impaired lines, long
then short training, streaming; interop with spandsp 0.0.6 both ways; the
pinned sensitivity."""
from __future__ import annotations

import numpy as np
import pytest
from _hsutil import (IMPAIRMENTS, INTEROP_CONDITIONS, bit_errors, check_interop, check_streaming, check_tcf_interop,
                     check_tep, check_threshold_spandsp_tx, interop_impairment, loop_errors, needs_spandsp,
                     random_bits, send, through_line)
from _v17util import hard_decode, symbol_channel

import spandsp
from faxengine import line
from faxengine.modem import ModemError, _v17
from faxengine.modem.v17 import RATES, V17Rx, V17Tx

BPS = {14400: 6, 12000: 5, 9600: 4, 7200: 3}
LONG_TRAIN = 256 + 2976 + 64 + 48      # symbols, V.17 Table 3
SHORT_TRAIN = 256 + 38 + 48


# ---- constellations and trellis ------------------------------------------

@pytest.mark.parametrize("rate", RATES)
def test_constellation_set_partitioning(rate):
    pts = _v17.constellation(rate)
    assert len(pts) == 2 ** (BPS[rate] + 1)
    assert len(set(pts)) == len(pts)
    diff = pts[:, None] - pts[None, :]
    d2 = np.rint(diff.real ** 2 + diff.imag ** 2)
    np.fill_diagonal(d2, np.inf)
    same_subset = (np.arange(len(pts))[:, None] & 7) == (np.arange(len(pts))[None, :] & 7)
    # each of the 8 subsets has 8x the minimum squared distance (V.17 Figure 2)
    assert d2[same_subset].min() == 8 * d2.min()
    assert _v17.min_distance2(rate) == d2.min()
    # all rates and the training points share one power scale
    assert 40 <= np.mean(np.abs(pts) ** 2) <= 42
    abcd = _v17.training_points()
    assert np.all(abcd.real ** 2 + abcd.imag ** 2 == 40)
    assert np.allclose(abcd[1:] / abcd[:-1], 1j)           # A B C D a quarter apart


def test_trellis_structure():
    nxt = np.array([[_v17.conv_next(s, y) for y in range(4)] for s in range(8)])
    for s in range(8):
        assert sorted(nxt[s]) == sorted(set(nxt[s]))            # 4 distinct successors
    for ns in range(8):
        preds = {s for s in range(8) for y in range(4) if nxt[s, y] == ns}
        assert len(preds) == 4                                    # entered from 4 states
    # the 32 branches use each (state, Y1 Y2) once; labels of a state share Y0
    labels = _v17.trellis_encode(14400, random_bits(6 * 64, 1))
    assert set(np.unique(labels & 1)) <= {0, 1}


@pytest.mark.parametrize("rate", RATES)
def test_viterbi_clean_and_rotation_transparent(rate):
    bps = BPS[rate]
    bits = random_bits(bps * 3000, 7)
    rx = symbol_channel(rate, bits, 80.0, 1)
    assert np.array_equal(_v17.labels_to_bits(rate, _v17.viterbi_decode(rate, rx)), bits)
    # V.17's code is transparent to 90 degree turns: after differential
    # decoding only the first symbol can differ
    for turn in (1j, -1, -1j):
        out = _v17.labels_to_bits(rate, _v17.viterbi_decode(rate, rx * turn))
        assert np.array_equal(out[bps:], bits[bps:])


# Es/N0 where the decoder makes no error in 240 000 bits with ~1 dB margin
# while nearest-point slicing of the same symbols errs at ~1e-2.
ES_N0 = {14400: 24.0, 12000: 21.5, 9600: 18.0, 7200: 15.5}


@pytest.mark.parametrize("rate", RATES)
def test_viterbi_zero_errors_where_slicing_fails(rate):
    bps = BPS[rate]
    bits = random_bits(240000 // bps * bps, rate)
    rx = symbol_channel(rate, bits, ES_N0[rate], rate + 1)
    soft = _v17.labels_to_bits(rate, _v17.viterbi_decode(rate, rx, 32))
    hard = hard_decode(rate, rx)
    assert np.count_nonzero(soft != bits) == 0
    assert np.mean(hard != bits) > 3e-3


def test_coding_gain_over_uncoded_qam():
    """At 14 400 bit/s the code must beat uncoded 64-QAM (the same bit rate
    without trellis coding) by 2 dB already at a symbol error rate of 1e-3
    (the gain grows to ~3.3 dB at 1e-5): the coded SER at 22 dB is below the
    uncoded SER at 24 dB."""
    bits = random_bits(6 * 40000, 11)
    labels = _v17.trellis_encode(14400, bits)
    rx = symbol_channel(14400, bits, 22.0, 12)
    coded_ser = np.mean(_v17.viterbi_decode(14400, rx) != labels)
    g = np.arange(-7, 8, 2)
    qam = (g[:, None] + 1j * g[None, :]).ravel()
    rng = np.random.default_rng(13)
    sym = qam[rng.integers(0, 64, 40000)]
    n0 = np.mean(np.abs(qam) ** 2) / 10 ** (24.0 / 10)
    r = sym + rng.normal(0, np.sqrt(n0 / 2), (len(sym), 2)) @ np.array([1, 1j])
    uncoded_ser = np.mean(qam[np.argmin(np.abs(r[:, None] - qam[None, :]), axis=1)] != sym)
    assert coded_ser < uncoded_ser


def test_viterbi_rejects_bad_depth_and_rate():
    with pytest.raises(ModemError, match="depth"):
        _v17.viterbi_decode(14400, np.zeros(4, complex), depth=0)
    with pytest.raises(ModemError, match="no rate 4800"):
        _v17.viterbi_decode(4800, np.zeros(4, complex))


def test_viterbi_trellis_tables_match_the_encoder():
    # the decoder unrolls over constant tables of the branches into each
    # state; they must be the encoder's trellis
    assert _v17.trellis_tables_ok()


@pytest.mark.parametrize("rate", RATES)
def test_viterbi_takes_points_far_off_and_not_a_number(rate):
    # the slicing grid is clamped at its edges, NaN included: any point
    # gives labels of the constellation, never a read outside the grid
    points = np.array([np.nan, complex(np.inf, -np.inf), 1e30 - 1e30j, -1e30j, complex(np.nan, 3.0)] * 10)
    labels = _v17.viterbi_decode(rate, points)
    assert len(labels) == len(points)
    assert labels.min() >= 0 and labels.max() < len(_v17.constellation(rate))


# ---- transmitter ---------------------------------------------------------

def _signal(rate=14400, nbits=60000, seed=1, **kw):
    tx = V17Tx(rate, **kw)
    bits = random_bits(nbits, seed)
    return bits, np.concatenate([tx.modulate(bits), tx.finish()])


def _symbols_to_samples(n):
    return n * 10 // 3


@pytest.mark.parametrize("level", [-10.0, -13.0, -43.0])
def test_tx_power(level):
    _, a = _signal(power_dbm0=level)
    start = _symbols_to_samples(LONG_TRAIN) + 20
    assert abs(line.power_dbm0(a[start:start + 16000]) - level) < 0.2


@pytest.mark.parametrize("short_train,train", [(False, LONG_TRAIN), (True, SHORT_TRAIN)])
@pytest.mark.parametrize("extra", [0, 1, 3])
def test_tx_length(short_train, train, extra):
    rate = 9600
    tx = V17Tx(rate, short_train=short_train)
    body = tx.modulate(random_bits(4 * 2400 + extra, 3))
    end = tx.finish()
    # training + 2400 data symbols; the turn-off: the last bits padded to a
    # symbol, 32 symbols of ones, 48 of silence
    assert abs(len(body) - _symbols_to_samples(train + 2400)) <= 4
    assert abs(len(end) - _symbols_to_samples((extra > 0) + 32 + 48)) <= 4
    assert np.all(end[-_symbols_to_samples(48) + 40:] == 0)
    assert np.any(end[:_symbols_to_samples(32)] != 0)


def test_tx_out_of_band():
    import scipy.signal

    _, a = _signal(nbits=200000)
    start = _symbols_to_samples(LONG_TRAIN) + 40
    f, p = scipy.signal.welch(a[start:start + 100000].astype(float), 8000, nperseg=2048)
    p = 10 * np.log10(p / p.max())
    assert p[(f > 30) & (f < 100)].max() < -40
    assert p[f > 3500].max() < -40
    assert p[(f > 500) & (f < 3100)].min() > -10


def test_tx_tep_tone_then_silence():
    _, a = _signal(nbits=600, tep=True)
    tone = a[40:1560].astype(float)   # within the 200 ms of carrier
    spec = np.abs(np.fft.rfft(tone * np.hanning(len(tone))))
    f = np.fft.rfftfreq(len(tone), 1 / 8000)
    assert abs(f[np.argmax(spec)] - 1800) < 10
    # unmodulated: 99 % of the energy within 30 Hz of the carrier
    near = np.abs(f - 1800) < 30
    assert np.sum(spec[near] ** 2) > 0.99 * np.sum(spec ** 2)
    # then 20 ms of silence (the pulse's tail aside)
    assert np.all(a[1600 + 40:1760 - 40] == 0)


@pytest.mark.parametrize("rate", [14400, 7200])
def test_tx_streaming_invariance(rate):
    bits, whole = _signal(rate, nbits=20000, seed=5)
    tx = V17Tx(rate)
    rng = np.random.default_rng(9)
    parts, i = [], 0
    while i < len(bits):
        n = int(rng.choice([0, 1, 2, 5, 7, 100, 3333]))
        parts.append(tx.modulate(bits[i:i + n]))
        i += n
    parts.append(tx.finish())
    assert np.array_equal(np.concatenate(parts), whole)


def test_bad_arguments():
    with pytest.raises(ModemError, match="no rate 4800"):
        V17Tx(4800)
    with pytest.raises(ModemError, match="no rate 2400"):
        V17Rx(2400)
    with pytest.raises(ModemError, match="out of range"):
        V17Tx(9600, power_dbm0=6.0)
    with pytest.raises(ModemError, match="int16"):
        V17Rx().demodulate(np.zeros(10, np.float32))


def test_after_finish_a_new_transmission_trains_again():
    tx = V17Tx(9600)
    first = np.concatenate([tx.modulate(random_bits(400, 1)), tx.finish()])
    second = np.concatenate([tx.modulate(random_bits(400, 1)), tx.finish()])
    assert np.array_equal(first, second)


# ---- receiver: ours to ours ----------------------------------------------

@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("impairment", list(IMPAIRMENTS))
def test_ours_to_ours_200k_bits(rate, impairment):
    bits = random_bits(200_000, seed=rate + 1)
    assert loop_errors(lambda: V17Tx(rate), lambda: V17Rx(rate), bits, seed=3,
                       **IMPAIRMENTS[impairment]) == 0


@pytest.mark.parametrize("rate", RATES)
def test_long_then_short_training_in_one_stream(rate):
    """T.30: TCF and the first page after a long training, later pages after
    a short one; the receiver keeps its equaliser and tells them apart."""
    parts = [random_bits(30_000, seed=s) for s in (1, 2, 3)]
    stream = [send(V17Tx(rate), parts[0]), np.zeros(2400, np.int16),
              send(V17Tx(rate, short_train=True), parts[1]), np.zeros(4000, np.int16),
              send(V17Tx(rate, short_train=True), parts[2])]
    heard = through_line(np.concatenate(stream), snr_db=28.0, seed=4, g711="alaw", offset_hz=10.0,
                         drift_ppm=100.0, bandpass=True)
    rx = V17Rx(rate)
    got = np.concatenate([rx.demodulate(piece) for piece in np.array_split(heard, 7)])
    # the first transmission's bits come first; between transmissions are
    # the turn-off's ones and what the receiver made of the silence
    at = 0
    for p in parts:
        found = got[at:].tobytes().find(p[:64].tobytes())
        assert found >= 0 and (p is not parts[0] or found == 0)
        at += found
        assert bit_errors(p, got[at:at + len(p)]) == 0
        at += len(p)


@pytest.mark.parametrize("cut", [500, 3000, 6000])
def test_an_interrupted_training_is_dropped(cut):
    """A training cut short (segment 1, 2 or 3) delivers nothing; the next
    one is taken from its start."""
    bits = random_bits(20_000, seed=1)
    whole = send(V17Tx(9600), bits)
    got = V17Rx(9600).demodulate(np.concatenate([whole[:cut], np.zeros(800, np.int16), whole]))
    assert bit_errors(bits, got) == 0


def test_restart_keeps_the_equalizer_or_forgets_all():
    line_args = {"bandpass": True, "g711": "ulaw", "offset_hz": -4.0}
    long = through_line(send(V17Tx(12000), random_bits(36000, seed=1)), seed=1, **line_args)
    short = through_line(send(V17Tx(12000, short_train=True), random_bits(12000, seed=2)), seed=2,
                         **line_args)
    rx = V17Rx(12000)
    rx.demodulate(long[:-8000])
    assert rx.trained
    # T.30 between pages: the same call, so the channel is the same
    rx.restart(short_train=True)
    assert not rx.trained
    assert bit_errors(random_bits(12000, seed=2), rx.demodulate(short)) == 0
    rx.restart()
    assert not rx.trained and not rx.carrier_present


def test_receivers_share_the_slicing_grid():
    # the grid depends on the rate alone: built once per rate, then every
    # construction and restart shares it (a count, not a time)
    for rate in RATES:
        V17Rx(rate)
    built = _v17.grid_builds()
    assert built >= len(RATES)
    receivers = [V17Rx(rate) for rate in RATES for _ in range(3)]
    for rx in receivers:
        rx.restart()
        rx.restart(short_train=True)
    assert _v17.grid_builds() == built
    # and a receiver built after others decides exactly as the first did,
    # near the threshold (19 dB: about 90 errors), where every slice counts
    samples = through_line(send(V17Tx(14400), random_bits(20000, seed=3)), seed=3, snr_db=19.0)
    first, second = V17Rx(14400), V17Rx(14400)
    got = first.demodulate(samples)
    assert np.array_equal(second.demodulate(samples), got)
    # and so does one restarted after hearing it (the shared tables are read-only)
    first.restart()
    assert np.array_equal(first.demodulate(samples), got)
    assert bit_errors(random_bits(20000, seed=3), got) < 20000 // 10


@pytest.mark.parametrize("rate", [14400, 7200])
def test_streaming_any_chunking_same_output(rate):
    check_streaming(lambda: V17Tx(rate), lambda: V17Rx(rate), random_bits(20_000, seed=7), seed=rate)


def test_one_sample_at_a_time():
    """The decoder releases its decisions a block at a time: 48 bits can come
    out of one input sample."""
    bits = random_bits(14_400, seed=3)
    heard = send(V17Tx(14400), bits)
    rx = V17Rx(14400)
    got = [rx.demodulate(heard[i:i + 1]) for i in range(len(heard))]
    assert max(len(g) for g in got) >= 48
    assert bit_errors(bits, np.concatenate(got)) == 0


def test_receiver_reports_what_it_sees():
    samples = send(V17Tx(14400, power_dbm0=-20.0), random_bits(48_000, seed=1))
    rx = V17Rx(14400)
    assert not rx.carrier_present and not rx.trained and rx.snr_db == 0.0
    rx.demodulate(samples[:len(samples) // 2])
    assert rx.carrier_present and rx.trained
    assert abs(rx.signal_power_dbm0 - -20.0) < 1.5
    assert rx.snr_db > 30.0
    rx.demodulate(np.zeros(800, np.int16))
    assert not rx.carrier_present and not rx.trained


@pytest.mark.parametrize("offset", [-10.0, 10.0])
def test_carrier_offset_is_measured(offset):
    heard = through_line(send(V17Tx(9600), random_bits(24_000, seed=1)), offset_hz=offset)
    rx = V17Rx(9600)
    rx.demodulate(heard[:len(heard) // 2])
    assert abs(rx.carrier_offset_hz - offset) < 0.5


@pytest.mark.parametrize("snr", [20.0, 30.0])
def test_snr_estimate_follows_the_noise(snr):
    heard = through_line(send(V17Tx(14400), random_bits(48_000, seed=2)), snr_db=snr, seed=5)
    rx = V17Rx(14400)
    rx.demodulate(heard)
    # decision SNR: line SNR + 10 log10(4000/2400) = +2.2 dB, less what the
    # receiver loses, plus a little where wrong decisions hide noise; read
    # after the end, the report still describes the signal
    assert snr < rx.snr_db < snr + 3.0


#: where ours must still decode 20 s without error: 1 dB above what the
#: sweep (2 x 20 s, 0.5 dB steps) measured: 21.0, 18.0, 15.0, 11.5 dB
#: (7200: 12.5 before the slower data loops of csrc/v17rx.c), against
#: spandsp 0.0.6's 24.0, 21.5, 17.5, 14.5 dB
OUR_THRESHOLD = {14400: 22.0, 12000: 19.0, 9600: 16.0, 7200: 12.5}


@pytest.mark.parametrize("rate", RATES)
def test_sensitivity_pinned(rate):
    bits = random_bits(rate * 20, seed=11)
    heard = through_line(send(V17Tx(rate), bits), snr_db=OUR_THRESHOLD[rate], seed=rate)
    assert bit_errors(bits, V17Rx(rate).demodulate(heard)) == 0


#: the thresholds bench/test_modem_sensitivity.py measured with spandsp's
#: transmitter (the engine issue asks 14.5 and 11.5 dB at 9600 and 7200;
#: 9600 was 16.0 before the carrier loop's gear in csrc/v17rx.c, 15.0 and
#: 12 000 18.5 before its 12-symbol matched filter)
SWEPT_THRESHOLD = {14400: 21.0, 12000: 18.0, 9600: 14.5, 7200: 11.5}


@needs_spandsp
@pytest.mark.parametrize("rate", RATES)
def test_swept_threshold_pinned(rate):
    check_threshold_spandsp_tx("v17", rate, lambda: V17Rx(rate), SWEPT_THRESHOLD[rate])


@pytest.mark.parametrize("level", [-10.0, -43.0])
def test_levels(level):
    bits = random_bits(50_000, seed=4)
    assert loop_errors(lambda: V17Tx(14400, power_dbm0=level), lambda: V17Rx(14400), bits,
                       seed=2, snr_db=30.0) == 0


def test_tep_ours_to_ours():
    bits = random_bits(20_000, seed=6)
    assert loop_errors(lambda: V17Tx(12000, tep=True), lambda: V17Rx(12000), bits, seed=1,
                       g711="alaw") == 0


def test_other_signals_give_no_bits():
    """T.30 runs the receivers side by side: V.21 flags and line noise must
    not look like a training, and a V.17 signal right after V.21 is taken."""
    from faxengine.modem.v21 import V21Tx

    v21 = V21Tx()
    flags = np.concatenate([v21.modulate(np.tile(np.array([0, 1, 1, 1, 1, 1, 1, 0], np.uint8), 40)),
                            v21.finish()])
    noise = np.random.default_rng(2).normal(0, 400, 40000).astype(np.int16)
    rx = V17Rx(9600)
    assert len(rx.demodulate(np.concatenate([noise, flags, flags]))) == 0
    bits = random_bits(20_000, seed=8)
    # T.30: 75 ms (± 20) of silence between V.21 and the high-speed modem
    rx = V17Rx(9600)
    got = rx.demodulate(np.concatenate([flags, np.zeros(600, np.int16), send(V17Tx(9600), bits)]))
    assert bit_errors(bits, got) == 0


def test_tcf_zeros_come_through():
    zeros = np.zeros(14400 * 3 // 2, np.uint8)
    heard = through_line(send(V17Tx(14400), zeros), seed=1, g711="alaw")
    assert bit_errors(zeros, V17Rx(14400).demodulate(heard)) == 0


# ---- interop with spandsp 0.0.6 ------------------------------------------

#: lowest SNR (dB) at which spandsp 0.0.6 decodes 2 x 20 s without error
SPANDSP_THRESHOLD = {14400: 24.0, 12000: 21.5, 9600: 17.5, 7200: 14.5}


@needs_spandsp
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("condition", INTEROP_CONDITIONS)
def test_interop_with_spandsp(rate, condition):
    check_interop("v17", rate, lambda: V17Tx(rate), lambda: V17Rx(rate), random_bits(40_000, seed=rate + 5), seed=9,
                  **interop_impairment(condition, SPANDSP_THRESHOLD[rate] + 1.0))


@needs_spandsp
@pytest.mark.parametrize("rate", RATES)
def test_tcf_interop_with_spandsp(rate):
    check_tcf_interop("v17", rate, lambda: V17Tx(rate), lambda: V17Rx(rate))


@needs_spandsp
@pytest.mark.parametrize("rate", RATES)
def test_interop_long_then_short_with_spandsp(rate):
    a, b = random_bits(20_000, seed=1), random_bits(20_000, seed=2)
    gap = np.zeros(1600, np.int16)
    # ours -> spandsp: its receiver takes the short training after a long one
    ours = np.concatenate([send(V17Tx(rate), a), gap, send(V17Tx(rate, short_train=True), b), gap])
    rx = spandsp.ModemRx("v17", rate)
    got_a = rx.demodulate(ours[:len(ours) // 2])
    got_b = rx.demodulate(ours[len(ours) // 2:])
    got = np.concatenate([got_a, got_b])
    at = spandsp.align(got, a)
    assert at is not None and bit_errors(a, got[at:at + len(a)]) == 0
    tail = got[at + len(a):]
    at = spandsp.align(tail, b)
    assert at is not None and bit_errors(b, tail[at:at + len(b)]) == 0
    # spandsp -> ours
    theirs = np.concatenate([spandsp.modem_tx("v17", rate, a, power_dbm0=-13.0), gap,
                             spandsp.modem_tx("v17", rate, b, short_train=True, power_dbm0=-13.0), gap])
    got = V17Rx(rate).demodulate(theirs)
    assert bit_errors(a, got[:len(a)]) == 0
    tail = got[len(a):]
    at = spandsp.align(tail, b)
    assert at is not None and bit_errors(b, tail[at:at + len(b)]) == 0


@needs_spandsp
def test_tep_tone_interop():
    check_tep("v17", 9600, lambda: V17Tx(9600, tep=True), lambda: V17Rx(9600), random_bits(9600, seed=3))
