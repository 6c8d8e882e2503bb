"""What the web admin reuses while the store is unchanged (``web.cache``): a
change by any connection shows on the next page, a TIFF link still ends on
time, and many identical requests at once cost one query."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from gwweb_support import PASSWORDS, POSTGRES_TOO, T0, csrf_of, send
from sqlalchemy import select, text

from faxengine.gateway.store import Store
from faxengine.gateway.web.cache import DataVersion, Reuse


def _count(html: str) -> str:
    return html.split('<p class="count"><strong>', 1)[1].split("</strong>", 1)[0]


@POSTGRES_TOO
def test_data_version_changes_with_every_commit_and_only_then(store):
    version = DataVersion(store.engine)
    try:
        before = version()
        with store.read_session() as s:         # reading is no change
            s.execute(text("SELECT count(*) FROM jobs"))
        assert version() == before
        send(store, outcome=None)
        after = version()
        assert after != before
        assert version() == after
    finally:
        version.close()


@POSTGRES_TOO
def test_a_write_shows_on_the_next_page_without_time_passing(web, store):
    c = web.login("sample")
    api = web.client(auth=("sample", PASSWORDS["sample"]))
    assert _count(c.get("/history").text) == "0"
    assert api.get("/api/history").json()["total"] == 0
    first = send(store, outcome=None)
    r = c.get("/history")
    assert _count(r.text) == "1" and first[0] in r.text and "送信待ち" in r.text
    assert api.get("/api/history").json()["records"][0]["status"] == "送信待ち"
    # a write through connections the app does not share (another Store, as another process)
    other = Store.open("", store.data_dir) if store.engine.dialect.name == "sqlite" else store
    try:
        second = send(other, numbers=["0451234567"])
    finally:
        if other is not store:
            other.close()
    r = c.get("/history")
    assert _count(r.text) == "2" and second[0] in r.text


def test_a_tiff_link_ends_at_264_hours_without_any_write(web, store):
    [detail_no] = send(store, when=T0)
    c = web.login("sample")
    link = f'href="/faxes/{detail_no}.tif"'
    web.clock.t = T0 + timedelta(hours=264) - timedelta(seconds=1)
    assert link in c.get("/history").text
    web.clock.t = T0 + timedelta(hours=264)
    assert link not in c.get("/history").text
    assert c.get(f"/faxes/{detail_no}.tif").status_code == 404


def test_a_password_change_is_seen_by_the_next_request(web, store):
    c = web.login("sample")
    assert c.get("/history").status_code == 200
    store.set_password("sample", "a-new-password-123")
    r = c.get("/history")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/history"


def test_reuse_computes_once_for_many_asking_at_once():
    reuse, calls, answers = Reuse(), [], []

    def compute():
        calls.append(1)
        time.sleep(0.05)
        return "page", T0 + timedelta(seconds=1)
    threads = [threading.Thread(target=lambda: answers.append(reuse.get("k", 1, T0, compute)))
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert answers == ["page"] * 20 and len(calls) == 1
    assert (reuse.hits, reuse.misses) == (19, 1)


def test_reuse_holds_for_its_version_and_time_only():
    reuse, n = Reuse(size=2), iter(range(100))
    second = timedelta(seconds=1)

    def compute():
        return next(n), T0 + second
    assert reuse.get("a", 1, T0, compute) == 0
    assert reuse.get("a", 1, T0 + second * 0.999, compute) == 0
    assert reuse.get("a", 2, T0, compute) == 1                      # another version
    assert reuse.get("a", 2, T0 + second, compute) == 2             # its time is up
    assert reuse.get("a", 3, T0 + second / 2, compute) == 3
    assert reuse.get("a", 3, T0 + second / 4, compute) == 4         # the clock went back
    reuse.get("b", 3, T0, compute)
    reuse.get("c", 3, T0, compute)                                  # "a" goes: size 2
    assert reuse.get("a", 3, T0 + second / 4, compute) == 7


def test_a_kept_history_page_is_each_session_s_own(web, store):
    one, two = web.login("sample"), web.login("sample")
    pages = [c.get("/history").text for c in (one, two, one, two)]
    tokens = [csrf_of(p) for p in pages]
    # the same account and filters, yet each session sees its own CSRF token, twice
    assert tokens[0] == tokens[2] != tokens[1] == tokens[3]
    r = two.post("/logout", data={"csrf": tokens[0]})      # the other session's token
    assert r.status_code == 403


def test_a_login_that_rehashes_the_password_keeps_its_session(web, store):
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from faxengine.gateway.store.models import Account
    # a hash made with other Argon2 costs: authenticate replaces it at this login
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(PASSWORDS["sample"])
    with store.session.begin() as s:
        s.execute(update(Account).where(Account.name == "sample").values(password_hash=old))
    c = web.login("sample")
    assert c.get("/history").status_code == 200
    with store.read_session() as s:
        assert s.scalar(select(Account.password_hash).where(Account.name == "sample")) != old


def test_a_kept_page_ends_with_a_disabled_account_and_serves_no_other_cookie(web, store):
    from sqlalchemy import update

    from faxengine.gateway.store.models import Account
    c = web.login("sample")
    for _ in range(3):
        assert c.get("/history").status_code == 200
    cookie = c.cookies["fxsession"]
    # a character inside the signature, not its last: the last base64 character of a
    # 20-octet HMAC carries 2 unused bits, so 'A' for 'B', 'C' or 'D' there is the same
    # signature and the "forged" cookie valid (a test that failed 1 time in ~16)
    i = len(cookie) - 10
    forged = cookie[:i] + ("A" if cookie[i] != "A" else "B") + cookie[i + 1:]
    with web.client(cookies={"fxsession": forged}) as other:
        assert other.get("/history").status_code == 303
    with store.session.begin() as s:
        s.execute(update(Account).where(Account.name == "sample").values(disabled=True))
    r = c.get("/history")
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/history")


def test_the_same_cookie_and_query_again_is_answered_from_the_kept_page(store):
    import asyncio

    import httpx
    from gwweb_support import DOMAIN, SECRET, ZONE

    from faxengine.gateway.web import create_app

    async def submit(raw, mail_from, rcpt_to):
        raise AssertionError("nothing is sent here")
    app = create_app(store, secret_key=SECRET, timezone=ZONE, fax_domain=DOMAIN, submit=submit)
    reuse = app.state.web.reuse

    async def run():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as c:
            page = await c.get("/login")
            await c.post("/login", data={"username": "sample", "password": PASSWORDS["sample"],
                                         "csrf": csrf_of(page.text)})
            first = await c.get("/history?page=1")
            hits = reuse.hits
            again = await c.get("/history?page=1")
            assert reuse.hits - hits == 1        # one look-up: the kept page, nothing else
            assert (again.content, again.headers["content-type"], again.headers["vary"]) == \
                (first.content, first.headers["content-type"], first.headers["vary"])
            assert again.headers["content-security-policy"].startswith("default-src 'none'")
            send(store, outcome=None)            # a write: the page is made again
            hits = reuse.hits
            changed = await c.get("/history?page=1")
            assert reuse.hits - hits != 1 and _count(changed.text) == "1"
    asyncio.run(run())
