"""What operators do to an incident from the dashboard: the same lifecycle, role rules and audit
entries as the REST API (citywatch.api.routers.incidents), and a message on the dashboard's hub so
every open page shows the change at once."""

from __future__ import annotations

from dataclasses import dataclass

from citywatch.incidents.lifecycle import STATUS_ACTIONS, Action, can_transition
from citywatch.incidents.store import StoredIncident
from citywatch.incidents.users import Principal, Role
from citywatch.ui.services import UiServices

ROLE_OF: dict[Action, Role] = {
    Action.ACKNOWLEDGE: Role.OPERATOR,
    Action.ASSIGN: Role.OPERATOR,
    Action.RESOLVE: Role.OPERATOR,
    Action.FALSE_ALARM: Role.OPERATOR,
    Action.NOTE: Role.OPERATOR,
    Action.LOCK: Role.SUPERVISOR,
    Action.UNLOCK: Role.SUPERVISOR,
}


class ActionRefused(PermissionError):
    """The user's role may not do this."""


@dataclass(frozen=True, slots=True)
class ActionInput:
    note: str | None = None
    user: str | None = None
    unit: str | None = None


def offered_actions(incident: StoredIncident, role: Role) -> list[Action]:
    """The actions to show for `incident` to someone of `role`: allowed by both, in button order."""
    offered = []
    for action in Action:
        if not role.allows(ROLE_OF[action]):
            continue
        if action in STATUS_ACTIONS and not can_transition(incident.status, STATUS_ACTIONS[action]):
            continue
        if (action is Action.LOCK and incident.locked) or (action is Action.UNLOCK and not incident.locked):
            continue
        offered.append(action)
    return offered


def perform(
    services: UiServices, principal: Principal, incident_id: str, action: Action, data: ActionInput
) -> StoredIncident | None:
    """Do `action`; the incident afterwards (None for a note). Raises ActionRefused or LifecycleError."""
    if not principal.role.allows(ROLE_OF[action]):
        raise ActionRefused(f"{action.value} needs the {ROLE_OF[action].value} role")
    lifecycle = services.context.lifecycle
    incident: StoredIncident | None
    if action is Action.NOTE:
        lifecycle.add_note(incident_id, principal.actor, data.note or "")
        incident = None
    elif action in (Action.LOCK, Action.UNLOCK):
        incident = lifecycle.set_locked(incident_id, principal.actor, action is Action.LOCK, data.note)
    else:
        incident = lifecycle.change_status(
            incident_id, action, principal.actor, note=data.note, user=data.user, unit=data.unit
        )
    services.context.audit.record(
        principal.actor, f"incident.{action.value}", f"incident:{incident_id}", details={"via": "dashboard"}
    )
    message = {"id": incident_id, "action": action.value}
    if incident is not None:
        message |= {"status": incident.status.value, "locked": incident.locked}
    services.changes.publish({"event": "incident_changed", "data": message})
    return incident
