"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616).

A registrar or proxy challenges a request with 401 (``WWW-Authenticate``)
or 407 (``Proxy-Authenticate``); the user agent sends the request again
with ``Authorization`` or ``Proxy-Authorization`` carrying::

    HA1 = H(username ":" realm ":" password)          (-sess: H(HA1 ":" nonce ":" cnonce))
    HA2 = H(method ":" digest-uri)
    response = H(HA1 ":" nonce ":" nc ":" cnonce ":" "auth" ":" HA2)   with qop=auth
    response = H(HA1 ":" nonce ":" HA2)                                without qop (RFC 2069)

``H`` is MD5, or SHA-256 when the challenge names it (RFC 7616 §3.4).  Only
qop ``auth`` is spoken (the body is not protected); a challenge offering
only ``auth-int`` raises ``SipParseError``, as does one naming another
algorithm, and the user agent then ends the attempt with the challenge's
status.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from faxengine.media.sip.errors import SipParseError

HASHES = {"MD5": hashlib.md5, "MD5-SESS": hashlib.md5,
          "SHA-256": hashlib.sha256, "SHA-256-SESS": hashlib.sha256}
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')


@dataclass(frozen=True, slots=True)
class Challenge:
    """A ``Digest`` challenge from WWW-Authenticate or Proxy-Authenticate."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, value: str) -> "Challenge":
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() != "digest":
            raise SipParseError(f"SIP challenge scheme {scheme!r} is not Digest")
        params = {m.group(1).lower(): m.group(2).strip('"') for m in _PARAM.finditer(rest)}
        if "realm" not in params or "nonce" not in params:
            raise SipParseError("SIP Digest challenge lacks realm or nonce")
        algorithm = params.get("algorithm", "MD5").upper()
        if algorithm not in HASHES:
            raise SipParseError(f"SIP Digest algorithm {algorithm} is not MD5 or SHA-256")
        qop = tuple(q.strip() for q in params.get("qop", "").split(",") if q.strip())
        if qop and "auth" not in qop:
            raise SipParseError(f"SIP Digest qop {','.join(qop)} lacks auth")
        return cls(params["realm"], params["nonce"], algorithm, qop, params.get("opaque"),
                   params.get("stale", "").lower() == "true")


def _h(algorithm: str, text: str) -> str:
    return HASHES[algorithm](text.encode()).hexdigest()


def response(challenge: Challenge, *, username: str, password: str, method: str, uri: str,
             cnonce: str, nc: int = 1) -> str:
    """The ``response`` value for a challenge (RFC 2617 §3.2.2, RFC 7616 §3.4.1)."""
    alg = challenge.algorithm
    ha1 = _h(alg, f"{username}:{challenge.realm}:{password}")
    if alg.endswith("-SESS"):
        ha1 = _h(alg, f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = _h(alg, f"{method}:{uri}")
    if "auth" in challenge.qop:
        return _h(alg, f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
    return _h(alg, f"{ha1}:{challenge.nonce}:{ha2}")


def authorization(challenge: Challenge, *, username: str, password: str, method: str,
                  uri: str, cnonce: str, nc: int = 1) -> str:
    """The Authorization / Proxy-Authorization header value answering ``challenge``."""
    digest = response(challenge, username=username, password=password, method=method,
                      uri=uri, cnonce=cnonce, nc=nc)
    parts = [f'username="{username}"', f'realm="{challenge.realm}"',
             f'nonce="{challenge.nonce}"', f'uri="{uri}"', f'response="{digest}"',
             f"algorithm={challenge.algorithm}"]
    if "auth" in challenge.qop:
        parts += ["qop=auth", f"nc={nc:08x}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)
