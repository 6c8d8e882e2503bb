"""Helpers of the web admin's tests (the fixtures are in conftest.py beside).

``web`` starts uvicorn on 127.0.0.1 (a free port chosen by the system) in
a thread and stops it when the test ends; its clock is ``Clock``, which the
tests move (the 264-hour retention is tested without sleeping).  Records
are made the way the gateway makes them: ``store.accept`` of a mail, then
``expand``, ``claim`` and ``finish`` with an attempt and its trace
(``send``).  ``submitted`` keeps what POST /api/faxes handed to ``submit``,
which is the store's durable ``accept``, as in the gateway.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web admin needs fastapi: pip install -e .[gateway]")
httpx = pytest.importorskip("httpx", reason="the web tests need httpx: pip install -e .[test]")
uvicorn = pytest.importorskip("uvicorn", reason="the web admin needs uvicorn: pip install -e .[gateway]")
store_module = pytest.importorskip("faxengine.gateway.store",
                                   reason="the gateway store (faxengine.gateway.store) is absent")

from faxengine import tiff  # noqa: E402
from faxengine.gateway.jobs import WAITING  # noqa: E402
from faxengine.gateway.mail import parse_request  # noqa: E402
from faxengine.gateway.results import ResultSettings, message_id, result_mail  # noqa: E402
from faxengine.gateway.store.records import AttemptRecord  # noqa: E402
from faxengine.gateway.web.compose import request_mail  # noqa: E402
from faxengine.t4 import Page  # noqa: E402

DOMAIN = "cl1.faximo.jp"
ZONE = "Asia/Tokyo"
T0 = datetime(2026, 12, 6, 1, 0, tzinfo=timezone.utc)     # 10:00 in Tokyo
SECRET = "test-secret-key-0123456789abcdef"
ACCOUNTS = [
    {"name": "sample", "password": "sample-pass", "senders": ["sample@edicworks.com"],
     "retries": 2, "retry_interval": "60s", "result_mail": True, "role": "user"},
    {"name": "other", "password": "other-pass", "senders": ["other@example.co.jp"],
     "role": "user"},
    {"name": "admin", "password": "admin-pass", "senders": ["admin@example.co.jp"],
     "role": "operator"},
]
PASSWORDS = {a["name"]: a["password"] for a in ACCOUNTS}
SENDERS = {a["name"]: a["senders"][0] for a in ACCOUNTS}
# a call as the line drivers record it: the terminal's events as plain dicts
TRACE_OK = [
    {"type": "FrameReceived", "time_s": 3.2, "name": "CSI", "words": "CSI: +81 92 123 4567"},
    {"type": "FrameReceived", "time_s": 3.4, "name": "DIS", "words": "DIS: V.17 14400, ECM, fine"},
    {"type": "FrameSent", "time_s": 4.1, "name": "DCS", "words": "DCS: V.17 14400, fine, MMR"},
    {"type": "TrainingResult", "time_s": 6.0, "modem": "V.17", "rate": 14400, "accepted": True},
    {"type": "FrameReceived", "time_s": 6.3, "name": "CFR", "words": "CFR"},
    {"type": "FrameSent", "time_s": 14.0, "name": "EOP", "words": "EOP"},
    {"type": "PageSent", "time_s": 14.6, "number": 1, "response": "MCF"},
    {"type": "FrameSent", "time_s": 15.0, "name": "DCN", "words": "DCN"},
    {"type": "CallEnded", "time_s": 15.1, "result": {"code": "OK", "message": "the document was transferred"}},
]
TRACE_FAILED = TRACE_OK[:4] + [
    {"type": "FrameSent", "time_s": 14.0, "name": "EOP", "words": "EOP"},
    {"type": "CallEnded", "time_s": 26.0, "result": {"code": "TIMEOUT_T4",
     "message": "the other terminal stopped answering: no response after 3 tries (T.30 timer T4)"}},
]


# the tests whose queries differ most between the two databases run on both
POSTGRES_TOO = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)


class Clock:
    """The gateway's clock as the app sees it; tests move it."""

    def __init__(self, t: datetime = T0) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def page_image(seed: int) -> Page:
    """A fine-resolution A4-width page with a pattern of its own."""
    image = np.zeros((400, 1728), dtype=bool)
    image[40 + seed * 10: 80 + seed * 10, 100:1600] = True
    image[200:360, 200 + seed * 50: 400 + seed * 50] = True
    return Page(image, 204.0, 196.0)


