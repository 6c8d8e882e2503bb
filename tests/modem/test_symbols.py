"""The receivers' symbol tap (csrc/dsp_symtap.h, ``Rx.symbols(n)``): on a
clean line the data symbols the receiver decides on sit on the points of the
recommendation's constellation, on its scale, and every point is visited."""
import numpy as np
import pytest

from faxengine.modem import V17Rx, V17Tx, V27terRx, V27terTx, V29Rx, V29Tx
from faxengine.modem import _v17

R2 = np.sqrt(0.5)
# V.29 §2.3 Table 1 (absolute phase and relative amplitude): 3 and 5 on the
# axes, sqrt(2) and 3 sqrt(2) on the diagonals; 7200 uses 3 and sqrt(2), 4800
# only the axes at 3.
_AXES = np.array([1, 1j, -1, -1j])
_DIAG = np.array([1 + 1j, -1 + 1j, -1 - 1j, 1 - 1j])
V29_POINTS = {9600: np.concatenate([3 * _AXES, 5 * _AXES, _DIAG, 3 * _DIAG]),
              7200: np.concatenate([3 * _AXES, _DIAG]),
              4800: 3 * _AXES}
# V.27ter §2.2: 4800 bit/s is 8-phase PSK, on the unit circle here
V27TER_POINTS = np.exp(1j * np.pi / 4 * np.arange(8))

CASES = [
    (V29Tx, V29Rx, 9600, V29_POINTS[9600], 0.3),
    (V29Tx, V29Rx, 7200, V29_POINTS[7200], 0.3),
    (V29Tx, V29Rx, 4800, V29_POINTS[4800], 0.3),
    (V27terTx, V27terRx, 4800, V27TER_POINTS, 0.08),
    (V17Tx, V17Rx, 14400, _v17.constellation(14400), 0.3),
    (V17Tx, V17Rx, 9600, _v17.constellation(9600), 0.3),
]


def _tapped(tx_cls, rx_cls, rate, seconds=1.5):
    bits = np.random.default_rng(rate).integers(0, 2, int(rate * seconds), dtype=np.uint8)
    rx = rx_cls(rate=rate)
    # no finish(): the symbols of the turn-off are not data
    rx.demodulate(tx_cls(rate=rate).modulate(bits))
    return rx


@pytest.mark.parametrize("tx_cls, rx_cls, rate, points, tol", CASES,
                         ids=[f"{c[0].__name__[:-2]}-{c[2]}" for c in CASES])
def test_clean_line_symbols_sit_on_the_constellation(tx_cls, rx_cls, rate, points, tol):
    z = _tapped(tx_cls, rx_cls, rate).symbols(2000)
    assert z.dtype == np.complex64 and len(z) == 2000
    dist = np.abs(z[:, None] - points[None, :])
    nearest = dist.argmin(axis=1)
    assert dist.min(axis=1).max() < tol
    # random data visits every point: the scale and the rotation are right
    assert set(nearest) == set(range(len(points)))


def test_symbols_are_the_newest_oldest_first_and_bounded():
    rx = _tapped(V29Tx, V29Rx, 9600, seconds=3.0)       # 7200 symbols > the 4096 held
    every = rx.symbols()
    assert len(every) == 4096 == len(rx.symbols(10 ** 6))
    np.testing.assert_array_equal(rx.symbols(10), every[-10:])
    assert len(rx.symbols(0)) == 0 and len(rx.symbols(-5)) == 0


def test_no_symbols_before_training():
    rx = V17Rx(rate=14400)
    rx.demodulate(np.zeros(8000, np.int16))
    assert len(rx.symbols()) == 0
