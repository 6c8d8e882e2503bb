"""The audio side of ``faxengine.t38.gateway.T38Gateway``: IFP signals played
as modem audio, without ever running dry.

What the far T.38 end sends arrives as IFP packets at the network's pace;
the audio line wants samples at 8000/s.  ``AudioOut`` keeps a queue of
signals, each started by an indicator (T.38 §7.3) or by the first data of a
modem whose indicator was lost, and modulates them with ``faxengine.modem``:

* ``ced``/``cng``: the tone (2100 Hz; 1100 Hz 0.5 s on, 3 s off) until the
  next indicator;
* ``v21-preamble``: V.21 channel 2 with HDLC flags, each frame sent once its
  ``hdlc-fcs-OK`` came (a frame is never started before all of it is here,
  so no flag can land inside one); a frame reported ``hdlc-fcs-BAD`` or hit
  by a lost packet is not sent (the far receiver misses it, as it would a
  frame with a bad FCS; ECM asks for it again);
* a training indicator: V.27ter, V.29 or V.17 (short training when the
  indicator says so) at its rate, then the data:
  ECM frames (``hdlc-data``) as above, non-ECM data (``t4-non-ecm-data``:
  TCF, a page) as its bits.

Fill (the audio must never underrun while data is late): HDLC signals send
flags between frames (T.30 §5.3.1, ISO/IEC 13239); non-ECM signals send
zeros, but only where T.4 §4.1.3 allows fill -- inside the run of zeros
before an EOL's final 1 (or TCF's zeros, or before the first EOL): the
bits of a scan line are held until its EOL has arrived, so a pause never
lands inside a code word.  ``FILL_HOLD_BITS`` of data without any EOL
(garbage) are sent anyway rather than held for ever.  A peer sending far
faster than the line plays is cut: at most ``MAX_QUEUED_BITS``,
``MAX_QUEUED_FRAMES`` and ``MAX_SIGNALS`` wait (``dropped`` counts the rest).

A signal may be ``held`` (local TCF, ``gateway_tcf``): it waits, silent,
until ``release`` (or ``drop_held``), and the line counts as quiet meanwhile.

A signal ends with its sig-end field, the ``no-signal`` indicator, a new
indicator, or ``SIGNAL_SILENCE_S`` without a packet (a lost end): what
is queued goes out, then the modem's turn-off.  A signal that comes while
the last one still plays (HDLC frames go out one frame late) starts after
it and 75 ms of silence (T.30 §5.3.2.3): receivers need the gap to switch
modems.
"""
from __future__ import annotations

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.modem import CedTx, CngTx, HdlcTx, V17Tx, V21Tx, V27terTx, V29Tx
from faxengine.t30.facilities import V17, V27TER, V29

__all__ = ["AudioOut", "NonEcmBits", "SIGNAL_SILENCE_S", "FILL_HOLD_BITS"]

SIGNAL_SILENCE_S = 3.0          # as T38Terminal: a signal with no packet this long has ended
FILL_HOLD_BITS = 8192           # non-ECM bits held at most waiting for an EOL
MAX_QUEUED_BITS = 1 << 18       # non-ECM bits queued at most (18 s at 14400): a flood is cut
MAX_QUEUED_FRAMES = 300         # HDLC frames queued at most (an ECM block is 256 and RCPs)
MAX_SIGNALS = 8                 # signals queued at most; those between are dropped
EOL_ZEROS = 11                  # T.4 §4.1.2: EOL is 0000 0000 0001
V21_RATE = 300
GAP_SAMPLES = 600               # T.30 §5.3.2.3: 75 ms of silence between signals

_TX = {V17: V17Tx, V29: V29Tx, V27TER: V27terTx}


