"""The one lifecycle of every modem seen from Python (docs/modems.md): a
receiver's ``restart`` and a transmitter's ``finish`` restart the C state in
place (``*_restart`` of csrc/) instead of making a new object, and what
comes out afterwards is exactly what a new one gives.  The C side (caller
memory, heap, free) is tests/csrc/test_modem_lifecycle_c.py."""
from __future__ import annotations

import numpy as np
import pytest

from faxengine.modem import (CedTx, ToneDetector, V17Rx, V17Tx, V21Rx, V21Tx, V27terRx, V27terTx, V29Rx,
                             V29Tx)

HIGH_SPEED = [(V17Tx, V17Rx, rate) for rate in (14400, 7200)] + \
             [(V29Tx, V29Rx, rate) for rate in (9600, 4800)] + \
             [(V27terTx, V27terRx, rate) for rate in (4800, 2400)]
IDS = [f"{tx.__name__[:-2]}-{rate}" for tx, _, rate in HIGH_SPEED]


def _bits(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, n, dtype=np.uint8)


def _send(tx, bits: np.ndarray) -> np.ndarray:
    return np.concatenate([tx.modulate(bits), tx.finish()])


@pytest.mark.parametrize("tx_class, rx_class, rate", HIGH_SPEED, ids=IDS)
def test_transmitter_finish_restarts_the_same_core(tx_class, rx_class, rate):
    tx = tx_class(rate=rate)
    core = tx._core
    _send(tx, _bits(rate // 2, seed=1))
    again = _send(tx, _bits(rate // 2, seed=2))
    assert tx._core is core
    assert np.array_equal(again, _send(tx_class(rate=rate), _bits(rate // 2, seed=2)))


@pytest.mark.parametrize("tx_class, rx_class, rate", HIGH_SPEED, ids=IDS)
def test_receiver_restart_in_mid_signal_is_a_new_receiver(tx_class, rx_class, rate):
    bits = _bits(2 * rate, seed=3)
    signal = _send(tx_class(rate=rate), bits)
    rx = rx_class(rate=rate)
    core = rx._core
    first = rx.demodulate(signal)
    assert np.array_equal(first[:bits.size], bits)
    rx.demodulate(signal[:signal.size * 3 // 4])
    assert rx.trained
    rx.restart()
    assert rx._core is core and not rx.trained and not rx.carrier_present
    assert np.array_equal(rx.demodulate(signal), first)


def test_v17_restart_keeping_the_channel_takes_a_short_training_in_place():
    rx = V17Rx(9600)
    core = rx._core
    rx.demodulate(_send(V17Tx(9600), _bits(9600, seed=4)))
    rx.restart(short_train=True)
    bits = _bits(9600, seed=5)
    got = rx.demodulate(_send(V17Tx(9600, short_train=True), bits))
    assert rx._core is core
    assert np.array_equal(got[:bits.size], bits)


def test_v21_and_tones_restart_to_their_start():
    tx = V21Tx()
    first = _send(tx, _bits(300, seed=6))
    again = _send(tx, _bits(300, seed=6))
    assert np.array_equal(first, again)
    rx = V21Rx()
    heard = rx.demodulate(first)
    rx.demodulate(first[:first.size // 2])
    rx.restart()
    assert np.array_equal(rx.demodulate(first), heard)

    ced = CedTx()
    tone = ced.generate(30000)
    ced._core.restart()
    assert np.array_equal(ced.generate(30000), tone)
    det = ToneDetector()
    events = det.process(tone)
    assert [(e.kind, e.end_sample is None) for e in events] == [("CED", True), ("CED", False)]
    det.process(tone[:8000])
    det._core.restart()
    assert det.process(tone) == events
