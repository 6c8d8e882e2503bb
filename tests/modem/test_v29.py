"""V.29 transmitter and receiver: ours to ours over impaired lines, streaming,
interop with spandsp 0.0.6 both ways, and the pinned sensitivity."""
from __future__ import annotations

import numpy as np
import pytest

from _hsutil import (IMPAIRMENTS, INTEROP_CONDITIONS, bit_errors, check_interop, check_noise_on_every_impairment,
                     check_reports, check_streaming, check_tcf_interop, check_tep, check_threshold_spandsp_tx,
                     interop_impairment, loop_errors, needs_spandsp, random_bits, send, through_line)
from faxengine.modem import ModemError
from faxengine.modem.v29 import V29Rx, V29Tx

RATES = (9600, 7200, 4800)
#: lowest SNR (dB) at which spandsp 0.0.6 decodes 2 x 20 s without error
SPANDSP_THRESHOLD = {9600: 22.0, 7200: 17.0, 4800: 14.5}
#: where ours must still decode 20 s without error: 1 dB above what the
#: sweep of bench/test_modem_sensitivity.py measured (18.5, 15.0, 11.0 dB)
OUR_THRESHOLD = {9600: 19.5, 7200: 16.0, 4800: 12.0}


def receive(rate: int, samples: np.ndarray) -> tuple[np.ndarray, V29Rx]:
    rx = V29Rx(rate)
    return rx.demodulate(samples), rx


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("impairment", list(IMPAIRMENTS))
def test_ours_to_ours_200k_bits(rate, impairment):
    bits = random_bits(200_000, seed=rate)
    assert loop_errors(lambda: V29Tx(rate), lambda: V29Rx(rate), bits, seed=3, **IMPAIRMENTS[impairment]) == 0


def test_receiver_reports_what_it_sees():
    bits = random_bits(24_000, seed=1)
    check_reports(V29Rx(9600), send(V29Tx(9600, power_dbm0=-20.0), bits), -20.0, heard=1 / 2)


def test_snr_estimate_follows_the_noise():
    samples = through_line(send(V29Tx(9600), random_bits(24_000, seed=2)), snr_db=25.0, seed=5)
    _, rx = receive(9600, samples[:-2000])
    # decision SNR: line SNR + 10 log10(4000/2400), less what the receiver loses
    assert 25.0 < rx.snr_db < 27.5


