"""The telephone line model: a chain of impairments applied block by block.

Stages, in the order a call meets them:

1. gain (``gain_db``): loss or gain of the line;
2. carrier offset (``offset_hz``): every frequency moved by the same number of
   hertz (analytic signal by a Hilbert FIR, times exp(j·2π·f·t), real part;
   ``csrc/line_shift.c``), delay 127 samples;
3. clock drift (``drift_ppm``): band-limited resampling by 1 + drift_ppm·1e-6
   (windowed-sinc polyphase interpolator, ``csrc/line_resample.c``), delay 32
   samples.  Positive drift means the receiving side's sample clock runs fast:
   the output has that many more samples per million and every frequency is
   lowered by the same ratio;
4. telephone-band filter (``bandpass``): Butterworth, high-pass of order 4 at
   300 Hz and low-pass of order 6 at 3400 Hz (−3 dB points), or ``(low, high)``
   in hertz; biquads by the bilinear transform, run by ``csrc/line_filter.c``;
5. channel (``channel``): attenuation and envelope-delay distortion at the
   limits of M.1020 or as V.56bis's test channels (``channel.py``), an FIR
   filter with a bulk delay of 160 samples;
6. impulse noise (``impulse_rate_hz``, ``impulse_dbm0``): clicks at random
   times (``impulse.py``), seeded by ``seed``;
7. white Gaussian noise (``noise_dbm0``) over the whole 0–4000 Hz band,
   seeded and deterministic (``csrc/line_noise.c``); the float signal is then
   rounded and saturated to int16;
8. G.711 round trip (``g711`` = 'alaw' or 'ulaw').

The echo of a terminal's own signal at a 2-wire hybrid is not a stage of
this one-way chain: ``faxengine.line.echo.Hybrid`` adds it where a terminal
listens.  Every parameter is checked: NaN, infinite or nonsensical values
raise ``LineError`` rather than silence the line.

Stages left at their neutral value are skipped, so ``Line()`` passes the
signal through unchanged.  Every stage keeps its state across calls of
:meth:`Line.process`, so any split of the input into blocks gives the same
output as one call.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from faxengine.line import _line
from faxengine.g711 import LAWS, g711_roundtrip
from faxengine.levels import SAMPLE_RATE
from faxengine.line.channel import FirFilter, channel as as_channel
from faxengine.line.errors import LineError
from faxengine.line.impulse import ImpulseNoise
from faxengine.line.level import dbm0_to_power, noise_dbm0_for_snr

__all__ = ["Line", "add_noise", "butterworth_sos", "telephone_band_sos", "checked_band", "SAMPLE_RATE"]

#: the largest loss or gain a line may have, dB: 100 dB down, a 0 dBm0 signal is below one LSB
MAX_GAIN_DB = 100.0
#: −3 dB edges of the default telephone-band filter, hertz
TELEPHONE_BAND = (300.0, 3400.0)


def butterworth_sos(order: int, cutoff_hz: float, kind: str, fs: float = SAMPLE_RATE) -> np.ndarray:
    """Second-order sections of a digital Butterworth low- or high-pass filter.

    The analog prototype's pole pairs (Q = 1 / (2 cos θ), θ = (2k+1)π/(2N))
    go through the bilinear transform prewarped at the cut-off, so the
    filter is 3 dB down at ``cutoff_hz``.  Rows are b0 b1 b2 a0 a1 a2, a0 = 1
    (scipy's layout).
    """
    try:
        n = operator.index(order)               # any integer type, never a float
    except TypeError:
        n = None
    if n is None or n < 2 or n % 2:
        raise LineError(f"Butterworth order must be an even integer of at least 2, not {order!r}")
    order = n
    if not 0 < cutoff_hz < fs / 2:        # False for NaN too
        raise LineError(f"cut-off {cutoff_hz} Hz must lie between 0 and {fs / 2:g} Hz")
    if kind not in ("lowpass", "highpass"):
        raise LineError(f"kind must be 'lowpass' or 'highpass', not {kind!r}")
    w0 = 2 * math.pi * cutoff_hz / fs
    cos_w0, sin_w0 = math.cos(w0), math.sin(w0)
    rows = []
    for k in range(order // 2):
        q = 1.0 / (2.0 * math.cos((2 * k + 1) * math.pi / (2 * order)))
        alpha = sin_w0 / (2.0 * q)
        if kind == "lowpass":
            b = ((1 - cos_w0) / 2, 1 - cos_w0, (1 - cos_w0) / 2)
        else:
            b = ((1 + cos_w0) / 2, -(1 + cos_w0), (1 + cos_w0) / 2)
        a0 = 1 + alpha
        rows.append((b[0] / a0, b[1] / a0, b[2] / a0, 1.0, -2 * cos_w0 / a0, (1 - alpha) / a0))
    return np.array(rows, dtype=np.float64)


def checked_band(band) -> tuple[float, float]:
    """``band`` as a ``(low_hz, high_hz)`` pair of floats, 0 < low < high < 4000 Hz.

    Raises:
        LineError: for anything else (one number, three, NaN, low >= high, ...).
    """
    try:
        low, high = (float(v) for v in band)
    except (TypeError, ValueError):
        raise LineError(f"a band is a (low_hz, high_hz) pair, not {band!r}") from None
    if not 0 < low < SAMPLE_RATE / 2 or not 0 < high < SAMPLE_RATE / 2:
        raise LineError(f"band edges {low:g} and {high:g} Hz must lie between 0 and {SAMPLE_RATE // 2} Hz")
    if not low < high:
        raise LineError(f"band ({low:g}, {high:g}) Hz has its low edge at or above its high one: "
                        f"give (low_hz, high_hz)")
    return low, high


def telephone_band_sos(low_hz: float = TELEPHONE_BAND[0], high_hz: float = TELEPHONE_BAND[1]) -> np.ndarray:
    """The telephone-band filter: order-4 high-pass at ``low_hz``, order-6 low-pass at ``high_hz``."""
    low_hz, high_hz = checked_band((low_hz, high_hz))
    return np.vstack([butterworth_sos(4, low_hz, "highpass"), butterworth_sos(6, high_hz, "lowpass")])


def _finite(name: str, value, unit: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LineError(f"{name} must be a number of {unit}, not {value!r}") from None
    if not math.isfinite(v):
        raise LineError(f"{name} must be a finite number of {unit}, not {value!r}: "
                        f"a NaN or infinite value would silence the line")
    return v


class Line:
    """A telephone line: gain, offset, drift, band filter, channel, clicks, noise, G.711.

    Args:
        gain_db: gain of the line in dB (negative for loss).
        offset_hz: carrier frequency offset in hertz.
        drift_ppm: sample clock difference in parts per million (see module doc).
        bandpass: False, True (300–3400 Hz) or a ``(low_hz, high_hz)`` pair.
        g711: None, 'alaw' or 'ulaw'.
        noise_dbm0: level of white Gaussian noise in dBm0, None for none.
        seed: seed of the noise generators (white noise and clicks).
        channel: None, a ``faxengine.line.channel.Channel`` or its name in
            ``CHANNELS`` ('m1020', 'm1020x2', 'v56bis-ad9-edd3', ...).
        impulse_rate_hz: mean clicks of impulse noise per second (0: none).
        impulse_dbm0: peak of each click, as the level of a sine of that peak.

    Raises:
        LineError: for a parameter out of range, NaN or infinite.
    """

    def __init__(self, gain_db: float = 0.0, offset_hz: float = 0.0, drift_ppm: float = 0.0,
                 bandpass=False, g711: str | None = None, noise_dbm0: float | None = None,
                 seed: int = 0, channel=None, impulse_rate_hz: float = 0.0,
                 impulse_dbm0: float = -10.0):
        if g711 is not None and g711 not in LAWS:
            raise LineError(f"g711 must be None, 'alaw' or 'ulaw', not {g711!r}")
        gain_db = _finite("gain_db", gain_db, "dB")
        offset_hz = _finite("offset_hz", offset_hz, "Hz")
        drift_ppm = _finite("drift_ppm", drift_ppm, "ppm")
        if noise_dbm0 is not None:
            noise_dbm0 = _finite("noise_dbm0", noise_dbm0, "dBm0")
        if abs(gain_db) > MAX_GAIN_DB:
            raise LineError(f"gain of {gain_db} dB is out of range: keep it within ±{MAX_GAIN_DB:g} dB "
                            f"(beyond, the line is silent or nothing but clipping)")
        if not -1e5 < drift_ppm < 1e5:
            raise LineError(f"drift of {drift_ppm} ppm is out of range: keep it within ±100 000 ppm")
        if abs(offset_hz) >= SAMPLE_RATE / 2:
            raise LineError(f"carrier offset {offset_hz} Hz must be below {SAMPLE_RATE // 2} Hz")
        self.gain_db = gain_db
        self.offset_hz = offset_hz
        self.drift_ppm = drift_ppm
        self.g711 = g711
        self.noise_dbm0 = noise_dbm0
        self.seed = seed
        self._gain = 10.0 ** (gain_db / 20.0)
        self._shift = _line.Shift(offset_hz, SAMPLE_RATE) if offset_hz else None
        self._resample = _line.Resampler(1.0 + drift_ppm * 1e-6) if drift_ppm else None
        if bandpass is True:
            bandpass = TELEPHONE_BAND
        self.bandpass = checked_band(bandpass) if bandpass is not False and bandpass is not None else None
        self._filter = _line.Biquads(telephone_band_sos(*self.bandpass)) if self.bandpass else None
        self.channel = as_channel(channel) if channel is not None else None
        self._channel = FirFilter(self.channel.taps) if self.channel is not None else None
        # ImpulseNoise checks its own parameters, even when it would add nothing
        impulses = ImpulseNoise(impulse_rate_hz, impulse_dbm0, seed=(seed + 1) & 0xFFFFFFFFFFFFFFFF)
        self._impulses = impulses if impulse_rate_hz > 0 else None
        self._noise = (_line.Noise(seed & 0xFFFFFFFFFFFFFFFF, math.sqrt(dbm0_to_power(noise_dbm0)))
                       if noise_dbm0 is not None else None)
        #: samples clipped at the int16 limits so far
        self.clipped = 0

    @property
    def delay(self) -> int:
        """Samples by which the output lags the input (offset, drift and channel stages)."""
        return ((_line.SHIFT_DELAY if self._shift else 0) + (_line.RESAMPLE_DELAY if self._resample else 0)
                + (self.channel.delay if self.channel is not None else 0))

    def process(self, samples) -> np.ndarray:
        """Pass int16 ``samples`` through the line; returns int16 samples.

        With drift the output may be a sample longer or shorter than the input.
        """
        x = np.asarray(samples)
        if x.ndim != 1 or x.dtype != np.int16:
            raise TypeError(f"the line takes a 1-D int16 array, not {x.ndim}-D {x.dtype}")
        y = x.astype(np.float64)
        if self._gain != 1.0:
            y *= self._gain
        if self._shift is not None:
            y = self._shift.process(y)
        if self._resample is not None:
            y = self._resample.process(y)
        if self._filter is not None:
            y = self._filter.process(y)
        if self._channel is not None:
            y = self._channel.process(y)
        if self._impulses is not None:
            y = self._impulses.process(y)
        if self._noise is not None:
            y = self._noise.process(y)
        out, clipped = _line.to_int16(y)
        self.clipped += clipped
        if self.g711 is not None:
            out = g711_roundtrip(out, self.g711)
        return out

    def flush(self) -> np.ndarray:
        """Push the samples still held by the offset, drift and channel stages out, by feeding silence."""
        return self.process(np.zeros(self.delay, dtype=np.int16))


def add_noise(signal, snr_db: float, seed: int = 0) -> np.ndarray:
    """``signal`` (int16) plus white Gaussian noise at ``snr_db`` (project definition).

    Raises:
        LineError: for a NaN or infinite SNR, or a silent signal.
    """
    snr_db = _finite("snr_db", snr_db, "dB")
    x = np.asarray(signal)
    return Line(noise_dbm0=noise_dbm0_for_snr(x, snr_db), seed=seed).process(x)
