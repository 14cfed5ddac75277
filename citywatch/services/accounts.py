"""People and machines: logging in and out, users and API tokens (admins), a user's language and
alarm sound switch.
Every login, failed login, logout and change of a user or token is audited here; secrets go in
(passwords) or out once (new tokens), never into the audit log or an error."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from citywatch.domain.languages import LANGUAGES
from citywatch.domain.lifecycle import Action
from citywatch.services.permissions import Caller, Task, permit
from citywatch.services.ratelimit import LoginRateLimiter
from citywatch.storage.audit import AuditLog
from citywatch.storage.users import ApiToken, Role, User, UserDirectory

log = logging.getLogger(__name__)


class LoginRefused(PermissionError):
    """Wrong user name or password (or a disabled user: the answer does not say which)."""


class TooManyFailures(PermissionError):
    """Too many failed logins of this user name from this address (`LoginRateLimiter`)."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("too many failed logins; try again later")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Login:
    user: User
    token: str
    """The session token (shown once)."""
    expires_at: datetime


class Accounts:
    def __init__(self, users: UserDirectory, audit: AuditLog, limiter: LoginRateLimiter) -> None:
        self._users = users
        self._audit = audit
        self._limiter = limiter

    def login(self, name: str, password: str, ip: str) -> Login:
        """A session for the user; TooManyFailures or LoginRefused."""
        wait = self._limiter.retry_after(name, ip)
        if wait > 0:
            log.warning("login of %r from %s refused: too many failures", name, ip)
            raise TooManyFailures(wait)
        user = self._users.authenticate(name, password)
        if user is None:
            self._limiter.failed(name, ip)
            self._audit.record(name, "login.failed", ip=ip)
            log.warning("failed login of %r from %s", name, ip)
            raise LoginRefused("wrong user name or password")
        self._limiter.succeeded(name, ip)
        token, expires_at = self._users.start_session(user)
        self._audit.record(user.name, "login", ip=ip)
        return Login(user, token, expires_at)

    def logout(self, caller: Caller) -> None:
        """End the session (or revoke nothing: an API token stays) of the caller's credential."""
        self._users.end_session(caller.credential)
        self._audit.record(caller.actor, "logout", ip=caller.ip)

    def language(self, caller: Caller) -> str | None:
        """The language the caller's user chose (None: none chosen, or not a user)."""
        user_id = caller.principal.user_id
        return self._users.language(user_id) if user_id is not None else None

    def set_language(self, caller: Caller, language: str) -> None:
        """Keep `language` (one of LANGUAGES) as the caller's user's; ValueError for another."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        if caller.principal.user_id is None:
            raise ValueError(f"{caller.actor} is not a user")
        self._users.set_language(caller.principal.user_id, language)

    def sound_alerts(self, caller: Caller) -> bool:
        """Whether the dashboard sounds alarms for the caller's user (False: off, or not a user)."""
        user_id = caller.principal.user_id
        return self._users.sound_alerts(user_id) if user_id is not None else False

    def set_sound_alerts(self, caller: Caller, on: bool) -> None:
        """Keep the caller's user's sound switch, for every page, browser and restart; ValueError
        for a caller that is not a user."""
        if caller.principal.user_id is None:
            raise ValueError(f"{caller.actor} is not a user")
        self._users.set_sound_alerts(caller.principal.user_id, bool(on))

    def assignees(self, caller: Caller) -> list[str]:
        """The names of the users an incident may be assigned to (the active ones)."""
        permit(caller, Action.ASSIGN)
        return [user.name for user in self._users.users() if not user.disabled]

    def users(self, caller: Caller) -> list[User]:
        permit(caller, Task.MANAGE_USERS)
        return self._users.users()

    def add_user(self, caller: Caller, name: str, role: Role, password: str) -> User:
        """Raises UserError (the name is taken or not a name)."""
        permit(caller, Task.MANAGE_USERS)
        user = self._users.add_user(name, role, password)
        self._audit.record(
            caller.actor, "user.add", f"user:{user.name}", caller.ip, {"role": user.role.value}
        )
        return user

    def update_user(
        self,
        caller: Caller,
        name: str,
        *,
        role: Role | None = None,
        password: str | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Change what is given; a new password or disabling ends the user's sessions. The audit
        row names the fields changed, never the password. Raises UserError (no such user)."""
        permit(caller, Task.MANAGE_USERS)
        user = self._users.update_user(name, role=role, password=password, disabled=disabled)
        given = {"role": role, "password": password, "disabled": disabled}
        changed = sorted(field for field, value in given.items() if value is not None)
        self._audit.record(caller.actor, "user.update", f"user:{name}", caller.ip, {"changed": changed})
        return user

    def tokens(self, caller: Caller) -> list[ApiToken]:
        permit(caller, Task.MANAGE_USERS)
        return self._users.tokens()

    def create_token(self, caller: Caller, name: str, role: Role) -> tuple[ApiToken, str]:
        """A token for a machine and its secret (shown once). Raises UserError (the name is taken)."""
        permit(caller, Task.MANAGE_USERS)
        token, secret = self._users.create_token(name, role, caller.actor)
        details = {"role": token.role.value}
        self._audit.record(caller.actor, "token.create", f"token:{token.name}", caller.ip, details)
        return token, secret

    def revoke_token(self, caller: Caller, token_id: int) -> ApiToken:
        """Raises UserError (no such token)."""
        permit(caller, Task.MANAGE_USERS)
        token = self._users.revoke_token(token_id)
        self._audit.record(caller.actor, "token.revoke", f"token:{token.name}", caller.ip)
        return token
