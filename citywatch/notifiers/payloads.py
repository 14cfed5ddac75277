"""The JSON shapes every channel sends: one for an incident, one for a camera's state.

Times are ISO 8601 in UTC with the offset; `snapshot_path` is relative to the evidence folder
(what the store keeps), None when there is no snapshot.
"""

from datetime import UTC
from typing import Any

from citywatch.domain.incident_types import severity_of
from citywatch.domain.stored_incident import StoredIncident, utc
from citywatch.storage.store import CameraStatus
from citywatch.video.state import StateChange


def incident_payload(incident: StoredIncident) -> dict[str, Any]:
    """What every channel says of an incident: a part of its one JSON shape (`StoredIncident.to_json`),
    its start as `time`, its confidence rounded, and the type's severity."""
    data = incident.to_json()
    return {
        "id": data["id"],
        "type": data["type"],
        "subtype": data["subtype"],
        "severity": severity_of(incident.type),
        "camera_id": data["camera_id"],
        "time": data["started_at"],
        "confidence": round(data["confidence"], 4),
        "snapshot_path": data["snapshot_path"],
    }


def camera_status_payload(change: StateChange) -> dict[str, Any]:
    return {
        "camera_id": change.camera_id,
        "state": str(change.current),
        "previous": str(change.previous),
        "since": utc(change.at).isoformat(),
        "reason": change.reason,
    }


def stored_status_payload(status: CameraStatus, previous: str | None) -> dict[str, Any]:
    """`camera_status_payload` of a state read from the store; `previous` None when not known."""
    return {
        "camera_id": status.camera_id,
        "state": status.state,
        "previous": previous,
        "since": status.since.astimezone(UTC).isoformat(),
        "reason": status.reason,
    }
