"""Two FaxTerminals on 2-wire lines: each hears the other and, 10 dB down,
its own signal back from its hybrid (faxengine.line.Hybrid), 5 or 40 ms
late, band-limited.  A half-duplex T.30 terminal must not take its own echo
for the far end: with and without ECM, the page arrives pixel for pixel and
both results are OK.
"""
from __future__ import annotations

import numpy as np
import pytest

from faxengine import line, tiff
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import Page

BLOCK = 160


def text_page(seed: int, rows: int = 400) -> Page:
    rng = np.random.default_rng(seed)
    image = np.zeros((rows, 1728), dtype=bool)
    for _ in range(100):
        y, x = rng.integers(0, rows - 12), rng.integers(0, 1728 - 80)
        image[y:y + rng.integers(2, 12), x:x + rng.integers(3, 80)] = True
    return Page(image, 204, 196)


def call_with_echo(sender, receiver, return_loss_db, delay_ms, max_seconds=120.0):
    """Pump both terminals; each hears the far end through a line and its own echo."""
    ab = line.Line(g711="alaw", noise_dbm0=-50.0, seed=1)
    ba = line.Line(g711="alaw", noise_dbm0=-50.0, seed=2)
    hybrid_a = line.Hybrid(return_loss_db, delay_ms)
    hybrid_b = line.Hybrid(return_loss_db, delay_ms)
    t = 0
    while not (sender.finished and receiver.finished) and t < max_seconds * 8000:
        sa, sb = sender.tx(BLOCK), receiver.tx(BLOCK)
        sender.rx(hybrid_a.process(ba.process(sb), sa))
        receiver.rx(hybrid_b.process(ab.process(sa), sb))
        t += BLOCK
    return t / 8000


@pytest.mark.parametrize("ecm", [False, True], ids=["no-ecm", "ecm"])
@pytest.mark.parametrize("delay_ms", [5.0, 40.0])
def test_a_call_holds_with_its_own_echo_at_10_db_return_loss(tmp_path, ecm, delay_ms):
    page = text_page(int(delay_ms))
    out = tmp_path / "rx.tif"
    sender = FaxTerminal(True, send=[page], ecm=ecm)
    receiver = FaxTerminal(False, receive=out, ecm=ecm)
    call_with_echo(sender, receiver, 10.0, delay_ms)
    assert sender.result is not None and receiver.result is not None
    assert sender.result.ok and receiver.result.ok, (sender.result, receiver.result)
    assert sender.result.pages == receiver.result.pages == 1
    assert sender.result.ecm == ecm
    [got] = tiff.read(out)
    assert np.array_equal(got.image, page.image)
