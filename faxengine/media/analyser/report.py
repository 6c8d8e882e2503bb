"""What the call analyser found: tones, V.21 frames, high-speed bursts, pages, a verdict.

Plain frozen records; :meth:`Report.to_json` gives the ``--json`` form and
:meth:`Report.lines` the text one, a line per event in time order, frames in
the words of the T.30 trace (``faxengine.t30.trace.describe_frame``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ToneSeen", "FrameSeen", "Burst", "PageSeen", "Report"]


def _round(value: float | None, digits: int = 2) -> float | None:
    """JSON has no inf or NaN: those become None."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


@dataclass(frozen=True, slots=True)
class ToneSeen:
    """A tone (``"CNG"``, ``"CED"``) on ``channel`` from ``start`` to ``end`` s."""

    kind: str
    channel: int
    start: float
    end: float

    def to_json(self) -> dict:
        return {"kind": self.kind, "channel": self.channel, "start": _round(self.start, 3),
                "end": _round(self.end, 3)}


@dataclass(frozen=True, slots=True)
class FrameSeen:
    """A frame with a good FCS: when it ended (s), its name, octets and words,
    and the modem that carried it ("V.21", or the image modem for ECM frames)."""

    time: float
    channel: int
    name: str
    data: bytes
    text: str
    modem: str = "V.21"

    def to_json(self) -> dict:
        return {"time": _round(self.time, 3), "channel": self.channel, "name": self.name,
                "hex": self.data.hex(), "text": self.text, "modem": self.modem}


@dataclass(slots=True)
class Burst:
    """A high-speed transmission: where, which modem (from the DCS or CTC
    before it), what it carried and how it was received.

    ``kind`` is "TCF", "page" (non-ECM image data), "ECM" (HDLC frames) or
    "unknown" (no DCS heard before it: the modem, if any, is the first that
    trained on it, fastest first).  ``level_dbm0`` is its mean power;
    ``snr_db`` that over the channel's noise floor between signals (None on
    a silent floor); ``eq_snr_db`` the receiver's decision SNR at the end
    and ``eq_error`` the equaliser's final mean square error relative to
    the signal (``10 ** (-eq_snr_db / 10)``).
    """

    channel: int
    start: float
    end: float
    modem: str | None = None
    rate: int | None = None
    kind: str = "unknown"
    trained: bool = False
    bits: int = 0
    level_dbm0: float | None = None
    snr_db: float | None = None
    eq_snr_db: float | None = None
    tcf: str | None = None
    ecm_frames: int = 0
    symbols: np.ndarray = field(default_factory=lambda: np.zeros(0, np.complex64), repr=False)

    @property
    def eq_error(self) -> float | None:
        if self.eq_snr_db is None or not self.trained:
            return None
        return 10.0 ** (-self.eq_snr_db / 10.0)

    def describe(self) -> str:
        mode = f"{self.modem} {self.rate}" if self.modem else "modem unknown (no DCS heard)"
        words = [f"{self.kind} burst {self.end - self.start:.2f} s, {mode}"]
        if self.modem:
            words.append(f"{self.bits} bits" if self.trained else "not trained")
        if self.tcf:
            words.append(f"TCF {self.tcf}")
        if self.kind == "ECM":
            words.append(f"{self.ecm_frames} ECM frames")
        if self.level_dbm0 is not None:
            words.append(f"level {self.level_dbm0:.1f} dBm0")
        if self.snr_db is not None:
            words.append(f"SNR {self.snr_db:.1f} dB")
        if self.trained and self.eq_snr_db is not None:
            words.append(f"equaliser error {10 * math.log10(self.eq_error):.1f} dB")
        return ", ".join(words)

    def to_json(self) -> dict:
        return {"channel": self.channel, "start": _round(self.start, 3), "end": _round(self.end, 3),
                "modem": self.modem, "rate": self.rate, "kind": self.kind,
                "trained": self.trained, "bits": self.bits, "level_dbm0": _round(self.level_dbm0),
                "snr_db": _round(self.snr_db), "eq_snr_db": _round(self.eq_snr_db),
                "eq_error": _round(self.eq_error, 5), "tcf": self.tcf,
                "ecm_frames": self.ecm_frames}


@dataclass(slots=True)
class PageSeen:
    """A page decoded: its image, resolution, lines the decoder repaired, and file."""

    image: np.ndarray
    x_res: float
    y_res: float
    ecm: bool
    bad_lines: int = 0
    incomplete: bool = False
    path: str | None = None


@dataclass(slots=True)
class Report:
    """Everything the analyser made of one recording."""

    seconds: float = 0.0
    channels: int = 0
    tones: list[ToneSeen] = field(default_factory=list)
    frames: list[FrameSeen] = field(default_factory=list)
    bursts: list[Burst] = field(default_factory=list)
    pages: list[PageSeen] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    result: str = ""

    def to_json(self) -> dict:
        return {"seconds": _round(self.seconds, 3), "channels": self.channels,
                "tones": [t.to_json() for t in self.tones],
                "frames": [f.to_json() for f in self.frames],
                "bursts": [b.to_json() for b in self.bursts],
                "pages": [p.path for p in self.pages if p.path is not None],
                "notes": list(self.notes), "result": self.result}

    def lines(self) -> list[str]:
        """The call in words, one line per event in time order."""
        stereo = self.channels == 2
        where = (lambda ch: f"ch{ch}  ") if stereo else (lambda ch: "")
        events = [(t.start, f"{where(t.channel)}{t.kind} tone {t.end - t.start:.2f} s")
                  for t in self.tones]
        events += [(f.time, f"{where(f.channel)}{f.text}") for f in self.frames if f.modem == "V.21"]
        events += [(b.start, f"{where(b.channel)}{b.describe()}") for b in self.bursts]
        out = [f"{t:9.3f} s  {text}" for t, text in sorted(events, key=lambda e: e[0])]
        for i, p in enumerate(self.pages, 1):
            out.append(f"page {i}: {p.image.shape[1]} x {p.image.shape[0]}"
                       + (", ECM" if p.ecm else "") + (f", {p.bad_lines} bad lines" if p.bad_lines else "")
                       + (", incomplete" if p.incomplete else "") + (f" -> {p.path}" if p.path else ""))
        out += [f"note: {n}" for n in self.notes]
        out.append(f"result: {self.result}")
        return out
