"""The pages of the web admin: login, history and its CSV, a fax's detail, settings, accounts.

Each page is a server-rendered template (Japanese, no JavaScript).  Every
route finds the account from the session first (``viewer``); a route about
one 明細番号 answers 404 unless the account may see it (an operator sees
all), whether or not the number exists.  Every POST checks the session's
CSRF token (``checked``) before it looks at anything else.  The database
work runs in FastAPI's thread pool (the routes are plain functions); the
history page and the session check are async and answer from what
``web.cache`` keeps when the store is unchanged.
"""
from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError

from faxengine.gateway import history
from faxengine.gateway.jobs import DONE, FAILED, SENDING, STATUSES, WAITING
from faxengine.gateway.web import accounts
from faxengine.gateway.web.app import REUSE_SECONDS, LoginRequired, WebState
from faxengine.gateway.web.security import csrf_ok, new_csrf, password_fingerprint
from faxengine.gateway.web.thumbs import MAX_PAGES
from faxengine.gateway.web.timeline import steps, svg

router = APIRouter(include_in_schema=False)

# the T.30 result in plain words beside an error (the codes of t30.result, and the line's)
PLAIN = {"OK": "正常終了", "BUSY": "話し中", "LINE_FAILED": "回線に接続できませんでした",
         "NO_ANSWER": "応答なし", "NOT_FAX": "相手がFAXではありません",
         "TRAINING_FAILED": "回線品質が悪く通信速度を合わせられませんでした",
         "INCOMPATIBLE": "相手のFAXがこの原稿を受けられません",
         "REMOTE_DISCONNECT": "相手が途中で切断しました",
         "PAGE_REJECTED": "回線の雑音でページが届きませんでした",
         "TIMEOUT_T1": "相手が途中で応答しなくなりました (T1)",
         "TIMEOUT_T2": "相手からの命令が途絶えました (T2)",
         "TIMEOUT_T4": "相手が応答しなくなりました (T4)",
         "TIMEOUT_T5": "相手が受信できない状態が続きました (T5)",
         "LOCAL_ABORT": "ゲートウェイの停止で中断しました"}


def state(request: Request) -> WebState:
    return request.app.state.web


@dataclass(frozen=True, slots=True)
class Page:
    """The logged-in account as the templates and routes see it."""

    viewer: history.Viewer
    csrf: str


def _session_csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = request.session["csrf"] = new_csrf()
    return token


async def viewer(request: Request) -> Page:
    """The account of the session; no session, a disabled account or a changed
    password: to the login page.  (Async: a session seen before costs no trip
    to the thread pool, ``WebState.reused``.)"""
    st = state(request)
    uid, fp = request.session.get("uid"), request.session.get("pw")
    # the version before the account is looked at: what a page kept for this very
    # cookie is labelled with (KeptPages), so that any change after it ends that page
    _, request.state.checked_version = st.cheap_version()
    account = None
    if isinstance(uid, int):
        found, account = st.reused(("account", uid))
        if not found:
            account = await run_in_threadpool(st.account, uid)
    if account is None or account.disabled or fp != password_fingerprint(account.password_hash):
        request.session.pop("uid", None)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "")
    return Page(history.Viewer(account.id, account.name, account.role == "operator"),
                _session_csrf(request))


def checked(request: Request, page: Page = Depends(viewer), csrf: str = Form("")) -> Page:
    """A POST of a logged-in account with the session's CSRF token, else 403."""
    if not csrf_ok(request.session.get("csrf"), csrf):
        raise HTTPException(403, "フォームの有効期限が切れたか、不正な送信です (CSRF)。"
                                 "ページを開き直してから、もう一度送信してください。")
    return page


def operator(page: Page = Depends(checked)) -> Page:
    if not page.viewer.operator:
        raise HTTPException(404, "ページがありません。")
    return page


