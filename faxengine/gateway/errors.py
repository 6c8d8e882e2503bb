"""Errors of the gateway layer.

What is wrong with a *request* is not an exception: the parser
(``faxengine.gateway.mail``) never raises on what a mail contains; it
returns the request with a ``Refusal`` or per-destination errors, which
become error result mails.  Exceptions here are for this program's side:

* ``GatewayConfigError``: a setting the gateway cannot work with (a retry
  count outside 0-3, a template naming a field that does not exist, a
  charset other than ISO-2022-JP or UTF-8).  The message names the key and
  what it may be.
* ``JobStateError``: a job was asked for a step its life cycle does not
  have (finishing a job that was never claimed).  Fix the caller.
"""
from __future__ import annotations

from faxengine.errors import FaxError

__all__ = ["GatewayError", "GatewayConfigError", "JobStateError"]


class GatewayError(FaxError, ValueError):
    """Base class of every error the gateway raises."""


class GatewayConfigError(GatewayError):
    """A gateway setting is outside what it may be."""


class JobStateError(GatewayError):
    """A job was asked for a step its life cycle does not allow."""
