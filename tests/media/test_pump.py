"""media.pump: the one block loop, its legs (line model, lost blocks) and its bounds,
and ours-to-ours calls through it with lost blocks filled in."""
from __future__ import annotations

import numpy as np
import pytest

from faxengine import tiff
from faxengine.loopback import Loopback
from faxengine.media.pump import BLOCK, Leg, Pump
from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.terminal import FaxTerminal
from faxengine.t4 import Page


class Recorder:
    """An end that sends a counter and records what it hears, finishing after ``blocks``."""

    def __init__(self, blocks: int | None = None, start: int = 0):
        self.blocks, self.sent, self.start = blocks, 0, start
        self.heard: list = []

    @property
    def finished(self) -> bool:
        return self.blocks is not None and self.sent >= self.blocks

    def tx(self, n):
        self.sent += 1
        return np.full(n, self.start + self.sent, np.int16)

    def rx(self, samples):
        self.heard.append(int(samples[0]))

    def rx_fillin(self, n):
        self.heard.append(("lost", n))


def test_blocks_cross_both_ways_until_both_ends_finish():
    a, b = Recorder(3), Recorder(5, start=100)
    seconds = Pump(a, b).run()
    assert seconds == 5 * BLOCK / 8000
    assert b.heard == [1, 2, 3, 4, 5] and a.heard == [101, 102, 103, 104, 105]


def test_the_loop_stops_at_its_line_time_limit():
    a, b = Recorder(), Recorder()          # never finish
    pump = Pump(a, b, max_seconds=1.0)
    assert pump.run() == 1.0 and pump.samples == 8000 and pump.done
    assert len(a.heard) == 50


def test_on_block_is_called_after_every_block():
    calls = []
    Pump(Recorder(4), Recorder(4)).run(lambda: calls.append(1))
    assert len(calls) == 4


def test_a_lost_block_reaches_the_other_end_as_fill_in():
    class Lossy(Recorder):
        def tx(self, n):
            out = super().tx(n)
            return None if self.sent == 2 else out      # a port: packet 2 never came

    a, b = Lossy(3), Recorder(3)
    Pump(a, b, block=80).run()
    assert b.heard == [1, ("lost", 80), 3]


def test_a_leg_loses_its_share_of_blocks_and_applies_its_line():
    class Halve:
        def process(self, samples):
            return samples // 2

    a, b = Recorder(20000, start=1000), Recorder(20000)
    leg = Leg(Halve(), loss=0.01, seed=7)
    Pump(a, b, leg).run()
    lost = [h for h in b.heard if isinstance(h, tuple)]
    assert len(lost) == leg.lost and 150 <= leg.lost <= 250      # 1 % of 20 000
    assert b.heard[0] in (500, ("lost", BLOCK))                  # (1000 + 1) // 2
    again = Recorder(20000)
    Pump(Recorder(20000, start=1000), again, Leg(Halve(), loss=0.01, seed=7)).run()
    assert again.heard == b.heard                                # a seed replays the same holes


def test_bad_loss_and_block_are_refused():
    with pytest.raises(ValueError, match=r"loss is a share of blocks, 0.0 to 1.0, not 1.5"):
        Leg(loss=1.5)
    with pytest.raises(ValueError, match="block must be a positive number of samples, not 0"):
        Pump(Recorder(), Recorder(), block=0)


def test_rx_fillin_takes_a_count_of_samples():
    term = FaxTerminal(False, receive="unused.tif")
    with pytest.raises(LocalProtocolError, match=r"rx_fillin takes a count of samples \(int >= 0\), not -1"):
        term.rx_fillin(-1)
    with pytest.raises(LocalProtocolError, match="not 1.5"):
        term.rx_fillin(1.5)


def _page(seed: int) -> Page:
    rng = np.random.default_rng(seed)
    image = np.zeros((800, 1728), dtype=bool)
    for _ in range(150):
        y, x = rng.integers(0, 790), rng.integers(0, 1650)
        image[y:y + rng.integers(2, 10), x:x + rng.integers(3, 80)] = True
    return Page(image, 204, 196)


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_ours_to_ours_ecm_with_one_percent_of_blocks_lost(tmp_path, seed):
    """Two pages, 1 % of the blocks lost each way.  A V.21 frame hit by a hole
    is lost (its FCS fails), and one hole every 2 s hits a 1 s PPR frame
    about 40 % of the time, so a call may run out of its three tries: 18 of
    seeds 1-20 complete (3 and 6 end TIMEOUT_T4 after three lost tries)."""
    pages = [_page(seed), _page(seed + 10)]
    call = Loopback(pages, tmp_path / "rx.tif", ecm=True, loss=0.01, seed=seed)
    result = call.run()
    assert all(leg.lost > 0 for leg in call.legs)
    assert result.ok, (result.sender, result.receiver)
    got = tiff.read(tmp_path / "rx.tif")
    assert [p.image.tolist() == q.image.tolist() for p, q in zip(got, pages)] == [True, True]


def test_ours_to_ours_non_ecm_with_lost_blocks_judges_the_pages(tmp_path):
    call = Loopback([_page(5)], tmp_path / "rx.tif", ecm=False, loss=0.01, seed=2)
    result = call.run()
    assert call.legs[0].lost > 0
    assert result.ok and result.receiver.pages == 1
