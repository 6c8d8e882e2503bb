"""SIP messages as octets (RFC 3261 §7, §20, §25), with the few header values the
user agent reads (Via, CSeq, name-addr, URI) parsed into small frozen types.

A message is a start line, headers and a body::

    INVITE sip:fax@192.0.2.1 SIP/2.0          |  SIP/2.0 200 OK
    Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK..;rport
    ...                                         (one blank line)
    v=0 ...                                     (the body, Content-Length octets)

* Header names are case-insensitive and have compact forms (§7.3.3:
  ``v`` Via, ``f`` From, ``t`` To, ``i`` Call-ID, ``m`` Contact, ``l``
  Content-Length, ``c`` Content-Type, ``k`` Supported...); they are kept as
  written with the long name used for lookup.  Lines starting with white
  space continue the previous header (§7.3.1, obsolete but legal).
* Headers that are comma-separated lists (Via, Route, Record-Route, Contact,
  Require, Supported, Allow...) may come as one line or many; ``get_all``
  returns the elements either way.
* Over UDP the body ends at the datagram's end; Content-Length shorter than
  that cuts the body, longer makes the datagram invalid (§18.3).
* Unknown headers and methods are kept, not rejected: the user agent decides
  (501 for a method it does not know, 420 for a ``Require`` it lacks).

``parse`` raises ``SipParseError`` with the exact fault; when the start line
and headers parsed but a value the stack needs is wrong or missing, the
error's ``partial`` holds the request so that a 400 can be made for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from faxengine.media.sip.errors import SipLocalError, SipParseError

VERSION = "SIP/2.0"
MAX_DATAGRAM = 65507                       # IPv4 UDP payload limit
BRANCH_MAGIC = "z9hG4bK"                   # RFC 3261 §8.1.1.7

COMPACT = {"v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact",
           "l": "Content-Length", "c": "Content-Type", "k": "Supported", "s": "Subject",
           "e": "Content-Encoding", "o": "Event", "r": "Refer-To", "u": "Allow-Events"}
_CANONICAL = {n.lower(): n for n in (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Content-Length",
    "Content-Type", "Route", "Record-Route", "Require", "Supported", "Unsupported",
    "Allow", "Accept", "Expires", "User-Agent", "Server", "WWW-Authenticate",
    "Authorization", "Proxy-Authenticate", "Proxy-Authorization", "Retry-After", "Subject",
    "Content-Encoding", "Event", "Refer-To", "Allow-Events", "Proxy-Require", "Warning")}
LIST_HEADERS = frozenset(n.lower() for n in (
    "Via", "Route", "Record-Route", "Contact", "Require", "Supported", "Unsupported",
    "Allow", "Accept", "Proxy-Require"))
REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")          # §8.1.1

REASONS = {100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 407: "Proxy Authentication Required",
           408: "Request Timeout", 415: "Unsupported Media Type", 420: "Bad Extension",
           481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 486: "Busy Here",
           487: "Request Terminated", 488: "Not Acceptable Here",
           491: "Request Pending", 500: "Server Internal Error", 501: "Not Implemented",
           503: "Service Unavailable", 603: "Decline"}

_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+\Z")
_REQUEST_LINE = re.compile(r"([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP/2\.0\Z")
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6]\d\d) ?(.*)\Z")


def canonical(name: str) -> str:
    """A header name's long form, case as RFC 3261 writes it."""
    low = name.strip().lower()
    if low in COMPACT:
        return COMPACT[low]
    return _CANONICAL.get(low, name.strip())


def _key(name: str) -> str:
    return canonical(name).lower()


def split_list(value: str) -> list[str]:
    """A header value's comma-separated elements; commas in quotes or <> kept."""
    items, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            items.append(value[start:i].strip())
            start = i + 1
    items.append(value[start:].strip())
    return [it for it in items if it]


def parse_params(text: str) -> dict[str, str | None]:
    """``;a=1;b`` -> {"a": "1", "b": None}; names lower-cased, quotes kept."""
    params: dict[str, str | None] = {}
    for part in text.split(";"):
        part = part.strip()
        if part:
            name, eq, value = part.partition("=")
            params[name.strip().lower()] = value.strip() if eq else None
    return params


def _format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


