"""Finding 10 of the security probe (issue 14): /api/live checks its session as it is at that
moment (findings 1, 2 and 8, the REST routes and the dashboard's buttons, are checked where they
act: tests/services/test_incident_actions.py)."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_support import PASSWORD, Api
from starlette.websockets import WebSocketDisconnect

from citywatch.api.routers import live
from citywatch.storage.users import Role


def test_the_live_socket_closes_once_its_user_is_disabled(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "RECHECK_S", 0.1)
    name = "watcher"  # a viewer of its own (the fixture's users are its own too)
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
