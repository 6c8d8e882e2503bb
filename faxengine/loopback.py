"""Two fax terminals back to back through the line model: ``faxengine loopback``.

A calling ``FaxTerminal`` sends a document to an answering one that writes
it to a TIFF-F file.  Each 20 ms block one terminal transmits goes through a
``faxengine.line.Line`` (G.711, white noise at an SNR) to the other's
receiver, as a telephone network would carry it, and may be lost on the way
(a lost RTP packet: the receiver is told with ``rx_fillin``).  The loop is
the media layer's ``Pump``, the same one every adapter uses.  The whole call
runs without a clock, as fast as the CPU allows; ``Loopback.run`` reports
the line time and the CPU time it took.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from faxengine.line import Line
from faxengine.media.pump import BLOCK, MAX_SECONDS, Leg, Pump
from faxengine.t30.link import TX_POWER_DBM0
from faxengine.t30.events import Event
from faxengine.t30.result import Result
from faxengine.t30.terminal import FaxTerminal


def _drop(event: Event) -> None:
    """An ``on_event`` that keeps nothing."""


@dataclass(frozen=True, slots=True)
class LoopbackResult:
    """How a loopback call went: both terminals' results and the times."""

    sender: Result
    receiver: Result
    line_seconds: float
    cpu_seconds: float

    @property
    def ok(self) -> bool:
        return self.sender.ok and self.receiver.ok

    @property
    def realtime_factor(self) -> float:
        """Line time over CPU time: how many times faster than real time."""
        return self.line_seconds / self.cpu_seconds if self.cpu_seconds > 0 else float("inf")


class Loopback:
    """A document sent from one of our terminals to another through a line.

    Args:
        document: TIFF paths and/or ``Page`` objects.
        out: the TIFF-F file the receiving terminal writes.
        ecm: offer error correction mode on both sides.
        rate: the highest image rate the sender may use.
        snr_db: white noise at this SNR (signal at -13 dBm0 over noise in
            0-4000 Hz, the project's definition), or None for none.
        g711: None, "alaw" or "ulaw": the line's codec, both ways.
        seed: noise and loss seed (each direction uses its own).
        loss: the share of 20 ms blocks lost each way (0.0 - 1.0), as lost
            RTP packets; the terminals fill them in.
        on_event: given each event of both terminals as it happens
            (``FaxTerminal``'s ``on_event``); by default they are dropped.
    """

    def __init__(self, document: Iterable, out: str | os.PathLike, ecm: bool = True,
                 rate: int = 14400, snr_db: float | None = None, g711: str | None = None,
                 seed: int = 1, loss: float = 0.0,
                 on_event: Callable[[Event], None] | None = None) -> None:
        # nobody takes the terminals' events here: dropped as they come, or a
        # long document would keep every page image in memory (the trace goes
        # to the loggers, the pages to the file)
        self.sender = FaxTerminal(True, send=list(document), ecm=ecm, max_rate=rate,
                                  logger=logging.getLogger("faxengine.t30.sender"),
                                  on_event=on_event or _drop)
        self.receiver = FaxTerminal(False, receive=out, ecm=ecm,
                                    logger=logging.getLogger("faxengine.t30.receiver"),
                                    on_event=on_event or _drop)
        noise = None if snr_db is None else TX_POWER_DBM0 - snr_db
        impaired = g711 is not None or noise is not None
        self.lines = ((Line(g711=g711, noise_dbm0=noise, seed=seed),
                       Line(g711=g711, noise_dbm0=noise, seed=seed + 1)) if impaired
                      else (None, None))
        self.legs = tuple(Leg(ln, loss, seed + k) if ln is not None or loss else None
                          for k, ln in enumerate(self.lines))

    def run(self, on_block: Callable[[FaxTerminal], None] | None = None,
            max_seconds: float = MAX_SECONDS) -> LoopbackResult:
        """Pump the call to its end; ``on_block(sender)`` is called after each block."""
        a, b = self.sender, self.receiver
        pump = Pump(a, b, *self.legs, max_seconds=max_seconds)
        start = time.process_time()
        pump.run(None if on_block is None else lambda: on_block(a))
        cpu = time.process_time() - start
        for term in (a, b):
            if not term.finished:
                term.abort()
                while not term.finished:
                    term.tx(BLOCK)
        return LoopbackResult(a.result, b.result, pump.seconds, cpu)
