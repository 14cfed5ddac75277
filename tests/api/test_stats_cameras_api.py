"""Stats, cameras with their health (live and stored), Prometheus metrics, health."""

from datetime import UTC, datetime

from api_support import T0, Api, running_api

from citywatch.domain.incident_types import IncidentType
from citywatch.storage.users import Role
from citywatch.video.state import CameraState, StateChange


def test_stats_count_by_type_camera_hour_and_day_with_rates(api: Api) -> None:
    # T0 is 2023-11-14 22:13:20 UTC = 2023-11-15 05:13:20 in Bangkok (UTC+7)
    a = api.add_incident("cam01", IncidentType.FIRE, T0, with_evidence=False)
    b = api.add_incident("cam01", IncidentType.FALL, T0 + 3600, with_evidence=False)
    c = api.add_incident("cam02", IncidentType.FIRE, T0 + 86400, with_evidence=False)
    operator = api.headers(Role.OPERATOR)
    clock = [T0 + 60]
    api.context.lifecycle._clock = lambda: clock[0]  # acknowledged 60 s after a started
    handled, wrong = {"reason": "handled"}, {"reason": "wrong_detection"}
    api.client.post(f"/api/incidents/{a}/resolve", json=handled, headers=operator).raise_for_status()
    clock[0] = T0 + 3600 + 180  # 180 s after b
    api.client.post(f"/api/incidents/{b}/false_alarm", json=wrong, headers=operator).raise_for_status()
    clock[0] = T0 + 86400 + 30  # 30 s after c
    api.client.post(f"/api/incidents/{c}/false_alarm", json=wrong, headers=operator).raise_for_status()

    params = {"since": datetime.fromtimestamp(T0 - 1, UTC).isoformat()}
    stats = api.client.get("/api/stats", params=params, headers=api.headers(Role.VIEWER)).json()
    assert stats["total"] == 3
    assert stats["by_type"] == {"fire": 2, "fall": 1}
    assert stats["by_camera"] == {"cam01": 2, "cam02": 1}
    assert stats["by_status"] == {"resolved": 1, "false_alarm": 2}
    assert {h: n for h, n in stats["by_hour"].items() if n} == {"5": 2, "6": 1}
    assert stats["by_day"] == {"2023-11-15": 2, "2023-11-16": 1}
    assert stats["false_alarm_rate"] == 2 / 3
    assert stats["acknowledged"] == 3
    assert stats["mean_time_to_acknowledge_s"] == 90
    assert stats["median_time_to_acknowledge_s"] == 60
    only_fire = api.client.get(
        "/api/stats", params=params | {"type": "fire"}, headers=api.headers(Role.VIEWER)
    )
    assert only_fire.json()["total"] == 2


def test_camera_states_are_live_and_survive_a_restart_without_pipeline(api: Api, tmp_path) -> None:
    viewer = api.headers(Role.VIEWER)
    cameras = api.client.get("/api/cameras", headers=viewer).json()
    assert [(c["id"], c["state"], c["live"]) for c in cameras] == [
        ("cam01", None, False),
        ("cam02", None, False),
    ]
    assert "url" not in cameras[0] and "secret" not in str(cameras)  # stream URLs carry passwords

    monitor = api.context.monitor  # the state listener the Supervisor calls
    monitor(StateChange("cam01", CameraState.CONNECTING, CameraState.STREAMING, T0, "first frame"))
    monitor(StateChange("cam02", CameraState.STALLED, CameraState.OFFLINE, T0 + 5, "no frame for 30 s"))
    cam02 = api.client.get("/api/cameras/cam02", headers=viewer).json()
    assert (cam02["state"], cam02["state_reason"], cam02["live"]) == ("offline", "no frame for 30 s", True)
    metrics = api.client.get("/metrics", headers=viewer).text
    assert 'citywatch_camera_state{camera="cam02",state="offline"} 1.0' in metrics
    assert 'citywatch_camera_state{camera="cam02",state="streaming"} 0.0' in metrics
    assert api.client.get("/api/cameras/nope", headers=viewer).status_code == 404

    monitor.stop()  # writes what is queued, as on shutdown
    assert api.store.camera_states()["cam02"].state == "offline"
    url = api.store.engine.url.render_as_string(hide_password=False)
    with running_api(url, tmp_path / "again") as restarted:  # a second process: --no-pipeline
        again = restarted.client.get("/api/cameras/cam02", headers=restarted.headers(Role.VIEWER)).json()
    assert (again["state"], again["live"]) == ("offline", False)


def test_metrics_count_stored_incidents_and_health_is_public(api: Api) -> None:
    api.add_incident(type=IncidentType.FIRE, with_evidence=False)
    api.add_incident(type=IncidentType.FIRE, with_evidence=False)
    metrics = api.client.get("/metrics", headers=api.headers(Role.VIEWER)).text
    assert 'citywatch_incidents{status="new",type="fire"} 2.0' in metrics
    health = api.client.get("/api/health")
    assert health.status_code == 200
    assert health.json() | {"version": "x"} == {
        "status": "ok",
        "database": True,
        "pipeline": None,
        "version": "x",
        "stages": {},
        "failing_analyzers": {},
    }
