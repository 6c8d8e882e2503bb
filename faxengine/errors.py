"""The root of faxengine's exception family.

Each layer raises its own subclass (``T4Error``, ``ModemError``, ``T30Error``,
...), so a caller can catch one layer's failures or all of them with
``FaxError``.  Messages say what was wrong and, where it helps, what to do.
"""


class FaxError(Exception):
    """Base class of every error faxengine raises on purpose."""
