"""Errors of the T.30 layer.

As in h11, the exception says whose fault a failure is:

* ``LocalProtocolError``: this program asked the T.30 layer for something the
  recommendation does not allow (a DCS with MMR but no ECM, a 21-character
  identity, ...).  Fix the caller.
* ``RemoteProtocolError``: the far end sent something malformed or invalid (a
  frame too short to carry an FCF, a DCS selecting a reserved modem code, an
  ECM frame number outside the block).  The terminal answers it as T.30 says
  (CRP, DCN) and records the cause; it is never a crash.
* ``IncompatibleError``: both ends are well behaved but share no mode to
  send this document in (T.30 phase B ends with DCN).

Subclasses name the precise fault so that tests and the trace can tell them
apart.
"""
from __future__ import annotations

from faxengine.errors import FaxError


class T30Error(FaxError):
    """Base class of every error the T.30 layer raises."""


class LocalProtocolError(T30Error, ValueError):
    """This side asked for something T.30 does not allow."""


class RemoteProtocolError(T30Error):
    """The far end sent something malformed or invalid."""


class FrameError(RemoteProtocolError):
    """An HDLC frame's octets do not form a T.30 frame (T.30 §5.3.6)."""


class FacilitiesError(RemoteProtocolError):
    """A DIS, DTC or DCS information field is invalid (T.30 Table 2)."""


class EcmError(RemoteProtocolError):
    """An ECM frame or PPS/PPR field is invalid (T.30 Annex A, T.4 Annex A)."""


class IncompatibleError(T30Error):
    """The two terminals share no mode in which this document can be sent."""
