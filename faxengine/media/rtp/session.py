"""One call's RTP audio stream, both ways, sans-I/O (RFC 3550, RFC 3551, RFC 4961).

The session takes ``now`` (seconds of the caller's monotonic clock) and
datagrams, and returns datagrams and its next timer, as aioquic's
connection does; ``faxengine.media.rtp.protocol`` is the asyncio adapter
that owns the socket and the clock.

Sending
-------
``send(samples)`` queues int16 audio; ``datagrams_to_send(now)`` returns the
packets whose time has come.  Packet *n* is due at ``start + n * ptime``,
computed from the start rather than by adding intervals, so a timer that
fires late never accumulates: over an hour the stream stays within one
timer's lateness of real time.  Packets that fell due while the caller was
late go out at once; when more than ``MAX_BURST`` are due (the process was
stopped), the session skips the missed slots, advancing sequence and
timestamp as if they had been sent, and sets the marker on the next packet,
so the far end re-anchors its play-out instead of hearing everything late.
Audio not queued in time goes out as silence (counted as ``underruns``).
``ptime`` is 20 ms by default; 10 to 60 ms are accepted (the peer's SDP
``a=ptime``).  SSRC, first sequence number and first timestamp are random
(RFC 3550 §5.1), or drawn from ``seed`` for reproducible tests.

Receiving
---------
``datagram_received(data, addr, now)`` parses, checks and stores a packet
in the jitter buffer; ``receive(now)`` hands out the 20 ms ``Block``s due.
Nothing the far end sends raises: datagrams that are not RTP are dropped
and counted (``malformed``), telephone-events (RFC 4733), comfort noise
and other payload types are ignored and counted (``ignored``).

Symmetric RTP (RFC 4961): the first valid packet latches the remote address
to its source, whatever the SDP said (a NAT may have rewritten it); we send
there from then on, and packets from any other source are dropped
(``foreign``).
"""
from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

import numpy as np

from faxengine.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from faxengine.levels import SAMPLE_RATE
from faxengine.media.rtp.errors import RtpLocalError, RtpPacketError
from faxengine.media.rtp.jitter import DEFAULT_DELAY, Block, JitterBuffer
from faxengine.media.rtp.packet import RtpPacket, audio_fields, audio_header

Address = tuple[str, int]
MAX_BURST = 10                   # packets sent at once before the session skips ahead
MAX_PAYLOAD = SAMPLE_RATE        # one second of G.711: anything longer is not ours
PTIME_RANGE = (0.010, 0.060)     # seconds of audio per packet we accept


@dataclass(frozen=True, slots=True)
class Codec:
    """A G.711 payload type of RFC 3551 Table 4."""

    name: str
    payload_type: int
    law: str

    def encode(self, samples: np.ndarray) -> bytes:
        return (ulaw_encode if self.law == "ulaw" else alaw_encode)(samples).tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        codes = np.frombuffer(payload, np.uint8)
        return (ulaw_decode if self.law == "ulaw" else alaw_decode)(codes)


PCMU = Codec("PCMU", 0, "ulaw")
PCMA = Codec("PCMA", 8, "alaw")
CODECS = {c.payload_type: c for c in (PCMU, PCMA)}


def codec(law: str, payload_type: int | None = None) -> Codec:
    """The G.711 codec of ``law`` ('ulaw' or 'alaw') under the payload type SDP
    agreed on (the static 0 or 8 when None; a dynamic number names it too)."""
    if law not in ("ulaw", "alaw"):
        raise RtpLocalError(f"G.711 law must be 'ulaw' or 'alaw', not {law!r}")
    static = PCMU if law == "ulaw" else PCMA
    if payload_type is None:
        return static
    if not 0 <= payload_type <= 127:
        raise RtpLocalError(f"RTP payload type must be 0..127, not {payload_type}")
    return Codec(static.name, payload_type, law)


@dataclass(frozen=True, slots=True)
class RtpStats:
    """A call's RTP statistics (RFC 3550 §6.4.1 where it defines them)."""

    sent: int
    received: int
    lost: int
    late: int
    reordered: int
    duplicates: int
    blocks_lost: int
    jitter_ms: float
    malformed: int
    ignored: int
    foreign: int
    underruns: int
    skipped: int = 0        # slots this side skipped after a stall (MAX_BURST): the peer's ``lost``


