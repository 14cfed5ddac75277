"""One incident, one JSON shape: the REST body (`IncidentOut`) and the notifier payload (MQTT, webhooks,
the live hub) are both made from `StoredIncident.to_json`, and agree on the fields they share."""

from datetime import UTC, datetime

from api_support import T0, Api

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.domain.stored_incident import StoredIncident
from citywatch.notifiers.payloads import incident_payload
from citywatch.storage.users import Role

PATHS = {"snapshot_path": "snapshot_url", "clip_path": "clip_url"}


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_the_rest_json_is_the_stored_json_with_urls_for_its_paths(api: Api) -> None:
    incident_id = api.add_incident("cam02", IncidentType.WEAPON, T0 + 0.25, 0.87654321)
    api.client.post(f"/api/incidents/{incident_id}/acknowledge", headers=api.headers(Role.OPERATOR))
    rest = api.client.get("/api/incidents", headers=api.headers(Role.VIEWER)).json()["items"][0]
    stored = api.store.get(incident_id)
    assert stored is not None
    data = stored.to_json()

    assert set(rest) == {PATHS.get(key, key) for key in data}
    for key, value in data.items():
        if key in PATHS:
            assert rest[PATHS[key]] == f"/api/incidents/{incident_id}/{key.removesuffix('_path')}"
        elif key.endswith("_at") and value is not None:
            assert _instant(rest[key]) == _instant(value), key
        else:
            assert rest[key] == value, key


def test_the_rest_json_and_the_notifier_payload_agree_on_what_they_share(api: Api) -> None:
    incident = Incident(IncidentType.WEAPON, "cam02", T0 + 0.25, 0.87654321, subtype="knife")
    snapshot = f"cam02/2023-11-14/{incident.id}.jpg"
    assert api.store.add(incident, snapshot)
    rest = api.client.get(f"/api/incidents/{incident.id}", headers=api.headers(Role.VIEWER)).json()
    stored = api.store.get(incident.id)
    assert stored is not None

    published = incident_payload(stored)  # an API without a pipeline (api.store_feed)
    notified = incident_payload(StoredIncident.raised(incident, datetime.now(UTC), snapshot))  # the pipeline
    assert published == notified
    shared = ("id", "type", "subtype", "camera_id")
    assert {key: published[key] for key in shared} == {key: rest[key] for key in shared}
    assert _instant(published["time"]) == _instant(rest["started_at"])
    assert published["confidence"] == round(rest["confidence"], 4)
    assert published["snapshot_path"] == snapshot
    assert rest["snapshot_url"] == f"/api/incidents/{incident.id}/snapshot"
