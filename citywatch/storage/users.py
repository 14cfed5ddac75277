"""People and machines that may use the API: users with roles and argon2-hashed passwords, login
sessions for people, API tokens for machines.

Session and API tokens are 256-bit random strings shown once; only their SHA-256 is stored (a
fast hash is enough for a random secret of that size, and lets a request be checked with one
indexed lookup). Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed on login
when those defaults change).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from citywatch.storage.schema import ApiTokenRow, SessionRow, UserRow
from citywatch.storage.store import IncidentStore, StoreError

NAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
"""A user or token name: what the login form and the API take."""


class Role(StrEnum):
    """Each role may do everything the ones before it may."""

    VIEWER = "viewer"
    """Reads cameras, incidents, evidence and stats."""
    OPERATOR = "operator"
    """Acknowledges, assigns, resolves incidents, writes notes."""
    SUPERVISOR = "supervisor"
    """Locks and unlocks evidence."""
    ADMIN = "admin"
    """Manages users and API tokens, reads the audit log."""

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


SESSION_PREFIX = "cws_"
TOKEN_PREFIX = "cwt_"


class UserError(ValueError):
    """A request about users or tokens that cannot be done; the message is fit for an admin."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    role: Role
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request: `actor` is what history and audit record ('alice', 'token:nvr-1')."""

    actor: str
    role: Role
    user_id: int | None = None
    expires_at: datetime | None = None
    """When the login session behind it ends; None for an API token (it lasts until revoked)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserDirectory:
    """Users, sessions and API tokens kept in the incident store's database."""

    def __init__(
        self,
        store: IncidentStore,
        session_ttl_s: float = 12 * 3600,
        clock: Callable[[], float] = time.time,
        password_hasher: PasswordHasher | None = None,
    ) -> None:
        """`password_hasher`: argon2-cffi's defaults unless given (tests pass cheaper parameters)."""
        self._store = store
        self._session_ttl = timedelta(seconds=session_ttl_s)
        self._clock = clock
        self._hasher = password_hasher or PasswordHasher()

    @functools.cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the user does not exist, so the answer takes as long either way."""
        return self._hasher.hash("not a password of anyone")

    def add_user(self, name: str, role: Role, password: str) -> User:
        """A new user; the name as the login form takes it (NAME_PATTERN), and no other user's name
        in another case (`ADMIN` beside `admin` would be two people nobody can tell apart)."""
        if not re.fullmatch(NAME_PATTERN, name):
            raise UserError(f"{name!r} is not a user name: 1 to 64 of letters, digits and _ . @ -")
        if len(password) < 8:
            raise UserError("a password has at least 8 characters")
        row = UserRow(
            name=name,
            role=Role(role).value,
            password_hash=self._hasher.hash(password),
            created_at=self._now(),
        )

        def run(session: Session) -> User:
            same = session.scalars(
                select(UserRow.name).where(func.lower(UserRow.name) == name.lower())
            ).first()
            if same is not None:
                raise UserError(f"user {name!r} already exists" + ("" if same == name else f" as {same!r}"))
            session.add(row)
            session.flush()
            return _user(row)

        try:
            return self._store.write(f"add user {name}", run)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise UserError(f"user {name!r} already exists") from None
            raise

    def users(self) -> list[User]:
        query = select(UserRow).order_by(UserRow.name)
        return self._store.read("list users", lambda s: [_user(row) for row in s.scalars(query)])

    def update_user(
        self,
        name: str,
        *,
        role: Role | None = None,
        password: str | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Change a user; a new password or disabling also ends all of the user's sessions."""
        if password is not None and len(password) < 8:
            raise UserError("a password has at least 8 characters")
        new_hash = self._hasher.hash(password) if password is not None else None

        def run(session: Session) -> User:
            row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
            if row is None:
                raise UserError(f"no user {name!r}")
            if role is not None:
                row.role = Role(role).value
            if new_hash is not None:
                row.password_hash = new_hash
            if disabled is not None:
                row.disabled = disabled
            if new_hash is not None or disabled:
                session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            session.flush()
            return _user(row)

        return self._store.write(f"update user {name}", run)

    def authenticate(self, name: str, password: str) -> User | None:
        """The active user with this name and password, or None (unknown, wrong or disabled)."""
        row = self._store.read(
            f"look up user {name}", lambda s: s.scalars(select(UserRow).where(UserRow.name == name)).first()
        )
        stored_hash = row.password_hash if row is not None else self._dummy_hash
        try:
            self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        if self._hasher.check_needs_rehash(stored_hash):
            self.update_user(name, password=password)
        return _user(row)

    def start_session(self, user: User) -> tuple[str, datetime]:
        """A new session token for `user` (shown once) and when it expires."""
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self._now()
        expires = now + self._session_ttl
        row = SessionRow(token_hash=hash_token(token), user_id=user.id, created_at=now, expires_at=expires)

        def run(session: Session) -> None:
            session.execute(delete(SessionRow).where(SessionRow.expires_at < now))  # tidy up as we go
            session.add(row)

        self._store.write(f"start a session for {user.name}", run)
        return token, expires

    def end_session(self, token: str) -> None:
        statement = delete(SessionRow).where(SessionRow.token_hash == hash_token(token))
        self._store.write("end a session", lambda s: s.execute(statement))

    def create_token(self, name: str, role: Role, created_by: str) -> tuple[ApiToken, str]:
        """A new API token for a machine: its record and the secret (shown once, stored hashed)."""
        if not name or len(name) > 64:
            raise UserError("a token name has 1 to 64 characters")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(
            name=name,
            role=Role(role).value,
            token_hash=hash_token(secret),
            created_by=created_by,
            created_at=self._now(),
        )

        def run(session: Session) -> ApiToken:
            session.add(row)
            session.flush()
            return _token(row)

        try:
            return self._store.write(f"create API token {name}", run), secret
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise UserError(f"an API token named {name!r} already exists") from None
            raise

    def tokens(self) -> list[ApiToken]:
        query = select(ApiTokenRow).order_by(ApiTokenRow.id)
        return self._store.read("list API tokens", lambda s: [_token(row) for row in s.scalars(query)])

    def revoke_token(self, token_id: int) -> ApiToken:
        def run(session: Session) -> ApiToken:
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise UserError(f"no API token {token_id}")
            if row.revoked_at is None:
                row.revoked_at = self._now()
            return _token(row)

        return self._store.write(f"revoke API token {token_id}", run)

    def language(self, user_id: int) -> str | None:
        """The language the user chose for the dashboard (None: the default)."""
        query = select(UserRow.ui_language).where(UserRow.id == user_id)
        return self._store.read("read a user's language", lambda session: session.scalar(query))

    def set_language(self, user_id: int, language: str) -> None:
        statement = update(UserRow).where(UserRow.id == user_id).values(ui_language=language)
        self._store.write("store a user's language", lambda session: session.execute(statement))

    def sound_alerts(self, user_id: int) -> bool:
        """Whether the dashboard sounds alarms for the user (False for an unknown user)."""
        query = select(UserRow.sound_alerts).where(UserRow.id == user_id)
        return bool(self._store.read("read a user's sound switch", lambda session: session.scalar(query)))

    def set_sound_alerts(self, user_id: int, on: bool) -> None:
        statement = update(UserRow).where(UserRow.id == user_id).values(sound_alerts=on)
        self._store.write("store a user's sound switch", lambda session: session.execute(statement))

    def principal(self, token: str) -> Principal | None:
        """Who a bearer token (session or API token) stands for, or None if it is not valid now."""
        return self._store.read("check a credential", lambda session: self.principal_in(session, token))

    def principal_in(self, session: Session, token: str) -> Principal | None:
        """`principal` inside the caller's transaction, so that an action and the check that allows
        it see the same rows (services.permissions.Authority)."""
        digest = hash_token(token)
        if token.startswith(SESSION_PREFIX):
            query = (
                select(UserRow, SessionRow.expires_at)
                .join(SessionRow, SessionRow.user_id == UserRow.id)
                .where(
                    SessionRow.token_hash == digest,
                    SessionRow.expires_at > self._now(),
                    UserRow.disabled.is_(False),
                )
            )
            found = session.execute(query).first()
            if found is None:
                return None
            user, expires_at = found
            return Principal(user.name, Role(user.role), user.id, expires_at)
        if token.startswith(TOKEN_PREFIX):
            token_query = select(ApiTokenRow).where(
                ApiTokenRow.token_hash == digest, ApiTokenRow.revoked_at.is_(None)
            )
            row = session.scalars(token_query).first()
            return Principal(f"token:{row.name}", Role(row.role)) if row is not None else None
        return None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


def _user(row: UserRow) -> User:
    return User(row.id, row.name, Role(row.role), row.disabled, row.created_at)


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(row.id, row.name, Role(row.role), row.created_by, row.created_at, row.revoked_at)
