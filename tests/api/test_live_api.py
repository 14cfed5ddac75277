"""`/api/live` of an API without a pipeline in its process: what another process stores (a
pipeline elsewhere) reaches the WebSocket through the store feed, within about a second."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from api_support import T0, Api
from sqlalchemy import update
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.services.store_feed import StoreFeed
from citywatch.storage.schema import IncidentRow
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role


def receive(socket: WebSocketTestSession, pool: ThreadPoolExecutor, timeout_s: float) -> dict:
    """The next message, or a failure after `timeout_s` (the test client's receive has no timeout)."""
    return pool.submit(socket.receive_json).result(timeout=timeout_s)


def test_what_another_process_stores_reaches_the_socket_within_2_s(api: Api) -> None:
    other = IncidentStore(api.store.engine.url.render_as_string(hide_password=False))
    with (
        ThreadPoolExecutor(1) as pool,
        api.client.websocket_connect("/api/live", headers=api.headers(Role.VIEWER)) as socket,
    ):
        other.set_camera_state("cam01", "streaming", None, T0)
        first = receive(socket, pool, 2.5)
        assert first["event"] == "camera_state"
        assert first["data"] | {"since": None} == {
            "camera_id": "cam01",
            "state": "streaming",
            "previous": None,
            "since": None,
            "reason": None,
        }

        fire = Incident(IncidentType.FIRE, "cam02", time.time(), 0.9, subtype="smoke")
        written = time.monotonic()
        assert other.add(fire, "cam02/2024-01-01/x.jpg")
        message = receive(socket, pool, 2.5)
        assert time.monotonic() - written < 2
        assert message["event"] == "incident"
        assert message["data"]["id"] == fire.id
        assert message["data"] | {"time": None} == {
            "id": fire.id,
            "type": "fire",
            "subtype": "smoke",
            "severity": "high",
            "camera_id": "cam02",
            "time": None,
            "confidence": 0.9,
            "snapshot_path": "cam02/2024-01-01/x.jpg",
        }

        other.set_camera_state("cam01", "offline", "no frame for 30 s", T0 + 60)
        change = receive(socket, pool, 2.5)
        assert change["event"] == "camera_state"
        assert (change["data"]["state"], change["data"]["previous"]) == ("offline", "streaming")
        assert change["data"]["reason"] == "no frame for 30 s"
    other.dispose()


def test_the_socket_needs_a_credential(api: Api) -> None:
    api.client.cookies.clear()
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        api.client.websocket_connect("/api/live") as socket,
    ):
        socket.receive_json()
    assert closed.value.code == 1008


class Recorder(list):
    def publish(self, message: dict) -> None:
        self.append(message)

    def incidents(self) -> list[str]:
        ids = [m["data"]["id"] for m in self if m["event"] == "incident"]
        self.clear()
        return ids


def test_feed_skips_old_rows_catches_late_commits_and_publishes_each_once(api: Api) -> None:
    api.add_incident(with_evidence=False)
    recorder = Recorder()
    feed = StoreFeed(api.store, recorder.publish)
    feed.poll()
    assert recorder.incidents() == [], "incidents stored before the feed started are not news"

    first = api.add_incident(with_evidence=False)
    feed.poll()
    assert recorder.incidents() == [first]

    late = api.add_incident(with_evidence=False)  # committed now, stamped before `first`
    earlier = api.store.get(first).created_at - timedelta(seconds=5)
    backdate = update(IncidentRow).where(IncidentRow.id == late).values(created_at=earlier)
    api.store.write("backdate an incident", lambda session: session.execute(backdate))
    feed.poll()
    assert recorder.incidents() == [late]
    feed.poll()
    assert recorder.incidents() == []