def send(store, *, account: str = "sample", numbers=("0921234567",), subject="FAX送信サンプル福岡",
         when: datetime = T0, outcome: str | None = "OK", pages: int = 1,
         trace: list | None = None, finish: bool = True) -> list[str]:
    """A request of ``account`` through the store as the gateway does it; the
    明細番号 of its destinations.  ``outcome`` None leaves them 送信待ち; else
    each is claimed and its call ends with ``outcome`` at ``when`` (a retry
    leaves it 送信待ち again)."""
    sender = SENDERS[account]
    raw = request_mail(sender=sender, numbers=list(numbers), fax_domain=DOMAIN, subject=subject,
                       text="本文", files=[], date=when, message_id=f"<{time.time_ns()}@test>")
    rcpt = [f"{n}@{DOMAIN}" for n in numbers]
    seq = store.accept(raw, sender, rcpt, received_at=when - timedelta(minutes=1))
    request = parse_request(raw, DOMAIN, mail_from=sender, rcpt_to=rcpt)
    request = request.with_page_counts([pages] * len(request.documents))
    jobs = request.jobs(seq, when)
    image = Path("images") / f"{seq}.tif"
    (store.data_dir / "images").mkdir(exist_ok=True)
    tiff.write(store.data_dir / image, [page_image(i) for i in range(pages)])
    store.expand(seq, request, jobs, str(image), [])
    done = [j.detail_no for j in jobs]
    if outcome is None:
        return done
    trace = trace if trace is not None else (TRACE_OK if outcome == "OK" else TRACE_FAILED)
    settings = ResultSettings(system_address=f"fax_sys@{DOMAIN}", timezone=ZONE)
    ours = {j.detail_no for j in jobs if j.status == WAITING}
    parked = False
    while ours:
        claimed = store.claim(when, "test-worker")
        if claimed.detail_no not in ours:       # another request's job, due earlier
            parked = True
            continue
        ours.discard(claimed.detail_no)
        job, t = claimed.job.finish(outcome, when, claimed.policy)
        mail = None
        if "send result mail" in t.actions and claimed.result_mail:
            mail = result_mail(settings, to=claimed.sender, number=job.number, status=job.status,
                               sent_at=when, pages=claimed.pages, subject=claimed.subject,
                               date=when, message_id=message_id(job.detail_no, settings),
                               result_code=outcome, detail=job.detail_no)
        store.finish(job.detail_no, job, AttemptRecord(
            started_at=when - timedelta(seconds=30), ended_at=when, result_code=outcome,
            detail="", pages_sent=pages if outcome == "OK" else 0, trace=trace), mail)
    if parked:
        store.requeue_stale("test-worker")     # the others' jobs, claimed on the way, go back
    return done


