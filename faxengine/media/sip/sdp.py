"""SDP (RFC 4566) and the offer/answer model (RFC 3264) for G.711 fax calls.

What we offer and accept
------------------------
One audio stream, ``RTP/AVP``, with PCMU (payload type 0) and PCMA (8)
(RFC 3551 Table 4) and telephone-event (RFC 4733, dynamic type, 101 by
default), which we accept and ignore on input.  ``a=ptime`` sets the packet
length we send (10–60 ms accepted; anything else means 20 ms).

* ``offer`` writes our offer: PCMU, PCMA (or the codecs given, in that
  order of preference), telephone-event, ``a=ptime:20``.
* ``answer`` answers an offer (RFC 3264 §6): the first offered codec we know
  (the offerer's preference), telephone-event if offered, every other
  stream (video, ``m=image`` T.38) declined with port 0.  An offer with no
  audio stream we can take raises ``NotAcceptable``: the user agent answers
  488 (so a re-INVITE to T.38 is declined and the audio call goes on, when
  T.38 is off; ``answer_media`` below takes it).
* ``accepted`` reads the answer to our offer into the same ``Audio``.

T.38 (``faxengine.t38.sdp`` has the attributes of T.38 Annex D):

* ``offer_t38`` writes a re-INVITE's offer: one ``m=image <port> udptl t38``
  stream with our attributes, in place of the audio (as Asterisk and
  FreeSWITCH offer it).
* ``answer_media`` answers with T.38 when we take it (``ours`` given) and
  the offer has a T.38 stream: always when it has no audio we take (an
  INVITE offering only ``m=image``, as some trunks send), and first when
  ``prefer_t38`` (a re-INVITE); every other stream declined with port 0.
  Without ``ours`` it is ``answer``: ``m=image`` declined, 488 if nothing else.
* ``accepted_media`` reads the answer to our offer: ``Image`` when it took
  T.38, else ``Audio``.

A payload type is recognised by its ``a=rtpmap`` encoding name when one is
given (``PCMU/8000`` under any number), else by its static number.
Attributes and streams we do not use are kept by the parser.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from faxengine.media.sip.errors import SdpError, SipLocalError
from faxengine.t38 import sdp as t38sdp
from faxengine.t38.errors import T38Error

EVENT_PAYLOAD_TYPE = 101
STATIC = {0: "PCMU", 8: "PCMA"}
LAWS = {"PCMU": "ulaw", "PCMA": "alaw"}
PTIME_MS = (10, 60)
DEFAULT_PTIME_MS = 20
_DIRECTIONS = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
               "inactive": "inactive"}


def _decimal(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true in Python, and ``int("²")`` raises."""
    return text.isascii() and text.isdigit()


class NotAcceptable(SdpError):
    """The offer has no stream we can take (the user agent answers 488)."""


