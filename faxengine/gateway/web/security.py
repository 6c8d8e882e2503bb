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
  a client sends.  ``SharedLoginLimiter`` keeps the same counts in an
  SQLite file, for the processes of ``[web] workers`` (``web.workers``):
  an attacker whose connections land on different processes still gets
  ``max_failures`` tries in all, not that many per process.
* ``HEADERS``: the response headers of every page (Content-Security-Policy
  without scripts, frame-ancestors 'none', nosniff, no referrer leaving the site).
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import math
import secrets
import sqlite3
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

__all__ = ["HEADERS", "LoginLimiter", "RememberingSigner", "SharedLoginLimiter",
           "basic_credentials", "bearer_token", "csrf_ok",
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


class RememberingSigner:
    """itsdangerous' ``TimestampSigner`` for the session cookie, remembering the cookies
    it has verified: the same cookie again costs a dictionary look-up, not an HMAC.
    Only a cookie whose signature verified is remembered (by its exact bytes), and
    its age is checked against ``max_age`` at every use, as ``unsign`` does."""

    def __init__(self, signer, size: int = 4096) -> None:
        self.signer = signer
        self.size = size
        self._verified: OrderedDict[bytes, tuple[bytes, int]] = OrderedDict()
        self._lock = threading.Lock()

    def sign(self, value):
        return self.signer.sign(value)

    def signed_at(self, value: bytes) -> int | None:
        """When the remembered cookie ``value`` was signed (POSIX seconds), None if unknown."""
        with self._lock:
            known = self._verified.get(value)
        return None if known is None else known[1]

    def unsign(self, value: bytes, max_age: int | None = None) -> bytes:
        from itsdangerous import SignatureExpired
        with self._lock:
            known = self._verified.get(value)
        if known is None:
            payload, signed = self.signer.unsign(value, max_age=max_age, return_timestamp=True)
            known = payload, int(signed.timestamp())
            with self._lock:
                self._verified[value] = known
                while len(self._verified) > self.size:
                    self._verified.popitem(last=False)
        age = self.signer.get_timestamp() - known[1]
        if max_age is not None and (age > max_age or age < 0):
            raise SignatureExpired(f"Signature age {age} > {max_age} seconds")
        return known[0]


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


class SharedLoginLimiter(LoginLimiter):
    """``LoginLimiter`` whose failures live in the SQLite file ``path``, shared by the
    processes that open it (each failure a row: key, time in POSIX seconds).  The
    file is the web's own, not the store: a few rows, written only on a failed login."""

    def __init__(self, path: Path, max_failures: int = 5,
                 window: timedelta = timedelta(minutes=15), max_keys: int = 10_000) -> None:
        super().__init__(max_failures, window, max_keys)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
        with self._lock:
            self._prepare(self._db)

    @classmethod
    def prepare(cls, path: Path) -> None:
        """Make the file ready (WAL, the table) once, before the processes that share
        it start: switching a file to WAL needs it alone, and two workers doing it at
        the same moment got "database is locked" at once, whatever the timeout."""
        with contextlib.closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as db:
            cls._prepare(db)

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> None:
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at REAL NOT NULL)")
        db.execute("CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at)")

    @contextmanager
    def _file(self):
        """The file, one thread at a time; its failure a StoreError (a 503 page)."""
        from faxengine.gateway.store import StoreError
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(f"the login counts in {self.path}: {exc}; check that the "
                                 f"file can be written") from exc

    def retry_after(self, keys: list[str], now: datetime) -> int:
        start, wait = (now - self.window).timestamp(), 0.0
        with self._file():
            for key in keys:
                times = [t for (t,) in self._db.execute(
                    "SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at",
                    (key, start))]
                if len(times) >= self.max_failures:
                    first = times[-self.max_failures]
                    wait = max(wait, first + self.window.total_seconds() - now.timestamp())
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: list[str], now: datetime) -> None:
        with self._file():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM login_failures WHERE at <= ?",
                                 ((now - self.window).timestamp(),))
                self._db.executemany("INSERT INTO login_failures VALUES (?, ?)",
                                     [(key, now.timestamp()) for key in keys])
                # bounded whatever a client sends: the newest rows stay
                self._db.execute("DELETE FROM login_failures WHERE rowid NOT IN (SELECT rowid "
                                 "FROM login_failures ORDER BY at DESC LIMIT ?)",
                                 (self.max_keys * self.max_failures,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def succeeded(self, keys: list[str]) -> None:
        with self._file():
            self._db.executemany("DELETE FROM login_failures WHERE key = ?",
                                 [(key,) for key in keys])
