"""Errors of the T.38 layer (IFP packets, UDPTL, SDP attributes).

``T38Error`` is both a ``faxengine.FaxError`` (so a caller can catch every
layer at once) and a ``ValueError`` (a packet or attribute that does not
parse is a bad value).  Decoders raise nothing else on any input: garbage
bytes from the network become a ``T38Error`` whose message says what was
wrong, never a traceback from deep inside the parser.
"""
from __future__ import annotations

from faxengine.errors import FaxError


class T38Error(FaxError, ValueError):
    """A T.38 packet, datagram or SDP attribute that is not valid."""
