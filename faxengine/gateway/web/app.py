"""The web admin and the REST API as one ASGI application (``create_app``).

Served by uvicorn inside the gateway process; the pages are rendered on the
server from Jinja2 templates (Japanese, no JavaScript, one small style
sheet), the API answers JSON.  Both read the store (``faxengine.gateway.store``)
through ``faxengine.gateway.history`` and ``web.accounts``, in FastAPI's
thread pool (the store's calls are synchronous), and send faxes through
``submit``, the gateway's durable accept path that SMTP uses too.  History
pages and session accounts are reused while the store's data version is
unchanged (``web.cache``, ``WebState.history``); the same page asked again
with the same session cookie is answered by ``KeptPages`` before the
session and routing layers.  Several processes may serve one store
(``web.workers``): what they share goes through the database.

Errors: a page answers with a page that says what was wrong; a route under
``/api`` with JSON ``{"error": "..."}`` and the HTTP status; a missing
session redirects to /login, missing API credentials are 401 with a
``WWW-Authenticate`` challenge.  Every response carries the headers of
``security.HEADERS``.
"""
from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import cookie_parser

from faxengine.gateway import history
from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.store import StoreError
from faxengine.gateway.web.cache import DataVersion, Reuse
from faxengine.gateway.web.security import HEADERS, LoginLimiter, RememberingSigner
from faxengine.gateway.web.thumbs import Thumbnails

__all__ = ["WebState", "create_app", "LoginRequired"]

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 12
MAX_UPLOAD = 20 * 1024 * 1024       # the SMTP intake's default max_message_size
DB_SESSIONS = 8
# how long a history page computed at one moment may be shown again (its
# database unchanged): a TIFF link ends with its 264 hours without any write
REUSE_SECONDS = 1


class LoginRequired(Exception):
    """A page was asked for without a session: the answer is a redirect to /login."""

    def __init__(self, next_url: str = "") -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass
class WebState:
    """What every route needs, kept on ``app.state.web``."""

    store: object
    zone: ZoneInfo
    fax_domain: str
    submit: Callable[[bytes, str, list[str]], Awaitable[int]]
    now: Callable[[], datetime]
    templates: Jinja2Templates
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    max_upload: int = MAX_UPLOAD
    thumbs: Thumbnails = field(default_factory=Thumbnails)
    models: object = None           # faxengine.gateway.store: its ORM classes
    # database sessions open at once: fewer than the store's connection pool
    # (5 + 10), so that the thread pool's 40 requests queue here, for as long as
    # it takes, rather than time out in the pool after 30 s
    sessions: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(DB_SESSIONS))
    version: Callable[[], object] = lambda: None    # the store's DataVersion
    signer: RememberingSigner | None = None         # the session cookie's (``Sessions``)
    reuse: Reuse = field(default_factory=Reuse)

    @contextmanager
    def reading(self):
        """A read-only session of the store (``Store.read_session``: never makes a writer wait)."""
        with self.sessions, self.store.read_session() as s:
            yield s

    def history(self, viewer: history.Viewer,
                filters: history.Filters) -> tuple[int, list[history.Record]]:
        """``history.query``'s count and page for ``viewer`` and ``filters``, the same
        answer reused while the store is unchanged, for ``REUSE_SECONDS``."""
        now = self.now()

        def compute():
            with self.reading() as s:
                found = history.query(s, self.models, viewer, filters, self.zone, now)
            return found, now + timedelta(seconds=REUSE_SECONDS)
        return self.reuse.get(("history", viewer, filters), self.version(), now, compute)

    def reused(self, key) -> tuple[bool, object]:
        """(True, the value kept for ``key``) when it is at hand without waiting on the
        database (on SQLite: its version is read in microseconds), else (False, None):
        for async routes, which answer from memory in the event loop and go to the
        thread pool only for the database."""
        if not getattr(self.version, "cheap", False):
            return False, None
        return self.reuse.peek(key, self.version(), self.now())

    def keep_page(self, request, version, now: datetime, body: bytes) -> None:
        """Keep ``body``, the page ``request`` was answered with, for ``KeptPages``:
        only if its session was not changed in this request and its cookie is known
        verified (``RememberingSigner``), until ``REUSE_SECONDS`` or the cookie's end."""
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if not cookie or getattr(request.session, "modified", True):
            return
        signed = self.signer.signed_at(cookie.encode()) if self.signer else None
        if signed is None:
            return
        until = min(now + timedelta(seconds=REUSE_SECONDS),
                    datetime.fromtimestamp(signed + SESSION_HOURS * 3600, timezone.utc))
        self.reuse.put(("kept", request.url.path, request.scope["query_string"], cookie),
                       version, now, until, body)

    def cheap_version(self) -> tuple[bool, object]:
        """(True, the store's data version) when it is read without waiting on the
        database (SQLite), else (False, None): what a route that keeps a whole
        answer in the event loop (``reuse.put``) labels it with."""
        if not getattr(self.version, "cheap", False):
            return False, None
        return True, self.version()

    def account(self, uid: int):
        """The account row (id, name, role, disabled, password_hash) of ``uid``, None if
        there is none; reused while the store is unchanged."""
        a = self.models.Account

        def compute():
            with self.reading() as s:
                row = s.execute(select(a.id, a.name, a.role, a.disabled, a.password_hash)
                                .where(a.id == uid)).first()
            return row, datetime.max.replace(tzinfo=timezone.utc)
        return self.reuse.get(("account", uid), self.version(), self.now(), compute)

    @contextmanager
    def writing(self):
        """A session of the store for a change (the caller commits)."""
        with self.sessions, self.store.session() as s:
            yield s


