"""Findings 1, 2, 8 and 10 of the security probe (issue 14): what a session may do is checked as
the session is at that moment, everywhere: REST routes, the dashboard's buttons, /api/live."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_support import PASSWORD, Api
from starlette.websockets import WebSocketDisconnect

from citywatch.api.routers import live
from citywatch.incidents import acting
from citywatch.incidents.acting import ActionInput, ActionRefused, SessionEnded
from citywatch.incidents.lifecycle import Action
from citywatch.incidents.model import IncidentStatus
from citywatch.incidents.users import Role

_names = iter(range(1, 10_000))


def _operator(api: Api) -> tuple[str, str]:
    """A new operator and a session token of theirs."""
    name = f"op{next(_names)}"
    user = api.context.users.add_user(name, Role.OPERATOR, PASSWORD)
    token, _ = api.context.users.start_session(user)
    return name, token


def _audited(api: Api, actor: str) -> list[str]:
    return [e.action for e in api.context.audit.entries(actor=actor)]


@pytest.mark.parametrize("change", ["logged out", "disabled", "demoted"])
def test_a_credential_that_no_longer_allows_it_changes_nothing(api: Api, change: str) -> None:
    """The dashboard's path (the page keeps the cookie it was opened with) and the REST routes."""
    name, token = _operator(api)
    incident_id = api.add_incident()
    if change == "logged out":
        api.context.users.end_session(token)
    elif change == "disabled":
        api.context.users.update_user(name, disabled=True)
    else:
        api.context.users.update_user(name, role=Role.VIEWER)
    expected = ActionRefused if change == "demoted" else SessionEnded
    with pytest.raises(expected):
        api.context.actions.perform(token, incident_id, Action.ACKNOWLEDGE, ActionInput(), via="dashboard")
    response = api.client.post(
        f"/api/incidents/{incident_id}/acknowledge", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == (403 if change == "demoted" else 401)
    incident = api.store.get(incident_id)
    assert incident is not None and incident.status is IncidentStatus.NEW
    assert [a for a in _audited(api, name) if a.startswith("incident.")] == []


def test_an_allowed_action_is_stored_with_its_audit_row(api: Api) -> None:
    name, token = _operator(api)
    incident_id = api.add_incident()
    principal, incident = api.context.actions.perform(
        token, incident_id, Action.ACKNOWLEDGE, ActionInput(note="on it"), via="dashboard"
    )
    assert principal.actor == name and incident.status is IncidentStatus.ACKNOWLEDGED
    entry = api.context.audit.entries(actor=name, action="incident.acknowledge")
    assert [(e.target, e.details) for e in entry] == [(f"incident:{incident_id}", {"via": "dashboard"})]


def test_no_change_is_stored_without_its_audit_row(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The change and its audit row are one transaction: when the audit row cannot be written (here:
    raises), the change is not stored either (the probe's kill -9 left notes without audit)."""
    _, token = _operator(api)
    incident_id = api.add_incident()

    def broken(*args: object) -> object:
        raise RuntimeError("audit row refused")

    monkeypatch.setattr(acting, "audit_row", broken)
    with pytest.raises(RuntimeError):
        api.context.actions.perform(token, incident_id, Action.NOTE, ActionInput(note="x"), via="api")
    assert [e for e in api.context.lifecycle.history(incident_id) if e.action is Action.NOTE] == []


def test_the_live_socket_closes_once_its_user_is_disabled(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "RECHECK_S", 0.1)
    name = f"viewer{next(_names)}"
    user = api.context.users.add_user(name, Role.VIEWER, PASSWORD)
    token, _ = api.context.users.start_session(user)
    with (
        ThreadPoolExecutor(1) as pool,
        api.client.websocket_connect("/api/live", headers={"Authorization": f"Bearer {token}"}) as socket,
    ):
        api.context.users.update_user(name, disabled=True)
        started = time.monotonic()

        def until_closed() -> int:
            while True:
                try:
                    socket.receive_json()
                except WebSocketDisconnect as exc:
                    return exc.code

        assert pool.submit(until_closed).result(timeout=5) == 1008
        assert time.monotonic() - started < 3
