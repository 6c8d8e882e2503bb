"""faxengine.media.sip: a SIP user agent over UDP (RFC 3261), sans-I/O with an asyncio adapter.

* ``message``: requests and responses as octets; Via, CSeq, name-addr, URI.
* ``sdp``: SDP and offer/answer for PCMU, PCMA and telephone-event.
* ``digest``: digest authentication answers for 401 and 407.
* ``states``: the four transaction state machines of RFC 3261 §17 as data.
* ``transaction``: the engine that runs them, with timers A–K.
* ``dialog``: a call's dialog: tags, route set, CSeq.
* ``ua``: the user agent core: commands, calls out, responses, timers;
  ``uas``: its server side (requests in); ``register``: REGISTER bindings;
  ``events``: what it tells the application.
* ``protocol``: the asyncio ``DatagramProtocol`` that owns the socket and the clock.
"""
from faxengine.media.sip.errors import SdpError, SipError, SipLocalError, SipParseError
from faxengine.media.sip.events import (CallEnded, CallEstablished, CallProgress, CallUpdated,
                                        IncomingCall, Registered, RegistrationFailed)
from faxengine.media.sip.ua import UserAgent

__all__ = ["CallEnded", "CallEstablished", "CallProgress", "CallUpdated", "IncomingCall",
           "Registered", "RegistrationFailed", "SdpError", "SipError", "SipLocalError",
           "SipParseError", "UserAgent"]
