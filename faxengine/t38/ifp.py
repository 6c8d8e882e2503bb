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
the flags without the FCS (T.38 §7.4), and non-ECM image data as T.4
octets, each octet with the first bit on the line in its *most* significant
bit, as spandsp's T.38 terminal sends and expects them (the T.38 terminal
proves it in calls with it): T.4 octets as ``faxengine.t4`` codes them, T.30
frames (``faxengine.t30.frames`` keeps the first bit in the LSB) bit-reversed.
This module only carries the octets; it never reorders bits.

Encoding (``encode``/``decode``): ALIGNED PER (``faxengine.t38.per``) of
``IFPPacket``, as spandsp's ``t38_core`` puts it on the wire::

    IFPPacket ::= SEQUENCE { type-of-msg Type-of-msg, data-field Data-Field OPTIONAL }
    Type-of-msg ::= CHOICE { t30-indicator ENUMERATED {...}, t30-data ENUMERATED {...} }
    Data-Field ::= SEQUENCE OF SEQUENCE {
        field-type ENUMERATED {...},
        field-data OCTET STRING (SIZE(1..65535)) OPTIONAL }

so an indicator is one octet ``0 0 0 iiii 0`` (two octets for the extension
additions) and a data packet ``1 1 0 dddd 0``, a count octet, then per field a
presence bit, the field type, and when present a two-octet length - 1 and the
octets.  The version (``T38FaxVersion`` of the SDP, 0 to 3) changes one
thing: version 0 encodes ``field-type`` with the T.38 (1998) notation of
Annex A.2, which has no extension marker (three bits, no CM/JM/CI/V.34-rate
fields), versions 1 to 3 with the later notation of Annex A.1 (an extension
bit, then three bits).  The extension additions of ``t30-indicator`` and
``t30-data`` (V.8, V.34, V.33) are sent only from version 1, as spandsp
does, and decoded in every version.

