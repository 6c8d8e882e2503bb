"""The pieces of web/security.py on their own: the login limit, credentials, tokens."""
import base64
from datetime import datetime, timedelta, timezone

from faxengine.gateway.web.compose import numbers_of
from faxengine.gateway.web.security import LoginLimiter, basic_credentials, bearer_token, csrf_ok

T0 = datetime(2026, 12, 6, tzinfo=timezone.utc)


def test_limiter_locks_after_five_failures_until_the_window_passes():
    lim = LoginLimiter()
    keys = ["ip:127.0.0.1", "user:sample"]
    for i in range(4):
        lim.failed(keys, T0 + timedelta(seconds=i))
        assert lim.retry_after(keys, T0 + timedelta(seconds=i)) == 0
    lim.failed(keys, T0 + timedelta(seconds=4))
    assert lim.retry_after(keys, T0 + timedelta(seconds=5)) == 15 * 60 - 5
    assert lim.retry_after(["user:sample"], T0 + timedelta(minutes=10)) > 0
    assert lim.retry_after(["user:other"], T0 + timedelta(minutes=10)) == 0
    assert lim.retry_after(keys, T0 + timedelta(minutes=15, seconds=1)) == 0


def test_limiter_forgets_a_name_on_success_but_not_the_address():
    lim = LoginLimiter(max_failures=2)
    lim.failed(["ip:a", "user:x"], T0)
    lim.failed(["ip:a", "user:x"], T0)
    lim.succeeded(["user:x"])
    assert lim.retry_after(["user:x"], T0) == 0
    assert lim.retry_after(["ip:a"], T0) > 0


def test_limiter_memory_is_bounded():
    lim = LoginLimiter(max_keys=100)
    for i in range(1000):
        lim.failed([f"user:{i}"], T0)
    assert len(lim._failures) == 100


def test_basic_and_bearer_headers():
    b64 = base64.b64encode("sample:pä:ss".encode()).decode()
    assert basic_credentials(f"Basic {b64}") == ("sample", "pä:ss")
    assert basic_credentials(f"basic  {b64} ") == ("sample", "pä:ss")
    for bad in ("Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                "Basic " + base64.b64encode(b"\xff:\xfe").decode(), "Bearer abc", "Basic " + "A" * 5000):
        assert basic_credentials(bad) is None
    assert bearer_token("Bearer fxt_abc") == "fxt_abc"
    assert bearer_token("Bearer ") is None and bearer_token("Basic x") is None


def test_csrf_comparison():
    assert csrf_ok("tok", "tok") and not csrf_ok("tok", "tok2")
    assert not csrf_ok(None, "") and not csrf_ok("", "") and not csrf_ok("tok", None)


def test_numbers_of_form_fields():
    assert numbers_of(["0921234567, 03-1234-5678", " 0451234567;0120123456 ", ""]) == (
        ["0921234567", "03-1234-5678", "0451234567", "0120123456"], [])
    assert numbers_of(["<script>", "0921234567", "a@b"]) == (["0921234567"], ["<script>", "a@b"])
