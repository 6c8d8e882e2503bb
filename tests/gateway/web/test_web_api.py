"""The REST API over HTTP: authentication, the pinned JSON, TIFFs, POST /api/faxes, OpenAPI."""
from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from gwweb_support import (DOMAIN, PASSWORDS, POSTGRES_TOO, SECRET, T0, ZONE, csrf_of, httpx,
                           send, serve, stop)

from faxengine.gateway.mail import parse_request
from faxengine.gateway.web import create_app

SAMPLE = ("sample", PASSWORDS["sample"])


def test_without_credentials_401_json_with_a_challenge(web, store):
    [no] = send(store)
    c = web.client()
    for path in ("/api/history", f"/api/faxes/{no}", f"/api/faxes/{no}.tif"):
        r = c.get(path)
        assert r.status_code == 401, path
        assert r.json() == {"error": "authentication required: HTTP Basic with the account's "
                                     "name and password, or Authorization: Bearer <API token>"}
        assert r.headers["www-authenticate"] == 'Basic realm="faxengine", charset="UTF-8"'
    assert c.post("/api/faxes", data={"to": "0921234567"}).status_code == 401
    r = c.get("/api/history", auth=("sample", "wrong"))
    assert (r.status_code, r.json()) == (401, {"error": "wrong account name or password"})
    r = c.get("/api/history", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "API token is not valid" in r.json()["error"]
    r = c.get("/api/history", headers={"Authorization": "Digest x"})
    assert r.json() == {"error": "the Authorization header is neither Basic nor Bearer"}


@POSTGRES_TOO
def test_history_record_json_as_pinned(web, store):
    [no] = send(store, pages=3)
    [err] = send(store, numbers=["0451234567"], outcome="INCOMPATIBLE", when=T0 + timedelta(hours=1))
    r = web.client().get("/api/history", auth=SAMPLE)
    assert r.status_code == 200
    assert r.json() == {"total": 2, "page": 1, "records": [
        {"detail_no": err, "sent_at": "2026-12-06T11:00:00+09:00", "number": "0451234567",
         "pages": None, "subject": "FAX送信サンプル福岡", "sender": "sample@edicworks.com",
         "status": "送信エラー", "result_code": "INCOMPATIBLE", "attempts": 1,
         "image": f"/faxes/{err}.tif"},
        {"detail_no": no, "sent_at": "2026-12-06T10:00:00+09:00", "number": "0921234567",
         "pages": 3, "subject": "FAX送信サンプル福岡", "sender": "sample@edicworks.com",
         "status": "送信完了", "result_code": "OK", "attempts": 1,
         "image": f"/faxes/{no}.tif"}]}
    r = web.client().get(f"/api/faxes/{no}", auth=SAMPLE)
    assert r.json() == r.json() | {"detail_no": no, "pages": 3, "status": "送信完了"}
    assert list(r.json()) == ["detail_no", "sent_at", "number", "pages", "subject", "sender",
                              "status", "result_code", "attempts", "image"]
    r = web.client().get("/api/history?status=送信完了&number=0921", auth=SAMPLE)
    assert [x["detail_no"] for x in r.json()["records"]] == [no]
    r = web.client().get("/api/history?from=yesterday", auth=SAMPLE)
    assert (r.status_code, r.json()) == (400, {"error": "from is 'yesterday': give a date as YYYY-MM-DD"})
    web.clock.t = T0 + timedelta(hours=264)
    assert web.client().get(f"/api/faxes/{no}", auth=SAMPLE).json()["image"] is None


def test_tiff_and_404_across_accounts(web, store):
    [no] = send(store)
    c = web.client()
    r = c.get(f"/api/faxes/{no}.tif", auth=SAMPLE)
    assert r.status_code == 200 and r.content == (store.data_dir / "images/1.tif").read_bytes()
    other = ("other", PASSWORDS["other"])
    for path in (f"/api/faxes/{no}", f"/api/faxes/{no}.tif"):
        r = c.get(path, auth=other)
        assert r.status_code == 404 and "error" in r.json(), path
    assert c.get("/api/history", auth=other).json() == {"total": 0, "page": 1, "records": []}
    assert c.get("/api/history", auth=("admin", PASSWORDS["admin"])).json()["total"] == 1
    for name in ("..%2F..%2Fetc%2Fpasswd", "0000000001001' OR '1'='1", "1"):
        assert c.get(f"/api/faxes/{name}", auth=SAMPLE).status_code == 404


def test_bearer_token_made_in_the_settings_and_revoked(web, store):
    send(store)
    c = web.login("sample")
    r = c.post("/settings/tokens", data={"csrf": csrf_of(c.get("/settings").text), "name": "販売管理"})
    token = re.search(r'<code id="new-token">([^<]+)</code>', r.text).group(1)
    assert "この画面を離れると二度と表示されません" in r.text
    assert token not in c.get("/settings").text                  # shown once
    api = web.client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/history").json()["total"] == 1
    token_id = re.search(r'name="token_id" value="(\d+)"', c.get("/settings").text).group(1)
    c.post("/settings/tokens/revoke", data={"csrf": csrf_of(c.get("/settings").text),
                                            "token_id": token_id})
    assert api.get("/api/history").status_code == 401
    # another account cannot revoke it (nor see it)
    o = web.login("other")
    r = o.post("/settings/tokens/revoke", data={"csrf": csrf_of(o.get("/settings").text),
                                                "token_id": token_id})
    assert r.status_code == 400 and "そのAPIトークンはありません。" in r.text


def test_basic_auth_failures_count_against_the_login_limit(web):
    c = web.client()
    for _ in range(5):
        assert c.get("/api/history", auth=("sample", "guess")).status_code == 401
    r = c.get("/api/history", auth=SAMPLE)
    assert r.status_code == 429 and r.headers["retry-after"] == "900"


@POSTGRES_TOO
def test_post_faxes_lands_in_the_store_as_a_request(web, store):
    r = web.client().post("/api/faxes", auth=SAMPLE,
                          data={"to": ["092-123-4567, 0451234567", "0120123456"],
                                "subject": "API送信テスト"},
                          files=[("files", ("見積書.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n")),
                                 ("files", ("a.txt", "テキスト".encode()))])
    assert r.status_code == 202
    [(seq, raw, mail_from, rcpt)] = web.submitted
    assert r.json() == {"request": seq, "detail_nos": [f"{seq * 1000 + i:013d}" for i in (1, 2, 3)]}
    assert mail_from == "sample@edicworks.com"
    assert rcpt == [f"092-123-4567@{DOMAIN}", f"0451234567@{DOMAIN}", f"0120123456@{DOMAIN}"]
    [pending] = [p for p in store.unexpanded() if p.seq == seq]
    assert pending.read() == raw and pending.mail_from == "sample@edicworks.com"
    req = parse_request(raw, DOMAIN, mail_from=mail_from, rcpt_to=rcpt)
    assert req.refusal is None and req.subject == "API送信テスト"
    assert [d.number for d in req.destinations] == ["0921234567", "0451234567", "0120123456"]
    assert [(d.name, d.file_type) for d in req.documents] == [("a.txt", "text"), ("見積書.pdf", "pdf")]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["From"] == "sample@edicworks.com"


@pytest.mark.parametrize("data, status, error", [
    ({"subject": "x"}, 400, "to: give at least one fax number"),
    ({"to": "<script>", "subject": "x"}, 400, "to: '<script>' is not a fax number"),
])
def test_post_faxes_refuses_what_is_not_a_form(web, data, status, error):
    r = web.client().post("/api/faxes", auth=SAMPLE, data=data, files=[("files", ("a.txt", b"x"))])
    assert (r.status_code, r.json()) == (status, {"error": error})
    assert web.submitted == []


def test_post_faxes_size_limit_and_json_body(web, store, clock):
    c = web.client()
    r = c.post("/api/faxes", auth=SAMPLE, json={"to": "0921234567"})
    assert r.status_code == 400 and r.json()["error"].startswith("send multipart/form-data")
    assert web.submitted == []

    async def submit(raw, mail_from, rcpt_to):
        raise AssertionError("a request over the limit was submitted")

    server, thread, url = serve(create_app(store, secret_key=SECRET, timezone=ZONE,
                                           fax_domain=DOMAIN, submit=submit, now=clock,
                                           max_upload=4096))
    try:
        r = httpx.post(url + "/api/faxes", auth=SAMPLE, data={"to": "0921234567"},
                       files=[("files", ("big.txt", b"x" * 5000))])
        assert r.status_code == 413
        assert re.fullmatch(r"the request is \d+ octets: at most 4096 are accepted", r.json()["error"])
    finally:
        stop(server, thread)


def test_the_rules_of_mail_apply_to_the_api(web, store):
    """51 destinations: accepted as mail is, then refused by the rules (宛先数超過エラー)."""
    r = web.client().post("/api/faxes", auth=SAMPLE,
                          data={"to": ",".join(f"09212345{i:02d}" for i in range(51))},
                          files=[("files", ("a.txt", b"x"))])
    assert r.status_code == 202
    [(seq, raw, mail_from, rcpt)] = web.submitted
    req = parse_request(raw, DOMAIN, mail_from=mail_from, rcpt_to=rcpt)
    assert req.refusal.status == "宛先数超過エラー"


def test_openapi_describes_the_api_only(web):
    doc = web.client().get("/api/openapi.json").json()
    assert set(doc["paths"]) == {"/api/history", "/api/faxes", "/api/faxes/{detail_no}",
                                 "/api/faxes/{detail_no}.tif"}
    record = doc["components"]["schemas"]["HistoryRecord"]["properties"]
    assert list(record) == ["detail_no", "sent_at", "number", "pages", "subject", "sender",
                            "status", "result_code", "attempts", "image"]
    assert "multipart/form-data" in doc["paths"]["/api/faxes"]["post"]["requestBody"]["content"]
