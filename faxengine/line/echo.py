"""A two-wire hybrid's echo: what a terminal hears of its own signal.

On a 2-wire line both directions share one pair; the hybrid that splits them
onto the 4-wire network is never perfectly balanced, so part of what a
terminal sends comes back to it, after the round trip to the hybrid that
reflects it (a few ms for the local exchange, tens of ms across a network),
weaker by the hybrid's return loss (G.122 asks for an echo loss of at least
6 dB at an international interface; 10 dB or so is typical of a 2-wire
subscriber line).  T.30 terminals are half duplex and must not take their
own echo for the far end's answer.

``Hybrid`` adds to what a terminal hears (``incoming``) its own transmitted
signal (``own``), block by block:

    echo = gain · bandpass(own delayed by delay_ms),  gain = −return_loss_db

The echo path is band-limited and dispersive as a real one is: by default
the line model's telephone-band filter (Butterworth, 300–3400 Hz, about
1 ms of group delay in mid-band on top of ``delay_ms``), or any channel of
``faxengine.line.channel`` (``channel="m1020"``, whose 20 ms bulk delay is
then part of the echo's delay: ``delay_ms`` must be at least that).  The
return loss holds at the filter's reference frequency (1000 Hz for the
Butterworth, the channel's own reference otherwise).  State is carried, so
any split of the input gives the output of one call.

The same model gives listener echo, the far end's signal reflected by the
hybrid at the receiving end and again at the sending end, arriving late on
top of itself: ``Hybrid(2 * return_loss_db, delay_ms).process(x, x)``.
"""
from __future__ import annotations

import math

import numpy as np

from faxengine.levels import SAMPLE_RATE
from faxengine.line import _line
from faxengine.line.channel import FirFilter, channel as as_channel
from faxengine.line.errors import LineError
from faxengine.line.model import checked_band, telephone_band_sos

__all__ = ["Hybrid"]


class Hybrid:
    """The echo of a terminal's own signal, added to what it hears.

    Args:
        return_loss_db: how much weaker the echo is than the signal sent, dB.
        delay_ms: round-trip delay of the echo, ms (rounded to a sample).
        bandpass: ``(low_hz, high_hz)`` of the echo path's Butterworth filter.
        channel: a channel (name or ``Channel``) for the echo path instead.

    Raises:
        LineError: for NaN, infinite or negative values, or a delay shorter
            than the channel's own.
    """

    def __init__(self, return_loss_db: float = 10.0, delay_ms: float = 5.0,
                 bandpass: tuple[float, float] = (300.0, 3400.0), channel=None) -> None:
        if not (math.isfinite(return_loss_db) and return_loss_db >= 0):
            raise LineError(f"return loss must be a finite number of dB >= 0, not {return_loss_db}")
        if not (math.isfinite(delay_ms) and delay_ms >= 0):
            raise LineError(f"echo delay must be a finite number of ms >= 0, not {delay_ms}")
        self.return_loss_db = return_loss_db
        self.delay_ms = delay_ms
        delay = int(round(delay_ms * SAMPLE_RATE / 1000.0))
        if channel is not None:
            ch = as_channel(channel)
            if delay < ch.delay:
                raise LineError(f"echo delay {delay_ms} ms is shorter than channel {ch.name!r}'s own "
                                f"{ch.delay * 1000 / SAMPLE_RATE:g} ms: ask for at least that")
            self._filter = FirFilter(ch.taps)
            delay -= ch.delay
            reference_gain = 1.0
        else:
            sos = telephone_band_sos(*checked_band(bandpass))
            self._filter = _line.Biquads(sos)
            reference_gain = _sos_gain(sos, 1000.0)
        self._gain = 10.0 ** (-return_loss_db / 20.0) / reference_gain
        self._line = np.zeros(delay)                # own signal still on its way back

    def echo(self, own) -> np.ndarray:
        """The echo (float) that ``own`` (int16, the block just sent) gives back."""
        x = np.asarray(own, dtype=np.float64)
        buf = np.concatenate([self._line, x])
        out, self._line = buf[:x.size], buf[x.size:]
        return self._gain * self._filter.process(out)

    def process(self, incoming, own) -> np.ndarray:
        """``incoming`` (int16) plus the echo of ``own`` (int16, the same length); int16."""
        a, b = np.asarray(incoming), np.asarray(own)
        if a.shape != b.shape or a.ndim != 1:
            raise LineError(f"the hybrid takes blocks of the same length, heard and sent, "
                            f"not {a.shape} and {b.shape}")
        out, _ = _line.to_int16(a.astype(np.float64) + self.echo(b))
        return out


def _sos_gain(sos: np.ndarray, freq_hz: float) -> float:
    """|H| of a biquad cascade at ``freq_hz``."""
    z = np.exp(-2j * math.pi * freq_hz / SAMPLE_RATE)
    h = 1.0 + 0j
    for b0, b1, b2, a0, a1, a2 in sos:
        h *= (b0 + b1 * z + b2 * z * z) / (a0 + a1 * z + a2 * z * z)
    return abs(h)
