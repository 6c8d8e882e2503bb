"""faxengine: a Group 3 fax machine in software.

Layers (``shared/design/architecture.md``): ``t4`` image coding and TIFF-F,
``modem`` the softmodems, ``t30`` the fax terminal, ``media`` audio I/O,
``gateway`` mail to fax, ``line`` line impairment models.
"""
from faxengine.errors import FaxError

__version__ = "0.1.0"

__all__ = ["FaxError", "__version__"]
