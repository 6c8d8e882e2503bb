"""Band-limited telephone channels: attenuation and envelope-delay distortion.

A real connection does not pass every frequency alike: it loses more at the
edges of the band (attenuation distortion) and delays the edges more than
the middle (envelope- or group-delay distortion, the dispersion an equaliser
must undo).  Each channel here is a curve of both against frequency, taken
from the recommendations, and an FIR filter designed to have them.

The curves (``CHANNELS``):

* ``m1020``: at the limits of ITU-T M.1020 (special quality leased circuits
  with special bandwidth conditioning).  §2.2, Figure 1/M.1020: loss relative
  to that at 800 Hz within −2 … +6 dB over 300–500 Hz, −1 … +3 dB over
  500–2800 Hz, −2 … +6 dB over 2800–3000 Hz.  §2.3, Figure 2/M.1020: group
  delay relative to its minimum in 500–2800 Hz at most 3.0 ms over 500–600 Hz,
  1.5 ms over 600–1000 Hz, 0.5 ms over 1000–2600 Hz, 3.0 ms over 2600–2800 Hz.
  The curve passes through the corners of both masks, 3 % inside them to
  leave room for the design's error (+5.8 dB at 300 and 3000 Hz, +2.9 dB at
  500 and 2800 Hz, −0.97 dB at 1800 Hz; 2.9 ms at 500 and 2800 Hz, 1.45 ms at
  600 Hz, 0.45 ms at 1000 and 2600 Hz), so it is as bad as the
  recommendation allows.  Outside the masks, where M.1020 sets no limit, the
  loss falls off beyond 300–3000 Hz as a channel bank's filters do, and the
  delay holds its value at the mask's edge (2.9 ms) out to 300 and 3000 Hz,
  rising to 4 ms at 0 and 3400 Hz.
* ``m1020x2``: beyond those limits: twice the loss in dB and twice the delay
  distortion of ``m1020`` at every frequency.
* ``v56bis-adN-eddM``: the test channels of ITU-T V.56bis (network
  transmission model for evaluating modem performance over 2-wire voice-grade
  connections), Annex A: attenuation distortion curves AD-1, AD-5, AD-6,
  AD-7, AD-8 and AD-9 (loss relative to 1000 Hz, tabulated every 100 Hz from
  200 to 3900 Hz) and envelope-delay distortion curves EDD-1, EDD-2 and EDD-3
  (delay relative to the minimum, EDD-3 reaching 8 ms at the low edge and
  4 ms at the high one), in any combination (``V56BIS_AD``, ``V56BIS_EDD``).

How the filter is made (``design_fir``): the loss curve, interpolated
linearly, gives the magnitude on a 4096-point frequency grid; the delay
curve plus a bulk delay (``Channel.delay``, 20 ms), integrated over
frequency, gives the phase (φ(f) = −2π ∫ τ df); an inverse FFT gives the
impulse response, kept over ``TAPS`` samples with raised-cosine tapers at
both ends, and scaled to 0 dB at the curve's reference frequency.  The
absolute loss of a line is ``Line(gain_db=…)``'s business.  tests/line/
test_channel.py measures every channel's loss and group delay at the
tabulated frequencies and checks them against the curve (and ``m1020``
against the M.1020 masks).

``FirFilter`` runs such a filter block by block, keeping the last
``len(taps) − 1`` samples, so any split of the input gives the output of one
call (numpy convolution over whole blocks; no Python per sample).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.line.errors import LineError

__all__ = ["Channel", "CHANNELS", "FirFilter", "design_fir", "channel", "M1020_LOSS_MASK",
           "M1020_DELAY_MASK", "V56BIS_AD", "V56BIS_EDD", "TAPS"]

#: length of every channel's FIR filter: 64 ms
TAPS = 512
#: bulk delay of every channel (group delay where the distortion is zero): 20 ms
BULK_DELAY = 160
#: raised-cosine taper at each end of the kept impulse response
TAPER = 48
#: frequency grid of the design
NFFT = 4096

#: M.1020 §2.2, Figure 1: (from Hz, to Hz, least, most) loss relative to 800 Hz, dB
M1020_LOSS_MASK = ((300.0, 500.0, -2.0, 6.0), (500.0, 2800.0, -1.0, 3.0), (2800.0, 3000.0, -2.0, 6.0))
#: M.1020 §2.3, Figure 2: (from Hz, to Hz, most) group delay over its minimum in 500-2800 Hz, ms
M1020_DELAY_MASK = ((500.0, 600.0, 3.0), (600.0, 1000.0, 1.5), (1000.0, 2600.0, 0.5), (2600.0, 2800.0, 3.0))

# The m1020 curve: loss (dB over 800 Hz) and delay (ms over the minimum) at
# the corners of the masks above; outside 300-3000 Hz a channel bank's roll-off.
# The corners sit 3 % inside the limits, the margin of the FIR design's error.
_M1020_LOSS = ((0, 60.0), (150, 30.0), (200, 16.0), (300, 5.8), (500, 2.9), (800, 0.0), (1800, -0.97),
               (2800, 2.9), (3000, 5.8), (3200, 14.0), (3400, 24.0), (3600, 36.0), (4000, 60.0))
_M1020_DELAY = ((0, 4.0), (300, 4.0), (500, 2.9), (600, 1.45), (1000, 0.45), (1800, 0.0),
                (2600, 0.45), (2800, 2.9), (3000, 2.9), (3400, 4.0), (4000, 4.0))

_FREQS_100 = tuple(range(0, 4100, 100))
# V.56bis Annex A, attenuation distortion: loss relative to 1000 Hz in dB at
# 0, 100, ..., 4000 Hz.  The annex tabulates 200-3900 Hz; below, the loss
# rises to 90 dB at 0 Hz (100 Hz: halfway), and 4000 Hz repeats 3900 Hz.
V56BIS_AD = {
    1: (90.0, 48.0, 6.0, 1.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.7, 0.9, 1.1, 1.2, 1.3, 1.6, 1.8, 2.4, 3.0,
        5.7, 13.5, 31.2, 31.2),
    5: (90.0, 46.6, 3.2, 1.4, 0.4, -0.1, -0.1, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.2, 0.2, 0.3, 0.3,
        0.3, 0.4, 0.5, 0.6, 0.7, 0.9, 1.1, 1.3, 1.6, 2.0, 2.3, 2.8, 3.2, 3.5, 4.1, 4.8, 5.3, 5.7, 6.6,
        8.9, 15.7, 31.1, 31.1),
    6: (90.0, 46.5, 3.0, 1.2, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.1, 0.2, 0.3, 0.3, 0.5, 0.5,
        0.5, 0.7, 0.8, 1.0, 1.1, 1.2, 1.5, 1.8, 2.4, 3.0, 3.5, 4.2, 4.9, 5.6, 6.7, 8.0, 9.1, 10.3,
        12.1, 15.8, 24.4, 42.2, 42.2),
    7: (90.0, 46.5, 2.9, 1.1, 0.3, 0.1, 0.1, 0.0, -0.1, -0.1, 0.0, 0.0, 0.1, 0.3, 0.4, 0.4, 0.5, 0.6,
        0.6, 0.7, 0.9, 1.0, 1.1, 1.4, 1.6, 2.0, 2.7, 3.5, 4.3, 5.0, 5.8, 6.7, 8.0, 9.6, 11.0, 12.2,
        13.9, 17.3, 25.7, 43.3, 43.3),
    8: (90.0, 50.8, 11.6, 6.9, 4.0, 2.0, 1.2, 0.8, 0.5, 0.2, 0.0, -0.1, -0.1, -0.1, -0.1, -0.2, -0.1,
        -0.1, 0.0, 0.1, 0.2, 0.5, 0.6, 0.8, 0.9, 1.1, 1.4, 1.7, 2.0, 2.4, 3.0, 3.4, 3.9, 4.6, 5.4, 6.3,
        7.8, 10.3, 16.2, 29.9, 29.9),
    9: (90.0, 56.7, 23.3, 13.9, 7.9, 4.1, 2.4, 1.7, 1.1, 0.4, 0.0, -0.2, -0.2, -0.2, -0.3, -0.4, -0.3,
        -0.1, 0.0, 0.2, 0.5, 0.9, 1.1, 1.5, 1.8, 2.3, 2.8, 3.4, 4.0, 4.9, 5.9, 6.8, 7.7, 9.2, 10.7,
        12.6, 15.5, 20.5, 32.4, 59.9, 59.9),
}
# V.56bis Annex A, envelope delay distortion: ms over the minimum at 0, 100,
# ..., 4000 Hz; below 200 Hz the 200 Hz value holds, above 3400 Hz (EDD-2:
# 3200 Hz) the last one.
V56BIS_EDD = {
    1: (3.98, 3.98, 3.98, 2.70, 1.69, 1.15, 0.80, 0.60, 0.50, 0.40, 0.30, 0.20, 0.20, 0.10, 0.05, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.02, 0.02, 0.02, 0.02, 0.10, 0.12, 0.15, 0.20, 0.27, 0.40, 0.56, 0.83,
        1.07, 1.39, 1.39, 1.39, 1.39, 1.39, 1.39, 1.39),
    2: (3.76, 3.76, 3.76, 3.76, 2.20, 1.36, 0.91, 0.64, 0.46, 0.34, 0.24, 0.16, 0.11, 0.07, 0.05, 0.03,
        0.01, 0.0, 0.0, 0.02, 0.04, 0.08, 0.12, 0.16, 0.20, 0.27, 0.36, 0.47, 0.60, 0.77, 1.01, 1.32,
        1.78, 1.78, 1.78, 1.78, 1.78, 1.78, 1.78, 1.78, 1.78),
    3: (8.0, 8.0, 8.0, 8.0, 6.9, 5.5, 4.4, 3.4, 2.8, 2.0, 1.5, 1.0, 0.7, 0.4, 0.3, 0.2, 0.1, 0.1, 0.0,
        0.1, 0.1, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.8, 1.1, 1.5, 2.0, 2.6, 3.2, 4.0, 4.0, 4.0, 4.0, 4.0,
        4.0, 4.0, 4.0),
}


def design_fir(freq_hz, loss_db, delay_ms, reference_hz: float, taps: int = TAPS,
               bulk: int = BULK_DELAY) -> np.ndarray:
    """FIR taps whose loss and group delay follow the given curves (module doc).

    Args:
        freq_hz, loss_db, delay_ms: the curves, at increasing frequencies
            (linear interpolation between, the end values beyond).
        reference_hz: where the filter's gain is made 0 dB.
        taps, bulk: length of the filter and its group delay where the
            delay distortion is zero, in samples.
    """
    f = np.fft.rfftfreq(NFFT, 1.0 / SAMPLE_RATE)
    magnitude = 10.0 ** (-np.interp(f, freq_hz, loss_db) / 20.0)
    tau = bulk / SAMPLE_RATE + np.interp(f, freq_hz, delay_ms) / 1000.0
    # phase = -2π ∫ τ df, by the trapezoid rule from 0 Hz
    phase = -2.0 * math.pi * np.concatenate([[0.0], np.cumsum((tau[1:] + tau[:-1]) / 2.0 * np.diff(f))])
    h = np.fft.irfft(magnitude * np.exp(1j * phase), NFFT)[:taps].copy()
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(TAPER) + 0.5) / TAPER)
    h[:TAPER] *= ramp
    h[-TAPER:] *= ramp[::-1]
    k = np.arange(taps)
    gain = abs(np.sum(h * np.exp(-2j * math.pi * reference_hz * k / SAMPLE_RATE)))
    return h / gain


@dataclass(frozen=True)
class Channel:
    """A channel's attenuation and envelope-delay distortion against frequency.

    ``loss_db`` is relative to ``reference_hz`` (positive: more loss),
    ``delay_ms`` relative to the minimum group delay; ``source`` names the
    clause the curve comes from.
    """

    name: str
    freq_hz: tuple[float, ...]
    loss_db: tuple[float, ...]
    delay_freq_hz: tuple[float, ...]
    delay_ms: tuple[float, ...]
    reference_hz: float
    source: str = field(default="", compare=False)

    def __post_init__(self):
        for what, fs, vs in (("loss", self.freq_hz, self.loss_db), ("delay", self.delay_freq_hz, self.delay_ms)):
            a, b = np.asarray(fs, dtype=float), np.asarray(vs, dtype=float)
            if a.shape != b.shape or a.ndim != 1 or a.size < 2:
                raise LineError(f"channel {self.name!r}: the {what} curve needs as many values as "
                                f"frequencies, at least two")
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                raise LineError(f"channel {self.name!r}: the {what} curve has a NaN or infinite value")
            if np.any(np.diff(a) <= 0) or a[0] < 0 or a[-1] > SAMPLE_RATE / 2:
                raise LineError(f"channel {self.name!r}: the {what} curve's frequencies must rise "
                                f"within 0-{SAMPLE_RATE // 2} Hz")
        if np.any(np.asarray(self.delay_ms) < 0):
            raise LineError(f"channel {self.name!r}: delay distortion is over the minimum, never negative")
        if not 0 < self.reference_hz < SAMPLE_RATE / 2:
            raise LineError(f"channel {self.name!r}: reference {self.reference_hz} Hz is not in the band")

    @cached_property
    def taps(self) -> np.ndarray:
        """The FIR filter (``TAPS`` long, 0 dB at ``reference_hz``)."""
        grid = np.union1d(self.freq_hz, self.delay_freq_hz)
        return design_fir(grid, self.loss_at(grid), self.delay_at(grid), self.reference_hz)

    #: group delay of the filter where the delay distortion is zero, samples
    delay = BULK_DELAY

    def loss_at(self, freq_hz) -> np.ndarray:
        """The curve's loss at ``freq_hz`` (dB over the reference)."""
        return np.interp(freq_hz, self.freq_hz, self.loss_db)

    def delay_at(self, freq_hz) -> np.ndarray:
        """The curve's delay distortion at ``freq_hz`` (ms over the minimum)."""
        return np.interp(freq_hz, self.delay_freq_hz, self.delay_ms)