@dataclass(frozen=True, slots=True)
class Media:
    """One ``m=`` line and what belongs to it."""

    kind: str
    port: int
    proto: str
    formats: tuple[str, ...]
    attributes: tuple[tuple[str, str | None], ...] = ()
    connection: str | None = None

    def attribute(self, name: str) -> str | None:
        return next((v for n, v in self.attributes if n == name), None)

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self.attributes)

    def encoding(self, fmt: str) -> str | None:
        """The encoding name of payload type ``fmt`` ("PCMU"), by rtpmap or static number."""
        for n, v in self.attributes:
            # RFC 4566 §6: a=rtpmap:<payload type> <encoding name>/<clock rate>; a
            # value that is blank, or a number alone after a space, names nothing
            parts = (v or "").split(None, 1)
            if n == "rtpmap" and parts and parts[0] == fmt:
                return parts[1].split("/")[0] if len(parts) == 2 else None
        return STATIC.get(int(fmt)) if _decimal(fmt) else None


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A parsed SDP body: origin, session connection, streams."""

    origin: str
    connection: str | None
    media: tuple[Media, ...]


@dataclass(frozen=True, slots=True)
class Audio:
    """The audio stream both sides agreed on."""

    payload_type: int
    law: str
    remote: tuple[str, int]
    ptime_ms: int = DEFAULT_PTIME_MS
    event_payload_type: int | None = None
    direction: str = "sendrecv"


@dataclass(frozen=True, slots=True)
class Image:
    """The T.38 stream both sides agreed on (``m=image <port> udptl t38``).

    ``params`` are the session's (the answer's version, rate management,
    fill bit removal, error correction) with the *peer's* own declarations
    of ``max_datagram`` and ``max_buffer`` (what we may send it)."""

    remote: tuple[str, int]
    params: t38sdp.T38Params


def _address(c: str, where: str) -> str:
    parts = c.split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"SDP {where} c={c!r} is not IN IP4|IP6 address")
    return parts[2].split("/")[0]


def parse(body: bytes) -> SessionDescription:
    """An SDP body -> ``SessionDescription``.

    Raises:
        SdpError: a line is not ``x=value``, ``v`` is not 0, an ``m=`` or ``c=``
            line is malformed, or a stream has no connection address.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SdpError("SDP body is not UTF-8") from None
    origin, connection, media = "", None, []
    current: dict | None = None
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]
    if not lines or lines[0].strip() != "v=0":
        raise SdpError("SDP does not start with v=0")
    for line in lines[1:]:
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise SdpError(f"SDP line {line[:60]!r} is not type=value")
        kind, value = line[0], line[2:].strip()
        if kind == "o":
            origin = value
        elif kind == "c":
            where = "media" if current else "session"
            if current:
                current["connection"] = _address(value, where)
            else:
                connection = _address(value, where)
        elif kind == "m":
            parts = value.split()
            if len(parts) < 4 or not _decimal(parts[1].split("/")[0]):
                raise SdpError(f"SDP m={value!r} is not media port proto formats")
            port = int(parts[1].split("/")[0])
            if port > 65535:
                raise SdpError(f"SDP m={value!r} has port {port}, above 65535")
            current = {"kind": parts[0], "port": port, "proto": parts[2],
                       "formats": tuple(parts[3:]), "attributes": [], "connection": None}
            media.append(current)
        elif kind == "a" and current is not None:
            name, colon, val = value.partition(":")
            current["attributes"].append((name, val if colon else None))
    streams = tuple(Media(m["kind"], m["port"], m["proto"], m["formats"],
                          tuple(m["attributes"]), m["connection"] or connection)
                    for m in media)
    for s in streams:
        if s.port and s.connection is None:
            raise SdpError(f"SDP {s.kind} stream has no c= connection address")
    return SessionDescription(origin, connection, streams)


def _session(address: str, session_id: int, version: int, media_lines: list[str]) -> bytes:
    family = "IP6" if ":" in address else "IP4"
    lines = ["v=0", f"o=faxengine {session_id} {version} IN {family} {address}", "s=faxengine",
             f"c=IN {family} {address}", "t=0 0", *media_lines]
    return ("\r\n".join(lines) + "\r\n").encode()


def _audio_lines(port: int, formats: list[tuple[int, str]], event: int | None,
                 ptime_ms: int, direction: str) -> list[str]:
    pts = [pt for pt, _ in formats] + ([event] if event is not None else [])
    lines = [f"m=audio {port} RTP/AVP {' '.join(map(str, pts))}"]
    lines += [f"a=rtpmap:{pt} {name}/8000" for pt, name in formats]
    if event is not None:
        lines += [f"a=rtpmap:{event} telephone-event/8000", f"a=fmtp:{event} 0-15"]
    return lines + [f"a=ptime:{ptime_ms}", f"a={direction}"]


def offer(address: str, port: int, session_id: int, version: int = 1,
          codecs: tuple[str, ...] = ("PCMU", "PCMA")) -> bytes:
    """Our offer: ``codecs`` in our order of preference (the answerer takes the
    first it knows, RFC 3264 §6.1), telephone-event, 20 ms packets.

    Raises:
        SipLocalError: a codec is not PCMU or PCMA, or none is given.
    """
    numbers = {name: pt for pt, name in STATIC.items()}
    if not codecs or any(c not in numbers for c in codecs):
        raise SipLocalError(f"we offer PCMU and/or PCMA, not {', '.join(codecs) or 'nothing'}")
    return _session(address, session_id, version,
                    _audio_lines(port, [(numbers[c], c) for c in codecs], EVENT_PAYLOAD_TYPE,
                                 DEFAULT_PTIME_MS, "sendrecv"))


def _ptime(media: Media) -> int:
    value = media.attribute("ptime")
    try:
        ms = int(float(value)) if value else DEFAULT_PTIME_MS
    except ValueError:
        return DEFAULT_PTIME_MS
    return ms if PTIME_MS[0] <= ms <= PTIME_MS[1] else DEFAULT_PTIME_MS


def _events(media: Media) -> int | None:
    return next((int(f) for f in media.formats
                 if _decimal(f) and (media.encoding(f) or "").lower() == "telephone-event"), None)


