"""What the user agent tells the application: frozen events (h11's style).

``UserAgent.events()`` returns them in the order they happened.  A call's
life is ``IncomingCall`` (theirs) or ``CallProgress`` (ours ringing), then
``CallEstablished`` with the agreed ``Audio`` (or ``Image``: T.38), perhaps
``CallUpdated`` after a re-INVITE (``image`` set: the call is T.38 from
now on) or ``ReinviteRefused`` when the peer declined ours (the call goes
on as it was), and always one ``CallEnded`` at the end.
"""
from __future__ import annotations

from dataclasses import dataclass

from faxengine.media.sip import sdp


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """An INVITE with an offer we can take; ``answer`` or ``reject`` it.
    ``audio`` is None when it offers only T.38 (``image``)."""
    call_id: str
    caller: str
    audio: sdp.Audio | None
    image: sdp.Image | None = None


@dataclass(frozen=True, slots=True)
class CallProgress:
    """A provisional response (180 Ringing, 183 Session Progress) to our INVITE."""
    call_id: str
    status: int


@dataclass(frozen=True, slots=True)
class CallEstablished:
    """The call is up: send and receive RTP as ``audio`` says, or UDPTL as
    ``image`` does (then ``audio`` is None)."""
    call_id: str
    audio: sdp.Audio | None
    image: sdp.Image | None = None


@dataclass(frozen=True, slots=True)
class CallUpdated:
    """A re-INVITE changed the stream: the new ``audio``, or T.38 (``image``)."""
    call_id: str
    audio: sdp.Audio | None
    image: sdp.Image | None = None


@dataclass(frozen=True, slots=True)
class ReinviteRefused:
    """Our re-INVITE was declined (488 Not Acceptable Here, 491, a timeout...)
    or answered without the stream we offered: the call goes on unchanged."""
    call_id: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over: ``status`` 200 after BYE, else the final status that ended it."""
    call_id: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Registered:
    """The registrar bound our Contact for ``expires`` seconds (0: unbound)."""
    expires: int


@dataclass(frozen=True, slots=True)
class RegistrationFailed:
    status: int
    reason: str


Event = (IncomingCall | CallProgress | CallEstablished | CallUpdated | ReinviteRefused
         | CallEnded | Registered | RegistrationFailed)
