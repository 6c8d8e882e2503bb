"""The T.30 trace of one call as a timeline: an inline SVG drawn on the server.

The input is an attempt's ``trace``: the terminal's events
(``faxengine.t30.events``) as plain dicts, as the line drivers store them --
``type`` (the event's class name: FrameSent, FrameReceived, TrainingResult,
PageSent, PageReceived, CallEnded), ``time_s`` (line seconds since the call
began) and the event's own fields (``name`` and ``words`` of a frame,
``modem``/``rate``/``accepted`` of a training, ``number``/``response`` of a
page, ``result`` or ``code``/``message`` of the end).  Unknown types and
fields are drawn as far as they can be and never fail: a trace is data from
the database, not a promise.

The drawing: time runs left to right on a labelled axis; the frames this
gateway sent on the upper lane, the frames the far end sent on the lower
one, each a mark with its name (and the decoded words as the mark's
``<title>``, which browsers show on hover); trainings (modem, rate, CFR or
FTT), confirmed pages and the end of the call on the third lane; a failed
call's end is a red line with its result code -- the failure point.  No
script, no external file: the page's Content-Security-Policy allows none.
``steps`` gives the same events as rows of text for the table beside it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Step", "steps", "svg"]

WIDTH = 760
LEFT = 96           # room for the lane names
RIGHT = 40
LANES = {"sent": 58, "received": 118, "call": 178}
HEIGHT = 230
LANE_NAMES = {"sent": "送信 (当方)", "received": "受信 (相手)", "call": "速度・ページ"}
COLOURS = {"sent": "#1f5fa8", "received": "#2e7d32", "call": "#555", "fail": "#c62828"}


@dataclass(frozen=True, slots=True)
class Step:
    """One event of the trace as the page shows it."""

    time_s: float
    lane: str           # "sent", "received" or "call"
    label: str          # short: the frame name, "V.17 14400 CFR", "p1 MCF", the result code
    words: str          # longer: the decoded frame, the result's message
    failure: bool = False


def _kind(event: dict) -> str:
    kind = event.get("type") or event.get("event") or event.get("kind") or ""
    return str(kind).replace("_", "").replace("-", "").lower()


def _time(event: dict) -> float | None:
    t = event.get("time_s", event.get("time"))
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        return None
    return float(t)


def steps(trace: object) -> list[Step]:
    """The events of ``trace`` that can be shown, in time order (anything else is skipped)."""
    if not isinstance(trace, Sequence) or isinstance(trace, (str, bytes)):
        return []
    out: list[Step] = []
    for event in trace[:5000]:
        if not isinstance(event, dict):
            continue
        t, kind = _time(event), _kind(event)
        if t is None:
            continue
        step = _step(kind, t, event)
        if step is not None:
            out.append(step)
    return sorted(out, key=lambda s: s.time_s)


def _text(value: object, limit: int = 300) -> str:
    return "" if value is None else str(value)[:limit]


def _step(kind: str, t: float, e: dict) -> Step | None:
    if kind in ("framesent", "framereceived"):
        lane = "sent" if kind == "framesent" else "received"
        return Step(t, lane, _text(e.get("name"), 12) or "?", _text(e.get("words")))
    if kind == "trainingresult":
        ok = bool(e.get("accepted"))
        label = f"{_text(e.get('modem'), 12)} {_text(e.get('rate'), 6)} {'CFR' if ok else 'FTT'}"
        return Step(t, "call", label.strip(), "トレーニング成功" if ok else "トレーニング失敗 (再トレーニング)",
                    failure=not ok)
    if kind in ("pagesent", "pagereceived"):
        label = f"p{_text(e.get('number'), 4)} {_text(e.get('response'), 4)}".strip()
        return Step(t, "call", label, f"ページ {_text(e.get('number'), 4)} 確認")
    if kind == "callended":
        result = e.get("result") if isinstance(e.get("result"), dict) else e
        code = _text(result.get("code"), 24) or "?"
        return Step(t, "call", code, _text(result.get("message")), failure=code != "OK")
    return None


def _axis_step(span: float) -> float:
    """A round tick interval giving 4 to 10 ticks over ``span`` seconds."""
    for step in (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600):
        if span / step <= 10:
            return step
    return 10 ** math.ceil(math.log10(span / 10))


def svg(trace: object, *, title: str = "") -> str:
    """The timeline of ``trace`` as an ``<svg>`` element (text to put in the page)."""
    events = steps(trace)
    span = max([s.time_s for s in events] + [1.0])
    plot = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return round(LEFT + plot * t / span, 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'class="timeline" role="img" aria-label="{escape(title or "T.30 timeline")}" '
           f'font-family="sans-serif" font-size="11">']
    if title:
        out.append(f"<title>{escape(title)}</title>")
    for lane, y in LANES.items():
        out.append(f'<text x="4" y="{y + 4}" fill="{COLOURS[lane]}">{escape(LANE_NAMES[lane])}</text>')
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" '
                   f'stroke="#ddd" stroke-width="1"/>')
    axis_y = HEIGHT - 22
    out.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#888"/>')
    tick = _axis_step(span)
    for i in range(int(span / tick) + 1):
        t = i * tick
        out.append(f'<line x1="{x(t)}" y1="{axis_y}" x2="{x(t)}" y2="{axis_y + 4}" stroke="#888"/>'
                   f'<text x="{x(t)}" y="{axis_y + 16}" text-anchor="middle" fill="#555">'
                   f'{t:g} s</text>')
    last_x: dict[str, float] = {}      # where the last label of each lane was written
    level: dict[str, int] = {}
    for s in events:
        y = LANES[s.lane]
        # labels closer than a line of text to the one before climb a step, so both read
        near = x(s.time_s) - last_x.get(s.lane, -100.0) < 14
        level[s.lane] = level.get(s.lane, 0) + 1 if near and level.get(s.lane, 0) < 2 else 0
        last_x[s.lane] = x(s.time_s)
        ly = y - 10 - 13 * level[s.lane]
        colour = COLOURS["fail"] if s.failure else COLOURS[s.lane]
        tip = escape(f"{s.time_s:.2f} s {s.label}: {s.words}" if s.words else
                     f"{s.time_s:.2f} s {s.label}")
        if s.lane == "call" and s.failure and s is events[-1]:
            # the failure point: where the call ended, its code written beside the line
            out.append(f'<g class="failure"><title>{tip}</title>'
                       f'<line x1="{x(s.time_s)}" y1="14" x2="{x(s.time_s)}" y2="{axis_y}" '
                       f'stroke="{colour}" stroke-width="2" stroke-dasharray="4 3"/>'
                       f'<text x="{x(s.time_s) - 4}" y="12" text-anchor="end" '
                       f'fill="{colour}" font-weight="bold">{escape(s.label)}</text></g>')
            continue
        out.append(f'<g class="step {s.lane}"><title>{tip}</title>'
                   f'<rect x="{x(s.time_s) - 3}" y="{y - 6}" width="6" height="12" '
                   f'fill="{colour}"/>'
                   f'<text x="{x(s.time_s)}" y="{ly}" fill="{colour}" '
                   f'transform="rotate(-40 {x(s.time_s)} {ly})">{escape(s.label)}</text></g>')
    out.append("</svg>")
    return "".join(out)