class NonEcmBits:
    """Non-ECM bits queued for a modulator, with T.4 fill where it is allowed.

    ``add(bits)`` queues data; ``take(k, ending)`` returns ``k`` bits: data
    up to the last point where fill may go (after 11 or more zeros), zeros
    when the data runs out there, and everything when ``ending``.  Each bit
    is scanned once, when it is added: ``_safe`` is how many held bits may
    go with fill after them, ``_run`` the zeros at the end of the stream.
    """

    def __init__(self) -> None:
        self._held = np.zeros(0, np.uint8)
        self._safe = 0
        self._run = EOL_ZEROS           # the start of a signal allows fill
        self.fill_bits = 0

    def add(self, bits: np.ndarray) -> int:
        """Queue ``bits``; returns how many were dropped (beyond ``MAX_QUEUED_BITS``:
        a peer sending far faster than the line plays)."""
        room = max(0, MAX_QUEUED_BITS - self._held.size)
        dropped, bits = max(0, bits.size - room), bits[:room]
        base = self._held.size
        self._held = np.concatenate([self._held, bits])
        ones = np.flatnonzero(bits)
        if ones.size:
            # the last 1 that ends an EOL: a pause may go just before it
            before = np.diff(ones, prepend=-1) - 1
            before[0] += self._run
            eols = ones[before >= EOL_ZEROS]
            if eols.size:
                self._safe = base + int(eols[-1])
            self._run = bits.size - 1 - int(ones[-1])
        else:
            self._run += bits.size
        if self._run >= EOL_ZEROS or self._held.size - self._safe > FILL_HOLD_BITS:
            self._safe = self._held.size        # in 11+ zeros (or garbage): all may go
        return dropped

    def __len__(self) -> int:
        return int(self._held.size)

    def take(self, k: int, ending: bool) -> np.ndarray:
        n = min(self._held.size if ending else self._safe, k)
        out = self._held[:n]
        self._held = self._held[n:]
        self._safe = max(0, self._safe - n)
        if out.size < k and not ending:
            self.fill_bits += k - out.size
            out = np.concatenate([out, np.zeros(k - out.size, np.uint8)])
        return out


