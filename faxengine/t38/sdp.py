"""SDP for T.38 over UDPTL: the ``m=image <port> udptl t38`` stream and its
attributes (T.38 Annex D, registered by RFC 4612 as ``image/t38``).

This module works on a stream's attribute list, the
``((name, value or None), ...)`` pairs that ``faxengine.media.sip.sdp``
parses from ``a=name:value`` lines (``value`` is None for a bare
``a=name``), so the SIP layer can use it without this layer knowing SIP:

* ``parse_attributes(attributes) -> T38Params`` reads what a peer offered
  or answered;
* ``make_attributes(params)`` writes ours, in the order T.38 Annex D lists
  them; ``media_line(port)`` is the ``m=`` line;
* ``answer_params(offered, ours)`` is what the answerer puts in its answer
  (T.38 Annex D, negotiation rules below).

The attributes (Annex D.2.3):

==========================  =====================================================
``T38FaxVersion``           0..3; a missing attribute means version 0
``T38MaxBitRate``           fastest modem rate in bit/s (older peers:
                            ``T38FaxMaxRate``), default 14400 here
``T38FaxFillBitRemoval``    boolean: present (or ``:1``) means true
``T38FaxTranscodingMMR``    boolean
``T38FaxTranscodingJBIG``   boolean
``T38FaxRateManagement``    ``localTCF`` or ``transferredTCF`` (the TCF on the wire)
``T38FaxMaxBuffer``         octets of buffer the sender of this SDP has
``T38FaxMaxDatagram``       largest UDPTL datagram the sender of this SDP takes
``T38FaxUdpEC``             ``t38UDPFEC`` or ``t38UDPRedundancy`` (or none)
``T38FaxUdpECDepth``        ``min [max]``: how many redundant packets or FEC
                            words per datagram (T.38 (2010) Annex D)
``T38FaxUdpFECMaxSpan``     the largest FEC span (T.38 (2010) Annex D)
==========================  =====================================================

Negotiation (Annex D.2.3, as Asterisk and FreeSWITCH answer): the answer's
version is at most the offered one and the answer's bit rate at most the
offered; the rate management is the offerer's (an answer must not change
it); fill bit removal and MMR/JBIG transcoding are true in the answer only
if offered and supported; buffer and datagram sizes are each side's own
declaration, not negotiated; the error correction is the offered one if we
support it, else redundancy.  Names are matched without regard to case, as
peers differ.  A value that is not what the attribute takes is a
``T38Error`` that names it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Optional

from faxengine.t38.errors import T38Error
from faxengine.t38.ifp import VERSIONS

RATE_MANAGEMENT = ("localTCF", "transferredTCF")
UDP_EC = ("t38UDPFEC", "t38UDPRedundancy")

Attributes = Iterable[tuple[str, Optional[str]]]


@dataclass(frozen=True, slots=True)
class T38Params:
    """The T.38 attributes of one side's SDP (T.38 Annex D)."""

    version: int = 0
    max_bit_rate: int = 14400
    fill_bit_removal: bool = False
    transcoding_mmr: bool = False
    transcoding_jbig: bool = False
    rate_management: str = "transferredTCF"
    max_buffer: Optional[int] = None
    max_datagram: Optional[int] = None
    udp_ec: Optional[str] = "t38UDPRedundancy"
    ec_depth: Optional[tuple[int, int]] = None
    fec_max_span: Optional[int] = None

    def __post_init__(self) -> None:
        if self.version not in VERSIONS or isinstance(self.version, bool):
            raise T38Error(f"T38FaxVersion must be one of {VERSIONS}, not {self.version!r}")
        if self.rate_management not in RATE_MANAGEMENT:
            raise T38Error(f"T38FaxRateManagement must be localTCF or transferredTCF, "
                           f"not {self.rate_management!r}")
        if self.udp_ec not in UDP_EC + (None,):
            raise T38Error(f"T38FaxUdpEC must be t38UDPFEC or t38UDPRedundancy, "
                           f"not {self.udp_ec!r}")
        for name, value in (("T38MaxBitRate", self.max_bit_rate),
                            ("T38FaxMaxBuffer", self.max_buffer),
                            ("T38FaxMaxDatagram", self.max_datagram),
                            ("T38FaxUdpFECMaxSpan", self.fec_max_span)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value <= 0):
                raise T38Error(f"{name} must be a positive integer, not {value!r}")
        if self.ec_depth is not None:
            d = self.ec_depth
            if not (isinstance(d, tuple) and len(d) == 2
                    and all(isinstance(x, int) and not isinstance(x, bool) for x in d)
                    and 0 <= d[0] <= d[1]):
                raise T38Error(f"T38FaxUdpECDepth must be (min, max) with 0 <= min <= max, "
                               f"not {d!r}")


