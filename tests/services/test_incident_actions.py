"""Acting on an incident (findings 1, 2 and 8 of the security probe, issue 14): the credential is
checked as it is at that moment, for the REST routes and the dashboard alike; the change and its
audit row are one transaction; every open dashboard hears of it. Which actions a role is offered."""

import asyncio
from collections.abc import Callable
from contextlib import aclosing

import pytest
from api_support import PASSWORD, Api

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action, CloseReason, LifecycleError, Problem, TransitionError
from citywatch.domain.stored_incident import IncidentStatus, StoredIncident
from citywatch.services import incident_actions
from citywatch.services.incident_actions import ActionInput, offered_actions
from citywatch.services.permissions import ActionRefused, Caller, SessionEnded
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role

_names = iter(range(1, 10_000))


def _operator(api: Api) -> tuple[str, Caller]:
    return _caller(api, Role.OPERATOR)


def _caller(api: Api, role: Role) -> tuple[str, Caller]:
    """A new user of `role` and the dashboard's caller of a session of theirs."""
    name = f"{role.value[:3]}-{next(_names)}"
    user = api.context.users.add_user(name, role, PASSWORD)
    token, _ = api.context.users.start_session(user)
    caller = api.context.authority.caller(token, "dashboard")
    assert caller is not None
    return name, caller


def _audited(api: Api, actor: str) -> list[str]:
    return [e.action for e in api.context.audit.entries(actor=actor)]


@pytest.mark.parametrize("change", ["logged out", "disabled", "demoted"])
def test_a_credential_that_no_longer_allows_it_changes_nothing(api: Api, change: str) -> None:
    """The dashboard's path (the page keeps the cookie it was opened with) and the REST routes."""
    name, caller = _operator(api)
    incident_id = api.add_incident()
    if change == "logged out":
        api.context.users.end_session(caller.credential)
    elif change == "disabled":
        api.context.users.update_user(name, disabled=True)
    else:
        api.context.users.update_user(name, role=Role.VIEWER)
    expected = ActionRefused if change == "demoted" else SessionEnded
    with pytest.raises(expected):
        api.context.actions.perform(caller, incident_id, Action.ACKNOWLEDGE, ActionInput())
    response = api.client.post(
        f"/api/incidents/{incident_id}/acknowledge", headers={"Authorization": f"Bearer {caller.credential}"}
    )
    assert response.status_code == (403 if change == "demoted" else 401)
    incident = api.store.get(incident_id)
    assert incident is not None and incident.status is IncidentStatus.NEW
    assert [a for a in _audited(api, name) if a.startswith("incident.")] == []


def test_an_allowed_action_is_stored_with_its_audit_row(api: Api) -> None:
    name, caller = _operator(api)
    incident_id = api.add_incident()
    incident = api.context.actions.perform(caller, incident_id, Action.ACKNOWLEDGE, ActionInput(note="on it"))
    assert isinstance(incident, StoredIncident) and incident.status is IncidentStatus.ACKNOWLEDGED
    entry = api.context.audit.entries(actor=name, action="incident.acknowledge")
    assert [(e.target, e.details) for e in entry] == [(f"incident:{incident_id}", {"via": "dashboard"})]


