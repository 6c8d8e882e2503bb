"""The REST API under /api (gateway-interfaces.md): the history as JSON, the TIFFs, sending.

Authentication on every route: HTTP Basic with the account's name (or a
registered sender address) and password, or a Bearer token made in the
settings page; none or a wrong one is 401 with a ``WWW-Authenticate``
challenge, and wrong passwords count against the login rate limit as the
login form's do.  Errors are JSON ``{"error": "..."}``.  The OpenAPI
description is /api/openapi.json.
"""
from __future__ import annotations

import email.utils
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from starlette.datastructures import UploadFile

from faxengine.gateway import history
from faxengine.gateway.jobs import detail_no
from faxengine.gateway.mail import parse_request
from faxengine.gateway.web.compose import numbers_of, request_mail
from faxengine.gateway.web.pages import fax_image, state
from faxengine.gateway.web.security import basic_credentials, bearer_token

router = APIRouter(prefix="/api", tags=["faxes"])
CHALLENGE = {"WWW-Authenticate": 'Basic realm="faxengine", charset="UTF-8"'}
MAX_FILES = 50


class HistoryRecord(BaseModel):
    """One destination of the send history."""

    detail_no: str
    sent_at: str
    number: str
    pages: int | None
    subject: str
    sender: str
    status: str
    result_code: str | None
    attempts: int
    image: str | None


class HistoryPage(BaseModel):
    total: int
    page: int
    records: list[HistoryRecord]


class Submitted(BaseModel):
    """A request accepted: its sequence number and the 明細番号 of its destinations."""

    request: int
    detail_nos: list[str]


class ErrorBody(BaseModel):
    error: str


ERRORS = {401: {"model": ErrorBody}, 404: {"model": ErrorBody}, 400: {"model": ErrorBody}}


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers=CHALLENGE)


def api_viewer(request: Request) -> history.Viewer:
    """The account of the request's Basic credentials or Bearer token, else 401/429."""
    st = state(request)
    header = request.headers.get("authorization", "")
    if not header:
        raise _unauthorized("authentication required: HTTP Basic with the account's name "
                            "and password, or Authorization: Bearer <API token>")
    account = None
    token = bearer_token(header)
    if token is not None:
        account = st.store.account_for_token(token)
        if account is None:
            raise _unauthorized("the API token is not valid (revoked, or never made): "
                                "make one on the settings page")
    else:
        credentials = basic_credentials(header)
        if credentials is None:
            raise _unauthorized("the Authorization header is neither Basic nor Bearer")
        user, password = credentials
        ip = request.client.host if request.client else "?"
        keys = [f"ip:{ip}", f"user:{user.strip().lower()[:254]}"]
        now = st.now()
        wait = st.limiter.retry_after(keys, now)
        if wait:
            raise HTTPException(429, f"too many failed logins: try again in {wait} s",
                                headers={"Retry-After": str(wait)})
        account = st.store.authenticate(user.strip()[:254], password[:256]) if user else None
        if account is None or account.disabled:
            st.limiter.failed(keys, now)
            raise _unauthorized("wrong account name or password")
        st.limiter.succeeded(keys[1:])
    return history.Viewer(account.id, account.name, account.role == "operator")


@router.get("/history", response_model=HistoryPage, responses=ERRORS)
def api_history(request: Request, v: history.Viewer = Depends(api_viewer)) -> dict:
    """The send history of the account (an operator: of all), newest first,
    filtered by ``from``, ``to`` (YYYY-MM-DD), ``number``, ``status``, ``q``,
    paged by ``page`` (50 records each)."""
    st = state(request)
    try:
        filters = history.Filters.parse(dict(request.query_params))
    except history.HistoryQueryError as e:
        raise HTTPException(400, str(e)) from None
    with st.reading() as s:
        total, records = history.query(s, st.models, v, filters, st.zone, st.now())
    return {"total": total, "page": filters.page, "records": [r.json(st.zone) for r in records]}


