"""Two T.38 terminals back to back: each one's IFP packets to the other, in blocks of time.

``pump(a, b)`` steps both ends 20 ms at a time (``tx(160)``) and hands each
one's packets to the other's ``rx`` (or ``rx_lost`` for the ones a link
lost), until both have finished.  A link is a callable taking the list of
packets sent in a step and returning what arrives: packets, or ``LOST``
markers (``Lost(n)``) where the transport knows ``n`` never will.  Ours and
spandsp's ``t38_terminal`` (``spandsp_t38_terminal.py``) have the same
shape, so any pair runs in this loop.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from faxengine.t38 import ifp


@dataclass(frozen=True)
class Lost:
    """``n`` packets the link lost and reports as lost."""
    n: int


def pump(a, b, link_ab=None, link_ba=None, block: int = 160, max_seconds: float = 300.0,
         record=None) -> float:
    """Run the call; the line time in seconds (stops at ``max_seconds``).
    ``record``: a list that gets (time, "ab"/"ba", packet) for every packet sent."""
    t = 0
    limit = int(max_seconds * 8000)
    while not (a.finished and b.finished) and t < limit:
        for src, dst, link, name in ((a, b, link_ab, "ab"), (b, a, link_ba, "ba")):
            sent = src.tx(block)
            if record is not None:
                record.extend((t, name, p) for p in sent)
            for p in (link(sent) if link is not None else sent):
                if isinstance(p, Lost):
                    dst.rx_lost(p.n)
                else:
                    dst.rx(p)
        t += block
    return t / 8000


class LossyWire:
    """IFP packets encoded (``ifp.encode``), a share ``loss`` of them dropped at
    random, the rest decoded; each drop reported as ``Lost(1)`` (the receiver
    of a UDPTL stream sees the hole in the sequence numbers)."""

    def __init__(self, loss: float = 0.0, version: int = 0, seed: int = 1) -> None:
        self.loss, self.version = loss, version
        self.rng = random.Random(seed)
        self.sent = self.dropped = 0

    def __call__(self, packets):
        out = []
        for p in packets:
            self.sent += 1
            octets = ifp.encode(p, self.version)
            if self.rng.random() < self.loss:
                self.dropped += 1
                out.append(Lost(1))
            else:
                out.append(ifp.decode(octets, self.version))
        return out


def text_page(seed: int, rows: int = 300, resolution: str = "fine", width: int = 1728):
    """A page with black blocks and short runs like text, different per seed."""
    import numpy as np
    from faxengine.t4 import Page
    from faxengine.t4.page import RESOLUTIONS
    rng = np.random.default_rng(seed)
    image = np.zeros((rows, width), dtype=bool)
    for _ in range(rows // 5):
        y, x = rng.integers(0, rows - 12), rng.integers(0, width - 80)
        image[y:y + rng.integers(2, 12), x:x + rng.integers(3, 80)] = True
    image[rows // 2, :] = True
    return Page(image, *RESOLUTIONS[resolution])


def assert_tiff_pages(path, pages) -> None:
    """The TIFF at ``path`` holds exactly ``pages``, pixel for pixel."""
    import numpy as np

    from faxengine import tiff
    got = [p.image for p in tiff.read(path)]
    assert len(got) == len(pages) and all(np.array_equal(g, p.image) for g, p in zip(got, pages))


def received_images(events):
    """The images of the ``PageReceived`` events, in order."""
    from faxengine.t30.events import PageReceived
    return [e.image for e in events if isinstance(e, PageReceived)]


class UdptlWire:
    """IFP packets through UDPTL (``faxengine.t38.udptl``) one way: each
    encoded into a datagram with ``redundancy`` secondaries (control and image
    alike), sent ``terminal.copies(packet)`` times, each copy lost at random
    with probability ``loss``; what the receiver hands up is what arrives
    (a gap it could not fill as ``Lost(1)``)."""

    def __init__(self, loss: float = 0.0, version: int = 0, redundancy: int = 3,
                 seed: int = 1, max_datagram: int | None = None) -> None:
        from faxengine.t38 import udptl
        from faxengine.t38.terminal import copies
        self._udptl, self._copies = udptl, copies
        self.sender = udptl.UdptlSender(version, redundancy_control=redundancy,
                                        redundancy_image=redundancy, max_datagram=max_datagram)
        self.receiver = udptl.UdptlReceiver(version, reorder_window=0)
        self.loss, self.rng = loss, random.Random(seed)
        self.datagrams = self.dropped = self.lost = 0
        self.largest = 0

    def __call__(self, packets):
        out = []
        for p in packets:
            datagram = self.sender.send(p)
            self.largest = max(self.largest, len(datagram))
            for _ in range(self._copies(p)):
                self.datagrams += 1
                if self.rng.random() < self.loss:
                    self.dropped += 1
                    continue
                for _, got in self.receiver.receive(datagram):
                    if got is self._udptl.LOST:
                        self.lost += 1
                        out.append(Lost(1))
                    else:
                        out.append(got)
        return out


class Delay:
    """A link that hands on each step's packets ``steps`` steps later (one-way latency)."""

    def __init__(self, steps: int) -> None:
        from collections import deque
        self._q = deque([[]] * steps)

    def __call__(self, packets):
        self._q.append(list(packets))
        return self._q.popleft()
