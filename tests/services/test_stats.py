"""Report numbers beyond the API's /stats: the false alarm rate per type and per camera, the CSV."""

from collections.abc import Callable
from datetime import UTC, datetime

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action, CloseReason
from citywatch.services.search import IncidentFilter
from citywatch.services.stats import false_alarm_rates, incidents_csv
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.store import IncidentStore


def test_false_alarm_rates_per_type_and_camera_and_the_csv(
    store: IncidentStore, add_incident: Callable[[IncidentType, str, float], str]
) -> None:
    lifecycle = IncidentLifecycle(store)
    now = datetime.now(UTC).timestamp()
    fires = [add_incident(IncidentType.FIRE, "cam01", now - i) for i in range(4)]
    fall = add_incident(IncidentType.FALL, "cam02", now - 10)
    add_incident(IncidentType.FALL, "cam02", now - 11)  # still open: not counted
    for incident_id in fires[:3]:
        lifecycle.change_status(
            incident_id, Action.FALSE_ALARM, "somchai", reason=CloseReason.WRONG_DETECTION
        )
    lifecycle.change_status(fires[3], Action.RESOLVE, "somchai", reason=CloseReason.HANDLED)
    lifecycle.change_status(fall, Action.RESOLVE, "somchai", reason=CloseReason.HANDLED)
    everything = IncidentFilter()
    assert false_alarm_rates(store, everything, "type") == {"fall": 0.0, "fire": 0.75}
    assert false_alarm_rates(store, everything, "camera_id") == {"cam01": 0.75, "cam02": 0.0}
    lines = incidents_csv(store, IncidentFilter(types=[IncidentType.FIRE])).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,type,subtype,camera_id,status")
    assert len(lines) == 5 and all(",fire," in line for line in lines[1:])
