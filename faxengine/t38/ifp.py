"""IFP packets: the Internet Facsimile Protocol of T.38 (T.38 §7, Annex A).

An IFP packet carries one of two things (ASN.1 ``Type-of-msg``):

* a ``t30-indicator``: a signal started on the fax line (CNG, CED, the V.21
  preamble, a high-speed modem's training) or its absence (``no-signal``);
  here ``Indicator(kind)``;
* ``t30-data``: what a modem demodulated, as a list of fields, each a
  ``field-type`` and optional ``field-data`` octets (HDLC frame octets and
  their end with FCS OK/BAD, or non-ECM image data); here
  ``Data(kind, fields)`` with ``Field(kind, data)``.

The three ASN.1 ENUMERATED types are the enums ``T30Indicator``,
``T30Data`` and ``FieldType``: each member's value is the ASN.1 identifier
(``"v17-14400-long-training"``, ``"hdlc-fcs-OK"``), declared in the ASN.1
order, so ``member.index`` is its PER enumeration index.  The first members
are the enumeration root of T.38 (1998); those after the extension marker
(``...``) are the additions of later versions (V.8, V.34, V.33 signals and
the V.34 messages CM, JM, CI and the V.34 rate), ``member.is_extension``.

Field data octets are held as they travel: an HDLC frame's octets between
the flags without the FCS (T.38 §7.4), each octet in line order with the
first bit on the line in its least significant bit, the order of
``faxengine.t30.frames``; non-ECM image data as T.4 octets in that same
line order (T.38 §7.3: "the bit order within each octet ... the first bit
transmitted is the least significant bit").
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

from faxengine.t38.errors import T38Error

MAX_FIELD_DATA = 65535   # field-data OCTET STRING (SIZE(1..65535)), T.38 Annex A


class _Asn1Enumerated(enum.Enum):
    """An ASN.1 ENUMERATED: value = identifier, members in ASN.1 order."""

    @property
    def index(self) -> int:
        """The enumeration index PER encodes: position in the ASN.1 list,
        root then extension additions, counted from 0 (as spandsp's codes)."""
        return _INDEX[self]

    @property
    def is_extension(self) -> bool:
        """True for the values after the ASN.1 extension marker ``...``."""
        return _INDEX[self] >= _ROOT_SIZE[type(self)]

    def __str__(self) -> str:
        return self.value


class T30Indicator(_Asn1Enumerated):
    """``Type-of-msg.t30-indicator`` (T.38 Annex A)."""

    NO_SIGNAL = "no-signal"
    CNG = "cng"
    CED = "ced"
    V21_PREAMBLE = "v21-preamble"
    V27_2400_TRAINING = "v27-2400-training"
    V27_4800_TRAINING = "v27-4800-training"
    V29_7200_TRAINING = "v29-7200-training"
    V29_9600_TRAINING = "v29-9600-training"
    V17_7200_SHORT_TRAINING = "v17-7200-short-training"
    V17_7200_LONG_TRAINING = "v17-7200-long-training"
    V17_9600_SHORT_TRAINING = "v17-9600-short-training"
    V17_9600_LONG_TRAINING = "v17-9600-long-training"
    V17_12000_SHORT_TRAINING = "v17-12000-short-training"
    V17_12000_LONG_TRAINING = "v17-12000-long-training"
    V17_14400_SHORT_TRAINING = "v17-14400-short-training"
    V17_14400_LONG_TRAINING = "v17-14400-long-training"
    # ... extension additions
    V8_ANSAM = "v8-ansam"
    V8_SIGNAL = "v8-signal"
    V34_CNTL_CHANNEL_1200 = "v34-cntl-channel-1200"
    V34_PRI_CHANNEL = "v34-pri-channel"
    V34_CC_RETRAIN = "v34-CC-retrain"
    V33_12000_TRAINING = "v33-12000-training"
    V33_14400_TRAINING = "v33-14400-training"


class T30Data(_Asn1Enumerated):
    """``Type-of-msg.t30-data``: the modem whose output a packet carries."""

    V21 = "v21"
    V27_2400 = "v27-2400"
    V27_4800 = "v27-4800"
    V29_7200 = "v29-7200"
    V29_9600 = "v29-9600"
    V17_7200 = "v17-7200"
    V17_9600 = "v17-9600"
    V17_12000 = "v17-12000"
    V17_14400 = "v17-14400"
    # ... extension additions
    V8 = "v8"
    V34_PRI_RATE = "v34-pri-rate"
    V34_CC_1200 = "v34-CC-1200"
    V34_PRI_CH = "v34-pri-ch"
    V33_12000 = "v33-12000"
    V33_14400 = "v33-14400"


class FieldType(_Asn1Enumerated):
    """``Data-Field.field-type`` (T.38 Annex A, §7.4)."""

    HDLC_DATA = "hdlc-data"
    HDLC_SIG_END = "hdlc-sig-end"
    HDLC_FCS_OK = "hdlc-fcs-OK"
    HDLC_FCS_BAD = "hdlc-fcs-BAD"
    HDLC_FCS_OK_SIG_END = "hdlc-fcs-OK-sig-end"
    HDLC_FCS_BAD_SIG_END = "hdlc-fcs-BAD-sig-end"
    T4_NON_ECM_DATA = "t4-non-ecm-data"
    T4_NON_ECM_SIG_END = "t4-non-ecm-sig-end"
    # ... extension additions (not in the 1998 ASN.1, see ``encode``)
    CM_MESSAGE = "cm-message"
    JM_MESSAGE = "jm-message"
    CI_MESSAGE = "ci-message"
    V34RATE = "v34rate"


_ROOT_SIZE: dict[type, int] = {T30Indicator: 16, T30Data: 9, FieldType: 8}
_INDEX: dict[_Asn1Enumerated, int] = {
    member: i for cls in _ROOT_SIZE for i, member in enumerate(cls)}


def _check_kind(owner: str, kind: object, cls: type) -> None:
    if not isinstance(kind, cls):
        raise T38Error(f"{owner}: kind must be a {cls.__name__}, "
                       f"not {kind!r}; use e.g. {cls.__name__}.{next(iter(cls)).name}")


@dataclass(frozen=True, slots=True)
class Indicator:
    """An IFP indicator packet: ``kind`` began on the fax line (T.38 §7.2)."""

    kind: T30Indicator

    def __post_init__(self) -> None:
        _check_kind("Indicator", self.kind, T30Indicator)

    def __str__(self) -> str:
        return f"indicator {self.kind}"


@dataclass(frozen=True, slots=True)
class Field:
    """One element of an IFP ``data-field``: a field type and its octets.

    ``data`` empty means the optional ``field-data`` is absent (the ASN.1
    allows 1 to 65535 octets when present).  Any bytes-like value is kept
    as ``bytes``.
    """

    kind: FieldType
    data: bytes = b""

    def __post_init__(self) -> None:
        _check_kind("Field", self.kind, FieldType)
        if not isinstance(self.data, bytes):
            if not isinstance(self.data, (bytearray, memoryview)):
                raise T38Error(f"Field: data must be bytes, not "
                               f"{type(self.data).__name__}")
            object.__setattr__(self, "data", bytes(self.data))
        if len(self.data) > MAX_FIELD_DATA:
            raise T38Error(f"Field: {len(self.data)} octets of field-data, "
                           f"T.38 allows at most {MAX_FIELD_DATA}; split the "
                           f"data over several fields or packets")

    def __str__(self) -> str:
        return f"{self.kind}({len(self.data)})" if self.data else str(self.kind)


@dataclass(frozen=True, slots=True)
class Data:
    """An IFP data packet: fields of what modem ``kind`` carried (T.38 §7.3, §7.4).

    ``fields`` is a tuple (a list is accepted and kept as a tuple); empty
    means the packet has no ``data-field``.
    """

    kind: T30Data
    fields: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        _check_kind("Data", self.kind, T30Data)
        if not isinstance(self.fields, tuple):
            if not isinstance(self.fields, list):
                raise T38Error(f"Data: fields must be a tuple of Field, not "
                               f"{type(self.fields).__name__}")
            object.__setattr__(self, "fields", tuple(self.fields))
        for f in self.fields:
            if not isinstance(f, Field):
                raise T38Error(f"Data: fields must be Field objects, not {f!r}")

    def __str__(self) -> str:
        return " ".join([f"data {self.kind}"] + [str(f) for f in self.fields])


IfpPacket = Union[Indicator, Data]
"""An IFP packet: ``IFPPacket`` of T.38 Annex A."""
