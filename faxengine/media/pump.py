"""The one block loop between two ends of a call: ``Pump``.

Every way a call is carried -- two of our terminals back to back through
line models (``faxengine loopback``), a terminal against a WAV file, a sound
card or an RTP stream -- is the same loop: each 20 ms block (160 samples at
8000 samples/s, an RTP packet of G.711) both ends say what they send
(``tx(n)``), it crosses the line, and each end hears what the other sent
(``rx(samples)``).  An *end* is anything with that shape and a ``finished``
flag: a ``FaxTerminal``, spandsp's terminal in the tests, or a port
adapter whose ``tx`` returns what arrived from the network.

Loss: a block that never arrives (a lost RTP packet) is not silence.  An
end's ``tx`` may return None for such a block, and a ``Leg`` may drop
blocks at a given rate; either way the end on the other side is told with
``rx_fillin(n)`` ("n samples that never arrived"), so its receivers keep
their timing and carrier, as spandsp's ``fax_rx_fillin`` does.

The loop is bounded: it stops when both ends have finished or after
``max_seconds`` of line time, whichever comes first.  It keeps no clock of
its own; line time is counted in samples, so a call replays bit for bit.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from faxengine.levels import SAMPLE_RATE

__all__ = ["BLOCK", "MAX_SECONDS", "End", "Leg", "Pump"]

BLOCK = 160                 # 20 ms: the usual RTP packet of G.711
MAX_SECONDS = 3600.0        # a call longer than this is stopped as a runaway


class End(Protocol):
    """One end of the loop: a terminal, or a port standing for the far end."""

    @property
    def finished(self) -> bool: ...

    def tx(self, n: int) -> np.ndarray | None:
        """The next ``n`` samples it sends; None: a block that was lost."""

    def rx(self, samples: np.ndarray) -> None:
        """What it hears."""

    def rx_fillin(self, n: int) -> None:
        """``n`` samples it should have heard never arrived."""


@dataclass
class Leg:
    """One direction of the line: a line model and the loss of whole blocks.

    Args:
        line: anything with ``process(samples) -> samples`` (``faxengine.line.Line``),
            or None for a clean line.
        loss: the share of blocks lost on the way (0.0 - 1.0), at random.
        seed: the seed of the random choice of lost blocks.
    """

    line: object | None = None
    loss: float = 0.0
    seed: int = 0
    lost: int = field(default=0, init=False)        # blocks lost so far

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError(f"loss is a share of blocks, 0.0 to 1.0, not {self.loss!r}")
        self._rng = np.random.default_rng(self.seed) if self.loss else None
        self._draws = np.zeros(0)
        self._next = 0

    def carry(self, samples: np.ndarray | None) -> np.ndarray | None:
        """The block as it arrives at the other end, or None when it is lost."""
        if samples is None:
            return None
        if self.line is not None:
            samples = self.line.process(samples)    # the analogue line comes before the network
        if self._rng is not None:
            if self._next >= self._draws.size:      # draw many at once: no RNG call per block
                self._draws, self._next = self._rng.random(4096), 0
            drop = self._draws[self._next] < self.loss
            self._next += 1
            if drop:
                self.lost += 1
                return None
        return samples


class Pump:
    """The block loop between ends ``a`` and ``b``.

    Args:
        a, b: the two ends (see ``End``).
        ab, ba: the line from ``a`` to ``b`` and back (``Leg``), or None
            for a clean one.
        block: samples per block (160: 20 ms).
        max_seconds: line time after which the loop stops, finished or not.
    """

    def __init__(self, a: End, b: End, ab: Leg | None = None, ba: Leg | None = None,
                 block: int = BLOCK, max_seconds: float = MAX_SECONDS) -> None:
        if block <= 0:
            raise ValueError(f"block must be a positive number of samples, not {block}")
        self.a, self.b = a, b
        self.ab, self.ba = ab, ba
        self.block = block
        self.limit = int(max_seconds * SAMPLE_RATE)
        self.samples = 0            # line time so far, in samples

    @property
    def seconds(self) -> float:
        """Line time so far."""
        return self.samples / SAMPLE_RATE

    @property
    def done(self) -> bool:
        """Both ends finished, or the line-time limit reached."""
        return (self.a.finished and self.b.finished) or self.samples >= self.limit

    def run(self, on_block: Callable[[], None] | None = None) -> float:
        """Pump blocks until ``done``; ``on_block()`` after each.  Returns the line time (s)."""
        a, b, n = self.a, self.b, self.block
        ab = self.ab.carry if self.ab is not None else None
        ba = self.ba.carry if self.ba is not None else None
        a_tx, b_tx, a_rx, b_rx = a.tx, b.tx, a.rx, b.rx
        t, limit = self.samples, self.limit
        while t < limit and not (a.finished and b.finished):
            sa, sb = a_tx(n), b_tx(n)
            if ab is not None:
                sa = ab(sa)
            if ba is not None:
                sb = ba(sb)
            if sa is None:
                b.rx_fillin(n)
            else:
                b_rx(sa)
            if sb is None:
                a.rx_fillin(n)
            else:
                a_rx(sb)
            t += n
            self.samples = t
            if on_block is not None:
                on_block()
        return t / SAMPLE_RATE
