"""`/api/live` on a minimal app: authentication, then the hub's messages as they come."""

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from citywatch.api.routers import live
from citywatch.incidents.users import Principal, Role
from citywatch.notifiers.live import LiveHub


def _client(supervisor: object | None) -> TestClient:
    users = SimpleNamespace(
        principal=lambda token: Principal("alice", Role.VIEWER) if token == "good" else None
    )
    app = FastAPI()
    app.state.context = SimpleNamespace(users=users, supervisor=supervisor)
    app.include_router(live.router, prefix="/api")
    return TestClient(app)


def test_pushes_hub_messages_to_an_authenticated_client() -> None:
    hub = LiveHub()
    hub.publish({"event": "camera_state", "data": {"camera_id": "cam01", "state": "streaming"}})
    client = _client(SimpleNamespace(live=hub))
    with client.websocket_connect("/api/live", headers={"Authorization": "Bearer good"}) as socket:
        assert socket.receive_json()["data"]["state"] == "streaming"
        hub.publish({"event": "incident", "data": {"id": "abc"}})
        assert socket.receive_json() == {"event": "incident", "data": {"id": "abc"}}


@pytest.mark.parametrize(
    ("headers", "supervisor", "code"),
    [
        ({}, True, 1008),
        ({"Authorization": "Bearer bad"}, True, 1008),
        ({"Authorization": "Bearer good"}, None, 1013),
    ],
)
def test_refuses_without_credential_or_pipeline(headers: dict, supervisor: object, code: int) -> None:
    client = _client(SimpleNamespace(live=LiveHub()) if supervisor else None)
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/api/live", headers=headers) as s,
    ):
        s.receive_json()
    assert closed.value.code == code
