"""Synthetic speech for the tests that must not mistake a voice for a fax.

espeak-ng is not on every machine, so running speech is imitated: voiced
syllables from a glottal pulse train through three formant resonators with
a gliding pitch, fricatives and pauses.  Used by the tone detector's tests
(tests/modem) and the terminal's NOT_FAX tests (tests/t30); kept here, on
the path tests/conftest.py sets, so either folder runs on its own.
"""
import numpy as np
from scipy import signal as sps

from faxengine import line

RATE = 8000


def synthetic_speech(seconds, seed, f0=(85.0, 180.0), level=-18.0):
    """Voiced syllables (glottal pulse train through three formant resonators,
    gliding pitch) alternating with fricatives and pauses, like running speech."""
    rng = np.random.default_rng(seed)
    vowels = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480),
              (570, 840, 2410), (660, 1720, 2410), (490, 1350, 1690), (440, 1020, 2240)]
    parts = []
    total = int(seconds * RATE)
    phase = 0.0
    while sum(len(p) for p in parts) < total:
        n = int(rng.uniform(0.08, 0.35) * RATE)
        kind = rng.random()
        if kind < 0.65:
            start, end = rng.uniform(*f0, size=2)
            pitch = np.linspace(start, end, n) * (1 + 0.01 * rng.standard_normal(n))
            phase_track = phase + np.cumsum(pitch / RATE)
            pulses = np.diff(np.floor(phase_track), prepend=np.floor(phase)).astype(float)
            phase = phase_track[-1]
            x = sps.lfilter([1.0], [1.0, -0.95], pulses)       # glottal roll-off
            for formant, bw in zip(vowels[rng.integers(len(vowels))], (80, 100, 140)):
                r = np.exp(-np.pi * bw / RATE)
                x = sps.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * formant / RATE), r * r], x)
            x *= np.hanning(n)
        elif kind < 0.85:
            x = sps.lfilter(*sps.butter(2, 2500, "high", fs=RATE), rng.standard_normal(n)) * 0.2
            x *= np.hanning(n)
        else:
            x = np.zeros(n)
        parts.append(x)
    x = np.concatenate(parts)[:total]
    x *= np.sqrt(line.dbm0_to_power(level) / np.mean(x * x))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)
