"""Hardening: what callers hand the modems is checked at the facade (and
again by the compiled modules), and every wrong value or type is a
ModemError whose message says what was wrong: bits other than 0/1, a rate
given as a string, a level that is not a number, a flag that is not a bool,
a count that is not an int."""
from __future__ import annotations

import numpy as np
import pytest

from faxengine.modem import (CedTx, CngTx, HdlcRx, HdlcTx, ModemError, ToneDetector, V17Rx, V17Tx, V21Rx, V21Tx,
                             V27terRx, V27terTx, V29Rx, V29Tx, _v17, _v27ter, _v29)

TRANSMITTERS = {"V.17": V17Tx, "V.29": V29Tx, "V.27ter": V27terTx, "V.21": V21Tx}


@pytest.mark.parametrize("name", list(TRANSMITTERS))
@pytest.mark.parametrize("bits, message", [
    ([0, 1, 2], "bits must be 0 or 1, got 2 at index 2"),
    (np.array([1, 0, 0, 255], np.uint8), "bits must be 0 or 1, got 255 at index 3"),
    ([0, -1], "bits must be 0 or 1, got -1 at index 1"),
    ([0.0, 1.0], "bits must be integers 0/1, got float64"),
    ("0101", "bits must be a 1-D array of 0/1, got str; unpack bytes with numpy.unpackbits"),
    (b"\x01\x00", "bits must be a 1-D array of 0/1, got bytes; unpack bytes with numpy.unpackbits"),
    (None, "bits must be a 1-D array of 0/1, got NoneType; unpack bytes with numpy.unpackbits"),
    (np.zeros((2, 4), np.uint8), "bits must be a 1-D array of 0/1, got shape (2, 4)"),
])
def test_transmitters_refuse_what_is_not_bits(name, bits, message):
    with pytest.raises(ModemError) as info:
        TRANSMITTERS[name]().modulate(bits)
    assert str(info.value) == message


@pytest.mark.parametrize("name", list(TRANSMITTERS))
def test_transmitters_take_bools_ints_and_empty_lists(name):
    tx = TRANSMITTERS[name]()
    a = tx.modulate(np.array([True, False] * 48))
    tx = TRANSMITTERS[name]()
    assert np.array_equal(tx.modulate(np.array([1, 0] * 48, np.int64)), a)
    assert len(tx.modulate([])) == 0


@pytest.mark.parametrize("make, message", [
    (lambda: V17Tx(rate="14400"), "V.17 rate must be an int in bit/s (one of 14400, 12000, 9600, 7200), "
                                  "got str '14400'"),
    (lambda: V17Rx(rate="14400"), "V.17 rate must be an int in bit/s (one of 14400, 12000, 9600, 7200), "
                                  "got str '14400'"),
    (lambda: V29Tx(rate=9600.0), "V.29 rate must be an int in bit/s (one of 9600, 7200, 4800), got float 9600.0"),
    (lambda: V29Rx(rate=None), "V.29 rate must be an int in bit/s (one of 9600, 7200, 4800), got NoneType None"),
    (lambda: V27terRx(rate=True), "V.27ter rate must be an int in bit/s (one of 4800, 2400), got bool True"),
    (lambda: V27terTx(rate=9600), "V.27ter has no rate 9600 bit/s: use one of 4800, 2400"),
    (lambda: V17Tx(power_dbm0="-13"), "transmit level (dBm0) must be a number, got str '-13'"),
    (lambda: V29Tx(power_dbm0=float("nan")), "transmit level nan dBm0 is out of range: use -60..-3 dBm0"),
    (lambda: V21Tx(power_dbm0=None), "transmit level (dBm0) must be a number, got NoneType None"),
    (lambda: V21Tx(power_dbm0=5.0), "transmit level 5.0 dBm0 is out of range: use -90..+3 dBm0"),
    (lambda: V17Tx(short_train="no"), "short_train must be True or False, got str 'no'"),
    (lambda: V17Tx(tep=1), "tep must be True or False, got int 1"),
    (lambda: V29Tx(tep="yes"), "tep must be True or False, got str 'yes'"),
    (lambda: V27terTx(short_train=None), "short_train must be True or False, got NoneType None"),
    (lambda: V17Rx().restart(short_train="yes"), "short_train must be True or False, got str 'yes'"),
    (lambda: V29Rx().demodulate(np.zeros(8)), "samples must be int16, got float64"),
    (lambda: V21Rx().fillin(2.0), "sample count must be an int, got float 2.0"),
    (lambda: HdlcTx(preamble_flags="38"), "preamble_flags must be an int, got str '38'"),
    (lambda: HdlcTx().flags(1.5), "flag count must be an int, got float 1.5"),
    (lambda: HdlcRx(max_len="260"), "max_len must be an int, got str '260'"),
    (lambda: CngTx().generate(-1), "sample count must be 0 or more, got -1"),
    (lambda: CedTx(duration_s="3"), "duration_s must be a number, got str '3'"),
    (lambda: ToneDetector(min_level_dbm0="-45"), "min_level_dbm0 must be a number, got str '-45'"),
])
def test_wrong_types_and_values_are_modem_errors(make, message):
    with pytest.raises(ModemError) as info:
        make()
    assert str(info.value) == message