def render(request: Request, name: str, context: dict, status_code: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    return state(request).templates.TemplateResponse(
        request, name, {"plain": PLAIN, **context}, status_code=status_code, headers=headers)


def error_page(request: Request, status: int, message: str, headers=None) -> HTMLResponse:
    titles = {400: "入力に誤りがあります", 401: "ログインしてください", 403: "許可されていません",
              404: "見つかりません", 405: "この方法では使えません", 413: "大きすぎます",
              429: "しばらくお待ちください", 503: "ただいま応答できません"}
    return render(request, "error.html", {"title": titles.get(status, "エラー"),
                                          "message": message, "page": None},
                  status_code=status, headers=headers)


def _safe_next(target: str) -> str:
    """A redirect target on this site only (an open redirect is a phishing tool)."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return "/history"
    return target


# --- login ---

@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/history", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "login.html", {"csrf": _session_csrf(request), "next": next,
                                          "message": "", "page": None})


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""),
          csrf: str = Form(""), next: str = Form("")) -> Response:
    st = state(request)
    if not csrf_ok(request.session.get("csrf"), csrf):
        raise HTTPException(403, "フォームの有効期限が切れました (CSRF)。"
                                 "ログインページを開き直してください。")
    ip = request.client.host if request.client else "?"
    keys = [f"ip:{ip}", f"user:{username.strip().lower()[:254]}"]
    now = st.now()
    wait = st.limiter.retry_after(keys, now)
    if wait:
        return render(request, "login.html",
                      {"csrf": _session_csrf(request), "next": next, "page": None,
                       "message": f"ログインの失敗が続いたため、{wait}秒後までログインできません。"},
                      status_code=429, headers={"Retry-After": str(wait)})
    account = st.store.authenticate(username.strip()[:254], password[:256]) \
        if username.strip() and password else None
    if account is None or account.disabled:
        st.limiter.failed(keys, now)
        return render(request, "login.html",
                      {"csrf": _session_csrf(request), "next": next, "page": None,
                       "message": "アカウント名またはパスワードが違います。"}, status_code=401)
    st.limiter.succeeded(keys[1:])
    # the hash as stored now: authenticate may have rehashed it (other Argon2 costs) and
    # returned the row read before, whose fingerprint would end this session at once
    stored = st.account(account.id)
    request.session.clear()             # a new session: no fixation of an old one
    request.session.update(uid=account.id,
                           pw=password_fingerprint((stored or account).password_hash),
                           csrf=new_csrf())
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, page: Page = Depends(checked)) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# --- history ---

def _filters(request: Request) -> tuple[history.Filters, str]:
    try:
        return history.Filters.parse(dict(request.query_params)), ""
    except history.HistoryQueryError as e:
        return history.Filters(number="x"), str(e)     # matches nothing; the page says why


ERRORS = frozenset(STATUSES) - {WAITING, SENDING, DONE}    # the 送信状況 shown as errors


def listing(st: WebState, viewer: history.Viewer,
            filters: history.Filters) -> tuple[int, bool, Markup]:
    """The count, whether a job is in progress, and the table rows (HTML) of a
    history page: rendering 50 rows costs more than everything else of a
    page, so they are rendered once per account, filters and data version
    (``WebState.reuse``), the count and the rows from the same query."""
    now = st.now()

    def compute():
        total, records = st.history(viewer, filters)
        rows = st.templates.get_template("history_rows.html").render(
            records=records, errors=ERRORS, plain=PLAIN, operator=viewer.operator)
        live = any(r.status in (WAITING, SENDING) for r in records)
        return (total, live, Markup(rows)), now + timedelta(seconds=REUSE_SECONDS)
    return st.reuse.get(("rows", viewer, filters), st.version(), now, compute)


@router.get("/history")
async def history_page(request: Request, page: Page = Depends(viewer)) -> HTMLResponse:
    """The history page: kept whole (its HTML) for the session's account, CSRF token and
    filters while the store is unchanged, for ``REUSE_SECONDS`` (a burst of the same
    page renders it once per process)."""
    st = state(request)
    filters, problem = _filters(request)
    now = st.now()
    today = now.astimezone(st.zone).date()
    key = ("page", page, filters, problem, today)
    found, body = st.reused(key)
    if found:
        return HTMLResponse(body)
    cheap, version = st.cheap_version()     # read before the query it labels (web.cache)
    found, listed = st.reused(("rows", page.viewer, filters))
    if not found:
        listed = await run_in_threadpool(listing, st, page.viewer, filters)
    total, live, rows = listed
    pages = max(1, -(-total // history.PAGE_SIZE))
    response = render(request, "history.html", {
        "page": page, "rows": rows, "total": total, "filters": filters,
        "problem": problem, "pages": pages, "live": live, "statuses": STATUSES,
        "csv_from": (today - timedelta(days=history.CSV_DAYS)).isoformat(),
        "today": today.isoformat(),
        "prev": filters.query_string(page=filters.page - 1) if filters.page > 1 else None,
        "next": filters.query_string(page=filters.page + 1) if filters.page < pages else None,
        "csv_query": filters.query_string(page=1)})
    if cheap:
        st.reuse.put(key, version, now, now + timedelta(seconds=REUSE_SECONDS), response.body)
        st.keep_page(request, request.state.checked_version, now, response.body)
    return response


@router.get("/history.csv")
def history_csv(request: Request, page: Page = Depends(viewer), encoding: str = "cp932") -> Response:
    st = state(request)
    try:
        filters = history.Filters.parse(dict(request.query_params))
        window = history.csv_window(filters, st.now().astimezone(st.zone).date())
        if encoding not in history.ENCODINGS:
            raise history.HistoryQueryError(f"encoding is {encoding[:40]!r}: \"cp932\" (the "
                                            f"default) or \"utf-8\"")
    except history.HistoryQueryError as e:
        raise HTTPException(400, str(e)) from None
    with st.reading() as s:
        _, records = history.query(s, st.models, page.viewer, window, st.zone, st.now(),
                                   limit=None)
    body = history.csv_bytes(records, st.zone, encoding)
    name = f"history_{window.start:%Y%m%d}-{window.end:%Y%m%d}.csv"
    charset = "shift_jis" if encoding == "cp932" else "utf-8"
    return Response(body, media_type=f"text/csv; charset={charset}",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- one fax ---

def _image(st: WebState, v: history.Viewer, detail_no: str) -> Path | None:
    with st.reading() as s:
        path = history.image_path(s, st.models, v, detail_no, st.now())
    return None if path is None else Path(st.store.data_dir) / path     # relative to data_dir


def fax_image(request: Request, v: history.Viewer, detail_no: str) -> FileResponse:
    """The TIFF of ``detail_no`` for ``v``, 404 when it is not theirs, expired or gone."""
    st = state(request)
    path = _image(st, v, detail_no)
    if path is None or not path.is_file():
        raise HTTPException(404, f"{detail_no[:20]} のFAX画像はありません"
                                 f"(送信から264時間で削除されます)。")
    return FileResponse(path, media_type="image/tiff", filename=f"{detail_no}.tif")


@router.get("/faxes/{detail_no}.tif")
def fax_tif(request: Request, detail_no: str, page: Page = Depends(viewer)) -> FileResponse:
    return fax_image(request, page.viewer, detail_no)


@router.get("/faxes/{detail_no}/pages/{index}.png")
def fax_thumbnail(request: Request, detail_no: str, index: int,
                  page: Page = Depends(viewer)) -> Response:
    st = state(request)
    path = _image(st, page.viewer, detail_no)
    png = st.thumbs.page(detail_no, path, index) if path else None
    if png is None:
        raise HTTPException(404, "そのページの画像はありません。")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _mail_text(raw: bytes | None) -> dict | None:
    if not raw:
        return None
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        body = msg.get_content() if not msg.is_multipart() else ""
    except (LookupError, ValueError):
        body = raw.decode("utf-8", "replace")
    return {"headers": [(k, str(v)) for k, v in msg.items()
                        if k.lower() in ("from", "to", "subject", "date", "message-id")],
            "body": body}


@router.get("/faxes/{detail_no}")
def fax_detail(request: Request, detail_no: str, page: Page = Depends(viewer)) -> HTMLResponse:
    st = state(request)
    with st.reading() as s:
        d = history.detail(s, st.models, page.viewer, detail_no, st.now())
    if d is None:
        raise HTTPException(404, f"明細番号 {detail_no[:20]} の送信はありません。")
    thumbs = min(d.total_pages or 0, MAX_PAGES) if d.record.image else 0
    return render(request, "detail.html", {
        "page": page, "d": d, "r": d.record, "mail": _mail_text(d.result_mail),
        "thumbs": range(1, thumbs + 1),
        "live": d.record.status in (WAITING, SENDING), "failed": FAILED,
        "timelines": [(a, svg(a.trace, title=f"{detail_no} 通信 {a.n}"), steps(a.trace))
                      for a in d.attempts]})


# --- settings ---

def _settings_page(request: Request, page: Page, message: str = "", error: str = "",
                   token: str = "", status_code: int = 200) -> HTMLResponse:
    st = state(request)
    with st.reading() as s:
        settings = accounts.load(s, st.models, page.viewer.account_id)
    return render(request, "settings.html", {"page": page, "s": settings, "message": message,
                                             "error": error, "token": token},
                  status_code=status_code)


@router.get("/settings")
def settings_page(request: Request, page: Page = Depends(viewer)) -> HTMLResponse:
    return _settings_page(request, page)


def _apply(request: Request, page: Page, change, done: str, show=None) -> HTMLResponse:
    """Run ``change(session, models)`` in one transaction, then show the page
    (``show``: the settings page unless given) with ``done`` or the error."""
    st, show = state(request), show or _settings_page
    try:
        with st.writing() as s:
            change(s, st.models)
            s.commit()
    except accounts.SettingsError as e:
        return show(request, page, error=str(e), status_code=400)
    except IntegrityError:      # the same name or address added at the same moment elsewhere
        return show(request, page, status_code=409,
                    error="同時に別の変更がありました。画面を開き直して、もう一度お試しください。")
    return show(request, page, message=done)


@router.post("/settings/senders")
def settings_sender_add(request: Request, page: Page = Depends(checked),
                        address: str = Form("")) -> HTMLResponse:
    return _apply(request, page, lambda s, m: accounts.add_sender(
        s, m, page.viewer.account_id, address), "送信元アドレスを登録しました。")


@router.post("/settings/senders/delete")
def settings_sender_remove(request: Request, page: Page = Depends(checked),
                           address: str = Form("")) -> HTMLResponse:
    return _apply(request, page, lambda s, m: accounts.remove_sender(
        s, m, page.viewer.account_id, address), "送信元アドレスを削除しました。")


@router.post("/settings/retries")
def settings_retries(request: Request, page: Page = Depends(checked), retries: str = Form(""),
                     retry_interval: str = Form("")) -> HTMLResponse:
    return _apply(request, page, lambda s, m: accounts.set_retries(
        s, m, page.viewer.account_id, retries, retry_interval), "再送の設定を保存しました。")


@router.post("/settings/result_mail")
def settings_result_mail(request: Request, page: Page = Depends(checked),
                         result_mail: str = Form("off")) -> HTMLResponse:
    return _apply(request, page, lambda s, m: accounts.set_result_mail(
        s, m, page.viewer.account_id, result_mail == "on"), "結果メールの設定を保存しました。")


@router.post("/settings/password")
def settings_password(request: Request, page: Page = Depends(checked), current: str = Form(""),
                      new: str = Form(""), again: str = Form("")) -> Response:
    st = state(request)
    try:
        with st.writing() as s:
            accounts.set_password(s, st.models, page.viewer.account_id, current, new, again)
            account = s.get(st.models.Account, page.viewer.account_id)
            fingerprint = password_fingerprint(account.password_hash)
            s.commit()
    except accounts.SettingsError as e:
        return _settings_page(request, page, error=str(e), status_code=400)
    request.session["pw"] = fingerprint     # this session stays; the others end
    return _settings_page(request, page, message="パスワードを変更しました。")


@router.post("/settings/tokens")
def settings_token_create(request: Request, page: Page = Depends(checked),
                          name: str = Form("")) -> HTMLResponse:
    st = state(request)
    token = st.store.create_token(page.viewer.name, name.strip()[:80] or "token", st.now())
    return _settings_page(request, page, token=token,
                          message="APIトークンを作成しました。この画面を離れると二度と表示されません。")


@router.post("/settings/tokens/revoke")
def settings_token_revoke(request: Request, page: Page = Depends(checked),
                          token_id: str = Form("")) -> HTMLResponse:
    return _apply(request, page, lambda s, m: accounts.revoke_token(
        s, m, page.viewer.account_id, token_id, state(request).now()),
        "APIトークンを無効にしました。")


# --- accounts (operators) ---

def _accounts_page(request: Request, page: Page, message: str = "", error: str = "",
                   status_code: int = 200) -> HTMLResponse:
    st = state(request)
    if not page.viewer.operator:
        raise HTTPException(404, "ページがありません。")
    with st.reading() as s:
        rows = [(a.id, a.name, a.role, a.disabled, a.created_at)
                for a in accounts.list_accounts(s, st.models)]
    return render(request, "accounts.html", {"page": page, "accounts": rows,
                                             "message": message, "error": error},
                  status_code=status_code)


@router.get("/accounts")
def accounts_page(request: Request, page: Page = Depends(viewer)) -> HTMLResponse:
    return _accounts_page(request, page)


def _admin(request: Request, page: Page, change, done: str) -> HTMLResponse:
    return _apply(request, page, change, done, _accounts_page)


@router.post("/accounts")
def accounts_create(request: Request, page: Page = Depends(operator), name: str = Form(""),
                    password: str = Form(""), role: str = Form("user"),
                    sender: str = Form("")) -> HTMLResponse:
    return _admin(request, page, lambda s, m: accounts.create_account(
        s, m, name, password, role, sender, state(request).now()),
        f"アカウント {name.strip()[:64]} を作成しました。")


def _account_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise HTTPException(404, "そのアカウントはありません。")
    return int(text)


@router.post("/accounts/{account_id}/disable")
def accounts_disable(request: Request, account_id: str, page: Page = Depends(operator),
                     disabled: str = Form("on")) -> HTMLResponse:
    aid = _account_id(account_id)
    return _admin(request, page, lambda s, m: accounts.set_disabled(
        s, m, aid, disabled == "on", page.viewer.account_id),
        "アカウントを無効にしました。" if disabled == "on" else "アカウントを有効にしました。")


@router.post("/accounts/{account_id}/password")
def accounts_password(request: Request, account_id: str, page: Page = Depends(operator),
                      new: str = Form(""), again: str = Form("")) -> HTMLResponse:
    aid = _account_id(account_id)
    return _admin(request, page, lambda s, m: accounts.set_password(s, m, aid, None, new, again),
                  "パスワードを再設定しました。")