@dataclass
class Web:
    """The running app: its address, clock, and what it submitted."""

    url: str
    clock: Clock
    store: object
    submitted: list = field(default_factory=list)

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, follow_redirects=False, **kw)

    def login(self, name: str, password: str | None = None) -> httpx.Client:
        c = self.client()
        r = c.post("/login", data={"username": name, "password": password or PASSWORDS[name],
                                   "csrf": csrf_of(c.get("/login").text)})
        assert r.status_code == 303, r.text
        return c


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def serve(app, **config) -> tuple[uvicorn.Server, threading.Thread, str]:
    """``app`` on a free port of 127.0.0.1 in a thread: (server, thread, base URL);
    ``config``: more settings of ``uvicorn.Config``."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off", **config))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def stop(server, thread) -> None:
    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive(), "uvicorn did not stop within 10 s"


CHROMIUM = Path("/usr/bin/chromium")


def chromium_args() -> list[str]:
    """Chromium refuses to run as root with its sandbox."""
    import os
    return ["--no-sandbox"] if os.geteuid() == 0 else []


def small_png(path: Path) -> None:
    """Rewrite a screenshot with 128 colours: a page of text stays sharp at a third of the size."""
    from PIL import Image
    with Image.open(path) as im:
        im.convert("RGB").quantize(128, method=Image.Quantize.MEDIANCUT,
                                   dither=Image.Dither.NONE).save(path, optimize=True)


def populate(store) -> dict[str, str]:
    """The records the browser tour finds: a morning of faxes of ``sample``."""
    out = {}
    out["old"] = send(store, numbers=["0312345678"], subject="11月分 請求書",
                      when=T0 - timedelta(days=3), pages=2)[0]
    out["failed"] = send(store, numbers=["0451234567"], subject="FAX送信サンプル横浜",
                         outcome="TIMEOUT_T4", when=T0 - timedelta(minutes=30), pages=2)[0]
    out["done"] = send(store, numbers=["0921234567"], subject="FAX送信サンプル福岡",
                       when=T0 - timedelta(minutes=5), pages=3)[0]
    out["waiting"] = send(store, numbers=["0120123456"], subject="見積書 (再送)", outcome=None,
                          when=T0)[0]
    send(store, account="other", numbers=["0661234567"], subject="他のアカウント")
    return out


def tour(browser, url: str, store, shots: Path) -> dict:
    """Use the web admin as a person does, with screenshots of each page in ``shots``;
    returns what was downloaded (for the test to check)."""
    records = populate(store)
    context = browser.new_context(viewport={"width": 1100, "height": 760}, accept_downloads=True,
                                  locale="ja-JP")
    page = context.new_page()

    def shot(name: str, full: bool = True) -> None:
        page.screenshot(path=shots / f"{name}.png", full_page=full)
        small_png(shots / f"{name}.png")

    page.goto(url + "/history")
    assert page.url == url + "/login?next=/history"
    page.fill("input[name=username]", "sample")
    page.fill("input[name=password]", PASSWORDS["sample"])
    shot("login", full=False)
    page.click("button:has-text('ログイン')")
    assert page.url == url + "/history"
    shot("history")
    # find the fax to Fukuoka by number and date
    page.fill("input[name=number]", "092-123")
    page.fill("input[name=from]", "2026-12-06")
    page.fill("input[name=to]", "2026-12-06")
    page.click("button:has-text('検索')")
    rows = page.locator("table.history tbody tr")
    assert rows.count() == 1 and records["done"] in rows.first.inner_text()
    page.click(f"a:has-text('{records['done']}')")
    assert page.url == f"{url}/faxes/{records['done']}"
    assert page.locator("svg.timeline").count() == 1
    assert page.locator("img[alt='1ページ目']").evaluate(
        "img => img.decode().then(() => img.naturalWidth)") == 180
    assert page.locator("div.thumbs img").count() == 3
    shot("detail")
    with page.expect_download() as dl:
        page.click("a:has-text('TIFF')")
    tif = Path(dl.value.path()).read_bytes()
    page.goto(f"{url}/faxes/{records['failed']}")
    assert page.locator("svg.timeline g.failure").count() == 1
    shot("detail-error")
    page.goto(url + "/history")
    with page.expect_download() as dl:
        page.click("a:has-text('CP932')")
    csv = Path(dl.value.path()).read_bytes()
    # settings: no retries, no result mails
    page.click("nav a:has-text('設定')")
    page.select_option("select[name=retries]", "0")
    page.click("form[action='/settings/retries'] button")
    assert page.locator("p.ok").inner_text() == "再送の設定を保存しました。"
    page.check("input[name=result_mail][value=off]")
    page.click("form[action='/settings/result_mail'] button")
    assert page.locator("p.ok").inner_text() == "結果メールの設定を保存しました。"
    shot("settings")
    # the next request follows them: busy once is the end, and no mail
    after = send(store, numbers=["0451234567"], subject="設定変更後", outcome="BUSY",
                 when=T0 + timedelta(minutes=1))[0]
    page.goto(url + "/history?number=0451234567")
    assert "送信エラー" in page.locator(f"tr:has-text('{after}')").inner_text()
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 800})
    phone.goto(url + "/history")
    phone.screenshot(path=shots / "history-phone.png")
    small_png(shots / "history-phone.png")
    context.close()
    return {"records": records, "tif": tif, "csv": csv, "after": after}
