"""The fax tones: CNG and CED generation, and a detector for CNG, CED and V.21.

T.30 §4.1.1: the calling terminal sends CNG, 1100 Hz, 0.5 s on and 3 s off,
repeated until it hears the called side.  T.30 §4.2 and V.25: the called
terminal answers with CED, 2100 Hz for 2.6 to 4.0 s, after a silence (V.25:
1.8 to 2.5 s after connection), and leaves 75 ± 20 ms of silence before its
first V.21 frame.

:class:`CngTx` and :class:`CedTx` generate these with ``generate(n)``, block
by block.  :class:`ToneDetector` listens to received audio and returns
:class:`ToneEvent` objects: one when a tone has lasted long enough to count
(``end_sample`` None), one when it stops (``end_sample`` set).  It measures
10 ms blocks with the Goertzel algorithm and requires most of a block's
power at the tone's frequency, so speech and the modems' broadband signals
do not trigger it; csrc/tone.h explains the method.  Kinds: ``"CNG"``
(≥ 0.4 s of 1100 Hz), ``"CED"`` (≥ 0.5 s of 2100 Hz), ``"V21"`` (≥ 0.15 s of
V.21 channel 2 signal, e.g. a preamble of flags).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faxengine.levels import SAMPLE_RATE, dbm0_to_power
from faxengine.modem import _tones
from faxengine.modem._common import as_count, as_number, as_samples
from faxengine.modem.errors import ModemError
from faxengine.modem.v21 import sine_amplitude

__all__ = ["CngTx", "CedTx", "ToneDetector", "ToneEvent", "CNG_HZ", "CED_HZ"]

RATE = SAMPLE_RATE
#: T.30 §4.1.1
CNG_HZ = 1100.0
CNG_ON_S = 0.5
CNG_OFF_S = 3.0
#: T.30 §4.2, V.25
CED_HZ = 2100.0


def _samples_of(seconds: float, what: str) -> int:
    if as_number(seconds, what) < 0:
        raise ModemError(f"{what} must not be negative, got {seconds} s")
    return int(round(seconds * RATE))


class CngTx:
    """The calling tone, 1100 Hz 0.5 s on / 3 s off, starting with a burst.

    Args:
        power_dbm0: level of the tone while on.
    """

    def __init__(self, power_dbm0: float = -13.0) -> None:
        self._core = _tones.ToneGenCore(CNG_HZ, sine_amplitude(power_dbm0), 0,
                                        _samples_of(CNG_ON_S, "on"), _samples_of(CNG_OFF_S, "off"), True)

    def generate(self, n: int) -> np.ndarray:
        """The next ``n`` samples of the cadence."""
        return self._core.generate(as_count(n))


class CedTx:
    """The answer tone: silence, 2100 Hz, silence, then nothing more.

    Args:
        power_dbm0: level of the tone.
        duration_s: length of the tone (T.30 §4.2: 2.6 to 4.0 s).
        silence_before_s: silence sent first.  V.25 puts 1.8 to 2.5 s
            between connection and the answer tone; count the time the
            call set-up already took when choosing this.
        silence_after_s: silence after the tone, before the first V.21
            frame (T.30: 75 ± 20 ms).
    """

    def __init__(self, power_dbm0: float = -13.0, duration_s: float = 3.0,
                 silence_before_s: float = 0.2, silence_after_s: float = 0.075) -> None:
        if not 2.6 <= as_number(duration_s, "duration_s") <= 4.0:
            raise ModemError(f"CED lasts 2.6 to 4.0 s (T.30 §4.2), got {duration_s} s")
        self._core = _tones.ToneGenCore(CED_HZ, sine_amplitude(power_dbm0),
                                        _samples_of(silence_before_s, "silence_before_s"),
                                        _samples_of(duration_s, "duration_s"),
                                        _samples_of(silence_after_s, "silence_after_s"), False)

    def generate(self, n: int) -> np.ndarray:
        """The next ``n`` samples (zeros once the tone and its silences are done)."""
        return self._core.generate(as_count(n))

    @property
    def done(self) -> bool:
        """True once the silences and the tone have all been generated."""
        return self._core.done


@dataclass(frozen=True, slots=True)
class ToneEvent:
    """A tone heard: ``kind`` is "CNG", "CED" or "V21"; samples count from the
    detector's first input.  ``end_sample`` is None when the tone has just
    qualified, and one past its last sample when it has stopped."""

    kind: str
    start_sample: int
    end_sample: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _tones.KINDS:
            raise ModemError(f"unknown tone kind {self.kind!r}: use one of {_tones.KINDS}")


class ToneDetector:
    """Detects CNG, CED and V.21 channel 2 signals in received audio.

    Args:
        min_level_dbm0: weakest signal considered (T.30 receivers work to -43 dBm0).
        cng_s, ced_s, v21_s: how long each must last before it is reported.
    """

    def __init__(self, min_level_dbm0: float = -45.0, cng_s: float = 0.4, ced_s: float = 0.5,
                 v21_s: float = 0.15) -> None:
        qualify = tuple(int(round(1000 * as_number(v, what)))
                        for v, what in ((cng_s, "cng_s"), (ced_s, "ced_s"), (v21_s, "v21_s")))
        if min(qualify) < 10:
            raise ModemError("a tone must last at least 10 ms to be detected")
        self._core = _tones.ToneDetCore(dbm0_to_power(as_number(min_level_dbm0, "min_level_dbm0")), qualify)

    def process(self, samples) -> list[ToneEvent]:
        """Feed int16 samples; the events they complete, in order."""
        return [ToneEvent(kind, start, end) for kind, _, start, end in self._core.process(as_samples(samples))]

    @property
    def present(self) -> frozenset[str]:
        """The kinds reported and not yet stopped."""
        return frozenset(k for i, k in enumerate(_tones.KINDS) if self._core.present(i))