class RtpSession:
    """Sends and receives one G.711 RTP stream.

    Args:
        codec: ``PCMU`` or ``PCMA`` (``CODECS[payload_type]``).
        remote: where to send until the far end's first packet arrives (SDP).
        ptime: seconds of audio per packet sent, 0.010 to 0.060.
        jitter_delay: the jitter buffer's fixed delay in seconds.
        event_payload_type: the telephone-event type negotiated (ignored on input).
        seed: draws SSRC, sequence and timestamp from ``random.Random(seed)``.
    """

    def __init__(self, codec: Codec, remote: Address | None = None, *, ptime: float = 0.020,
                 jitter_delay: float = DEFAULT_DELAY, event_payload_type: int | None = 101,
                 seed: int | None = None) -> None:
        if not PTIME_RANGE[0] - 1e-9 <= ptime <= PTIME_RANGE[1] + 1e-9:
            raise RtpLocalError(f"RTP ptime must be 10 to 60 ms, not {ptime * 1000:g} ms")
        self.codec = codec
        self.remote = remote
        self.ptime = ptime
        self.samples_per_packet = round(ptime * SAMPLE_RATE)
        self.event_payload_type = event_payload_type
        rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self.ssrc = rng.getrandbits(32)
        self._seq = rng.getrandbits(16)
        self._ts = rng.getrandbits(32)
        self.jitter = JitterBuffer(jitter_delay)
        self._queue: deque[np.ndarray] = deque()     # blocks queued, sent whole when they fit
        self._queued = 0
        self._start: float | None = None
        self._next = 0                       # index of the next packet to send
        self._marker = True                  # RFC 3551 §4.1: first packet of a talkspurt
        self._latched = False
        self.sent = self.malformed = self.ignored = self.foreign = self.underruns = 0
        self.skipped = 0

    # -- sending -------------------------------------------------------------

    def start(self, now: float) -> None:
        """Start the send clock: packet 0 is due at ``now``."""
        self._start = now

    def send(self, samples: np.ndarray) -> None:
        """Queue int16 audio to go out at the pace of the clock."""
        samples = np.asarray(samples)
        if samples.dtype != np.int16:
            raise RtpLocalError(f"RTP sends int16 samples, not {samples.dtype}")
        if len(samples):
            self._queue.append(samples.copy())      # the caller may reuse its array
            self._queued += len(samples)

    @property
    def queued(self) -> int:
        """Samples queued and not yet sent."""
        return self._queued

    def _take(self, n: int) -> np.ndarray:
        """The next ``n`` queued samples (fewer when fewer are queued).  A block
        as long as a packet (20 ms each, the usual case) is handed on as it is."""
        queue = self._queue
        if queue and len(queue[0]) == n:
            self._queued -= n
            return queue.popleft()
        parts, want = [], n
        while queue and want:
            head = queue[0]
            if len(head) <= want:
                parts.append(queue.popleft())
            else:
                parts.append(head[:want])
                queue[0] = head[want:]
            want -= len(parts[-1])
        self._queued -= n - want
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    def _due(self, index: int) -> float:
        assert self._start is not None
        return self._start + index * self.ptime

    def datagrams_to_send(self, now: float) -> list[tuple[bytes, Address]]:
        """The packets due by ``now``, with where to send them."""
        if self._start is None or self.remote is None:
            return []
        due = int((now - self._start) / self.ptime + 1e-9) + 1 - self._next
        if due > MAX_BURST:
            skipped = due - 1
            self._next += skipped
            self.skipped += skipped
            self._seq = (self._seq + skipped) & 0xFFFF
            self._ts = (self._ts + skipped * self.samples_per_packet) & 0xFFFFFFFF
            self._take(skipped * self.samples_per_packet)
            self._marker = True
            due = 1
        out = []
        n = self.samples_per_packet
        for _ in range(max(0, due)):
            chunk = self._take(n)
            if len(chunk) < n:
                self.underruns += 1
                chunk = np.concatenate([chunk, np.zeros(n - len(chunk), np.int16)])
            out.append((audio_header(self.codec.payload_type, self._seq, self._ts, self.ssrc,
                                     self._marker) + self.codec.encode(chunk), self.remote))
            self._marker = False
            self._seq = (self._seq + 1) & 0xFFFF
            self._ts = (self._ts + n) & 0xFFFFFFFF
            self._next += 1
            self.sent += 1
        return out

    # -- receiving -----------------------------------------------------------

    def datagram_received(self, data: bytes, addr: Address, now: float) -> None:
        """Take one datagram that arrived at ``now`` from ``addr``; never raises."""
        if self._latched and addr != self.remote:
            self.foreign += 1
            return
        fields = audio_fields(data)          # the usual packet, without a packet object
        if fields is None:
            try:
                packet = RtpPacket.parse(data)
            except RtpPacketError:
                self.malformed += 1
                return
            fields = (packet.payload_type, packet.sequence, packet.timestamp, packet.ssrc,
                      packet.marker, packet.payload)
        payload_type, sequence, timestamp, ssrc, marker, payload = fields
        if payload_type != self.codec.payload_type:
            self.ignored += 1            # RFC 4733 events, comfort noise, anything else
            return
        if not 0 < len(payload) <= MAX_PAYLOAD:
            self.malformed += 1
            return
        if not self._latched:
            self.remote, self._latched = addr, True
        self.jitter.put(ssrc, sequence, timestamp, marker, self.codec.decode(payload), now)

    def receive(self, now: float) -> list[Block]:
        """The received 20 ms blocks due by ``now`` (``lost`` ones are silence)."""
        return self.jitter.pull(now)

    # -- time and statistics -------------------------------------------------

    def next_timer(self) -> float | None:
        """When the session next has something to do (send or hand out a block)."""
        times = [t for t in (self.jitter.next_due(),
                             self._due(self._next) if self._start is not None else None)
                 if t is not None]
        return min(times) if times else None

    @property
    def stats(self) -> RtpStats:
        jb = self.jitter
        return RtpStats(sent=self.sent, received=jb.received, lost=jb.lost, late=jb.late,
                        reordered=jb.reordered, duplicates=jb.duplicates,
                        blocks_lost=jb.blocks_lost, jitter_ms=jb.jitter_ms,
                        malformed=self.malformed, ignored=self.ignored, foreign=self.foreign,
                        underruns=self.underruns, skipped=self.skipped)