# the attribute names as T.38 Annex D writes them, by lower case; older names too
_NAMES = {n.lower(): n for n in (
    "T38FaxVersion", "T38MaxBitRate", "T38FaxFillBitRemoval", "T38FaxTranscodingMMR",
    "T38FaxTranscodingJBIG", "T38FaxRateManagement", "T38FaxMaxBuffer", "T38FaxMaxDatagram",
    "T38FaxUdpEC", "T38FaxUdpECDepth", "T38FaxUdpFECMaxSpan")}
_NAMES["t38faxmaxrate"] = "T38MaxBitRate"
_NAMES["t38maxdatagram"] = "T38FaxMaxDatagram"


def _number(name: str, value: Optional[str]) -> int:
    v = (value or "").strip()
    if not (v.isascii() and v.isdigit()) or len(v) > 9:   # "³".isdigit() is True
        raise T38Error(f"SDP a={name} must have a decimal number, not {value!r}")
    return int(v)


def _boolean(name: str, value: Optional[str]) -> bool:
    # bare attribute = true (Annex D); peers also write :1 / :0
    v = None if value is None else value.strip()
    if v in (None, "", "1", "true"):
        return True
    if v in ("0", "false"):
        return False
    raise T38Error(f"SDP a={name} takes no value or 0/1, not {value!r}")


def _choice(name: str, value: Optional[str], allowed: tuple[str, ...]) -> str:
    v = (value or "").strip()
    for a in allowed:
        if v.lower() == a.lower():
            return a
    raise T38Error(f"SDP a={name} must be {' or '.join(allowed)}, not {value!r}")


def parse_attributes(attributes: Attributes) -> T38Params:
    """The T.38 parameters in a stream's attributes; others are ignored.

    Raises:
        T38Error: a T.38 attribute whose value is not what it takes.
    """
    found: dict[str, object] = {}
    ec_seen = False
    for raw_name, value in attributes:
        name = _NAMES.get(str(raw_name).lower())
        if name == "T38FaxVersion":
            version = _number(name, value)
            if version not in VERSIONS:
                raise T38Error(f"SDP a=T38FaxVersion:{version} is not a T.38 version "
                               f"(0 to 3)")
            found["version"] = version
        elif name == "T38MaxBitRate":
            found["max_bit_rate"] = _number(name, value)
        elif name == "T38FaxFillBitRemoval":
            found["fill_bit_removal"] = _boolean(name, value)
        elif name == "T38FaxTranscodingMMR":
            found["transcoding_mmr"] = _boolean(name, value)
        elif name == "T38FaxTranscodingJBIG":
            found["transcoding_jbig"] = _boolean(name, value)
        elif name == "T38FaxRateManagement":
            found["rate_management"] = _choice(name, value, RATE_MANAGEMENT)
        elif name == "T38FaxMaxBuffer":
            found["max_buffer"] = _number(name, value)
        elif name == "T38FaxMaxDatagram":
            found["max_datagram"] = _number(name, value)
        elif name == "T38FaxUdpECDepth":
            parts = (value or "").split()
            if not 1 <= len(parts) <= 2:
                raise T38Error(f"SDP a=T38FaxUdpECDepth must be 'min' or 'min max', "
                               f"not {value!r}")
            low = _number(name, parts[0])
            found["ec_depth"] = (low, _number(name, parts[-1]))
        elif name == "T38FaxUdpFECMaxSpan":
            found["fec_max_span"] = _number(name, value)
        elif name == "T38FaxUdpEC":
            ec_seen = True
            found["udp_ec"] = _choice(name, value, UDP_EC)
    if not ec_seen:
        found["udp_ec"] = None      # no attribute: no error correction offered
    try:
        return T38Params(**found)   # type: ignore[arg-type]
    except T38Error as e:
        raise T38Error(f"SDP: {e}") from None


