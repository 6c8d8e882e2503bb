"""One channel of a recording cut into what was on it: tones, V.21 frames, bursts.

* V.21 frames: a V.21 channel 2 receiver and an HDLC receiver run over the
  whole channel in 20 ms blocks; each frame with a good FCS is kept with
  the sample at the end of the block that completed it (its end, to 20 ms).
* Tones: ``faxengine.modem.ToneDetector`` (CNG 1100 Hz, CED 2100 Hz, and
  V.21 channel 2 energy) over the whole channel.
* Bursts: the channel's power in 10 ms blocks; stretches above
  ``ON_DBM0`` (gaps under 30 ms bridged) that last at least 100 ms and are
  neither a tone nor V.21 (mostly outside the detector's V.21 reports and
  completing no V.21 frame) are high-speed transmissions.  T.30 is half
  duplex, so in a mono recording of both directions such stretches still
  never overlap.
* The noise floor: the median power of the 10 ms blocks below ``ON_DBM0``,
  which the per-burst SNR is measured against.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faxengine.levels import SAMPLE_RATE, dbm0_to_power
from faxengine.modem import HdlcRx, ToneDetector, V21Rx

V21_BLOCK = 160                 # 20 ms: the time resolution of a frame's end
POWER_BLOCK = 80                # 10 ms
ON_DBM0 = -45.0                 # a signal (our high-speed receivers: ON above -47 dBm0)
BRIDGE_BLOCKS = 3               # gaps of up to 30 ms inside a signal
MIN_BURST_BLOCKS = 10           # 100 ms: shorter stretches are clicks, not modems


@dataclass(frozen=True, slots=True)
class Stretch:
    """Samples ``start`` to ``end`` of a channel."""

    start: int
    end: int


@dataclass(slots=True)
class ChannelScan:
    """What one channel held."""

    frames: list[tuple[int, bytes]]         # (end sample, octets without FCS)
    bad_frames: int                         # failed their FCS outside the bursts
    tones: list[tuple[str, int, int]]       # (kind, start, end) for CNG, CED, V21
    bursts: list[Stretch]
    noise_power: float                      # mean square of the floor, int16 units


def v21_frames(x: np.ndarray) -> tuple[list[tuple[int, bytes]], list[int]]:
    """The V.21 frames in ``x`` with a good FCS, and the ends of those that failed it."""
    rx, hdlc = V21Rx(), HdlcRx(max_len=260)
    out: list[tuple[int, bytes]] = []
    bad: list[int] = []
    for i in range(0, x.size, V21_BLOCK):
        bits = rx.demodulate(x[i:i + V21_BLOCK])
        if bits.size:
            end = min(i + V21_BLOCK, x.size)
            for f in hdlc.decode(bits):
                if f.ok:
                    out.append((end, f.data))
                else:
                    bad.append(end)
    return out, bad


def tones(x: np.ndarray) -> list[tuple[str, int, int]]:
    """CNG, CED and V.21 stretches: (kind, start, end) in samples."""
    open_: dict[str, int] = {}
    out = []
    for ev in ToneDetector().process(x):
        if ev.end_sample is None:
            open_[ev.kind] = ev.start_sample
        else:
            out.append((ev.kind, open_.pop(ev.kind, ev.start_sample), ev.end_sample))
    out += [(kind, start, x.size) for kind, start in open_.items()]
    return sorted(out, key=lambda t: t[1])


def block_power(x: np.ndarray) -> np.ndarray:
    """Mean square of each 10 ms block (int16 units)."""
    n = x.size // POWER_BLOCK
    b = x[:n * POWER_BLOCK].astype(np.float32).reshape(n, POWER_BLOCK)
    return np.einsum("ij,ij->i", b, b) / POWER_BLOCK


def _on_stretches(on: np.ndarray) -> list[Stretch]:
    """Runs of True blocks, gaps of up to BRIDGE_BLOCKS bridged, in samples."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
    runs = list(zip(edges[::2], edges[1::2]))
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= BRIDGE_BLOCKS:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [Stretch(int(a) * POWER_BLOCK, int(b) * POWER_BLOCK) for a, b in merged]