@router.get("/faxes/{detail_no}.tif", response_class=FileResponse, responses=ERRORS)
def api_fax_tif(request: Request, detail_no: str, v: history.Viewer = Depends(api_viewer)):
    """The fax image as sent (TIFF-F), for 264 hours after sending."""
    return fax_image(request, v, detail_no)


@router.get("/faxes/{detail_no}", response_model=HistoryRecord, responses=ERRORS)
def api_fax(request: Request, detail_no: str, v: history.Viewer = Depends(api_viewer)) -> dict:
    """One destination by its 明細番号."""
    st = state(request)
    with st.reading() as s:
        r = history.record(s, st.models, v, detail_no, st.now())
    if r is None:
        raise HTTPException(404, f"no fax {detail_no[:20]!r} for this account")
    return r.json(st.zone)


async def _form(request: Request):
    st = state(request)
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HTTPException(411, "send the form with a Content-Length")
    if int(length) > st.max_upload:
        raise HTTPException(413, f"the request is {int(length)} octets: at most "
                                 f"{st.max_upload} are accepted")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(400, "send multipart/form-data with fields to, subject and files")
    return await request.form(max_files=MAX_FILES, max_fields=200)


@router.post("/faxes", status_code=202, response_model=Submitted,
             responses={**ERRORS, 409: {"model": ErrorBody}, 413: {"model": ErrorBody}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": {
                     "type": "object", "required": ["to"],
                     "properties": {
                         "to": {"type": "array", "items": {"type": "string"},
                                "description": "fax numbers (one per field, or separated by commas)"},
                         "subject": {"type": "string"},
                         "text": {"type": "string", "description": "a text page before the files"},
                         "files": {"type": "array",
                                   "items": {"type": "string", "format": "binary"}}}}}}}})
async def api_send(request: Request, v: history.Viewer = Depends(api_viewer)) -> JSONResponse:
    """Send a fax without mail: it becomes a mail From the account's first registered
    sender to ``<number>@<fax domain>`` with the files attached and goes through the
    same queue and rules as mail (50 destinations, 50 pages, the file types).
    The history and the result mail tell how it went."""
    st = state(request)
    form = await _form(request)
    try:
        numbers, bad = numbers_of([t for t in form.getlist("to") if isinstance(t, str)])
        if bad:
            raise HTTPException(400, f"to: {bad[0][:40]!r} is not a fax number")
        if not numbers:
            raise HTTPException(400, "to: give at least one fax number")
        files = []
        for item in form.getlist("files"):
            if not isinstance(item, UploadFile):
                raise HTTPException(400, "files: send each file as a file part")
            files.append((item.filename or "file", await item.read()))
        subject, text = form.get("subject", ""), form.get("text", "")
        if not isinstance(subject, str) or not isinstance(text, str):
            raise HTTPException(400, "subject and text are text fields")
    finally:
        await form.close()
    sender = await run_in_threadpool(_first_sender, st, v.account_id)
    if sender is None:
        raise HTTPException(409, "the account has no registered sender address: add one "
                                 "on the settings page")
    now: datetime = st.now()
    raw = request_mail(sender=sender, numbers=numbers, fax_domain=st.fax_domain,
                       subject=subject, text=text, files=files, date=now,
                       message_id=email.utils.make_msgid("api", st.fax_domain))
    rcpt = [f"{n}@{st.fax_domain}" for n in numbers]
    seq = await st.submit(raw, sender, rcpt)
    # the destinations as the gateway will read them (off the event loop: a mail of
    # 20 MB takes a while), so the caller learns their 明細番号 now
    parsed = await run_in_threadpool(parse_request, raw, st.fax_domain, mail_from=sender,
                                     rcpt_to=rcpt)
    return JSONResponse({"request": seq, "detail_nos": [
        detail_no(seq, i) for i in range(1, len(parsed.destinations) + 1)]}, status_code=202)


def _first_sender(st, account_id: int) -> str | None:
    m = st.models
    with st.reading() as s:
        return s.scalars(select(m.Sender.address).where(m.Sender.account_id == account_id)
                         .order_by(m.Sender.id).limit(1)).first()
