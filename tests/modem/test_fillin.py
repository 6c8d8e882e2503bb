"""fillin(n) on every receiver: samples that never arrived (a lost RTP
packet), told to the receiver instead of fed as zeros.  The receiver keeps
its carrier, timing and carrier phase across the hole, the bits over the hole
are whatever its decisions make, and every bit after a short burst is right
and in its place."""
from __future__ import annotations

import numpy as np
import pytest

from _hsutil import random_bits, send, through_line
from faxengine.modem import ModemError, V17Rx, V17Tx, V21Rx, V21Tx, V27terRx, V27terTx, V29Rx, V29Tx

#: name: (transmitter, receiver, bit/s, bits a symbol) of each receiver tested
MODEMS = {
    "V.17 14400": (lambda: V17Tx(14400), lambda: V17Rx(14400), 14400, 6),
    "V.17 9600": (lambda: V17Tx(9600), lambda: V17Rx(9600), 9600, 4),
    "V.17 7200": (lambda: V17Tx(7200), lambda: V17Rx(7200), 7200, 3),
    "V.29 9600": (lambda: V29Tx(9600), lambda: V29Rx(9600), 9600, 4),
    "V.29 4800": (lambda: V29Tx(4800), lambda: V29Rx(4800), 4800, 2),
    "V.27ter 4800": (lambda: V27terTx(4800), lambda: V27terRx(4800), 4800, 3),
    "V.21": (V21Tx, V21Rx, 300, 1),
}
#: the burst ends this many symbols after the hole's bits at most: the
#: decision delay (V.17's Viterbi traceback, 32) and the filters refilling
BURST_SYMBOLS = 80
#: a line that moves carrier and clock, so a receiver that let them stand
#: still over the hole would come out of it off phase and off time
LINE = {"offset_hz": 10.0, "drift_ppm": 100.0, "g711": "alaw"}
HOLE = 160          # 20 ms: one lost RTP packet


def heard(name: str) -> tuple[np.ndarray, int]:
    """A transmission through LINE with noise, and the sample where a hole
    goes (the middle of the data)."""
    make_tx, _, rate, _ = MODEMS[name]
    samples = through_line(send(make_tx(), random_bits(3 * rate, seed=4)), snr_db=30.0, seed=2, **LINE)
    return samples, len(samples) // 2


def with_hole(make_rx, samples: np.ndarray, at: int, hole: int, zeros: bool = False):
    """Bits of samples with [at, at + hole) lost and told by fillin (or fed
    as zeros); where the bits given for the hole start and end; whether the
    carrier was still present after the hole."""
    rx = make_rx()
    before = rx.demodulate(samples[:at])
    over = rx.demodulate(np.zeros(hole, np.int16)) if zeros else rx.fillin(hole)
    present = rx.carrier_present
    after = rx.demodulate(samples[at + hole:])
    return np.concatenate([before, over, after]), (len(before), len(before) + len(over)), present


@pytest.mark.parametrize("name", list(MODEMS))
def test_fillin_keeps_the_signal_and_the_errors_stay_near_the_hole(name):
    _, make_rx, rate, bits_per_symbol = MODEMS[name]
    samples, at = heard(name)
    whole = make_rx().demodulate(samples)
    got, (start, end), present = with_hole(make_rx, samples, at, HOLE)
    assert present
    # the bits keep their places: as many as without the hole, and the hole
    # gives the bits of its 20 ms
    assert len(got) == len(whole)
    assert abs((end - start) - rate * HOLE // 8000) <= bits_per_symbol
    wrong = np.nonzero(got != whole)[0]
    assert len(wrong) > 0
    # a burst that starts with the hole's bits (the receiver decides late)
    # and ends soon after them
    assert wrong[0] >= start
    assert wrong[-1] < end + BURST_SYMBOLS * bits_per_symbol


@pytest.mark.parametrize("name", ["V.17 9600", "V.17 14400"])
def test_the_same_hole_as_zeros_loses_the_v17_signal(name):
    # the equaliser's output falls to nothing: the receiver decides the
    # signal has ended and seeks a new training, so the data after is lost
    make_rx = MODEMS[name][1]
    samples, at = heard(name)
    got, _, _ = with_hole(make_rx, samples, at, HOLE, zeros=True)
    assert len(got) < 0.6 * len(make_rx().demodulate(samples))


def test_a_long_hole_as_zeros_loses_the_v29_carrier_fillin_does_not():
    make_rx = MODEMS["V.29 9600"][1]
    samples, at = heard("V.29 9600")
    whole = make_rx().demodulate(samples)
    zeros, _, present = with_hole(make_rx, samples, at, 800, zeros=True)
    assert not present and len(zeros) < 0.6 * len(whole)
    filled, (_, end), present = with_hole(make_rx, samples, at, 800)
    assert present and len(filled) == len(whole)
    assert np.array_equal(filled[end + 400:], whole[end + 400:])


@pytest.mark.parametrize("name", ["V.17 9600", "V.29 9600", "V.21"])
def test_fillin_in_pieces_is_fillin_in_one(name):
    make_rx = MODEMS[name][1]
    samples, at = heard(name)
    one, _, _ = with_hole(make_rx, samples, at, HOLE)
    rx = make_rx()
    pieces = [rx.demodulate(samples[:at]), rx.fillin(1), rx.fillin(0), rx.fillin(HOLE - 1),
              rx.demodulate(samples[at + HOLE:])]
    assert np.array_equal(np.concatenate(pieces), one)


@pytest.mark.parametrize("name", list(MODEMS))
def test_fillin_without_a_signal_gives_nothing(name):
    make_rx = MODEMS[name][1]
    rx = make_rx()
    assert len(rx.fillin(8000)) == 0
    assert not rx.carrier_present
    # and a signal after the hole is received as if the hole had not been
    samples, _ = heard(name)
    assert np.array_equal(rx.demodulate(samples), make_rx().demodulate(samples))


@pytest.mark.parametrize("bad, message", [
    (-1, "sample count must be 0 or more, got -1"),
    (1.5, "sample count must be an int, got float 1.5"),
    ("160", "sample count must be an int, got str '160'"),
    (True, "sample count must be an int, got bool True"),
])
def test_fillin_refuses_what_is_not_a_count(bad, message):
    for _, make_rx, _, _ in MODEMS.values():
        with pytest.raises(ModemError) as info:
            make_rx().fillin(bad)
        assert str(info.value) == message
