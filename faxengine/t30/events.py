"""What a fax call did, as typed events: ``FaxTerminal.events()``.

As h11's ``Connection.next_event`` does, the terminal reports what happened
as frozen, slotted dataclasses that check themselves when made, so that an
embedding program (a gateway, a GUI, a test) reacts to facts rather than
parsing the trace:

* ``FrameSent`` / ``FrameReceived``: a T.30 control frame, with its name,
  the words of the trace (``trace.describe_frame``) and its octets.  The
  ECM data frames FCD and RCP (up to 256 per block) are not reported; the
  ``PageReceived`` statistics count them.
* ``TrainingResult``: a TCF judged (receiver) or answered with CFR/FTT
  (sender): modem, rate and whether the training was accepted.
* ``PageSent``: the receiver confirmed a page (MCF, RTP; ERR for an ECM page
  given up on with EOR).
* ``PageReceived``: a page confirmed and kept (T.30 §5.3.6.2: MCF, RTP, or
  ERR after EOR), with its image and how clean it came: the non-ECM page's
  bad lines, or the ECM page's block statistics.
* ``CallEnded``: the call's ``Result``; always the last event.

Every event carries ``time_s``: the terminal's line time (samples / 8000)
when it happened.  Events queue in the terminal until ``events()`` takes
them, page images included: a program that receives long documents should
take them as it pumps the call (a page at fine resolution is about 4 MB as
a bool array), even when it also writes them to a file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faxengine.t30.errors import LocalProtocolError
from faxengine.t30.result import Result
from faxengine.t4 import BadLines

__all__ = ["CallEnded", "EcmStats", "Event", "FrameReceived", "FrameSent", "PageReceived",
           "PageSent", "TrainingResult"]


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise LocalProtocolError(f"invalid T.30 event: {what}")


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every terminal event: ``time_s``, line seconds since the call began."""

    time_s: float

    def __post_init__(self) -> None:
        _check(self.time_s >= 0.0, f"time_s must be >= 0, not {self.time_s}")


@dataclass(frozen=True, slots=True)
class _FrameEvent(Event):
    name: str
    words: str
    raw: bytes

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check(bool(self.name), "a frame event needs the frame's name")
        _check(isinstance(self.raw, bytes) and len(self.raw) >= 3,
               "a frame's raw octets are address, control and FCF at least")


@dataclass(frozen=True, slots=True)
class FrameSent(_FrameEvent):
    """A T.30 frame sent: ``name`` (``"DCS"``, ``"PPS"``...), ``words`` (the
    trace's description) and ``raw`` (address, control, FCF, FIF; no FCS)."""


@dataclass(frozen=True, slots=True)
class FrameReceived(_FrameEvent):
    """A T.30 frame received whole (good FCS): as ``FrameSent``."""


@dataclass(frozen=True, slots=True)
class TrainingResult(Event):
    """A training check (TCF, T.30 §5.3.2.2) at ``modem`` ``rate``: ``accepted``
    is True for CFR (the receiver's judgement "good"), False for FTT."""

    modem: str
    rate: int
    accepted: bool

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check(self.rate > 0, f"rate must be positive, not {self.rate}")


@dataclass(frozen=True, slots=True)
class PageSent(Event):
    """Page ``number`` (1-based) was confirmed by the receiver: ``response``
    is ``"MCF"``, ``"RTP"`` or, for an ECM page sent with EOR, ``"ERR"``
    (part of it may be missing)."""

    number: int
    response: str

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check(self.number >= 1, f"page numbers start at 1, not {self.number}")
        _check(self.response in ("MCF", "RTP", "ERR"),
               f"a page is confirmed by MCF, RTP or ERR, not {self.response!r}")


@dataclass(frozen=True, slots=True)
class EcmStats:
    """How an ECM page arrived (T.30 Annex A): ``blocks`` received, ``frames``
    in them, ``ppr`` PPRs sent to ask for missing frames, and ``incomplete``
    when the sender gave up on a block (EOR) and the page lacks data."""

    blocks: int
    frames: int
    ppr: int
    incomplete: bool

    def __post_init__(self) -> None:
        _check(min(self.blocks, self.frames, self.ppr) >= 0,
               "ECM statistics count things: none of them is negative")


@dataclass(frozen=True, slots=True, eq=False)
class PageReceived(Event):
    """Page ``number`` (1-based) received and confirmed.

    ``image`` is the page (2-D bool, True = black), at ``x_res`` by ``y_res``
    dpi; ``bad_lines`` is what the non-ECM page's decoder found (None with
    ECM), ``ecm`` the ECM page's block statistics (None without).  Two
    events are equal only when they are the same event (an array has no
    single truth value to compare by).
    """

    number: int
    image: np.ndarray
    x_res: float
    y_res: float
    bad_lines: BadLines | None = None
    ecm: EcmStats | None = None

    __eq__ = object.__eq__              # by identity: not Event's field-wise comparison
    __hash__ = object.__hash__

    def __post_init__(self) -> None:
        Event.__post_init__(self)
        _check(self.number >= 1, f"page numbers start at 1, not {self.number}")
        _check(isinstance(self.image, np.ndarray) and self.image.ndim == 2
               and self.image.dtype == np.bool_, "a page image is a 2-D bool array")
        _check((self.bad_lines is None) != (self.ecm is None),
               "a page has bad-line counts (non-ECM) or ECM statistics, one of them")


@dataclass(frozen=True, slots=True)
class CallEnded(Event):
    """The call is over: ``result`` says how (``Result.code``, ``.message``...)."""

    result: Result
