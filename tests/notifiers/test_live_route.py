"""`/api/live` on a minimal app: authentication, then the hub's messages as they come."""

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from citywatch.api.routers import live
from citywatch.notifiers.live import LiveHub
from citywatch.services.permissions import Caller
from citywatch.storage.users import Principal, Role


def _client(hub: LiveHub) -> TestClient:
    authority = SimpleNamespace(
        caller=lambda token, via: (
            Caller(Principal("alice", Role.VIEWER), token, via) if token == "good" else None
        )
    )
    app = FastAPI()
    app.state.context = SimpleNamespace(authority=authority, live=hub)
    app.include_router(live.router, prefix="/api")
    return TestClient(app)


def test_pushes_hub_messages_to_an_authenticated_client() -> None:
    hub = LiveHub()
    hub.publish({"event": "camera_state", "data": {"camera_id": "cam01", "state": "streaming"}})
    client = _client(hub)
    with client.websocket_connect("/api/live", headers={"Authorization": "Bearer good"}) as socket:
        assert socket.receive_json()["data"]["state"] == "streaming"
        hub.publish({"event": "incident", "data": {"id": "abc"}})
        assert socket.receive_json() == {"event": "incident", "data": {"id": "abc"}}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer bad"}])
def test_refuses_without_a_valid_credential(headers: dict) -> None:
    client = _client(LiveHub())
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/api/live", headers=headers) as s,
    ):
        s.receive_json()
    assert closed.value.code == 1008
