"""What the user agent tells the application: frozen events (h11's style).

``UserAgent.events()`` returns them in the order they happened.  A call's
life is ``IncomingCall`` (theirs) or ``CallProgress`` (ours ringing), then
``CallEstablished`` with the agreed ``Audio``, perhaps ``CallUpdated`` after
a re-INVITE, and always one ``CallEnded`` at the end.
"""
from __future__ import annotations

from dataclasses import dataclass

from faxengine.media.sip import sdp


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """An INVITE with an offer we can take; ``answer`` or ``reject`` it."""
    call_id: str
    caller: str
    audio: sdp.Audio


@dataclass(frozen=True, slots=True)
class CallProgress:
    """A provisional response (180 Ringing, 183 Session Progress) to our INVITE."""
    call_id: str
    status: int


@dataclass(frozen=True, slots=True)
class CallEstablished:
    """The call is up: send and receive RTP as ``audio`` says."""
    call_id: str
    audio: sdp.Audio


@dataclass(frozen=True, slots=True)
class CallUpdated:
    """A re-INVITE changed the audio stream."""
    call_id: str
    audio: sdp.Audio


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


Event = (IncomingCall | CallProgress | CallEstablished | CallUpdated | CallEnded | Registered
         | RegistrationFailed)
