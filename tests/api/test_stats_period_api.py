"""/api/stats of whole local days (`from`/`to`, as the Reports page's periods), with the time to
acknowledge per type, camera and shift, the closing reasons and the time to close."""

from datetime import datetime
from zoneinfo import ZoneInfo

from api_support import Api

from citywatch.domain.incident_types import IncidentType
from citywatch.storage.users import Role

BANGKOK = ZoneInfo("Asia/Bangkok")


def bangkok(*args: int) -> float:
    return datetime(*args, tzinfo=BANGKOK).timestamp()  # type: ignore[misc]


def test_stats_of_a_calendar_week_in_the_installations_zone(shared_api: Api) -> None:
    api, viewer, operator = shared_api, shared_api.headers(Role.VIEWER), shared_api.headers(Role.OPERATOR)
    monday = api.add_incident("cam01", IncidentType.FIGHT, bangkok(2026, 11, 30, 0, 0), with_evidence=False)
    sunday = api.add_incident(
        "cam02", IncidentType.FIRE, bangkok(2026, 12, 6, 23, 59, 59), with_evidence=False
    )
    api.add_incident("cam01", IncidentType.FIGHT, bangkok(2026, 11, 29, 23, 59, 59), with_evidence=False)
    api.add_incident("cam01", IncidentType.FIGHT, bangkok(2026, 12, 7, 0, 0), with_evidence=False)
    clock = [bangkok(2026, 11, 30, 0, 2)]
    api.context.lifecycle._clock = lambda: clock[0]
    api.client.post(f"/api/incidents/{monday}/acknowledge", headers=operator).raise_for_status()
    clock[0] = bangkok(2026, 11, 30, 0, 12)
    api.client.post(
        f"/api/incidents/{monday}/resolve", json={"reason": "handled"}, headers=operator
    ).raise_for_status()
    clock[0] = bangkok(2026, 12, 7, 0, 0, 29)
    api.client.post(
        f"/api/incidents/{sunday}/false_alarm", json={"reason": "test"}, headers=operator
    ).raise_for_status()

    answer = api.client.get("/api/stats", params={"from": "2026-11-30", "to": "2026-12-06"}, headers=viewer)
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    assert (stats["since"], stats["until"]) == ("2026-11-29T17:00:00Z", "2026-12-06T17:00:00Z")
    assert stats["total"] == 2 and stats["by_type"] == {"fight": 1, "fire": 1}
    assert stats["by_shift"] == {"day": 0, "evening": 1, "night": 1}
    assert stats["time_to_acknowledge_by_shift"] == {
        "night": {"count": 1, "mean_s": 120.0, "median_s": 120.0},
        "evening": {"count": 1, "mean_s": 30.0, "median_s": 30.0},
    }
    assert stats["time_to_acknowledge_by_type"]["fight"]["mean_s"] == 120
    assert stats["time_to_acknowledge_by_camera"]["cam02"]["mean_s"] == 30
    assert stats["by_close_reason"] == {"handled": 1, "test": 1}
    assert (stats["closed"], stats["mean_time_to_close_s"]) == (2, (720 + 30) / 2)


def test_a_period_that_cannot_be_reported_is_a_422_saying_why(shared_api: Api) -> None:
    viewer = shared_api.headers(Role.VIEWER)
    for params, message in (
        ({"from": "2026-12-06", "to": "2026-11-30"}, "ends (2026-11-30) before it starts"),
        ({"from": "2025-01-01", "to": "2026-12-31"}, "at most 366 days"),
        ({"from": "2026-11-30"}, "give both from and to"),
        ({"from": "2026-11-30", "to": "2026-12-06", "since": "2026-11-30T00:00:00Z"}, "neither since"),
    ):
        answer = shared_api.client.get("/api/stats", params=params, headers=viewer)
        assert answer.status_code == 422 and message in answer.json()["detail"], answer.text