class _Signal:
    """One signal to play: a tone, V.21 HDLC, or a high-speed modem's."""

    def __init__(self, kind: str, modem: str | None = None, rate: int = 0,
                 short_train: bool = False, hdlc: bool = False, power_dbm0: float = -13.0,
                 started: int = 0) -> None:
        self.kind, self.modem, self.rate = kind, modem, rate
        self.ending = False
        self.done = False
        self.held = False                       # waits for ``AudioOut.release`` (local TCF)
        self.last_packet = started
        self.frames: list[bytes] = []           # whole HDLC frames to send
        self.non_ecm = NonEcmBits()
        self.hdlc = hdlc
        self._hdlc_tx: HdlcTx | None = None
        if kind == "ced":
            self._tone = CedTx(power_dbm0, duration_s=4.0, silence_before_s=0.0,
                               silence_after_s=0.0)
        elif kind == "cng":
            self._tone = CngTx(power_dbm0)
        elif kind == "v21":
            self._mod = V21Tx(power_dbm0)
            self.rate = V21_RATE
            self.hdlc = True
        else:
            cls = _TX[modem]
            self._mod = (cls(rate, short_train=short_train, power_dbm0=power_dbm0)
                         if modem == V17 else cls(rate, power_dbm0=power_dbm0))

    def use_hdlc(self) -> None:
        """The data turned out to be HDLC frames (ECM): flags from now on."""
        self.hdlc = True
        self.non_ecm = NonEcmBits()     # (non-ECM data before it was garbage)

    def samples(self, n: int) -> np.ndarray:
        """About ``n`` samples more of this signal (fewer only at its end)."""
        if self.kind in ("ced", "cng"):
            if self.ending:
                self.done = True
                return np.zeros(0, np.int16)
            return self._tone.generate(n)
        k = max(8, -(-n * self.rate // SAMPLE_RATE))
        if self.hdlc:
            bits = self._hdlc_bits(k)
        else:
            bits = self.non_ecm.take(k, self.ending)
        out = self._mod.modulate(bits)
        if self.ending and not self.frames and not len(self.non_ecm):
            tail = [self._hdlc_tx.finish()] if self._hdlc_tx is not None else []
            if tail:
                out = np.concatenate([out, self._mod.modulate(tail[0])])
            out = np.concatenate([out, self._mod.finish()])
            self.done = True
        return out

    def _hdlc_bits(self, k: int) -> np.ndarray:
        if self._hdlc_tx is None:
            self._hdlc_tx = HdlcTx(preamble_flags=1, closing_flags=2)
        parts, count = [], 0
        while self.frames and count < k:
            bits = self._hdlc_tx.encode([self.frames.pop(0)])
            parts.append(bits)
            count += bits.size
        if count < k and not (self.ending and not self.frames):
            parts.append(self._hdlc_tx.flags(-(-(k - count) // 8)))
        return np.concatenate(parts) if parts else np.zeros(0, np.uint8)


class AudioOut:
    """The queue of signals to play and the samples made from them."""

    def __init__(self, power_dbm0: float = -13.0) -> None:
        self.power_dbm0 = power_dbm0
        self._queue: list[_Signal] = []
        self._buf = np.zeros(0, np.int16)
        self.now = 0
        self._fill_past = 0
        self.dropped = 0                # signals, frames and bits dropped (a flooding peer)

    @property
    def fill_bits(self) -> int:
        """Zeros sent as T.4 fill in non-ECM signals because data was late."""
        return self._fill_past + sum(s.non_ecm.fill_bits for s in self._queue)

    @property
    def current(self) -> _Signal | None:
        """The signal that data arriving now belongs to (the newest, if not ending)."""
        if self._queue and not self._queue[-1].ending:
            return self._queue[-1]
        return None

    @property
    def busy(self) -> bool:
        """True while anything is playing or queued to play (not held)."""
        return (bool(self._queue) and not self._queue[0].held) or self._buf.size > 0

    def release(self) -> int:
        """The held signals may play (the fax machine's CFR has passed); how many were held."""
        held = sum(s.held for s in self._queue)
        for signal in self._queue:
            signal.held = False
        return held

    def drop_held(self) -> None:
        """Forget the held signals (FTT or a new DCS: they were for nothing)."""
        kept = [s for s in self._queue if not s.held]
        self.dropped += len(self._queue) - len(kept)
        self._queue = kept

    def start(self, kind: str, modem: str | None = None, rate: int = 0,
              short_train: bool = False, hdlc: bool = False) -> _Signal:
        self.end()
        if len(self._queue) >= MAX_SIGNALS:     # keep the one playing, drop those waiting
            self.dropped += len(self._queue) - 1
            del self._queue[1:]
        signal = _Signal(kind, modem, rate, short_train, hdlc, self.power_dbm0, self.now)
        self._queue.append(signal)
        return signal

    def frame(self, signal: _Signal, data: bytes) -> None:
        """Queue a whole HDLC frame on ``signal`` (dropped beyond ``MAX_QUEUED_FRAMES``)."""
        if len(signal.frames) < MAX_QUEUED_FRAMES:
            signal.frames.append(data)
        else:
            self.dropped += 1

    def bits(self, signal: _Signal, bits: np.ndarray) -> None:
        """Queue non-ECM bits on ``signal`` (cut beyond ``MAX_QUEUED_BITS``)."""
        self.dropped += signal.non_ecm.add(bits) > 0

    def end(self) -> None:
        """The signal data arrives for has ended: play out what it has, then stop."""
        if self._queue:
            self._queue[-1].ending = True

    def samples(self, n: int) -> np.ndarray:
        """The next ``n`` samples to play (silence when nothing is queued)."""
        current = self.current
        if current is not None and self.now - current.last_packet > SIGNAL_SILENCE_S * SAMPLE_RATE:
            current.ending = True       # its end was lost
        parts, have = [self._buf], self._buf.size
        while have < n and self._queue and not self._queue[0].held:
            signal = self._queue[0]
            got = signal.samples(n - have)
            parts.append(got)
            have += got.size
            if not got.size:
                signal.done = True      # (a modulator with nothing more to give: never loop)
            if signal.done:             # T.30 §5.3.2.3: 75 ms before the next, even when late
                self._fill_past += self._queue.pop(0).non_ecm.fill_bits
                parts.append(np.zeros(GAP_SAMPLES, np.int16))
                have += GAP_SAMPLES
        if have < n:
            parts.append(np.zeros(n - have, np.int16))
        out = np.concatenate(parts)
        self._buf = out[n:]
        self.now += n
        return out[:n]
