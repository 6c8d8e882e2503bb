"""Errors of the SIP part of the media layer.

As in the T.30 layer, the exception says whose fault a failure is:

* ``SipLocalError``: this program asked the SIP stack for something RFC 3261
  or the user agent does not allow (hanging up a call that ended, a
  transport that is not UDP).  Fix the caller.
* ``SipParseError``: a datagram from the far end is not a valid SIP message
  (RFC 3261 §7, §25).  The user agent answers a request it can still
  address with 400 and drops anything else, counted; it never reaches the
  caller as an exception.  ``partial`` holds the request when the start line
  and headers parsed but a header's value is wrong, so a 400 can be made.
* ``SdpError``: a session description is malformed (RFC 4566); answered
  with 400 or 488 in the same way.
"""
from __future__ import annotations

from typing import Any

from faxengine.errors import FaxError


class SipError(FaxError, ValueError):
    """Base class of every error the SIP code raises."""


class SipLocalError(SipError):
    """This side asked for something SIP or the user agent does not allow."""


class SipParseError(SipError):
    """A datagram is not a valid SIP message."""

    def __init__(self, message: str, partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial


class SdpError(SipError):
    """A session description is malformed (RFC 4566 §5)."""