def test_numpy_scalars_are_numbers():
    assert V17Tx(rate=np.int64(9600), power_dbm0=np.float32(-10.0), short_train=np.bool_(True)).rate == 9600


@pytest.mark.parametrize("make, message", [
    (lambda: _v17.Rx(4800), "V.17 has no rate 4800 bit/s: use one of 14400, 12000, 9600, 7200"),
    (lambda: _v17.viterbi_decode(9600, np.zeros(4, complex), depth=0), "traceback depth must be 1..64, not 0"),
    (lambda: _v17.trellis_encode(9600, np.zeros(5, np.uint8)), "5 bits is not a whole number of 4-bit symbols"),
    (lambda: _v29.V29RxCore(2400), "V.29 receiver: no rate 2400 bit/s (see faxengine.modem.v29.RATES) "
                                   "or out of memory"),
    (lambda: _v27ter.V27terTxCore(9600, -13.0, False, False),
     "V.27ter transmitter: no rate 9600 bit/s (see faxengine.modem.v27ter.RATES) or out of memory"),
])
def test_compiled_modules_raise_modem_errors(make, message):
    with pytest.raises(ModemError) as info:
        make()
    assert str(info.value) == message


@pytest.mark.parametrize("make", [lambda: V17Rx(9600)._core, lambda: V21Rx()._core], ids=["V.17", "V.21"])
def test_receiver_cores_read_any_int16_buffer_alike(make):
    """The cores read a C-contiguous int16 array in place and anything else
    through a typed memoryview (faxengine/modem/blockio.pxd): the same bits
    either way, each block's bits a new array of exactly their number."""
    tx = V17Tx(9600) if isinstance(make(), _v17.Rx) else V21Tx()
    bits = np.random.default_rng(5).integers(0, 2, 2400, dtype=np.uint8)
    audio = np.concatenate([tx.modulate(bits), tx.finish()])
    blocks = [audio[i:i + 160] for i in range(0, len(audio), 160)]
    fast, slow = make(), make()
    got_fast = [fast.demodulate(b) for b in blocks]
    got_slow = [slow.demodulate(memoryview(b.copy())) for b in blocks]
    assert sum(len(g) for g in got_fast) > 2000
    for f, s in zip(got_fast, got_slow):
        assert f.dtype == np.uint8 and f.flags.owndata and f.flags.writeable
        assert np.array_equal(f, s)
    assert len({id(g) for g in got_fast}) == len(got_fast)
    with pytest.raises(ValueError, match="ndarray is not C-contiguous"):
        make().demodulate(audio[::2])
    with pytest.raises(ValueError, match="Buffer dtype mismatch, expected 'const int16_t' but got 'float'"):
        make().demodulate(audio.astype(np.float32))
    assert len(make().demodulate(None)) == 0


@pytest.mark.parametrize("make, name", [(lambda: V17Rx(9600)._core, "V.17"), (lambda: V21Rx()._core, "V.21")])
def test_receiver_cores_refuse_a_hole_too_long_for_one_call(make, name):
    with pytest.raises(ModemError) as info:
        make().fillin(1_000_000_001)
    assert str(info.value) == (f"{name} receiver: a hole of 1000000001 samples is too long; "
                               "give at most 1000000000 at a time")
