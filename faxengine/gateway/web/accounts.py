"""What the settings and accounts pages change in the store, each in one transaction.

Every function takes a SQLAlchemy session of the store and its model
module, checks what it is given, and raises ``SettingsError`` with a
message for the page (Japanese: it is shown to the user as it is) when the
change cannot be made; the caller commits.  Passwords are hashed, and
addresses kept, as the store does it (``faxengine.gateway.store.accounts``:
Argon2id, sender addresses in lower case); a password made here has at
least ``MIN_PASSWORD`` characters.  API tokens are made by
``Store.create_token`` (only their SHA-256 is kept).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from faxengine.gateway.errors import GatewayError
from faxengine.gateway.store import accounts as store_accounts

__all__ = ["SettingsError", "Settings", "load", "add_sender", "remove_sender", "set_retries",
           "set_result_mail", "set_password", "revoke_token",
           "list_accounts", "create_account", "set_disabled", "MIN_PASSWORD"]

MIN_PASSWORD = 8
MAX_INTERVAL_S = 24 * 3600


class SettingsError(GatewayError):
    """A change the settings or accounts page cannot make (the message is for the user)."""


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Settings:
    """An account's settings as the settings page shows them."""

    name: str
    role: str
    senders: tuple[str, ...]
    retries: int
    retry_interval_s: int
    result_mail: bool
    tokens: tuple[Token, ...]


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise SettingsError(f"パスワードは{MIN_PASSWORD}文字以上にしてください。")
    if len(password) > 256:
        raise SettingsError("パスワードは256文字以内にしてください。")
    return store_accounts.hash_password(password)


def _account(session, m, account_id: int):
    account = session.get(m.Account, account_id)
    if account is None:
        raise SettingsError("アカウントがありません。")
    return account


def load(session, m, account_id: int) -> Settings:
    from sqlalchemy import select

    a = _account(session, m, account_id)
    senders = session.scalars(select(m.Sender.address).where(m.Sender.account_id == a.id)
                              .order_by(m.Sender.id)).all()
    tokens = session.scalars(select(m.ApiToken).where(m.ApiToken.account_id == a.id)
                             .order_by(m.ApiToken.id)).all()
    return Settings(a.name, a.role, tuple(senders), a.retries, a.retry_interval_s,
                    bool(a.result_mail),
                    tuple(Token(t.id, t.name, t.created_at, t.revoked_at) for t in tokens))


def _address(text: str) -> str:
    address = (text or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or len(address) > 254 \
            or any(c.isspace() or c in "<>,;\"()[]\\" for c in address):
        raise SettingsError(f"「{address[:80]}」はメールアドレスではありません。"
                            f"name@example.jp の形で入力してください。")
    return address


def add_sender(session, m, account_id: int, text: str) -> str:
    """Register a From address for the account: unique across accounts, without case."""
    from sqlalchemy import select

    address = store_accounts.normalise_address(_address(text))
    taken = session.scalar(select(m.Sender.account_id)
                           .where(m.Sender.address == address))
    if taken is not None:
        raise SettingsError(f"{address} は登録済みです"
                            + ("。" if taken == account_id else "(別のアカウント)。"))
    session.add(m.Sender(address=address, account_id=_account(session, m, account_id).id))
    return address


def remove_sender(session, m, account_id: int, text: str) -> None:
    from sqlalchemy import select

    address = store_accounts.normalise_address(text or "")
    row = session.scalars(select(m.Sender).where(m.Sender.account_id == account_id,
                                                 m.Sender.address == address)).first()
    if row is None:
        raise SettingsError(f"{(text or '')[:80]} は登録されていません。")
    session.delete(row)


def set_retries(session, m, account_id: int, retries: str, interval_s: str) -> None:
    """Retries 0-3 and the interval in seconds (spec §2)."""
    r, i = (retries or "").strip(), (interval_s or "").strip()
    if r not in ("0", "1", "2", "3"):
        raise SettingsError("再送回数は0から3の数字で指定してください。")
    if not (i.isascii() and i.isdigit()) or not 0 <= int(i) <= MAX_INTERVAL_S:
        raise SettingsError(f"再送間隔は0から{MAX_INTERVAL_S}秒の数字で指定してください。")
    a = _account(session, m, account_id)
    a.retries, a.retry_interval_s = int(r), int(i)


def set_result_mail(session, m, account_id: int, on: bool) -> None:
    _account(session, m, account_id).result_mail = bool(on)


def set_password(session, m, account_id: int, current: str | None, new: str, again: str) -> None:
    """A new password; ``current`` is checked unless None (an operator's reset)."""
    a = _account(session, m, account_id)
    if current is not None and not store_accounts.verify_password(a.password_hash, current)[0]:
        raise SettingsError("現在のパスワードが違います。")
    if new != again:
        raise SettingsError("新しいパスワードが確認欄と一致しません。")
    a.password_hash = hash_password(new)


def revoke_token(session, m, account_id: int, token_id: str, now: datetime) -> None:
    t = session.get(m.ApiToken, int(token_id)) if (token_id or "").isdigit() else None
    if t is None or t.account_id != account_id:
        raise SettingsError("そのAPIトークンはありません。")
    if t.revoked_at is None:
        t.revoked_at = now


def list_accounts(session, m) -> list:
    from sqlalchemy import select

    return session.scalars(select(m.Account).order_by(m.Account.name)).all()


def create_account(session, m, name: str, password: str, role: str, sender: str,
                   now: datetime) -> None:
    from sqlalchemy import select

    name = (name or "").strip()
    if not name or len(name) > 64 or any(c.isspace() or c in "@:/" for c in name):
        raise SettingsError("アカウント名は64文字以内で、空白・@・:・/ を含めないでください。")
    if role not in ("user", "operator"):
        raise SettingsError("権限は user か operator です。")
    if session.scalar(select(m.Account.id).where(m.Account.name == name)) is not None:
        raise SettingsError(f"アカウント {name} は既にあります。")
    account = m.Account(name=name, password_hash=hash_password(password), role=role,
                        retries=2, retry_interval_s=60, result_mail=True, disabled=False,
                        created_at=now)
    session.add(account)
    session.flush()
    if (sender or "").strip():
        add_sender(session, m, account.id, sender)


def set_disabled(session, m, account_id: int, disabled: bool, by: int) -> None:
    if account_id == by and disabled:
        raise SettingsError("自分のアカウントは無効にできません。")
    _account(session, m, account_id).disabled = bool(disabled)
