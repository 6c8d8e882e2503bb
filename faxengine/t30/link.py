"""The T.30 link layer: which modem sends and which receives, and the timings between them.

T.30 is half duplex.  At any moment a terminal either sends one signal --
a tone, V.21 channel 2 frames, or a high-speed (V.17, V.29, V.27ter)
transmission carrying TCF, a non-ECM page or ECM frames -- or it listens.
This module builds the samples of each signal in one call (the modems do
the per-sample work in C) and wraps the high-speed receivers so that the
terminal sees a *signal*: its bits from the end of training to the loss of
carrier.

Timings (T.30):

* §5.3.2.3 (and Figure 5-2 note): 75 ms +- 20 ms of silence between the end
  of a received signal and the start of a transmission, and between two
  signals a station sends (DCS then TCF; page then post-page command).
  Every signal built here starts with ``SILENCE_75MS``.
* §5.3.1: V.21 frames are preceded by 1 s +- 15 % of flags
  (``faxengine.modem.hdlc.V21_PREAMBLE_FLAGS``).
* §5.3.2.2: TCF is 1.5 s of zeros at the DCS rate (``quality.tcf_bits``).
* T.4 Annex A / T.30 §A.3: ECM frames at the image rate follow a short
  preamble of flags after the modem's training (``HS_PREAMBLE_FLAGS``).
* V.17: the first transmission after a DCS uses the long training, later
  ones at the same rate the short one (T.30 §5.3.2.2 note, as spandsp).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.modem import HdlcRx, HdlcTx, V17Rx, V17Tx, V21Tx, V27terRx, V27terTx, V29Rx, V29Tx
from faxengine.t30.facilities import V17, V27TER, V29
from faxengine.t30.frames import Frame

SILENCE_75MS = 600              # T.30 §5.3.2.3: 75 ms between signals
HS_PREAMBLE_FLAGS = 32          # flags before the first ECM frame (~18-107 ms)
HS_CLOSING_FLAGS = 4
TX_POWER_DBM0 = -13.0

_TX = {V17: V17Tx, V29: V29Tx, V27TER: V27terTx}
_RX = {V17: V17Rx, V29: V29Rx, V27TER: V27terRx}

# seconds of the long training each modem sends before data (V.17 §5.3.2,
# V.29 §5, V.27ter §2.5 Table 3): how long after the 75 ms a TCF's zeros start
TRAINING_S = {(V17, 14400): 1.393, (V17, 12000): 1.393, (V17, 9600): 1.393,
              (V17, 7200): 1.393, (V29, 9600): 0.253, (V29, 7200): 0.253,
              (V27TER, 4800): 0.708, (V27TER, 2400): 0.943}


def silence(n: int) -> np.ndarray:
    """``n`` samples of silence."""
    return np.zeros(n, dtype=np.int16)


def v21_signal(frames: Iterable[Frame], power_dbm0: float = TX_POWER_DBM0) -> np.ndarray:
    """75 ms of silence, then one V.21 transmission: 1 s of flags and ``frames``."""
    hdlc = HdlcTx()
    modem = V21Tx(power_dbm0)
    bits = np.concatenate([hdlc.encode([f.to_bytes() for f in frames]), hdlc.finish()])
    return np.concatenate([silence(SILENCE_75MS), modem.modulate(bits), modem.finish()])


def hs_signal(modem: str, rate: int, bits: np.ndarray, short_train: bool = False,
              power_dbm0: float = TX_POWER_DBM0) -> np.ndarray:
    """75 ms of silence, then one high-speed transmission of ``bits``.

    ``short_train`` applies to V.17 only; V.29 and V.27ter always send
    their (long) training, as T.30 uses them.
    """
    if modem == V17:
        tx = V17Tx(rate=rate, short_train=short_train, power_dbm0=power_dbm0)
    else:
        tx = _TX[modem](rate=rate, power_dbm0=power_dbm0)
    return np.concatenate([silence(SILENCE_75MS), tx.modulate(np.asarray(bits, np.uint8)),
                           tx.finish()])


def hdlc_bits(frames: Iterable[Frame], preamble: int = HS_PREAMBLE_FLAGS) -> np.ndarray:
    """Bits of ECM frames for a high-speed transmission: flags, frames, closing flags."""
    hdlc = HdlcTx(preamble_flags=preamble, closing_flags=HS_CLOSING_FLAGS)
    return np.concatenate([hdlc.encode([f.to_bytes() for f in frames]), hdlc.finish()])


def bytes_to_bits(data: bytes) -> np.ndarray:
    """Coded image data (first bit in the MSB, as ``faxengine.t4`` writes it) as line bits."""
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


def bits_to_bytes(bits: np.ndarray) -> bytes:
    """Line bits back to MSB-first octets for ``faxengine.t4`` (zero padded)."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


