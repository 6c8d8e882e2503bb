"""Who is asking: sessions, CSRF tokens, the login rate limit, API credentials, headers.

* Pages: a session in a signed cookie (Starlette's ``SessionMiddleware``,
  itsdangerous, HttpOnly, SameSite=Lax) holding the account's id, a
  fingerprint of its password hash -- so a password change or reset ends
  the other sessions of the account -- and the session's CSRF token.  Every
  form carries that token in a hidden field ``csrf``; a POST without it, or
  with another, is refused with 403 (OWASP's synchroniser token pattern).
  The login form has one too: the session starts when the form is shown.
* API: HTTP Basic with the account's name (or a registered sender address)
  and password (RFC 7617), or ``Authorization: Bearer <token>`` (RFC 6750)
  with a token made in the settings page (``Store.create_token``: 256
  random bits, only their SHA-256 kept).
* ``LoginLimiter``: after ``max_failures`` failed logins in ``window``
  from one address, or for one name, further attempts are refused (429,
  Retry-After) until the window has passed, so that passwords cannot be
  guessed at the speed of Argon2 on many cores.  It holds at most
  ``max_keys`` entries (the oldest go first): memory stays bounded whatever
  a client sends.
* ``HEADERS``: the response headers of every page (Content-Security-Policy
  without scripts, frame-ancestors 'none', nosniff, no referrer leaving the site).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["HEADERS", "LoginLimiter", "basic_credentials", "bearer_token", "csrf_ok",
           "new_csrf", "password_fingerprint"]

HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(session_token: object, form_token: object) -> bool:
    """The form's token is the session's (compared in constant time)."""
    return isinstance(session_token, str) and isinstance(form_token, str) \
        and bool(session_token) and hmac.compare_digest(session_token.encode(),
                                                         form_token.encode())


def password_fingerprint(password_hash: str) -> str:
    """What a session remembers of the password hash: changes when the password does."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(user, password) of an ``Authorization: Basic`` header (RFC 7617), None if it is not one."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or len(value) > 4096:
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = text.partition(":")
    return (user, password) if colon else None


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer`` header (RFC 6750), None if it is not one."""
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > 200:
        return None
    return value


@dataclass
class LoginLimiter:
    """Failed logins per key (an address, a name) within ``window``; see the module text."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    max_keys: int = 10_000
    _failures: OrderedDict[str, list[datetime]] = field(default_factory=OrderedDict)
    # the routes run in a thread pool: one change at a time
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def retry_after(self, keys: list[str], now: datetime) -> int:
        """Seconds until ``keys`` may try again; 0: they may now."""
        wait = 0.0
        with self._lock:
            for key in keys:
                times = [t for t in self._failures.get(key, ()) if now - t < self.window]
                if len(times) >= self.max_failures:
                    wait = max(wait, (times[0] + self.window - now).total_seconds())
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: list[str], now: datetime) -> None:
        with self._lock:
            for key in keys:
                times = [t for t in self._failures.pop(key, ()) if now - t < self.window]
                self._failures[key] = (times + [now])[-self.max_failures:]
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
