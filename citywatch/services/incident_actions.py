"""The one place where someone acts on an incident: the REST routes and the dashboard both come here.

`IncidentActions.perform` takes the caller (the credential its request or page holds) and, in one
database transaction, checks the credential as it is at that moment (`Authority.current_in`),
applies the change through the lifecycle and writes the audit row; then it tells every open
dashboard (`changes`). No change is ever stored without its audit row (nor an audit row without
its change).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from citywatch.domain.lifecycle import STATUS_ACTIONS, Action, CloseReason, IncidentEvent, can_act
from citywatch.domain.stored_incident import StoredIncident
from citywatch.notifiers.live import LiveHub
from citywatch.services.permissions import LEAST_ROLE, Authority, Caller
from citywatch.storage.audit import AuditLog, audit_row
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role


@dataclass(frozen=True, slots=True)
class ActionInput:
    """What an action takes besides the incident: the note (required to reopen, and to close for
    the reason `other`), the assignee (a user or a unit) and the reason for closing."""

    note: str | None = None
    user: str | None = None
    unit: str | None = None
    reason: CloseReason | None = None


def offered_actions(incident: StoredIncident, role: Role) -> list[Action]:
    """The actions to offer on `incident` to someone of `role`: allowed by both, in button order."""
    offered = []
    for action in Action:
        if not role.allows(LEAST_ROLE[action]):
            continue
        if action in STATUS_ACTIONS and not can_act(action, incident.status):
            continue
        if (action is Action.LOCK and incident.locked) or (action is Action.UNLOCK and not incident.locked):
            continue
        offered.append(action)
    return offered


class IncidentActions:
    def __init__(
        self,
        store: IncidentStore,
        authority: Authority,
        lifecycle: IncidentLifecycle,
        audit: AuditLog,
        changes: LiveHub,
    ) -> None:
        self._store = store
        self._authority = authority
        self._lifecycle = lifecycle
        self._audit = audit
        self._changes = changes

    def perform(
        self, caller: Caller, incident_id: str, action: Action, data: ActionInput
    ) -> StoredIncident | IncidentEvent:
        """Check, act and audit in one transaction, then publish {"event": "incident_changed"}; the
        incident afterwards (the event for a note). Raises SessionEnded, ActionRefused or the
        lifecycle's errors."""

        def run(session: Session) -> StoredIncident | IncidentEvent:
            actor = self._authority.current_in(session, caller, action).actor
            result = self._apply(session, actor, incident_id, action, data)
            row = audit_row(
                self._audit.now(),
                actor,
                f"incident.{action.value}",
                f"incident:{incident_id}",
                caller.ip,
                {"via": caller.via},
            )
            session.add(row)
            return result

        result = self._store.write(f"{action.value} incident {incident_id}", run)
        message: dict[str, object] = {"id": incident_id, "action": action.value}
        if isinstance(result, StoredIncident):
            message |= {"status": result.status.value, "locked": result.locked}
        self._changes.publish({"event": "incident_changed", "data": message})
        return result

    def _apply(
        self, session: Session, actor: str, incident_id: str, action: Action, data: ActionInput
    ) -> StoredIncident | IncidentEvent:
        lifecycle = self._lifecycle
        if action is Action.NOTE:
            return lifecycle.add_note_in(session, incident_id, actor, data.note or "")
        if action in (Action.LOCK, Action.UNLOCK):
            return lifecycle.set_locked_in(session, incident_id, actor, action is Action.LOCK, data.note)
        return lifecycle.change_status_in(
            session,
            incident_id,
            action,
            actor,
            note=data.note,
            user=data.user,
            unit=data.unit,
            reason=data.reason,
        )
