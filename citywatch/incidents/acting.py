"""The one place where someone acts on an incident: the REST routes and the dashboard both come here.

`IncidentActions.perform` takes the credential the request or the page holds (a session or API
token), and in one database transaction checks it as it is at that moment (not expired, not
logged out, the user not disabled, the role as it is now), applies the change through the
lifecycle, and writes the audit row. A page opened before a logout, a demotion or a disabling
therefore acts with nobody's authority, and no change is ever stored without its audit row (nor
an audit row without its change).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from citywatch.incidents.lifecycle import Action, IncidentEvent, IncidentLifecycle
from citywatch.incidents.schema import AuditRow
from citywatch.incidents.store import IncidentStore, StoredIncident
from citywatch.incidents.users import Principal, Role, UserDirectory

ROLE_OF: dict[Action, Role] = {
    Action.ACKNOWLEDGE: Role.OPERATOR,
    Action.ASSIGN: Role.OPERATOR,
    Action.RESOLVE: Role.OPERATOR,
    Action.FALSE_ALARM: Role.OPERATOR,
    Action.NOTE: Role.OPERATOR,
    Action.LOCK: Role.SUPERVISOR,
    Action.UNLOCK: Role.SUPERVISOR,
}
"""The least role each action needs (the REST routes' dependencies are built from it too)."""


class SessionEnded(PermissionError):
    """The credential no longer stands for anyone: logged out, expired, revoked or disabled."""


class ActionRefused(PermissionError):
    """The credential's role, as it is now, may not do this."""


@dataclass(frozen=True, slots=True)
class ActionInput:
    note: str | None = None
    user: str | None = None
    unit: str | None = None


def audit_row(
    at: datetime, actor: str, action: str, target: str | None, ip: str | None, details: dict[str, Any]
) -> AuditRow:
    """An audit log entry; `details` must never hold a secret (password, token)."""
    return AuditRow(at=at, actor=actor, action=action, target=target, ip=ip, details=details)


class IncidentActions:
    def __init__(
        self,
        store: IncidentStore,
        users: UserDirectory,
        lifecycle: IncidentLifecycle,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._users = users
        self._lifecycle = lifecycle
        self._clock = clock

    def authorize(self, credential: str, role: Role) -> Principal:
        """Who `credential` stands for now, if that one may act as `role`; else SessionEnded or
        ActionRefused (for what is not an incident action, such as saving zones)."""
        return self._store.read("check a credential", lambda s: self._authorized(s, credential, role))

    def perform(
        self,
        credential: str,
        incident_id: str,
        action: Action,
        data: ActionInput,
        *,
        via: str,
        ip: str | None = None,
    ) -> tuple[Principal, StoredIncident | IncidentEvent]:
        """Check, act and audit in one transaction; the principal and the incident afterwards (the
        event for a note). Raises SessionEnded, ActionRefused or the lifecycle's errors."""

        def run(session: Session) -> tuple[Principal, StoredIncident | IncidentEvent]:
            principal = self._authorized(session, credential, ROLE_OF[action])
            result = self._apply(session, principal.actor, incident_id, action, data)
            at = datetime.fromtimestamp(self._clock(), UTC)
            target = f"incident:{incident_id}"
            session.add(audit_row(at, principal.actor, f"incident.{action.value}", target, ip, {"via": via}))
            return principal, result

        return self._store.write(f"{action.value} incident {incident_id}", run)

    def _authorized(self, session: Session, credential: str, role: Role) -> Principal:
        principal = self._users.principal_in(session, credential) if credential else None
        if principal is None:
            raise SessionEnded("the session has ended: log in again")
        if not principal.role.allows(role):
            raise ActionRefused(f"needs the {role.value} role")
        return principal

    def _apply(
        self, session: Session, actor: str, incident_id: str, action: Action, data: ActionInput
    ) -> StoredIncident | IncidentEvent:
        lifecycle = self._lifecycle
        if action is Action.NOTE:
            return lifecycle.add_note_in(session, incident_id, actor, data.note or "")
        if action in (Action.LOCK, Action.UNLOCK):
            return lifecycle.set_locked_in(session, incident_id, actor, action is Action.LOCK, data.note)
        return lifecycle.change_status_in(
            session, incident_id, action, actor, note=data.note, user=data.user, unit=data.unit
        )