def scan(x: np.ndarray) -> ChannelScan:
    """Frames, tones, high-speed bursts and the noise floor of one channel."""
    frames, bad = v21_frames(x)
    heard = tones(x)
    power = block_power(x)
    on = power > dbm0_to_power(ON_DBM0)
    quiet = power[~on]
    noise = float(np.median(quiet)) if quiet.size else 0.0
    v21 = [(s, e) for kind, s, e in heard if kind in ("V21", "CNG", "CED")]
    ends = np.array([end for end, _ in frames], dtype=np.int64)
    bursts = []
    for st in _on_stretches(on):
        if st.end - st.start < MIN_BURST_BLOCKS * POWER_BLOCK:
            continue
        covered = sum(max(0, min(e, st.end) - max(s, st.start)) for s, e in v21)
        if covered > (st.end - st.start) // 2:
            continue
        # a V.21 frame completing inside (or just after) the stretch: it was V.21
        if ends.size and np.any((ends > st.start) & (ends <= st.end + SAMPLE_RATE // 10)):
            continue
        bursts.append(st)
    # the V.21 receiver also hears the high-speed modems' band: what it
    # makes of a burst is no V.21 frame gone bad, nor is that junk closed by
    # the first flag of the next V.21 preamble (75 ms + a few flags later)
    before, after = SAMPLE_RATE // 10, SAMPLE_RATE * 3 // 10
    bad_v21 = sum(1 for end in bad
                  if not any(st.start - before <= end <= st.end + after for st in bursts))
    return ChannelScan(frames, bad_v21, heard, bursts, noise)


def _power(x: np.ndarray, start: int, end: int) -> float:
    seg = x[max(0, start):max(start + 1, end)].astype(np.float64)
    return float(np.mean(seg * seg)) if seg.size else 0.0


def drop_crosstalk(columns: list[np.ndarray], scans: list[ChannelScan]) -> int:
    """In a stereo recording, what one direction leaks into the other's
    channel (crosstalk, a hybrid's echo) is heard on both: keep each tone,
    frame and burst only on the channel where it is stronger.  Returns how
    many were dropped."""
    if len(scans) != 2:
        return 0
    dropped = 0
    a, b = scans
    # bursts and tones: overlapping stretches of both channels
    for kind in ("bursts", "tones"):
        keep: list[set[int]] = [set(range(len(getattr(s, kind)))) for s in scans]
        for i, u in enumerate(getattr(a, kind)):
            us, ue = (u.start, u.end) if kind == "bursts" else u[1:]
            for j, v in enumerate(getattr(b, kind)):
                vs, ve = (v.start, v.end) if kind == "bursts" else v[1:]
                if kind == "tones" and u[0] != v[0]:
                    continue
                if min(ue, ve) - max(us, vs) > min(ue - us, ve - vs) // 2:
                    lo, hi = max(us, vs), min(ue, ve)
                    weaker = 1 if _power(columns[0], lo, hi) >= _power(columns[1], lo, hi) else 0
                    keep[weaker].discard(j if weaker else i)
        for ch, s in enumerate(scans):
            items = getattr(s, kind)
            dropped += len(items) - len(keep[ch])
            setattr(s, kind, [it for k, it in enumerate(items) if k in keep[ch]])
    # frames: the same octets ending within 0.2 s of each other
    near = SAMPLE_RATE // 5
    keep_frames: list[set[int]] = [set(range(len(s.frames))) for s in scans]
    for i, (ua, da) in enumerate(a.frames):
        for j, (ub, db) in enumerate(b.frames):
            if da == db and abs(ua - ub) <= near:
                span = (len(da) + 2) * 8 * SAMPLE_RATE // 300          # the frame at 300 bit/s
                pa = _power(columns[0], ua - span, ua)
                pb = _power(columns[1], ub - span, ub)
                keep_frames[1 if pa >= pb else 0].discard(j if pa >= pb else i)
    for ch, s in enumerate(scans):
        dropped += len(s.frames) - len(keep_frames[ch])
        s.frames = [f for k, f in enumerate(s.frames) if k in keep_frames[ch]]
    return dropped