# the decision SNR (dB) below which a receiver's output is taken as garbage
# while a page comes in: a little under what each mode needs for few errors.
# Measured with our receivers: 41 dB on a clean line, 31 dB through 30 dB of
# line SNR, 5-9 dB during and after a burst of noise that loses the signal.
POOR_SNR_DB = {(V17, 14400): 16.0, (V17, 12000): 14.0, (V17, 9600): 11.0,
               (V17, 7200): 9.0, (V29, 9600): 14.0, (V29, 7200): 11.0,
               (V27TER, 4800): 8.0, (V27TER, 2400): 4.0}


class HsReceiver:
    """A high-speed receiver for one (modem, rate), delivering whole signals.

    ``feed(samples)`` runs the demodulator and returns the bits of a signal
    that just ended (carrier lost after data bits came), else None; bits so
    far are in ``bits()``.  ``poor_share`` then says for what share of a
    stretch of the signal the decision SNR was below ``POOR_SNR_DB`` (the
    modem had lost it: those bits are garbage).  ``ecm=True`` also runs an HDLC receiver on the
    bits and collects good frames in ``frames``.  V.29 and V.27ter
    receivers are restarted after every signal (each brings its training);
    V.17's keeps its equaliser so the next signal may use the short
    training.
    """

    def __init__(self, modem: str, rate: int, ecm: bool = False) -> None:
        self.modem = modem
        self.rate = rate
        self._rx = _RX[modem](rate=rate)
        self._parts: list[np.ndarray] = []
        self._count = 0
        self._hdlc: HdlcRx | None = None
        self.frames: list[bytes] = []
        self.signals = 0
        self._poor_snr = POOR_SNR_DB[modem, rate]
        self._quality: list[tuple[int, bool]] = []
        self._last_quality: list[tuple[int, bool]] = []
        if ecm:
            self.collect_frames()

    def collect_frames(self) -> None:
        """From now on, also decode HDLC frames (ECM) from the bits."""
        if self._hdlc is None:
            self._hdlc = HdlcRx(max_len=260)

    @property
    def receiving(self) -> bool:
        """True while a trained signal is coming in (timers wait meanwhile)."""
        return self._count > 0 and self._rx.carrier_present

    @property
    def carrier_present(self) -> bool:
        return self._rx.carrier_present

    @property
    def snr_db(self) -> float:
        return self._rx.snr_db

    def poor_share(self, start: int, stop: int) -> tuple[float, float]:
        """For the last ended signal, between its bits ``start`` and ``stop``:
        the share of the time the decision SNR was poor, and the share of the
        longest unbroken poor stretch."""
        poor = [bad for count, bad in self._last_quality if start < count <= stop]
        if not poor:
            return 0.0, 0.0
        longest = run = 0
        for bad in poor:
            run = run + 1 if bad else 0
            longest = max(longest, run)
        return sum(poor) / len(poor), longest / len(poor)

    def bits(self) -> np.ndarray:
        """The bits of the signal in progress."""
        return np.concatenate(self._parts) if self._parts else np.zeros(0, np.uint8)

    def feed(self, samples: np.ndarray) -> np.ndarray | None:
        got = self._rx.demodulate(samples)
        if self._count:
            self._quality.append((self._count + got.size, self._rx.snr_db < self._poor_snr))
        if got.size:
            self._parts.append(got)
            self._count += got.size
            if self._hdlc is not None:
                self.frames.extend(f.data for f in self._hdlc.decode(got) if f.ok)
        if self._count and not self._rx.carrier_present:
            return self.end()
        return None

    def end(self) -> np.ndarray:
        """End the signal in progress (carrier lost, or the caller gave up on it)."""
        bits = self.bits()
        self._parts = []
        self._count = 0
        self._last_quality, self._quality = self._quality, []
        self.signals += 1
        if self._hdlc is not None:
            self._hdlc.reset()
        if self.modem != V17:
            self._rx.restart()
        return bits
