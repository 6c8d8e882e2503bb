"""T.38: real-time fax over IP.

``ifp``: the IFP packets of T.38 Annex A (indicators and data), their data
model and their ASN.1 PER encoding, versions 0 to 3.  ``errors``: the
layer's exception family, ``T38Error``.
"""
from faxengine.t38.errors import T38Error
from faxengine.t38.ifp import (
    Data,
    Field,
    FieldType,
    IfpPacket,
    Indicator,
    T30Data,
    T30Indicator,
    decode,
    encode,
)

__all__ = [
    "Data",
    "Field",
    "FieldType",
    "IfpPacket",
    "Indicator",
    "T30Data",
    "T30Indicator",
    "T38Error",
    "decode",
    "encode",
]
