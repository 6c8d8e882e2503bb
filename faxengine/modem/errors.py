"""Errors of the modem layer."""
from faxengine.errors import FaxError


class ModemError(FaxError):
    """A modem was asked for something it cannot do (bad rate, bad input)."""
