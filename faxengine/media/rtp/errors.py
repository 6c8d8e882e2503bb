"""Errors of the RTP part of the media layer.

As in the T.30 layer, the exception says whose fault a failure is:

* ``RtpLocalError``: this program asked for something RTP (RFC 3550) or the
  session does not allow (a payload type above 127, a ptime outside
  10–60 ms).  Fix the caller.
* ``RtpPacketError``: a datagram from the far end is not a valid RTP packet
  (RFC 3550 §5.1).  A session drops such a datagram and counts it; it never
  reaches the caller as an exception.
"""
from __future__ import annotations

from faxengine.errors import FaxError


class RtpError(FaxError, ValueError):
    """Base class of every error the RTP code raises."""


class RtpLocalError(RtpError):
    """This side asked for something RTP or the session does not allow."""


class RtpPacketError(RtpError):
    """A datagram is not a valid RTP packet (RFC 3550 §5.1)."""