def make_attributes(params: T38Params) -> list[tuple[str, Optional[str]]]:
    """Our attributes, in T.38 Annex D's order (booleans only when true)."""
    out: list[tuple[str, Optional[str]]] = [
        ("T38FaxVersion", str(params.version)),
        ("T38MaxBitRate", str(params.max_bit_rate)),
    ]
    for name, on in (("T38FaxFillBitRemoval", params.fill_bit_removal),
                     ("T38FaxTranscodingMMR", params.transcoding_mmr),
                     ("T38FaxTranscodingJBIG", params.transcoding_jbig)):
        if on:
            out.append((name, None))
    out.append(("T38FaxRateManagement", params.rate_management))
    if params.max_buffer is not None:
        out.append(("T38FaxMaxBuffer", str(params.max_buffer)))
    if params.max_datagram is not None:
        out.append(("T38FaxMaxDatagram", str(params.max_datagram)))
    if params.udp_ec is not None:
        out.append(("T38FaxUdpEC", params.udp_ec))
    if params.ec_depth is not None:
        low, high = params.ec_depth
        out.append(("T38FaxUdpECDepth", f"{low} {high}" if high != low else str(low)))
    if params.fec_max_span is not None:
        out.append(("T38FaxUdpFECMaxSpan", str(params.fec_max_span)))
    return out


def attribute_lines(params: T38Params) -> list[str]:
    """``make_attributes`` as SDP lines: ``a=T38FaxVersion:0``, ``a=T38FaxFillBitRemoval``."""
    return [f"a={n}" if v is None else f"a={n}:{v}" for n, v in make_attributes(params)]


def media_line(port: int) -> str:
    """The ``m=`` line of a T.38 stream (T.38 Annex D.2.1)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise T38Error(f"SDP m=image: port must be 0..65535, not {port!r}")
    return f"m=image {port} udptl t38"


def is_t38_stream(kind: str, proto: str, formats: Iterable[str]) -> bool:
    """True for ``m=image <port> udptl t38`` (protocol and format in any case)."""
    return kind.lower() == "image" and proto.lower() == "udptl" and \
        any(f.lower() == "t38" for f in formats)


def answer_params(offered: T38Params, ours: T38Params) -> T38Params:
    """What to answer to ``offered`` when we can do ``ours`` (Annex D.2.3)."""
    ec = offered.udp_ec
    if ec == "t38UDPFEC" and ours.udp_ec != "t38UDPFEC":
        ec = "t38UDPRedundancy"     # every UDPTL peer must take redundancy
    return replace(
        ours,
        version=min(offered.version, ours.version),
        max_bit_rate=min(offered.max_bit_rate, ours.max_bit_rate),
        rate_management=offered.rate_management,
        fill_bit_removal=offered.fill_bit_removal and ours.fill_bit_removal,
        transcoding_mmr=offered.transcoding_mmr and ours.transcoding_mmr,
        transcoding_jbig=offered.transcoding_jbig and ours.transcoding_jbig,
        udp_ec=ec,
    )
