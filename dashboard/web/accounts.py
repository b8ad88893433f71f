"""People and screens: local accounts with roles, and per-screen display tokens.

Passwords are hashed with Argon2id (argon2-cffi, its recommended parameters) and rehashed
when those change. A display token is a random 32-byte URL-safe string; only its SHA-256 is
stored, so a stolen database does not give anyone a screen. The tables are created by
migration 0003 (the models sit here, beside the code that uses them, on the history
database's declarative base).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Integer, String, Text, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.storage.history import History
from dashboard.storage.tables import Base, UtcDateTime

Role = Literal["shift_lead", "manager", "admin"]
ROLES: tuple[Role, ...] = ("shift_lead", "manager", "admin")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# verified against when the name is unknown, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    units: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str | None] = mapped_column(String(5))  # migration 0009; None: not chosen


class DisplayTokenRow(Base):
    __tablename__ = "display_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    display: Mapped[str] = mapped_column(String(64), index=True)  # migration 0003
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    units: tuple[str, ...]  # empty: every unit
    language: str | None = None  # their own choice for the staff pages (dashboard/translate.py)

    def may(self, role: Role) -> bool:
        """Admins may do everything; otherwise each role its own pages."""
        return self.role == role or self.role == "admin"

    def covers(self, unit: str) -> bool:
        return not self.units or unit in self.units


class AccountError(ValueError):
    pass


def _user(row: UserRow) -> User:
    return User(row.name, row.role, tuple(json.loads(row.units)), row.language)  # type: ignore[arg-type]


def set_language(history: History, name: str, language: str | None) -> bool:
    """Keep `name`'s own language for the staff pages (None: their browser's, else the
    site's); False if there is no such enabled user."""
    from dashboard.translate import LANGUAGES

    if language is not None and language not in LANGUAGES:
        raise AccountError(f"language {language!r}: give one of {', '.join(LANGUAGES)}")
    with history.engine.begin() as conn:
        result = conn.execute(update(UserRow).where(UserRow.name == name, UserRow.disabled == 0)
                              .values(language=language))
    return bool(result.rowcount)


def add_user(history: History, name: str, role: str, units: list[str], password: str | None) -> bool:
    """Create or update a local account; True if it was created."""
    name = name.strip()
    if not name or len(name) > 200 or any(c.isspace() for c in name):
        raise AccountError(f"user name {name!r}: give one word of at most 200 characters")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: give one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    hashed = _hasher.hash(password) if password is not None else None
    with history.engine.begin() as conn:
        existing = conn.execute(select(UserRow.id).where(UserRow.name == name)).first()
        if existing:
            values: dict[str, object] = {"role": role, "units": json.dumps(units), "disabled": 0}
            if hashed:
                values["password_hash"] = hashed
            conn.execute(update(UserRow).where(UserRow.name == name).values(**values))
            return False
        conn.execute(insert(UserRow).values(
            name=name, role=role, units=json.dumps(units), password_hash=hashed,
            created_at=datetime.now(UTC), disabled=0))
        return True


def disable_user(history: History, name: str) -> bool:
    """Disable an account (it can no longer sign in); False if there is no such user. The
    caller ends its sessions (LiveStore.end_sessions)."""
    with history.engine.begin() as conn:
        result = conn.execute(update(UserRow).where(UserRow.name == name).values(disabled=1))
    return bool(result.rowcount)


def get_user(history: History, name: str) -> User | None:
    with history.engine.connect() as conn:
        row = conn.execute(select(UserRow).where(UserRow.name == name, UserRow.disabled == 0)).first()
    return _user(row) if row else None  # type: ignore[arg-type]


def authenticate(history: History, name: str, password: str) -> User | None:
    """The user if the name and password match an enabled local account."""
    with history.engine.connect() as conn:
        row = conn.execute(select(UserRow).where(UserRow.name == name, UserRow.disabled == 0)).first()
    stored = row.password_hash if row is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        with history.engine.begin() as conn:
            conn.execute(update(UserRow).where(UserRow.name == name).values(password_hash=_hasher.hash(password)))
    return _user(row)  # type: ignore[arg-type]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_display_token(history: History, display: str) -> str:
    """A new token for a screen of `display` (earlier ones stay valid until revoked)."""
    token = secrets.token_urlsafe(32)
    with history.engine.begin() as conn:
        conn.execute(insert(DisplayTokenRow).values(
            display=display, token_sha256=_digest(token), created_at=datetime.now(UTC)))
    return token


def revoke_display_tokens(history: History, display: str) -> int:
    with history.engine.begin() as conn:
        result = conn.execute(update(DisplayTokenRow).where(
            DisplayTokenRow.display == display, DisplayTokenRow.revoked_at.is_(None)).values(
            revoked_at=datetime.now(UTC)))
    return int(result.rowcount or 0)


def display_of_token(history: History, token: str) -> str | None:
    """The display a valid (unrevoked) token belongs to."""
    if not token or len(token) > 200:
        return None
    with history.engine.connect() as conn:
        row = conn.execute(select(DisplayTokenRow.display).where(
            DisplayTokenRow.token_sha256 == _digest(token), DisplayTokenRow.revoked_at.is_(None))).first()
    return str(row[0]) if row else None


def token_digest_valid(history: History, token_sha256: str) -> bool:
    """Is the token with this digest issued and not revoked?"""
    with history.engine.connect() as conn:
        row = conn.execute(select(DisplayTokenRow.id).where(
            DisplayTokenRow.token_sha256 == token_sha256, DisplayTokenRow.revoked_at.is_(None))).first()
    return row is not None


def list_users(history: History) -> list[dict[str, object]]:
    with history.engine.connect() as conn:
        rows = conn.execute(select(UserRow).order_by(UserRow.name)).all()
    return [{"name": r.name, "role": r.role, "units": json.loads(r.units), "local": r.password_hash is not None,
             "disabled": bool(r.disabled)} for r in rows]


def upsert_oidc_user(history: History, subject: str, name: str, role: Role, units: list[str],
                     on_change: Callable[[str], object] | None = None) -> User:
    """The account of a person signed in through the identity provider: created at the first
    sign-in, its role and units refreshed from the provider's claims at every one."""
    with history.engine.begin() as conn:
        row = conn.execute(select(UserRow.id, UserRow.disabled, UserRow.name, UserRow.role, UserRow.units,
                                  UserRow.language).where(UserRow.oidc_subject == subject)).first()
        if row is not None:
            if row.disabled:
                raise AccountError(f"user {name!r} is disabled")
            if (row.role, json.loads(row.units)) != (role, units) and on_change is not None:
                on_change(row.name)  # the provider changed what the person may do
            conn.execute(update(UserRow).where(UserRow.oidc_subject == subject).values(
                name=name, role=role, units=json.dumps(units)))
        else:
            taken = conn.execute(select(UserRow.id).where(UserRow.name == name)).first()
            conn.execute(insert(UserRow).values(
                name=name if taken is None else f"{name}@oidc", role=role, units=json.dumps(units),
                password_hash=None, oidc_subject=subject, created_at=datetime.now(UTC), disabled=0))
    return User(name, role, tuple(units), row.language if row is not None else None)
