"""Errors of the line models."""
from faxengine.errors import FaxError


class LineError(FaxError, ValueError):
    """A line model was given a parameter it cannot model (NaN, out of range, nonsense)."""
