"""The exceptions of the image coding layer (``faxengine.t4``, ``faxengine.tiff``
builds on them).

:class:`T4Error` is coded data that cannot be decoded; :class:`T4ArgumentError`
is a call the coder cannot honour (a bad width, coding, K, bound or type),
also a ``ValueError`` as such mistakes were before they had a name.  The
compiled coder (``_t4``) raises them too, so nothing from inside it reaches a
caller as a bare ``ValueError`` or ``TypeError``.
"""
from faxengine.errors import FaxError

__all__ = ["T4Error", "T4ArgumentError"]


class T4Error(FaxError):
    """Coded image data that cannot be decoded (corrupt or truncated)."""


class T4ArgumentError(T4Error, ValueError):
    """An argument the T.4/T.6 coder cannot take; the message names it and
    the values allowed."""
