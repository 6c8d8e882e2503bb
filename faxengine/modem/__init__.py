"""faxengine.modem: the softmodems of Group 3 fax.

V.21 channel 2 with HDLC framing for T.30 commands and responses, V.27ter,
V.29 and V.17 for image data and TCF, and the CNG/CED tones.  Transmitters
turn ``uint8`` 0/1 bit arrays into int16 samples at 8000 samples/s;
receivers do the reverse, block by block, with state carried across blocks.

Names load on first use, so importing the package stays cheap.
"""
from __future__ import annotations

import importlib

from faxengine.modem.errors import ModemError

# public name -> submodule that defines it
_EXPORTS = {
    "V21Tx": "v21", "V21Rx": "v21",
    "HdlcTx": "hdlc", "HdlcRx": "hdlc",
    "V27terTx": "v27ter", "V27terRx": "v27ter",
    "V29Tx": "v29", "V29Rx": "v29",
    "V17Tx": "v17", "V17Rx": "v17",
    "CngTx": "tones", "CedTx": "tones", "ToneDetector": "tones",
}

__all__ = ["ModemError", *_EXPORTS]


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'faxengine.modem' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"faxengine.modem.{module}"), name)
    globals()[name] = value
    return value
