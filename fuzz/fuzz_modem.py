#!/usr/bin/env python3
"""Fuzz target: the modem receivers and the tone detector fed any audio.

Input layout::

    octet 0   the receiver: RECEIVERS[octet % len]
    octet 1   how to split the samples into calls (0: one call)
    octet 2   bit 0: repeat the samples to REPEAT_SAMPLES (1 s), so a short
              input can be a long periodic signal (tones, training patterns)
    rest      int16 samples, little-endian (an odd last octet is dropped)

Oracle: no exception; demodulators return uint8 0/1 bits; the levels they
report are numbers (no NaN); any split of the input gives the same output
and the same final state as one call (the streaming contract of the modem
issue).
"""
from __future__ import annotations

import math

import numpy as np

from _harness import Reader, instrumented, main, splits

with instrumented():
    from faxengine.modem.tones import ToneDetector
    from faxengine.modem.v17 import V17Rx
    from faxengine.modem.v21 import V21Rx
    from faxengine.modem.v27ter import V27terRx
    from faxengine.modem.v29 import V29Rx

RECEIVERS = (
    ("v21", V21Rx), ("tones", ToneDetector),
    ("v27ter-4800", lambda: V27terRx(4800)), ("v27ter-2400", lambda: V27terRx(2400)),
    ("v29-9600", lambda: V29Rx(9600)), ("v29-7200", lambda: V29Rx(7200)),
    ("v29-4800", lambda: V29Rx(4800)),
    ("v17-14400", lambda: V17Rx(14400)), ("v17-12000", lambda: V17Rx(12000)),
    ("v17-9600", lambda: V17Rx(9600)), ("v17-7200", lambda: V17Rx(7200)),
)
REPEAT_SAMPLES = 8000
STATE = ("carrier_present", "trained", "signal_power_dbm0", "snr_db", "carrier_offset_hz")


def run(make, samples: np.ndarray, cuts: list[int]) -> tuple[list, dict]:
    """Output and reported state after feeding ``samples`` in pieces."""
    rx = make()
    out = []
    for chunk in np.split(samples, cuts):
        if isinstance(rx, ToneDetector):
            out += [(e.kind, e.start_sample, e.end_sample) for e in rx.process(chunk)]
        else:
            bits = rx.demodulate(chunk)
            assert bits.dtype == np.uint8 and bits.ndim == 1, (bits.dtype, bits.shape)
            assert not np.any(bits > 1), "a bit that is not 0 or 1"
            out += bits.tolist()
    state = {name: getattr(rx, name) for name in STATE if hasattr(rx, name)}
    if isinstance(rx, ToneDetector):
        state["present"] = rx.present
    return out, state


def TestOneInput(data: bytes) -> None:
    r = Reader(data)
    name, make = RECEIVERS[r.u8() % len(RECEIVERS)]
    key = r.u8()
    repeat = r.u8() & 1
    payload = r.rest()
    samples = np.frombuffer(payload[:len(payload) & ~1], dtype="<i2").astype(np.int16)
    if repeat and samples.size:
        samples = np.resize(samples, REPEAT_SAMPLES)
    out, state = run(make, samples, [])
    for what, value in state.items():
        if isinstance(value, float):
            assert not math.isnan(value), f"{name}: {what} is NaN"
    if key:
        chunked = run(make, samples, splits(samples.size, key))
        assert chunked[0] == out, f"{name}: chunking changed the output"
        assert chunked[1] == state or _same(chunked[1], state), \
            f"{name}: chunking changed the state {chunked[1]} != {state}"


def _same(a: dict, b: dict) -> bool:
    """States equal, float levels within rounding (a block average may be summed in pieces)."""
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=1e-6, abs_tol=1e-6) if isinstance(a[k], float)
        else a[k] == b[k] for k in a)


def seeds() -> dict[str, bytes]:
    """The start of each modem's own signal (training, a few data bits), CNG and CED."""
    from faxengine.modem.tones import CedTx, CngTx
    from faxengine.modem.v17 import V17Tx
    from faxengine.modem.v21 import V21Tx
    from faxengine.modem.v27ter import V27terTx
    from faxengine.modem.v29 import V29Tx

    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, 2000).astype(np.uint8)
    index = {name: i for i, (name, _) in enumerate(RECEIVERS)}

    def signal(tx, n: int = 12000) -> np.ndarray:
        return np.concatenate([tx.modulate(bits), tx.finish()])[:n]

    audio = {
        "v21": signal(V21Tx(), 6000),
        "tones": np.concatenate([CngTx().generate(4000), CedTx().generate(4000)]),
        "v27ter-4800": signal(V27terTx(4800)),
        "v29-9600": signal(V29Tx(9600)),
        "v17-14400": signal(V17Tx(14400)),
    }
    out = {name: bytes((index[name], 0, 0)) + samples.astype("<i2").tobytes()
           for name, samples in audio.items()}
    out["v29-9600-chunked"] = bytes((index["v29-9600"], 5, 0)) + out["v29-9600"][3:8003]
    out["tones-repeat"] = (bytes((index["tones"], 0, 1))
                           + audio["tones"][:200].astype("<i2").tobytes())
    return out


if __name__ == "__main__":
    main(TestOneInput)