def _m1020(factor: float, name: str) -> Channel:
    loss_f, loss = zip(*_M1020_LOSS)
    delay_f, delay = zip(*_M1020_DELAY)
    return Channel(name, tuple(map(float, loss_f)), tuple(v * factor for v in loss),
                   tuple(map(float, delay_f)), tuple(v * factor for v in delay), 800.0,
                   source="ITU-T M.1020 §2.2 Figure 1, §2.3 Figure 2" + (" (twice the limits)" if factor != 1 else ""))


def _v56bis(ad: int, edd: int) -> Channel:
    freqs = tuple(map(float, _FREQS_100))
    return Channel(f"v56bis-ad{ad}-edd{edd}", freqs, V56BIS_AD[ad], freqs, V56BIS_EDD[edd], 1000.0,
                   source=f"ITU-T V.56bis Annex A, AD-{ad} and EDD-{edd}")


CHANNELS: dict[str, Channel] = {"m1020": _m1020(1.0, "m1020"), "m1020x2": _m1020(2.0, "m1020x2")}
CHANNELS.update({c.name: c for c in (_v56bis(a, e) for a in V56BIS_AD for e in V56BIS_EDD)})


def channel(spec) -> Channel:
    """A ``Channel`` from itself or from its name in ``CHANNELS``."""
    if isinstance(spec, Channel):
        return spec
    try:
        return CHANNELS[spec]
    except (KeyError, TypeError):
        raise LineError(f"unknown channel {spec!r}: use a Channel or one of {', '.join(CHANNELS)}") from None


class FirFilter:
    """An FIR filter run block by block with its history carried (float64 in and out)."""

    def __init__(self, taps) -> None:
        self.taps = np.asarray(taps, dtype=np.float64)
        if self.taps.ndim != 1 or self.taps.size == 0 or not np.all(np.isfinite(self.taps)):
            raise LineError("an FIR filter needs a 1-D array of finite taps")
        self._history = np.zeros(self.taps.size - 1)

    def process(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.size == 0:
            return x.copy()
        buf = np.concatenate([self._history, x])
        self._history = buf[buf.size - self._history.size:]
        return np.convolve(buf, self.taps, mode="valid")
