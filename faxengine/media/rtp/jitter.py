"""A fixed-delay jitter buffer for G.711 audio over RTP (RFC 3550 §5.1, §6.4.1, A.1, A.8).

What it does
------------
Packets go in as they arrive, with the time they arrived; 20 ms blocks come
out on the receiver's clock, each a fixed ``delay`` (default 60 ms) after
the packet that carried it arrived, put back into order by timestamp.  A
block of which nothing arrived by its time comes out ``lost``: its samples
are silence, and ``lost`` tells the consumer to conceal instead (the pump
calls the terminal's ``rx_fillin(160)`` for it), so both are exposed.

How it works
------------
The buffer keeps one line of output samples, numbered from the first
packet's play-out: sample *i* plays at ``t0 + i / 8000``.  It is stored as
a ring of whole blocks (sample *i* at ``i % capacity``), so handing a block
out clears its slot and moves nothing.  A packet's RTP
timestamp maps to an output index through an *anchor* (timestamp, index);
differences are taken modulo 2**32, so timestamp wrap is invisible.  The
first packet anchors the line so that it plays ``delay`` after it arrived.

* Sequence numbers are extended to 32 bits as RFC 3550 A.1 does (wrap after
  65535 counts a cycle); a packet older than the newest seen counts as
  reordered, one seen before as a duplicate (dropped).  Lost packets are
  the expected minus the received (A.3).
* A packet whose audio is due already when it arrives counts as late and is
  dropped (the part not yet due is kept when it straddles the play point).
* A new SSRC (the sender restarted its stream) and a marker bit (the start of
  a talkspurt after silence suppression, RFC 3551 §4.1) re-anchor the line:
  the packet plays ``delay`` after its arrival again, but never over audio
  already in the buffer.  So clock drift between talkspurts is dropped and
  a restarted stream is not all "late".
* A packet more than ``horizon`` seconds (default 1 s) ahead of the play
  point is a jump of the sender's timestamps: it re-anchors too.
* Interarrival jitter is RFC 3550 A.8's estimate, in timestamp units
  internally, reported in milliseconds.

The buffer never reads a clock: ``put`` and ``pull`` take ``now`` (seconds
of any monotonic clock).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.media.rtp.errors import RtpLocalError

BLOCK = 160                     # samples in the 20 ms blocks handed out
DEFAULT_DELAY = 0.060           # seconds from a packet's arrival to its play-out
SEQ_MOD = 1 << 16
TS_MOD = 1 << 32
_DUPLICATE_WINDOW = 1024        # extended sequence numbers remembered for duplicates


def _signed(diff: int, modulus: int) -> int:
    """A difference modulo ``modulus`` as the nearest signed value."""
    diff %= modulus
    return diff - modulus if diff >= modulus // 2 else diff


@dataclass(frozen=True, slots=True)
class Block:
    """20 ms of received audio.  ``lost``: nothing of it arrived (samples are silence)."""

    samples: np.ndarray
    lost: bool


class JitterBuffer:
    """Reorders RTP audio and plays it out a fixed delay after arrival.

    Args:
        delay: seconds from a packet's arrival to its play-out (0.02 to 1).
        horizon: seconds ahead of the play point beyond which a packet
            re-anchors the buffer instead of being stored; None: 1 s, or
            twice the delay when that is more (it must exceed the delay).
    """

    def __init__(self, delay: float = DEFAULT_DELAY, horizon: float | None = None) -> None:
        if not 0.02 <= delay <= 1.0:
            raise RtpLocalError(f"jitter buffer delay must be 0.02 to 1 s, not {delay}")
        if horizon is None:
            horizon = max(1.0, 2.0 * delay)
        if horizon <= delay:
            raise RtpLocalError("jitter buffer horizon must exceed its delay")
        self.delay = delay
        self._delay_samples = round(delay * SAMPLE_RATE)
        # whole blocks, so the block at the play point never wraps around the ring
        self._capacity = -(-(round(horizon * SAMPLE_RATE) + BLOCK) // BLOCK) * BLOCK
        self._audio = np.zeros(self._capacity, np.int16)
        self._have = np.zeros(self._capacity, bool)
        self._t0: float | None = None        # wall time of output index 0
        self._play = 0                       # next output index to hand out
        self._written = 0                    # end of the audio written so far
        self._anchor = (0, 0)                # (RTP timestamp, output index)
        self._ssrc: int | None = None
        self._seq_base = self._seq_max = 0   # extended sequence numbers, A.1
        self._seen: set[int] = set()
        self._transit: int | None = None
        self._jitter = 0.0                   # timestamp units, A.8
        self.received = 0
        self.expected_before = 0             # expected under earlier SSRCs
        self.late = 0
        self.reordered = 0
        self.duplicates = 0
        self.blocks_lost = 0

    # -- statistics derived from the sequence numbers (RFC 3550 A.3) ---------

    @property
    def expected(self) -> int:
        """Packets the sender sent, by their sequence numbers."""
        now = self._seq_max - self._seq_base + 1 if self._ssrc is not None else 0
        return self.expected_before + now

    @property
    def lost(self) -> int:
        """Packets expected that never arrived (never negative)."""
        return max(0, self.expected - self.received)

    @property
    def jitter_ms(self) -> float:
        """RFC 3550 A.8 interarrival jitter, in milliseconds."""
        return self._jitter * 1000.0 / SAMPLE_RATE

    # -- input ---------------------------------------------------------------

    def put(self, ssrc: int, sequence: int, timestamp: int, marker: bool,
            samples: np.ndarray, now: float) -> None:
        """Store one packet's decoded samples, arrived at ``now``."""
        if self._ssrc != ssrc:
            self._new_source(ssrc, sequence, timestamp, now)
        else:
            ext = self._extend(sequence)
            if ext in self._seen:
                self.duplicates += 1
                return
            if ext < self._seq_max:
                self.reordered += 1
            else:
                self._seq_max = ext
            self._remember(ext)
            if marker:
                self._reanchor(timestamp, now)
        self.received += 1
        self._update_jitter(timestamp, now)
        index = self._anchor[1] + _signed(timestamp - self._anchor[0], TS_MOD)
        if index - self._play + len(samples) > self._capacity:
            self._reanchor(timestamp, now)
            index = self._anchor[1]
        self._write(index, samples)

    def _new_source(self, ssrc: int, sequence: int, timestamp: int, now: float) -> None:
        if self._ssrc is not None:
            self.expected_before = self.expected
        self._ssrc = ssrc
        self._seq_base = self._seq_max = sequence
        self._seen = {sequence}
        self._transit = None
        if self._t0 is None:
            self._t0 = now + self.delay
            self._anchor = (timestamp, 0)
        else:
            self._reanchor(timestamp, now)

    def _extend(self, sequence: int) -> int:
        """RFC 3550 A.1: the sequence number extended by its wrap cycles."""
        return self._seq_max + _signed(sequence - self._seq_max, SEQ_MOD)

    def _remember(self, ext: int) -> None:
        self._seen.add(ext)
        if len(self._seen) > 2 * _DUPLICATE_WINDOW:
            floor = self._seq_max - _DUPLICATE_WINDOW
            self._seen = {s for s in self._seen if s >= floor}

    def _reanchor(self, timestamp: int, now: float) -> None:
        """Play ``timestamp`` ``delay`` after ``now``, after what is buffered."""
        assert self._t0 is not None
        due = round((now + self.delay - self._t0) * SAMPLE_RATE)
        self._anchor = (timestamp, max(due, self._written, self._play))

    def _update_jitter(self, timestamp: int, now: float) -> None:
        arrival = round(now * SAMPLE_RATE)
        transit = _signed(arrival - timestamp, TS_MOD)
        if self._transit is not None:
            d = abs(_signed(transit - self._transit, TS_MOD))
            self._jitter += (d - self._jitter) / 16.0
        self._transit = transit

    def _write(self, index: int, samples: np.ndarray) -> None:
        start = max(index, self._play)
        end = min(index + len(samples), self._play + self._capacity)
        if end <= start:
            self.late += 1
            return
        # a ring: output index i lives at i % capacity, so playing out moves no samples
        cap = self._capacity
        lo, split = start % cap, min(end - start, cap - start % cap)
        src = start - index
        self._audio[lo:lo + split] = samples[src:src + split]
        self._have[lo:lo + split] = True
        if split < end - start:                             # wrapped around the end
            rest = end - start - split
            self._audio[:rest] = samples[src + split:src + split + rest]
            self._have[:rest] = True
        self._written = max(self._written, end)

    # -- output --------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the next block is due (None before the first packet)."""
        if self._t0 is None:
            return None
        return self._t0 + self._play / SAMPLE_RATE

    def pull(self, now: float) -> list[Block]:
        """Every block whose play-out time has come by ``now``, in order."""
        blocks = []
        while self._t0 is not None and self._t0 + self._play / SAMPLE_RATE <= now:
            lo = self._play % self._capacity                  # a whole block: never wraps
            lost = not self._have[lo:lo + BLOCK].any()
            blocks.append(Block(self._audio[lo:lo + BLOCK].copy(), lost))
            self.blocks_lost += lost
            self._audio[lo:lo + BLOCK] = 0                     # the slot is free for audio
            self._have[lo:lo + BLOCK] = False                  # a capacity ahead
            self._play += BLOCK
        return blocks