def test_tcf_zeros_come_through():
    # T.30 §5.3.6.2.1: TCF is 1.5 s of zeros; the receiver delivers them, T.30 counts
    zeros = np.zeros(9600 * 3 // 2, np.uint8)
    got, _ = receive(9600, through_line(send(V29Tx(9600), zeros), seed=1, g711="alaw"))
    assert bit_errors(zeros, got) == 0


@pytest.mark.parametrize("rate", RATES)
def test_noise_on_a_line_with_every_impairment(rate):
    snr = {9600: 22.0, 7200: 18.0, 4800: 15.0}[rate]
    bits = random_bits(rate * 10, seed=21)
    check_noise_on_every_impairment(lambda: V29Tx(rate), lambda: V29Rx(rate), bits, snr)


@pytest.mark.parametrize("rate", RATES)
def test_streaming_any_chunking_same_output(rate):
    check_streaming(lambda: V29Tx(rate), lambda: V29Rx(rate), random_bits(12_000, seed=7), seed=rate)


@pytest.mark.parametrize("rate", RATES)
def test_echo_protection_tone(rate):
    check_tep("v29", rate, lambda: V29Tx(rate, tep=True), lambda: V29Rx(rate), random_bits(9600, seed=3))


def test_a_second_transmission_trains_again():
    a, b = random_bits(4800, seed=1), random_bits(4800, seed=2)
    tx = V29Tx(7200)
    first = np.concatenate([tx.modulate(a), tx.finish()])
    second = np.concatenate([tx.modulate(b), tx.finish()])
    rx = V29Rx(7200)
    got = rx.demodulate(np.concatenate([first, np.zeros(400, np.int16), second]))
    assert bit_errors(a, got[:len(a)]) == 0
    assert b.tobytes() in got[len(a):].tobytes()


def test_bad_arguments():
    with pytest.raises(ModemError, match="no rate 2400"):
        V29Tx(2400)
    with pytest.raises(ModemError, match="no rate 14400"):
        V29Rx(14400)
    with pytest.raises(ModemError, match="out of range"):
        V29Tx(9600, power_dbm0=0.0)       # its peaks would clip
    with pytest.raises(ModemError, match="int16"):
        V29Rx().demodulate(np.zeros(10, np.float32))


@pytest.mark.parametrize("rate", RATES)
def test_sensitivity_pinned(rate):
    """20 s of random data at our pinned threshold, zero errors."""
    bits = random_bits(rate * 20, seed=11)
    got, _ = receive(rate, through_line(send(V29Tx(rate), bits), snr_db=OUR_THRESHOLD[rate], seed=rate))
    assert bit_errors(bits, got) == 0


#: the thresholds bench/test_modem_sensitivity.py measured with spandsp's
#: transmitter (the engine issue asks 19.0 and 15.0 dB at 9600 and 7200).
#: 7200 was 17.0 until the front end's NCO took a 64-bit phase accumulator
#: (docs/modems.md): its derotation equals the old one's in 99.4 % of samples
#: and is 1 ulp off in the rest, and that flips run 0 at 17.0 dB, the 5.5-sigma
#: noise peak on which the perfect receiver also errs (its threshold is 17.5);
#: at 16.5 dB both receivers make the same 12 errors on that seed and none on
#: 11 others
SWEPT_THRESHOLD = {9600: 19.0, 7200: 17.5, 4800: 11.0}


@needs_spandsp
@pytest.mark.parametrize("rate", RATES)
def test_swept_threshold_pinned(rate):
    check_threshold_spandsp_tx("v29", rate, lambda: V29Rx(rate), SWEPT_THRESHOLD[rate])


@needs_spandsp
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("condition", INTEROP_CONDITIONS)
def test_interop_with_spandsp(rate, condition):
    check_interop("v29", rate, lambda: V29Tx(rate), lambda: V29Rx(rate), random_bits(30_000, seed=rate + 5),
                  seed=9, **interop_impairment(condition, SPANDSP_THRESHOLD[rate] + 1.0))


@needs_spandsp
@pytest.mark.parametrize("rate", RATES)
def test_tcf_interop_with_spandsp(rate):
    check_tcf_interop("v29", rate, lambda: V29Tx(rate), lambda: V29Rx(rate))


def test_7200_decisions_are_within_0_35_db_of_a_perfect_receiver():
    """At 17.0 dB (0.5 dB below the bench's at 7200 bit/s) the last 4096 data
    symbols sit as close to the 8 points of V.29 Table 3 as a perfect
    receiver's would: its decision SNR is the line's plus 10 log10(4000/2400)
    dB (the matched filter keeps 2400 Hz of the 4000 Hz of white noise), and
    ours is at most 0.35 dB below (measured 0.02-0.21 over seeds; the
    equaliser's misadjustment and the loops' jitter).  docs/modems.md: why
    this leaves 15.0 dB out of the bench's reach."""
    points = np.array([3, 1 + 1j, 3j, -1 + 1j, -3, -1 - 1j, -3j, 1 - 1j])
    rx = V29Rx(7200)
    rx.demodulate(through_line(send(V29Tx(7200), random_bits(7200 * 4, seed=1)), snr_db=17.0, seed=1))
    z = rx.symbols(4096)
    assert len(z) == 4096
    nearest = points[np.argmin(np.abs(z[:, None] - points[None, :]), axis=1)]
    decision_snr = 10 * np.log10(5.5 / np.mean(np.abs(z - nearest) ** 2))
    assert decision_snr > 17.0 + 10 * np.log10(4000 / 2400) - 0.35
