"""faxengine: a Group 3 fax machine in software.

Layers (``shared/design/architecture.md``): ``t4`` image coding and TIFF-F,
``modem`` the softmodems, ``t30`` the fax terminal, ``media`` audio I/O,
``gateway`` mail to fax, ``line`` line impairment models.

``FaxTerminal``, ``Result`` and the T.30 layer's errors load on first use,
so ``import faxengine`` stays cheap for a program that only needs one layer.
What a terminal reports (``FaxTerminal.events()``) is in
``faxengine.t30.events``.
"""
from __future__ import annotations

import importlib

from faxengine.errors import FaxError

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "FaxTerminal": "faxengine.t30.terminal",
    "Result": "faxengine.t30.result",
    "T30Error": "faxengine.t30.errors",
    "LocalProtocolError": "faxengine.t30.errors",
}

__all__ = ["FaxError", "__version__", *_EXPORTS]


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'faxengine' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