A field without ``field-data`` takes no whole octet: the next field's bits
follow in the same octet, as PER says (X.691 §10.1) and as Wireshark's
T.38 dissector decodes.  spandsp 0.0.6 differs from PER in two corners that
its own terminal never reaches (docs/t38.md, "spandsp"): it starts every
field of versions 1-3 on an octet boundary, and it encodes the extension
field types one bit to the right.  ``encode`` never produces either corner
for the packets a T.30 terminal sends (a field without data is the last).
"""
from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Union

from faxengine.t38.errors import T38Error
from faxengine.t38.per import BitReader, BitWriter

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


VERSIONS = (0, 1, 2, 3)   # T38FaxVersion (T.38 Annex D); 0 is T.38 (1998)

_BY_INDEX: dict[type, tuple] = {cls: tuple(cls) for cls in _ROOT_SIZE}


def _check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) \
            or version not in VERSIONS:
        raise T38Error(f"T.38 version must be one of {VERSIONS} "
                       f"(the SDP T38FaxVersion), not {version!r}")
    return version


def _put_enumerated(w: BitWriter, value: _Asn1Enumerated, version: int,
                    extensible: bool = True) -> None:
    """An ENUMERATED (X.691 §13): [extension bit] root index in 4 bits (3 for
    field-type), or extension bit 1 and a normally small number."""
    cls = type(value)
    if not value.is_extension:
        if extensible:
            w.bits(0, 1)
        w.bits(value.index, 3 if cls is FieldType else 4)
        return
    if not extensible or version == 0:
        raise T38Error(f"{cls.__name__} {value} is an addition of a later "
                       f"T.38 version; version {version} cannot carry it "
                       f"(negotiate T38FaxVersion 1 or later)")
    w.bits(1, 1)
    w.small_number(value.index - _ROOT_SIZE[cls])


def _get_enumerated(r: BitReader, cls: type, extensible: bool = True):
    name = _ASN1_NAME[cls]
    if extensible and r.bits(1, name):
        index = _ROOT_SIZE[cls] + r.small_number(name)
        what = "extension value"
    else:
        index = r.bits(3 if cls is FieldType else 4, name)
        what = "value"
    members = _BY_INDEX[cls]
    if index >= len(members) or (what == "value" and index >= _ROOT_SIZE[cls]):
        raise r.error(f"unknown {name} {what} {index}")
    return members[index]


_ASN1_NAME = {T30Indicator: "t30-indicator", T30Data: "t30-data",
              FieldType: "field-type"}


def encode(packet: IfpPacket, version: int) -> bytes:
    """The octets of an IFP packet, ALIGNED PER, for a peer of ``version``.

    Args:
        packet: an ``Indicator`` or a ``Data``.
        version: the negotiated ``T38FaxVersion``, 0 to 3.

    Returns:
        The encoded ``IFPPacket``: what goes in a UDPTL ``primary-ifp-packet``.

    Raises:
        T38Error: not an IFP packet, a bad version, a value the version
            cannot carry (V.34 additions in version 0), or more than 16383
            fields.
    """
    version = _check_version(version)
    w = BitWriter()
    if isinstance(packet, Indicator):
        w.bits(0b00, 2)                 # no data-field; CHOICE t30-indicator
        _put_enumerated(w, packet.kind, version)
        return w.getvalue()
    if not isinstance(packet, Data):
        raise T38Error(f"encode: not an IFP packet (Indicator or Data): "
                       f"{packet!r}")
    fields = packet.fields
    w.bits(1 if fields else 0, 1)       # data-field present
    w.bits(1, 1)                        # CHOICE t30-data
    _put_enumerated(w, packet.kind, version)
    if fields:
        w.length(len(fields), "data-field: number of fields")
        for f in fields:
            w.bits(1 if f.data else 0, 1)
            _put_enumerated(w, f.kind, version, extensible=version != 0)
            if f.data:
                w.align()
                w.bits(len(f.data) - 1, 16)
                w.octets(f.data)
    return w.getvalue()


@functools.lru_cache(maxsize=256)
def _field_names(i: int) -> tuple[str, str, str]:
    """What the decoder calls field ``i``'s parts in its messages (made once)."""
    return f"field {i} presence", f"field {i} length", f"field {i}"


def decode(data: bytes, version: int, *, padded: bool = False) -> IfpPacket:
    """An IFP packet from its octets; total: any input gives a packet or
    a ``T38Error``.

    Args:
        data: the octets of one ``IFPPacket`` (a UDPTL primary or secondary).
        version: the negotiated ``T38FaxVersion``, 0 to 3.
        padded: accept zero octets after the packet (a packet rebuilt from
            UDPTL parity FEC is as long as the longest packet it covered).

    Raises:
        T38Error: the octets are not an IFP packet: empty, truncated, an
            unknown enumeration value, an indicator with a data-field,
            octets left over.
    """
    version = _check_version(version)
    r = BitReader.of(data, "IFP packet")
    has_data_field = r.bits(1, "data-field presence")
    packet: IfpPacket
    if r.bits(1, "type-of-msg") == 0:
        kind = _get_enumerated(r, T30Indicator)
        if has_data_field:
            raise r.error(f"indicator {kind} with a data-field")
        packet = Indicator(kind)
    else:
        kind = _get_enumerated(r, T30Data)
        fields: list[Field] = []
        if has_data_field:
            for i in range(r.length("data-field")):
                names = _field_names(i)
                present = r.bits(1, names[0])
                ftype = _get_enumerated(r, FieldType, extensible=version != 0)
                octets = b""
                if present:
                    r.align()
                    n = r.bits(16, names[1]) + 1
                    octets = r.octets(n, f"{names[2]} ({ftype})")
                fields.append(Field(ftype, octets))
        packet = Data(kind, tuple(fields))
    r.align()
    rest = r.data[r.pos >> 3:]
    if rest and not (padded and not any(rest)):
        raise T38Error(f"IFP packet: {len(rest)} octet(s) after the end of "
                       f"{packet}")
    return packet
