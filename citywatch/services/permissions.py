"""Who may do what: the least role of every task in one table (`LEAST_ROLE`), and the `Caller`
every service takes.

A credential is looked up when its request starts (the API's dependency) or its page opens (the
dashboard's guard checks it again before every event of the page): reads and audit-only writes
check the role it had then (`permit`). A change checks the credential again as it is at that
moment, inside the change's own transaction (`Authority.current_in`: not expired, not logged
out, the user not disabled, the role as it is now), so a page opened before a logout, a demotion
or a disabling acts with nobody's authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeAlias

from sqlalchemy.orm import Session

from citywatch.domain.lifecycle import Action
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Principal, Role, UserDirectory

SESSION_COOKIE = "citywatch_session"
"""The cookie that carries a dashboard login's session token (set by POST /api/auth/login): the
REST routes, the pages and their sockets read it."""


class Task(StrEnum):
    """What is not an action on one incident (those are `lifecycle.Action`, in the same table: no
    value of one is a value of the other)."""

    VIEW = "view"
    """Cameras, incidents, evidence, statistics, the live feed, metrics."""
    EDIT_ZONES = "edit_zones"
    MANAGE_CAMERAS = "manage_cameras"
    """Add, edit, disable and enable cameras (the config file's `cameras`)."""
    MANAGE_USERS = "manage_users"
    """Users and API tokens."""
    READ_AUDIT = "read_audit"
    READ_DEAD_LETTERS = "read_dead_letters"


Permission: TypeAlias = Action | Task

LEAST_ROLE: dict[Permission, Role] = {
    Task.VIEW: Role.VIEWER,
    Action.ACKNOWLEDGE: Role.OPERATOR,
    Action.ASSIGN: Role.OPERATOR,
    Action.RESOLVE: Role.OPERATOR,
    Action.FALSE_ALARM: Role.OPERATOR,
    Action.REOPEN: Role.SUPERVISOR,
    Action.NOTE: Role.OPERATOR,
    Action.LOCK: Role.SUPERVISOR,
    Action.UNLOCK: Role.SUPERVISOR,
    Task.EDIT_ZONES: Role.ADMIN,
    Task.MANAGE_CAMERAS: Role.ADMIN,
    Task.MANAGE_USERS: Role.ADMIN,
    Task.READ_AUDIT: Role.ADMIN,
    Task.READ_DEAD_LETTERS: Role.ADMIN,
}
"""The least role each permission needs: the services check it, the REST routes' dependencies and
the pages' buttons are built from it."""

Via = Literal["api", "dashboard"]


class SessionEnded(PermissionError):
    """The credential no longer stands for anyone: logged out, expired, revoked or disabled."""


class ActionRefused(PermissionError):
    """The credential's role may not do this."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks a service: the credential the request or page holds, whom it stood for when the
    request started or the page opened, and where the request came from (for the audit log)."""

    principal: Principal
    credential: str
    via: Via
    ip: str | None = None

    @property
    def actor(self) -> str:
        return self.principal.actor

    @property
    def role(self) -> Role:
        return self.principal.role

    def may(self, permission: Permission) -> bool:
        return self.principal.role.allows(LEAST_ROLE[permission])


def refusal(permission: Permission) -> ActionRefused:
    return ActionRefused(f"needs the {LEAST_ROLE[permission].value} role")


def permit(caller: Caller, permission: Permission) -> Principal:
    """The caller's principal if its role (as its request or page found it) allows `permission`;
    else ActionRefused."""
    if not caller.may(permission):
        raise refusal(permission)
    return caller.principal


class Authority:
    """Turns credentials into callers and checks them as they are now."""

    def __init__(self, store: IncidentStore, users: UserDirectory) -> None:
        self._store = store
        self._users = users

    def caller(self, credential: str, via: Via, ip: str | None = None) -> Caller | None:
        """Who `credential` stands for now; None when nobody (never, or no longer)."""
        principal = self._users.principal(credential) if credential else None
        return None if principal is None else Caller(principal, credential, via, ip)

    def current(self, caller: Caller, permission: Permission) -> Principal:
        """`current_in` in a transaction of its own (for a change that is not in the database)."""
        return self._store.read("check a credential", lambda s: self.current_in(s, caller, permission))

    def current_in(self, session: Session, caller: Caller, permission: Permission) -> Principal:
        """Whom the caller's credential stands for now, in `session`, if that one may do
        `permission`; else SessionEnded or ActionRefused."""
        principal = self._users.principal_in(session, caller.credential) if caller.credential else None
        if principal is None:
            raise SessionEnded("the session has ended: log in again")
        if not principal.role.allows(LEAST_ROLE[permission]):
            raise refusal(permission)
        return principal
