"""What operators do to an incident from the dashboard: the REST API's own action path
(citywatch.incidents.acting: the page's credential checked as it is now, the change and its audit
row in one transaction), and a message on the dashboard's hub so every open page shows the change
at once."""

from __future__ import annotations

from citywatch.incidents.acting import ROLE_OF, ActionInput
from citywatch.incidents.lifecycle import STATUS_ACTIONS, Action, can_transition
from citywatch.incidents.store import StoredIncident
from citywatch.incidents.users import Role
from citywatch.ui.services import UiServices
from citywatch.ui.session import UiSession


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
    services: UiServices, session: UiSession, incident_id: str, action: Action, data: ActionInput
) -> StoredIncident | None:
    """Do `action` with the page's credential as it is now (incidents.acting: checked, done and
    audited in one transaction); the incident afterwards (None for a note). Raises SessionEnded,
    ActionRefused or the lifecycle's errors."""
    _, result = services.context.actions.perform(session.token, incident_id, action, data, via="dashboard")
    incident = result if isinstance(result, StoredIncident) else None
    message = {"id": incident_id, "action": action.value}
    if incident is not None:
        message |= {"status": incident.status.value, "locked": incident.locked}
    services.changes.publish({"event": "incident_changed", "data": message})
    return incident