def test_no_change_is_stored_without_its_audit_row(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The change and its audit row are one transaction: when the audit row cannot be written (here:
    raises), the change is not stored either (the probe's kill -9 left notes without audit)."""
    _, caller = _operator(api)
    incident_id = api.add_incident()

    def broken(*args: object) -> object:
        raise RuntimeError("audit row refused")

    monkeypatch.setattr(incident_actions, "audit_row", broken)
    with pytest.raises(RuntimeError):
        api.context.actions.perform(caller, incident_id, Action.NOTE, ActionInput(note="x"))
    assert [e for e in api.context.lifecycle.history(incident_id) if e.action is Action.NOTE] == []


def test_every_open_dashboard_hears_of_an_action_wherever_it_was_done(api: Api) -> None:
    _, caller = _operator(api)
    incident_id = api.add_incident()

    async def heard() -> dict:
        async with aclosing(api.context.changes.subscribe()) as messages:
            listening = asyncio.ensure_future(anext(messages))
            await asyncio.sleep(0)  # subscribed
            await asyncio.to_thread(
                api.client.post,
                f"/api/incidents/{incident_id}/acknowledge",
                headers={"Authorization": f"Bearer {caller.credential}"},
            )
            return await asyncio.wait_for(listening, 5)

    data = {"id": incident_id, "action": "acknowledge", "status": "acknowledged", "locked": False}
    assert asyncio.run(heard()) == {"event": "incident_changed", "data": data}


def test_a_role_is_offered_only_what_it_may_do_in_the_incidents_status(
    store: IncidentStore, add_incident: Callable[[IncidentType, str, float], str]
) -> None:
    incident_id = add_incident(IncidentType.FIRE, "cam01", 1_700_000_000)
    new = store.get(incident_id)
    assert new is not None and new.status is IncidentStatus.NEW
    assert offered_actions(new, Role.VIEWER) == []
    assert offered_actions(new, Role.OPERATOR) == [
        Action.ACKNOWLEDGE,
        Action.ASSIGN,
        Action.RESOLVE,
        Action.FALSE_ALARM,
        Action.NOTE,
    ]
    assert offered_actions(new, Role.SUPERVISOR)[-1] is Action.LOCK
    assert Action.REOPEN not in offered_actions(new, Role.ADMIN)
    closed = IncidentLifecycle(store).change_status(
        incident_id, Action.RESOLVE, "somchai", reason=CloseReason.HANDLED
    )
    assert offered_actions(closed, Role.OPERATOR) == [Action.NOTE]
    assert offered_actions(closed, Role.SUPERVISOR) == [Action.REOPEN, Action.NOTE, Action.LOCK]


def test_closing_with_a_reason_and_a_supervisors_reopening_are_audited_and_published(api: Api) -> None:
    """Finding 6 (issue 20): the reason goes through the service to the store; only a supervisor
    (checked as the session is now) reopens, with a note; both are audited and heard everywhere."""
    operator, as_operator = _operator(api)
    supervisor, as_supervisor = _caller(api, Role.SUPERVISOR)
    incident_id = api.add_incident()

    async def perform_and_hear(caller: Caller, action: Action, data: ActionInput) -> dict:
        async with aclosing(api.context.changes.subscribe()) as messages:
            listening = asyncio.ensure_future(anext(messages))
            await asyncio.sleep(0)  # subscribed
            await asyncio.to_thread(api.context.actions.perform, caller, incident_id, action, data)
            return await asyncio.wait_for(listening, 5)

    closing = ActionInput(note="a shadow of a tree", reason=CloseReason.WRONG_DETECTION)
    heard = asyncio.run(perform_and_hear(as_operator, Action.FALSE_ALARM, closing))
    data = {"id": incident_id, "action": "false_alarm", "status": "false_alarm", "locked": False}
    assert heard == {"event": "incident_changed", "data": data}
    closed = api.store.get(incident_id)
    assert (closed.close_reason, closed.closed_by) == ("wrong_detection", operator)

    with pytest.raises(ActionRefused, match="supervisor"):
        api.context.actions.perform(as_operator, incident_id, Action.REOPEN, ActionInput(note="mine"))
    with pytest.raises(LifecycleError) as missing:
        api.context.actions.perform(as_supervisor, incident_id, Action.REOPEN, ActionInput())
    assert missing.value.problem is Problem.NOTE_MISSING
    heard = asyncio.run(perform_and_hear(as_supervisor, Action.REOPEN, ActionInput(note="a man is there")))
    assert (heard["data"]["action"], heard["data"]["status"]) == ("reopen", "acknowledged")
    reopened = api.store.get(incident_id)
    assert (reopened.status, reopened.closed_at, reopened.close_reason) == (
        IncidentStatus.ACKNOWLEDGED,
        None,
        None,
    )
    assert _audited(api, operator) == ["incident.false_alarm"]
    assert _audited(api, supervisor) == ["incident.reopen"]
    with pytest.raises(TransitionError):  # open again: nothing to reopen
        api.context.actions.perform(as_supervisor, incident_id, Action.REOPEN, ActionInput(note="again"))

    api.context.users.update_user(supervisor, role=Role.OPERATOR)  # demoted while the page is open
    api.context.actions.perform(
        as_operator, incident_id, Action.RESOLVE, ActionInput(reason=CloseReason.HANDLED)
    )
    with pytest.raises(ActionRefused):
        api.context.actions.perform(as_supervisor, incident_id, Action.REOPEN, ActionInput(note="x"))
    assert api.store.get(incident_id).status is IncidentStatus.RESOLVED
