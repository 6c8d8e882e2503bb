"""T.38: real-time fax over IP.

``ifp``: the IFP packets of T.38 Annex A (indicators and data), their data
model and their ASN.1 PER encoding, versions 0 to 3.  ``udptl``: IFP packets
in UDP datagrams with redundancy or parity FEC (T.38 §9.1); a sans-I/O
sender and a receiver that reorders, drops duplicates, repairs and reports
losses.  ``terminal``: ``T38Terminal``, the T.30 terminal with IFP packets
in place of modems.  ``transport``: that terminal on a UDP socket in real
time (``UdptlPort``).  ``errors``: the layer's exception family, ``T38Error``.
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
from faxengine.t38.terminal import T38Terminal
from faxengine.t38.udptl import LOST, UdptlReceiver, UdptlSender

__all__ = [
    "Data",
    "Field",
    "FieldType",
    "IfpPacket",
    "Indicator",
    "LOST",
    "T30Data",
    "T30Indicator",
    "T38Error",
    "T38Terminal",
    "UdptlReceiver",
    "UdptlSender",
    "decode",
    "encode",
]