class Sessions(SessionMiddleware):
    """Starlette's signed-cookie sessions, a cookie verified once (``RememberingSigner``)."""

    def __init__(self, app, web: WebState, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self.signer = web.signer = RememberingSigner(self.signer)


SESSION_COOKIE = "fxsession"
KEPT_PATHS = frozenset({"/history"})


class KeptPages:
    """ASGI middleware: a GET of a page kept whole for the very same session cookie and
    query (``WebState.keep_page``) is answered from memory, before the session,
    routing and dependency machinery (what is left of a request is then mostly
    HTTP).  The route keeps a page only after it checked that cookie fully
    (signature, age, account, password fingerprint, CSRF token present) and changed
    nothing in the session; the page holds while the store's data version is the one
    it was made at (a disabled account or a changed password is a write: refused at
    the next request), for ``REUSE_SECONDS`` and never past the cookie's own end."""

    def __init__(self, app, web: WebState) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in KEPT_PATHS:
            cookie = _session_cookie(scope)
            if cookie:
                found, body = self.web.reused(("kept", scope["path"], scope["query_string"],
                                               cookie))
                if found:
                    await send({"type": "http.response.start", "status": 200, "headers": [
                        (b"content-length", str(len(body)).encode()),
                        (b"content-type", b"text/html; charset=utf-8"), (b"vary", b"Cookie")]})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)


def _session_cookie(scope) -> str:
    """The session cookie's value in the request's Cookie headers ("" if none), as
    Starlette reads it (``cookie_parser``: the last of a name wins)."""
    found = ""
    for name, value in scope["headers"]:
        if name == b"cookie":
            found = cookie_parser(value.decode("latin-1")).get(SESSION_COOKIE, found)
    return found


class SecurityHeaders:
    """ASGI middleware: ``security.HEADERS`` on every response that does not set them
    itself (plain ASGI: Starlette's BaseHTTPMiddleware costs a task per request)."""

    def __init__(self, app) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + \
                    [(k, v) for k, v in self.headers if k not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def create_app(store, *, secret_key: str, timezone: str, fax_domain: str,
               submit: Callable[[bytes, str, list[str]], Awaitable[int]],
               now: Callable[[], datetime] = _utcnow, max_upload: int = MAX_UPLOAD,
               limiter: LoginLimiter | None = None) -> FastAPI:
    """The web admin and REST API over ``store`` (gateway-interfaces.md, "Web admin and API").

    Args:
        store: the gateway's ``Store``.
        secret_key: signs the session cookies (at least 16 characters).
        timezone: the IANA zone of 送信日時 and the CSV ("Asia/Tokyo").
        fax_domain: the domain of the fax addresses (``<number>@<fax_domain>``).
        submit: the durable accept path, ``await submit(raw, mail_from, rcpt_to)``
            returns the request's sequence number.
        now: the clock (aware UTC), injected by tests that move time.
        max_upload: the largest POST /api/faxes body in octets.
        limiter: the login rate limit (the default: 5 failures in 15 minutes).

    Raises:
        GatewayConfigError: a secret key that is too short, an unknown zone.
    """
    if not isinstance(secret_key, str) or len(secret_key) < 16:
        raise GatewayConfigError("web secret_key is too short: give 16 characters or more "
                                 "(or leave it empty to have one generated)")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise GatewayConfigError(f"gateway timezone is {timezone!r}: give an IANA zone name "
                                 f"such as \"Asia/Tokyo\"") from None
    from faxengine.gateway import store as models
    from faxengine.gateway.web import api, pages

    app = FastAPI(title="faxengine gateway API", version="1",
                  description="The send history and fax submission of the mail-to-fax gateway.",
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
                  redirect_slashes=False)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.auto_reload = False       # compiled once: no stat() of the file per page
    templates.env.globals["zone"] = zone
    app.state.web = WebState(store=store, zone=zone, fax_domain=fax_domain, submit=submit,
                             now=now, templates=templates, limiter=limiter or LoginLimiter(),
                             max_upload=max_upload,
                             models=models, version=DataVersion(store.engine))
    app.add_middleware(Sessions, secret_key=secret_key, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_HOURS * 3600, same_site="lax", https_only=False,
                       web=app.state.web)
    app.add_middleware(KeptPages, web=app.state.web)        # inside SecurityHeaders
    app.add_middleware(SecurityHeaders)

    # routes are tried in order: the pages, most of the requests, before the API
    app.include_router(pages.router)
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import quote
        target = "/login" + (f"?next={quote(exc.next_url, safe='/')}" if exc.next_url else "")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code,
                                headers=headers)
        return pages.error_page(request, exc.status_code, str(exc.detail), headers)

    @app.exception_handler(StoreError)
    @app.exception_handler(SQLAlchemyError)
    async def _store(request: Request, exc: Exception) -> Response:
        # the database is down or busy beyond its timeout: say so, no traceback
        what = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        message = f"the gateway's database cannot answer now ({what}); try again in a minute"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=503)
        return pages.error_page(request, 503, message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: "
                             f"{e.get('msg', 'invalid')}" for e in exc.errors()[:5])
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": problems}, status_code=400)
        return pages.error_page(request, 400, problems)

    return app
