"""Accounts in the store: synced from the TOML's [[accounts]], Argon2 passwords,
login by name or sender address, API tokens.

On SQLite; one test runs the same on PostgreSQL (each Argon2 hash costs 0.1-0.5 s,
and the queries are the same on both)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.store import Account, ApiToken, Sender, hash_password

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=timezone.utc)
SAMPLE = {"name": "sample", "password": "change-me", "senders": ["Sample@EdicWorks.com"],
          "retries": 3, "retry_interval": "2m", "result_mail": False, "role": "operator"}


@pytest.fixture
def store_url() -> str:
    return ""


def _account(store, name):
    with store.session() as s:
        return s.scalar(select(Account).where(Account.name == name))


def test_sync_creates_the_account_with_a_hashed_password(store):
    store.sync_accounts([SAMPLE], now=T0)
    a = _account(store, "sample")
    assert (a.role, a.retries, a.retry_interval_s, a.result_mail, a.disabled, a.from_config,
            a.created_at, a.addresses) == \
        ("operator", 3, 120, False, False, True, T0, ["sample@edicworks.com"])
    assert a.password_hash.startswith("$argon2id$") and "change-me" not in a.password_hash
    assert a.retry_policy.retries == 3 and a.retry_policy.interval == timedelta(minutes=2)


def test_what_the_file_leaves_out_keeps_the_database_value(store):
    store.sync_accounts([{"name": "web-tuned", "password": "pw", "senders": ["a@x.jp"]}])
    a = _account(store, "web-tuned")
    assert (a.retries, a.retry_interval_s, a.result_mail, a.role) == (2, 60, True, "user")
    with store.session.begin() as s:        # changed in the web admin
        s.scalar(select(Account).where(Account.name == "web-tuned")).retries = 0
    store.sync_accounts([{"name": "web-tuned", "password": "pw"}])
    a = _account(store, "web-tuned")
    assert a.retries == 0 and a.addresses == ["a@x.jp"]


def test_a_changed_password_replaces_the_old_one_and_an_unchanged_one_is_kept(store):
    store.sync_accounts([SAMPLE])
    first = _account(store, "sample").password_hash
    store.sync_accounts([SAMPLE])
    assert _account(store, "sample").password_hash == first      # not hashed again
    store.sync_accounts([{**SAMPLE, "password": "new-secret"}])
    assert store.authenticate("sample", "change-me") is None
    assert store.authenticate("sample", "new-secret").name == "sample"


def test_login_by_name_or_by_sender_address(store):
    store.sync_accounts([SAMPLE])
    assert store.authenticate("sample", "change-me").name == "sample"
    assert store.authenticate("SAMPLE@edicworks.com", "change-me").name == "sample"  # POP3
    assert store.authenticate("sample", "Change-me") is None
    assert store.authenticate("nobody", "change-me") is None
    assert store.authenticate("", "") is None and store.authenticate(None, b"x") is None
    assert store.account_for_sender(" sample@EDICWORKS.COM ").addresses == \
        ["sample@edicworks.com"]
    assert store.account_for_sender("other@edicworks.com") is None
    assert store.account_for_sender("") is None


def test_an_account_removed_from_the_file_is_disabled_not_deleted(store):
    other = {"name": "other", "password": "pw2", "senders": ["o@x.jp"]}
    store.sync_accounts([SAMPLE, other])
    with store.session.begin() as s:        # an account made in the web admin
        s.add(Account(name="web", password_hash=hash_password("pw3"), created_at=T0,
                      senders=[Sender(address="w@x.jp")]))
    store.sync_accounts([SAMPLE])
    gone = _account(store, "other")
    assert gone.disabled and gone.addresses == ["o@x.jp"]
    assert store.account_for_sender("o@x.jp") is None          # its mails are refused
    assert store.authenticate("other", "pw2") is None
    assert store.authenticate("web", "pw3").name == "web"      # left alone
    store.sync_accounts([SAMPLE, other])                        # back in the file
    assert not _account(store, "other").disabled
    assert store.authenticate("o@x.jp", "pw2").name == "other"


def test_a_sender_moves_between_accounts_of_the_file(store):
    store.sync_accounts([SAMPLE, {"name": "b", "password": "pw", "senders": ["b@x.jp"]}])
    store.sync_accounts([{**SAMPLE, "senders": []},
                         {"name": "b", "password": "pw",
                          "senders": ["b@x.jp", "sample@edicworks.com"]}])
    assert store.account_for_sender("sample@edicworks.com").name == "b"
    assert _account(store, "sample").addresses == []


@pytest.mark.parametrize("entries, message", [
    ([{"password": "x"}], r"^accounts\[0\] name is None: give a login name of 1 to 100 "
                          r"characters$"),
    ([{"name": "a"}], r"^account 'a': a new account needs a password$"),
    ([{"name": "a", "password": "x", "retries": 4}],
     r"^accounts\[0\] retries is 4: an account retries 0, 1, 2 or 3 times$"),
    ([{"name": "a", "password": "x", "retry_interval": "soon"}],
     r"^accounts\[0\] retry_interval is 'soon': give a duration such as \"60s\", \"2m\" or "
     r"\"1h\"$"),
    ([{"name": "a", "password": "x", "senders": "a@x.jp"}],
     r"^accounts\[0\] senders is 'a@x.jp': give a list of mail addresses"),
    ([{"name": "a", "password": "x", "role": "admin"}],
     r"^accounts\[0\] role is 'admin': \"user\" or \"operator\"$"),
    ([{"name": "a", "password": "x", "colour": "red"}],
     r"^accounts\[0\]: unknown key 'colour'; an account has"),
    ([{"name": "a", "password": ""}], r"^accounts\[0\] password: give a non-empty string$"),
    ([{"name": "a", "password": "x"}, {"name": "a", "password": "y"}],
     r"^accounts: two accounts are named 'a'$"),
    ([{"name": "a", "password": "x", "senders": ["s@x.jp"]},
      {"name": "b", "password": "y", "senders": ["S@x.jp"]}],
     r"^accounts: sender s@x.jp is in both 'a' and 'b'; a sender belongs to one account$"),
    (["sample"], r"^accounts\[0\]: an account is a table of keys, not 'sample'$"),
])
def test_a_wrong_entry_names_the_key_and_changes_nothing(store, entries, message):
    with pytest.raises(GatewayConfigError, match=message):
        store.sync_accounts(entries)
    with store.session() as s:
        assert s.scalars(select(Account)).all() == []


def test_a_sender_of_a_web_account_is_not_taken_by_the_file(store):
    with store.session.begin() as s:
        s.add(Account(name="web", password_hash="x", created_at=T0,
                      senders=[Sender(address="w@x.jp")]))
    with pytest.raises(GatewayConfigError, match=r"^account 'a': sender w@x.jp is registered to "
                                                 r"account 'web' \(made in the web admin\); "
                                                 r"remove it there or here$"):
        store.sync_accounts([{"name": "a", "password": "x", "senders": ["w@x.jp"]}])
    with pytest.raises(GatewayConfigError, match=r"^account 'web' was made in the web admin; "
                                                 r"rename the one in the file$"):
        store.sync_accounts([{"name": "web", "password": "x"}])
    assert _account(store, "a") is None


def test_the_same_on_postgresql(pg_cluster, tmp_path):
    from faxengine.gateway.store import Store

    with Store.open(pg_cluster.new_database(), tmp_path) as store:
        store.sync_accounts([SAMPLE, {"name": "b", "password": "pw", "senders": ["b@x.jp"]}])
        assert store.authenticate("SAMPLE@edicworks.com", "change-me").name == "sample"
        assert store.account_for_sender("B@X.JP").name == "b"
        store.sync_accounts([SAMPLE])
        assert store.account_for_sender("b@x.jp") is None and _account(store, "b").disabled
        token = store.create_token("sample", "t", T0)
        assert store.account_for_token(token).name == "sample"


def test_api_tokens_are_kept_as_hashes_and_can_be_revoked(store):
    store.sync_accounts([SAMPLE])
    token = store.create_token("sample", "billing system", T0)
    assert store.account_for_token(token).name == "sample"
    assert store.account_for_token(token + "x") is None and store.account_for_token("") is None
    with store.session.begin() as s:
        row = s.scalar(select(ApiToken))
        assert token not in row.token_hash and row.name == "billing system"
        row.revoked_at = T0 + timedelta(days=1)
    assert store.account_for_token(token) is None


def _hasher():
    from faxengine.gateway.store import accounts
    return accounts._hasher


def test_a_hash_made_at_another_cost_is_made_again_at_login(store):
    from argon2 import PasswordHasher

    store.sync_accounts([SAMPLE])
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=2).hash("change-me")
    with store.session.begin() as s:
        s.scalar(select(Account)).password_hash = old
    row = store.authenticate("sample", "change-me")
    new = _account(store, "sample").password_hash
    # at the store's cost of today (the web tests' session fixture lowers it: not a literal)
    assert new != old and new.startswith("$argon2id$") and not _hasher().check_needs_rehash(new)
    assert row.name == "sample" and row.password_hash == new     # the row as stored now
    assert store.authenticate("sample", "change-me").name == "sample"
