"""Accounts: passwords (Argon2id), API tokens, and the ``[[accounts]]`` of the TOML.

Passwords are hashed with Argon2id (RFC 9106) by argon2-cffi at the cost
OWASP's Password Storage Cheat Sheet gives as its first choice (19 MiB, 2
passes, 1 lane: about 25 ms here): a POP3 client logs in at every poll, so
the cost is paid often, and guessing is bounded by the servers' login rate
limits too.  ``verify_password`` also says when a hash was made at another
cost, and the store makes it again at this one.

API tokens are 256 random bits (``secrets.token_urlsafe(32)``), shown once;
only their SHA-256 is kept, which is enough for a secret that cannot be
guessed and lets the token be found by its hash.

``account_fields`` reads one ``[[accounts]]`` entry (a dict as tomllib gives
it) into column values: only the keys the file gives, so what the file does
not say keeps the value in the database (set in the web admin).

``AccountMethods`` are the ``Store`` methods on accounts: ``sync_accounts``
(the file's accounts; one removed from the file is disabled, not deleted),
``account_for_sender``, ``authenticate`` (by name, or by sender address as
POP3 logs in), ``set_password``, ``create_token``, ``account_for_token``.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from faxengine.gateway.errors import GatewayConfigError
from faxengine.gateway.store.engine import translated
from faxengine.gateway.store.models import Account, ApiToken, Sender
from faxengine.gateway.store.records import StoreError, aware

__all__ = ["AccountMethods", "hash_password", "verify_password", "new_token", "token_hash",
           "account_fields", "normalise_address"]

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# an Argon2 hash of nothing anyone knows: verified against when the name is
# unknown, so an unknown name takes as long to refuse as a wrong password
# (made on first use)
_dummy: list[str] = []
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_KEYS = {"name", "password", "senders", "retries", "retry_interval", "retry_interval_s",
         "result_mail", "role", "disabled"}


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (a str of 1 character or more)."""
    if not isinstance(password, str) or not password:
        raise GatewayConfigError("password is empty: give the account a password")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> tuple[bool, bool]:
    """(``password`` matches ``stored``, the hash should be made again at today's cost).

    ``stored`` None (no such account) takes the same time and never matches.
    """
    if not isinstance(password, str):
        return False, False
    try:
        if not _dummy:
            _dummy.append(_hasher.hash(secrets.token_hex(16)))
        ok = _hasher.verify(stored or _dummy[0], password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False, False
    return ok, ok and _hasher.check_needs_rehash(stored)


def new_token() -> tuple[str, str]:
    """A new API token and the hash to keep of it: (token, token_hash)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a token is kept."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def normalise_address(address: str) -> str:
    """A sender address as it is kept and compared: stripped, lower case (§1 From:
    case-insensitive)."""
    return address.strip().lower()


def account_fields(entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The column values an ``[[accounts]]`` entry gives (``where`` names it in errors).

    Keys: name (required), password, senders (list of addresses), retries
    (0-3), retry_interval ("60s", "2m", "1h", seconds, or a timedelta; or
    retry_interval_s), result_mail, role ("user" | "operator"), disabled.
    The password is returned as given (``"password"``), to be hashed by the caller.
    """
    if not isinstance(entry, Mapping):
        raise GatewayConfigError(f"{where}: an account is a table of keys, not {entry!r}")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise GatewayConfigError(f"{where}: unknown key {unknown[0]!r}; an account has "
                                 f"{', '.join(sorted(_KEYS))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise GatewayConfigError(f"{where} name is {name!r}: give a login name of 1 to 100 "
                                 f"characters")
    out: dict[str, Any] = {"name": name.strip()}
    if "password" in entry:
        if not isinstance(entry["password"], str) or not entry["password"]:
            raise GatewayConfigError(f"{where} password: give a non-empty string")
        out["password"] = entry["password"]
    if "senders" in entry:
        senders = entry["senders"]
        if isinstance(senders, str) or not isinstance(senders, (list, tuple)) or \
                not all(isinstance(a, str) and _is_address(a) for a in senders):
            raise GatewayConfigError(f"{where} senders is {senders!r}: give a list of mail "
                                     f"addresses such as [\"sample@edicworks.com\"]")
        out["senders"] = list(dict.fromkeys(normalise_address(a) for a in senders))
    if "retries" in entry:
        r = entry["retries"]
        if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r <= 3:
            raise GatewayConfigError(f"{where} retries is {r!r}: an account retries 0, 1, 2 "
                                     f"or 3 times")
        out["retries"] = r
    for key in ("retry_interval", "retry_interval_s"):
        if key in entry:
            out["retry_interval_s"] = _seconds(entry[key], f"{where} {key}")
    for key in ("result_mail", "disabled"):
        if key in entry:
            if not isinstance(entry[key], bool):
                raise GatewayConfigError(f"{where} {key} is {entry[key]!r}: true or false")
            out[key] = entry[key]
    if "role" in entry:
        if entry["role"] not in ("user", "operator"):
            raise GatewayConfigError(f"{where} role is {entry['role']!r}: \"user\" or "
                                     f"\"operator\"")
        out["role"] = entry["role"]
    return out


def _is_address(text: str) -> bool:
    local, at, domain = text.strip().rpartition("@")
    return bool(at and local and domain and not any(c.isspace() for c in text.strip()))


def _seconds(value: Any, where: str) -> int:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
    else:
        raise GatewayConfigError(f"{where} is {value!r}: give a duration such as \"60s\", "
                                 f"\"2m\" or \"1h\"")
    if not 0 <= seconds <= 7 * 86400:
        raise GatewayConfigError(f"{where} is {value!r}: give a duration from 0 s to 7 days")
    return round(seconds)


class AccountMethods:
    """The account methods of ``Store`` (it provides ``session``, ``read_session``)."""

    session: sessionmaker
    read_session: sessionmaker

    @translated
    def sync_accounts(self, accounts: Sequence[Mapping[str, Any]], now: datetime | None = None
                      ) -> None:
        """Create or update the accounts of the TOML's ``[[accounts]]`` (dicts).

        What an entry gives wins over the database (a changed password is
        hashed and replaces the old one; ``senders`` replaces the account's
        addresses); what it leaves out keeps the database's value, or the
        default for a new account.  An account that came from the file and is
        no longer in it is disabled, not deleted: its history stays, it can no
        longer log in and its senders are refused.  Accounts made in the web
        admin are left alone.

        Raises:
            GatewayConfigError: an entry is wrong, two entries share a name or
                a sender, or a sender belongs to another account in the database.
        """
        now = aware(now, "now") if now is not None else datetime.now(timezone.utc)
        if isinstance(accounts, (str, bytes, Mapping)) or not isinstance(accounts, Sequence):
            raise GatewayConfigError(f"accounts is {type(accounts).__name__}: give a list of "
                                     f"[[accounts]] tables")
        entries = [account_fields(e, f"accounts[{i}]") for i, e in enumerate(accounts)]
        _unique(entries)
        with self.session.begin() as s:
            rows = {a.name: a for a in s.scalars(select(Account))}
            for e in entries:
                row = rows.get(e["name"])
                if row is None and "password" not in e:
                    raise GatewayConfigError(f"account {e['name']!r}: a new account needs a "
                                             f"password")
                if row is None:
                    row = Account(name=e["name"], password_hash="", created_at=now, role="user",
                                  retries=2, retry_interval_s=60, result_mail=True,
                                  disabled=False)
                    s.add(row)
                    rows[row.name] = row
                elif not row.from_config:
                    raise GatewayConfigError(f"account {e['name']!r} was made in the web admin;"
                                             f" rename the one in the file")
                _apply(row, e)
                row.from_config = True
            listed = {e["name"] for e in entries}
            for row in rows.values():
                if row.from_config and row.name not in listed:
                    row.disabled = True
            s.flush()
            for e in entries:
                if "senders" in e:
                    self._set_senders(s, rows[e["name"]], e["senders"])

    @staticmethod
    def _set_senders(s: Session, row: Account, addresses: list[str]) -> None:
        for old in list(row.senders):
            if old.address not in addresses:
                row.senders.remove(old)
        s.flush()
        have = {x.address for x in row.senders}
        for address in addresses:
            if address in have:
                continue
            other = s.scalar(select(Sender).where(Sender.address == address))
            if other is not None:
                owner = s.get(Account, other.account_id)
                if owner.from_config:      # moved between two accounts of the file
                    owner.senders.remove(other)
                    s.flush()
                else:
                    raise GatewayConfigError(
                        f"account {row.name!r}: sender {address} is registered to account "
                        f"{owner.name!r} (made in the web admin); remove it there or here")
            row.senders.append(Sender(address=address))
        s.flush()

    @translated
    def account_for_sender(self, address: str) -> Account | None:
        """The enabled account that registered ``address`` (without regard to case)."""
        if not isinstance(address, str) or not address.strip():
            return None
        with self.read_session() as s:
            return s.scalar(select(Account).join(Sender).where(
                Sender.address == normalise_address(address), Account.disabled.is_(False)))

    @translated
    def authenticate(self, name_or_address: str, password: str) -> Account | None:
        """The enabled account whose name, or one of whose sender addresses (as
        POP3 logs in), is ``name_or_address`` and whose password is ``password``."""
        if not isinstance(name_or_address, str) or not isinstance(password, str):
            return None
        with self.read_session() as s:
            row = s.scalar(select(Account).where(Account.name == name_or_address.strip()))
            if row is None:
                row = s.scalar(select(Account).join(Sender).where(
                    Sender.address == normalise_address(name_or_address)))
        ok, rehash = verify_password(row.password_hash if row else None, password)
        if not ok or row.disabled:
            return None
        if rehash:              # the row as stored now: a caller that fingerprints the
            self.set_password(row.name, password)       # hash (web sessions) sees the new one
            with self.read_session() as s:
                row = s.get(Account, row.id)
        return row

    @translated
    def set_password(self, name: str, password: str) -> None:
        """Give account ``name`` a new password (hashed)."""
        hashed = hash_password(password)
        with self.session.begin() as s:
            _by_name(s, name).password_hash = hashed

    @translated
    def create_token(self, name: str, token_name: str, now: datetime) -> str:
        """A new API token for account ``name``: returned once, only its hash is kept."""
        token, hashed = new_token()
        with self.session.begin() as s:
            s.add(ApiToken(account_id=_by_name(s, name).id, name=token_name,
                           token_hash=hashed, created_at=aware(now, "now")))
        return token

    @translated
    def account_for_token(self, token: str) -> Account | None:
        """The enabled account of an API token that is not revoked."""
        if not isinstance(token, str) or not token:
            return None
        with self.read_session() as s:
            return s.scalar(select(Account).join(ApiToken).where(
                ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None),
                Account.disabled.is_(False)))


def _apply(row: Account, e: Mapping[str, Any]) -> None:
    if "password" in e:
        ok, _ = verify_password(row.password_hash or None, e["password"])
        if not ok:
            row.password_hash = hash_password(e["password"])
    for key in ("retries", "retry_interval_s", "result_mail", "role"):
        if key in e:
            setattr(row, key, e[key])
    row.disabled = e.get("disabled", False)


def _unique(entries: list[dict[str, Any]]) -> None:
    names: set[str] = set()
    owner: dict[str, str] = {}
    for e in entries:
        if e["name"] in names:
            raise GatewayConfigError(f"accounts: two accounts are named {e['name']!r}")
        names.add(e["name"])
        for a in e.get("senders", ()):
            if a in owner:
                raise GatewayConfigError(f"accounts: sender {a} is in both {owner[a]!r} and "
                                         f"{e['name']!r}; a sender belongs to one account")
            owner[a] = e["name"]


def _by_name(s: Session, name: str) -> Account:
    row = s.scalar(select(Account).where(Account.name == name))
    if row is None:
        raise StoreError(f"no account {name!r}")
    return row