def _audio(media: Media) -> Audio | None:
    """The first codec we know in an audio stream, in the stream's order."""
    if media.kind != "audio" or media.port == 0 or media.proto.upper() != "RTP/AVP":
        return None
    for fmt in media.formats:
        name = media.encoding(fmt) if _decimal(fmt) else None
        if name in LAWS:
            assert media.connection is not None
            direction = next((d for d in _DIRECTIONS if media.has(d)), "sendrecv")
            return Audio(int(fmt), LAWS[name], (media.connection, media.port), _ptime(media),
                         _events(media), direction)
    return None


def answer(offered: SessionDescription, address: str, port: int, session_id: int,
           version: int = 1) -> tuple[bytes, Audio]:
    """Our answer to an offer, and the audio stream it agrees on.

    Raises:
        NotAcceptable: no audio stream with PCMU or PCMA (answer 488).
    """
    chosen: Audio | None = None
    lines: list[str] = []
    for media in offered.media:
        audio = _audio(media) if chosen is None else None
        if audio is None:                      # RFC 3264 §6: decline with port 0
            lines += [f"m={media.kind} 0 {media.proto} {' '.join(media.formats)}"]
            continue
        chosen = audio
        name = "PCMU" if audio.law == "ulaw" else "PCMA"
        lines += _audio_lines(port, [(audio.payload_type, name)], audio.event_payload_type,
                              audio.ptime_ms, _DIRECTIONS[audio.direction])
    if chosen is None:
        kinds = ", ".join(f"m={m.kind} {m.proto}" for m in offered.media) or "no stream"
        raise NotAcceptable(f"SDP offer has no PCMU or PCMA audio stream ({kinds})")
    return _session(address, session_id, version, lines), chosen


def accepted(answered: SessionDescription) -> Audio:
    """The audio stream of the answer to our offer.

    Raises:
        NotAcceptable: the answer declined audio or chose a codec we did not offer.
    """
    for media in answered.media:
        audio = _audio(media)
        if audio is not None:
            return audio
    raise NotAcceptable("SDP answer has no PCMU or PCMA audio stream")


def _t38(media: Media) -> t38sdp.T38Params | None:
    """The T.38 parameters of an active ``m=image udptl t38`` stream; None if
    it is not one, or its attributes are not T.38's."""
    if media.port == 0 or not t38sdp.is_t38_stream(media.kind, media.proto, media.formats):
        return None
    try:
        return t38sdp.parse_attributes(media.attributes)
    except T38Error:
        return None


def offer_t38(address: str, port: int, session_id: int, version: int,
              ours: t38sdp.T38Params) -> bytes:
    """Our T.38 offer (a re-INVITE's): one ``m=image`` stream, our attributes."""
    return _session(address, session_id, version,
                    [t38sdp.media_line(port), *t38sdp.attribute_lines(ours)])


def answer_media(offered: SessionDescription, address: str, rtp_port: int, session_id: int,
                 version: int = 1, *, udptl_port: int | None = None,
                 ours: t38sdp.T38Params | None = None,
                 prefer_t38: bool = False) -> tuple[bytes, Audio | None, Image | None]:
    """Our answer to an offer that may hold T.38 (see the module's docstring):
    (body, audio, None) or (body, None, image).

    Raises:
        NotAcceptable: neither audio we take nor (when ``ours``) T.38 (answer 488).
    """
    t38 = None
    if ours is not None and udptl_port is not None:
        t38 = next(((i, m, p) for i, m in enumerate(offered.media)
                    if (p := _t38(m)) is not None), None)
    if t38 is None or not (prefer_t38 or not any(_audio(m) for m in offered.media)):
        body, audio = answer(offered, address, rtp_port, session_id, version)
        return body, audio, None
    chosen, media, theirs = t38
    agreed = t38sdp.answer_params(theirs, ours)
    lines: list[str] = []
    for i, m in enumerate(offered.media):
        if i != chosen:
            lines.append(f"m={m.kind} 0 {m.proto} {' '.join(m.formats)}")
        else:
            lines += [t38sdp.media_line(udptl_port), *t38sdp.attribute_lines(agreed)]
    assert media.connection is not None
    image = Image((media.connection, media.port),
                  replace(agreed, max_datagram=theirs.max_datagram, max_buffer=theirs.max_buffer))
    return _session(address, session_id, version, lines), None, image


def accepted_media(answered: SessionDescription) -> Audio | Image:
    """The stream the answer to our offer took: T.38 (``Image``) or audio.

    Raises:
        NotAcceptable: it took neither.
    """
    for media in answered.media:
        params = _t38(media)
        if params is not None:
            assert media.connection is not None
            return Image((media.connection, media.port), params)
    return accepted(answered)
