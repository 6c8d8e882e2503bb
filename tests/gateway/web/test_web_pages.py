"""The web admin's pages over HTTP: login, history, CSV, TIFF, detail, settings, accounts."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from gwweb_support import PASSWORDS, POSTGRES_TOO, SENDERS, T0, TRACE_FAILED, csrf_of, send
from PIL import Image
from sqlalchemy import select

from faxengine.gateway.store import models as m

DETAIL = re.compile(r'<a href="/faxes/(\d{13})">')

PAGES = ["/history", "/history.csv", "/faxes/0000000001001", "/faxes/0000000001001.tif",
         "/faxes/0000000001001/pages/1.png", "/settings", "/accounts"]
POSTS = ["/logout", "/settings/senders", "/settings/senders/delete", "/settings/retries",
         "/settings/result_mail", "/settings/password", "/settings/tokens",
         "/settings/tokens/revoke", "/accounts", "/accounts/1/disable", "/accounts/1/password"]


def _account(store, name):
    with store.session() as s:
        return s.scalar(select(m.Account).where(m.Account.name == name))


def test_without_a_session_every_page_goes_to_login(web, store):
    send(store)
    c = web.client()
    for path in PAGES:
        r = c.get(path)
        assert (r.status_code, r.headers["location"]) == (303, f"/login?next={path}"), path
    for path in POSTS:
        r = c.post(path, data={"csrf": "x"})
        assert (r.status_code, r.headers["location"]) == (303, "/login"), path


def test_login_logout_and_headers(web):
    c = web.client()
    r = c.get("/login")
    assert 'name="username"' in r.text and 'name="password"' in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src" not in r.headers["content-security-policy"]      # default-src 'none'
    assert r.headers["x-content-type-options"] == "nosniff"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    r = c.post("/login", data={"username": "sample", "password": "sample-pass",
                               "csrf": csrf_of(r.text), "next": "/settings"})
    assert (r.status_code, r.headers["location"]) == (303, "/settings")
    assert c.get("/history").status_code == 200
    r = c.post("/logout", data={"csrf": csrf_of(c.get("/history").text)})
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    assert c.get("/history").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil", "x"])
def test_login_never_redirects_off_site(web, target):
    c = web.client()
    r = c.post("/login", data={"username": "sample", "password": "sample-pass",
                               "csrf": csrf_of(c.get("/login").text), "next": target})
    assert r.headers["location"] == "/history"


def test_login_by_sender_address_and_wrong_password(web):
    assert web.login(SENDERS["sample"], PASSWORDS["sample"]).get("/history").status_code == 200
    c = web.client()
    r = c.post("/login", data={"username": "sample", "password": "wrong",
                               "csrf": csrf_of(c.get("/login").text)})
    assert r.status_code == 401 and "アカウント名またはパスワードが違います。" in r.text


def test_login_rate_limit(web):
    c = web.client()
    for _ in range(5):
        r = c.post("/login", data={"username": "sample", "password": "guess",
                                   "csrf": csrf_of(c.get("/login").text)})
        assert r.status_code == 401
    r = c.post("/login", data={"username": "sample", "password": "sample-pass",
                               "csrf": csrf_of(c.get("/login").text)})
    assert r.status_code == 429 and r.headers["retry-after"] == "900"
    assert "900秒後までログインできません" in r.text
    web.clock.t += timedelta(minutes=15)
    assert web.login("sample").get("/history").status_code == 200


def test_csrf_missing_or_wrong_is_403(web):
    c = web.login("sample")
    for path in POSTS[1:]:
        for data in ({}, {"csrf": "forged"}):
            r = c.post(path, data=data)
            assert r.status_code == 403 and "CSRF" in r.text, path
    r = web.client().post("/login", data={"username": "sample", "password": "sample-pass"})
    assert r.status_code == 403
    assert _account(web.store, "sample").retries == 2


@POSTGRES_TOO
def test_history_newest_first_with_filters_count_and_paging(web, store):
    old = send(store, numbers=["0921234567"], subject="古い見積", when=T0 - timedelta(days=2))
    err = send(store, numbers=["0451234567"], subject="請求書", outcome="INCOMPATIBLE",
               when=T0 - timedelta(days=1), trace=TRACE_FAILED)
    new = send(store, numbers=["0312345678", "0120123456"], subject="納品書")
    send(store, account="other", numbers=["0661234567"], subject="他社")
    c = web.login("sample")
    r = c.get("/history")
    assert DETAIL.findall(r.text) == [new[1], new[0], err[0], old[0]]
    assert "<strong>4</strong> 件" in r.text
    # the T.30 result in plain words beside the error
    assert "送信エラー</span><br><small>相手のFAXがこの原稿を受けられません</small>" in r.text
    for query, expect in [
        ("number=045-123", err), ("status=送信エラー", err), ("q=見積", old),
        ("q=SAMPLE@EDICWORKS", new[::-1] + err + old),
        ("from=2026-12-05&to=2026-12-05", err), ("from=2026-12-06", new[::-1]),
        ("number=' OR '1'='1", []), ("status=x'--", []), ("q=%25", []), ("q=_", []),
        ("from=2026-12-07&to=2026-12-01", []),
    ]:
        assert DETAIL.findall(c.get(f"/history?{query}").text) == expect, query
    r = c.get("/history?from=' OR 1=1 --")
    assert r.status_code == 200 and DETAIL.findall(r.text) == []
    assert "from is &#34;&#39; OR 1=1 --&#34;: give a date as YYYY-MM-DD" in r.text
    many = [d for i in range(48) for d in send(store, numbers=["0921234567"],
                                                when=T0 + timedelta(seconds=i + 1))]
    r = c.get("/history")
    assert "<strong>52</strong> 件" in r.text and "1 / 2 ページ" in r.text
    assert DETAIL.findall(r.text)[:2] == [many[-1], many[-2]]
    assert DETAIL.findall(c.get("/history?page=2").text) == [err[0], old[0]]
    assert DETAIL.findall(c.get("/history?page=3").text) == []


def test_live_status_refreshes_while_something_waits(web, store):
    send(store, outcome=None)
    c = web.login("sample")
    assert '<meta http-equiv="refresh" content="10">' in c.get("/history").text
    assert "送信待ち" in c.get("/history").text
    store.claim(T0, "w")
    assert "送信中" in c.get("/history").text
    assert '<meta http-equiv="refresh"' not in c.get("/history?status=送信完了").text


@POSTGRES_TOO
def test_csv_bytes_in_both_encodings(web, store):
    send(store, subject="FAX送信サンプル福岡", when=T0 - timedelta(hours=1), pages=3)
    send(store, numbers=["0451234567"], subject="横浜, 'quoted'\n2行目😀",
         outcome="BUSY", when=T0)      # retried: 送信待ち again
    c = web.login("sample")
    r = c.get("/history.csv")
    assert r.headers["content-type"] == "text/csv; charset=shift_jis"
    assert r.headers["content-disposition"] == 'attachment; filename="history_20261007-20261206.csv"'
    text = ("送信日時,明細番号,送信先,枚数,件名,発信メールアドレス,発信状況\r\n"
            "2026-12-06 10:00:00,0000000002001,0451234567,-,'横浜, ''quoted'' 2行目{}',"
            "sample@edicworks.com,送信待ち,\r\n"
            "2026-12-06 09:00:00,0000000001001,0921234567,3,'FAX送信サンプル福岡',"
            "sample@edicworks.com,送信完了,\r\n")
    assert r.content == text.format("〓").encode("cp932")
    r = c.get("/history.csv?encoding=utf-8")
    assert r.content == b"\xef\xbb\xbf" + text.format("😀").encode("utf-8")
    assert c.get("/history.csv?from=2026-12-06&to=2026-12-06&status=送信完了").content.count(b"\r\n") == 2
    r = c.get("/history.csv?from=2026-10-06")
    assert r.status_code == 400
    assert "from is 2026-10-06: the CSV goes back at most 60 days, give 2026-10-07 or later" in r.text
    assert c.get("/history.csv?encoding=latin-1").status_code == 400
    # another account's CSV has only its own header
    assert web.login("other").get("/history.csv").content.count(b"\r\n") == 1


def test_tiff_download_until_264_hours(web, store):
    [no] = send(store, pages=2)
    c = web.login("sample")
    path = store.data_dir / "images" / "1.tif"
    r = c.get(f"/faxes/{no}.tif")
    assert r.status_code == 200 and r.content == path.read_bytes()
    assert r.headers["content-type"] == "image/tiff"
    assert f'href="/faxes/{no}.tif"' in c.get("/history").text
    web.clock.t = T0 + timedelta(hours=263, minutes=59)
    assert c.get(f"/faxes/{no}.tif").status_code == 200
    web.clock.t = T0 + timedelta(hours=264)
    r = c.get(f"/faxes/{no}.tif")
    assert r.status_code == 404 and "264時間" in r.text
    assert f'href="/faxes/{no}.tif"' not in c.get("/history").text
    # the gateway's scheduler then deletes it
    [expired] = store.expired_images(web.clock.t)
    assert store.drop_image(expired.detail_no) and not path.exists()
    assert c.get(f"/faxes/{no}.tif").status_code == 404


def test_detail_page_with_attempts_timeline_thumbnails_and_result_mail(web, store):
    [no] = send(store, numbers=["0451234567"], outcome="TIMEOUT_T4", pages=2)
    c = web.login("sample")
    r = c.get(f"/faxes/{no}")
    assert r.status_code == 200
    assert "1回目: TIMEOUT_T4" in r.text and "相手が応答しなくなりました (T4)" in r.text
    assert r.text.count('<svg xmlns="http://www.w3.org/2000/svg"') == 1
    assert '<g class="failure">' in r.text and ">DCS</text>" in r.text
    assert "送信待ち" in r.text                 # retried: 2 more attempts to come
    assert "次の送信" in r.text
    assert "結果メールはありません" in r.text
    for i in (1, 2):
        png = c.get(f"/faxes/{no}/pages/{i}.png")
        assert png.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(png.content)) as im:
            assert im.size == (180, 43)     # 1728 x 400 pels at 204 x 196 dpi, drawn square
    assert c.get(f"/faxes/{no}/pages/3.png").status_code == 404
    [done] = send(store)
    r = c.get(f"/faxes/{done}")
    assert "Subject: 【faximoSilver】FAXの送信が完了しました" in r.text
    assert "0921234567宛のFAX送信が正常に完了しました。" in r.text


@pytest.mark.parametrize("name", ["../../etc/passwd", "0000000001001'--", "%2e%2e%2f",
                                  "00000000010010", "１２３"])
def test_odd_detail_numbers_are_404(web, store, name):
    send(store)
    c = web.login("sample")
    for path in (f"/faxes/{name}", f"/faxes/{name}.tif", f"/faxes/{name}/pages/1.png"):
        assert c.get(path).status_code == 404, path


@POSTGRES_TOO
def test_another_accounts_fax_is_404_everywhere(web, store):
    [no] = send(store)
    c = web.login("other")
    for path in (f"/faxes/{no}", f"/faxes/{no}.tif", f"/faxes/{no}/pages/1.png"):
        assert c.get(path).status_code == 404, path
    assert DETAIL.findall(c.get("/history").text) == []
    assert DETAIL.findall(c.get("/history?number=0921234567").text) == []
    admin = web.login("admin")
    page = admin.get("/history").text
    assert DETAIL.findall(page) == [no]
    assert '<td data-label="アカウント">sample</td>' in page      # an operator sees whose it is
    assert admin.get(f"/faxes/{no}.tif").status_code == 200


def _post(c, path, **data):
    return c.post(path, data={"csrf": csrf_of(c.get("/settings").text), **data})


@POSTGRES_TOO
def test_settings_change_retries_result_mail_and_senders(web, store):
    c = web.login("sample")
    r = _post(c, "/settings/retries", retries="0", retry_interval="300")
    assert "再送の設定を保存しました。" in r.text
    r = _post(c, "/settings/result_mail", result_mail="off")
    assert "結果メールの設定を保存しました。" in r.text
    a = _account(store, "sample")
    assert (a.retries, a.retry_interval_s, a.result_mail) == (0, 300, False)
    for bad in ({"retries": "4", "retry_interval": "60"}, {"retries": "1", "retry_interval": "-1"},
                {"retries": "' OR 1=1", "retry_interval": "60"}):
        assert _post(c, "/settings/retries", **bad).status_code == 400
    assert _account(store, "sample").retries == 0
    r = _post(c, "/settings/senders", address="Billing@EdicWorks.com")
    assert r.status_code == 200 and "billing@edicworks.com" in r.text
    assert store.account_for_sender("billing@edicworks.com").name == "sample"
    r = _post(c, "/settings/senders", address="OTHER@example.co.jp")
    assert r.status_code == 400 and "other@example.co.jp は登録済みです(別のアカウント)。" in r.text
    assert _post(c, "/settings/senders", address="not an address").status_code == 400
    r = _post(c, "/settings/senders/delete", address="billing@edicworks.com")
    assert r.status_code == 200 and store.account_for_sender("billing@edicworks.com") is None
    # the next request follows the new settings: no retry, no result mail
    [no] = send(store, outcome="BUSY")
    with store.session() as s:
        job = s.get(m.JobRow, no)
        assert job.status == "送信エラー"
        assert s.scalar(select(m.OutboxRow).where(m.OutboxRow.detail_no == no)) is None


def test_password_change_ends_other_sessions(web, store):
    c1, c2 = web.login("sample"), web.login("sample")
    r = _post(c1, "/settings/password", current="wrong", new="new-password", again="new-password")
    assert r.status_code == 400 and "現在のパスワードが違います。" in r.text
    r = _post(c1, "/settings/password", current="sample-pass", new="short", again="short")
    assert r.status_code == 400 and "8文字以上" in r.text
    r = _post(c1, "/settings/password", current="sample-pass", new="new-password",
              again="new-password")
    assert "パスワードを変更しました。" in r.text
    assert c1.get("/settings").status_code == 200
    assert c2.get("/settings").status_code == 303
    assert store.authenticate("sample", "new-password") is not None


def test_operator_creates_disables_and_resets_accounts(web, store):
    assert web.login("sample").get("/accounts").status_code == 404
    c = web.login("admin")
    r = c.post("/accounts", data={"csrf": csrf_of(c.get("/accounts").text), "name": "newco",
                                  "password": "newco-pass", "role": "user",
                                  "sender": "fax@newco.jp"})
    assert "アカウント newco を作成しました。" in r.text
    assert store.authenticate("fax@newco.jp", "newco-pass").name == "newco"
    r = c.post("/accounts", data={"csrf": csrf_of(c.get("/accounts").text), "name": "newco",
                                  "password": "newco-pass", "role": "user"})
    assert r.status_code == 400 and "アカウント newco は既にあります。" in r.text
    user = web.login("newco", "newco-pass")
    aid = _account(store, "newco").id
    r = c.post(f"/accounts/{aid}/disable", data={"csrf": csrf_of(c.get("/accounts").text)})
    assert "アカウントを無効にしました。" in r.text
    assert user.get("/history").status_code == 303          # the session ends at once
    assert store.authenticate("newco", "newco-pass") is None
    c.post(f"/accounts/{aid}/disable", data={"csrf": csrf_of(c.get("/accounts").text),
                                             "disabled": "off"})
    r = c.post(f"/accounts/{aid}/password", data={"csrf": csrf_of(c.get("/accounts").text),
                                                  "new": "reset-pass-1", "again": "reset-pass-1"})
    assert "パスワードを再設定しました。" in r.text
    assert store.authenticate("newco", "reset-pass-1") is not None
    assert c.post("/accounts/x'--/disable",
                  data={"csrf": csrf_of(c.get("/accounts").text)}).status_code == 404
    # a user cannot use the operator's forms
    u = web.login("sample")
    r = u.post(f"/accounts/{aid}/disable", data={"csrf": csrf_of(u.get("/settings").text)})
    assert r.status_code == 404 and not _account(store, "newco").disabled


def test_one_account_cannot_change_anothers_settings(web, store):
    c = web.login("other")
    r = _post(c, "/settings/senders/delete", address="sample@edicworks.com")
    assert r.status_code == 400 and "sample@edicworks.com は登録されていません。" in r.text
    assert store.account_for_sender("sample@edicworks.com").name == "sample"
    # the settings forms name no account: each changes the session's own
    _post(c, "/settings/retries", retries="3", retry_interval="10")
    assert (_account(store, "sample").retries, _account(store, "other").retries) == (2, 3)


def test_a_database_that_cannot_answer_is_503_not_a_traceback(web, store):
    c = web.login("sample")
    store.close()
    for name in ("gateway.sqlite3", "gateway.sqlite3-wal", "gateway.sqlite3-shm"):
        (store.data_dir / name).unlink(missing_ok=True)     # the database is gone
    r = c.get("/history")
    assert r.status_code == 503 and "database cannot answer now (" in r.text
    r = web.client().get("/api/history", auth=("sample", PASSWORDS["sample"]))
    assert r.status_code == 503
    assert r.json()["error"].startswith("the gateway's database cannot answer now (")