@dataclass(frozen=True, slots=True)
class Uri:
    """A SIP URI (§19.1): ``sip:user@host:port;params``."""

    host: str
    user: str = ""
    port: int | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    scheme: str = "sip"

    @classmethod
    def parse(cls, text: str) -> "Uri":
        m = re.fullmatch(r"(sips?):(?:([^@;]*)@)?(\[[0-9A-Fa-f:.]+\]|[^:;?]+)(?::(\d+))?([^?]*)(\?.*)?",
                         text.strip())
        if not m:
            raise SipParseError(f"SIP URI {text.strip()!r} is not sip:user@host[:port]")
        port = int(m.group(4)) if m.group(4) else None
        if port is not None and not 0 < port < 65536:
            raise SipParseError(f"SIP URI {text.strip()!r} has port {port}, outside 1..65535")
        return cls(m.group(3), m.group(2) or "", port,
                   tuple(parse_params(m.group(5)).items()), m.group(1).lower())

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}:{user}{self.host}{port}{_format_params(dict(self.params))}"

    @property
    def address(self) -> tuple[str, int]:
        """Where to send over UDP: host and port (5060 when none is given)."""
        return self.host.strip("[]"), self.port or 5060


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From/To/Contact value (§20.10): ``"name" <uri>;tag=...``."""

    uri: Uri
    display: str = ""
    params: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def parse(cls, text: str) -> "NameAddr":
        text = text.strip()
        m = re.fullmatch(r'(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>(.*)', text)
        if m:
            display = m.group(1) if m.group(1) is not None else (m.group(2) or "").strip()
            uri, rest = m.group(3), m.group(4)
        else:     # addr-spec without <>: parameters after it belong to the header (§20)
            uri, _, rest = text.partition(";")
            rest = ";" + rest if rest else ""
            display = ""
            if "," in uri or "?" in uri or not uri:
                raise SipParseError(f"SIP name-addr {text!r} is not [\"name\"] <uri>")
        return cls(Uri.parse(uri), display, tuple(parse_params(rest).items()))

    @property
    def tag(self) -> str | None:
        return dict(self.params).get("tag")

    def with_tag(self, tag: str) -> "NameAddr":
        return NameAddr(self.uri, self.display, (*[(k, v) for k, v in self.params if k != "tag"],
                                                 ("tag", tag)))

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        return f"{display}<{self.uri}>{_format_params(dict(self.params))}"


@dataclass(frozen=True, slots=True)
class Via:
    """One Via element (§20.42, RFC 3581): ``SIP/2.0/UDP host:port;branch=...``."""

    host: str
    port: int | None
    params: tuple[tuple[str, str | None], ...] = ()
    transport: str = "UDP"

    @classmethod
    def parse(cls, text: str) -> "Via":
        # sent-by is a host name, IPv4 or [IPv6] (§25.1 hostport): anything
        # else (``branch=x`` where the host belongs) is not an address to answer
        m = re.fullmatch(r"SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)"
                         r"(?:\s*:\s*(\d+))?\s*(;.*)?", text.strip(), re.I)
        if not m:
            raise SipParseError(f"SIP Via {text.strip()!r} is not SIP/2.0/transport host[:port]")
        port = int(m.group(3)) if m.group(3) else None
        if port is not None and not 0 < port < 65536:
            raise SipParseError(f"SIP Via {text.strip()!r} has port {port}, outside 1..65535")
        return cls(m.group(2), port, tuple(parse_params(m.group(4) or "").items()),
                   m.group(1).upper())

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)

    def has(self, name: str) -> bool:
        return name in dict(self.params)

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    @property
    def sent_by(self) -> tuple[str, int]:
        return self.host, self.port or 5060

    def with_params(self, **params: str | None) -> "Via":
        merged = dict(self.params)
        merged.update(params)
        return Via(self.host, self.port, tuple(merged.items()), self.transport)

    def __str__(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"SIP/2.0/{self.transport} {self.host}{port}{_format_params(dict(self.params))}"


@dataclass(slots=True)
class Message:
    """Headers and body common to requests and responses."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name``; list headers split into their elements."""
        key = _key(name)
        values = [v for n, v in self.headers if _key(n) == key]
        if key in LIST_HEADERS:
            return [item for v in values for item in split_list(v)]
        return values

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None

    def set(self, name: str, value: str) -> None:
        """Replace every ``name`` header with one, where the first one was."""
        key = _key(name)
        for i, (n, _) in enumerate(self.headers):
            if _key(n) == key:
                self.headers[i] = (canonical(name), value)
                self.headers[i + 1:] = [(n2, v2) for n2, v2 in self.headers[i + 1:]
                                        if _key(n2) != key]
                return
        self.headers.append((canonical(name), value))

    def remove(self, name: str) -> None:
        key = _key(name)
        self.headers = [(n, v) for n, v in self.headers if _key(n) != key]

    @property
    def vias(self) -> list[Via]:
        return [Via.parse(v) for v in self.get_all("Via")]

    @property
    def cseq(self) -> tuple[int, str]:
        value = self.get("CSeq") or ""
        m = re.fullmatch(r"\s*(\d{1,10})\s+(\S+)\s*", value)
        if not m or int(m.group(1)) >= 1 << 31:
            raise SipParseError(f"SIP CSeq {value!r} is not a number below 2**31 and a method")
        return int(m.group(1)), m.group(2)

    @property
    def call_id(self) -> str:
        return self.get("Call-ID") or ""

    @property
    def from_(self) -> NameAddr:
        return NameAddr.parse(self.get("From") or "")

    @property
    def to(self) -> NameAddr:
        return NameAddr.parse(self.get("To") or "")

    def _encode(self, start: str) -> bytes:
        lines = [start] + [f"{n}: {v}" for n, v in self.headers if canonical(n) != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(slots=True)
class Request(Message):
    method: str = "OPTIONS"
    uri: str = ""

    def encode(self) -> bytes:
        return self._encode(f"{self.method} {self.uri} {VERSION}")


@dataclass(slots=True)
class Response(Message):
    status: int = 200
    reason: str = "OK"

    def encode(self) -> bytes:
        return self._encode(f"{VERSION} {self.status} {self.reason}")


def parse(data: bytes) -> Request | Response:
    """One datagram -> request or response.

    Raises:
        SipParseError: the datagram is not a SIP message, or a header the
            stack relies on is missing or malformed (``partial`` then holds
            what parsed).
    """
    if len(data) > MAX_DATAGRAM:
        raise SipParseError(f"SIP datagram of {len(data)} octets exceeds {MAX_DATAGRAM}")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
        if not sep:
            raise SipParseError("SIP message has no blank line after its headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("SIP message headers are not UTF-8") from None
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():        # §7.5: empty lines before a message
        lines.pop(0)
    if not lines:
        raise SipParseError("SIP message is empty")
    start = lines[0]
    message: Request | Response
    if m := _REQUEST_LINE.fullmatch(start):
        message = Request(method=m.group(1), uri=m.group(2))
    elif m := _STATUS_LINE.fullmatch(start):
        status = int(m.group(1))
        message = Response(status=status, reason=m.group(2))
    else:
        raise SipParseError(f"SIP start line {start[:80]!r} is neither a request nor a status line")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            if not headers:
                raise SipParseError("SIP message starts its headers with a continuation line")
            # §7.3.1: a fold is one SP; an empty value before it leaves no leading space
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name.strip()):
            raise SipParseError(f"SIP header line {line[:80]!r} is not name: value")
        headers.append((name.strip(), value.strip()))
    message.headers = headers
    length = message.get("Content-Length")
    if length is not None:
        if not length.isdigit():
            raise SipParseError(f"SIP Content-Length {length!r} is not a number", message)
        if int(length) > len(body):
            raise SipParseError(f"SIP message body is {len(body)} octets, shorter than "
                                f"its Content-Length {length}")
        body = body[:int(length)]
    message.body = bytes(body)
    _check(message)
    return message


def _check(message: Request | Response) -> None:
    """The headers every message must carry, readable (§8.1.1)."""
    missing = [n for n in REQUIRED if message.get(n) is None]
    if missing:
        raise SipParseError(f"SIP message lacks {', '.join(missing)}", message)
    try:
        number, method = message.cseq
        message.vias, message.from_, message.to
    except SipParseError as e:
        raise SipParseError(str(e), message) from None
    if isinstance(message, Request) and method != message.method:
        raise SipParseError(f"SIP CSeq method {method} differs from the request's "
                            f"{message.method}", message)


def make_response(request: Request, status: int, reason: str | None = None,
                  to_tag: str | None = None) -> Response:
    """A response to ``request`` (§8.2.6.2): Via, From, Call-ID, CSeq copied, To tagged."""
    if not 100 <= status <= 699:
        raise SipLocalError(f"SIP status must be 100..699, not {status}")
    headers = [(canonical(n), v) for n, v in request.headers
               if canonical(n) in ("Via", "From", "Call-ID", "CSeq", "Record-Route")]
    to = request.get("To") or ""
    if to_tag and status != 100 and request.to.tag is None:
        to = str(request.to.with_tag(to_tag))
    headers.insert(1 + sum(1 for n, _ in headers if n == "Via") - 1, ("To", to))
    return Response(headers=headers, status=status,
                    reason=reason if reason is not None else REASONS.get(status, "Unknown"))
