"""The JSON shapes every channel sends: one for an incident, one for a camera's state.

Times are ISO 8601 in UTC with the offset; `snapshot_path` is relative to the evidence folder
(what the store keeps), None when there is no snapshot.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import severity_of
from citywatch.incidents.store import CameraStatus, StoredIncident
from citywatch.video.state import StateChange


@dataclass(frozen=True, slots=True, eq=False)
class IncidentNotice:
    """What channels need of a stored incident (no frame, no boxes)."""

    id: str
    type: str
    subtype: str | None
    camera_id: str
    started_at: float
    confidence: float
    snapshot_path: str | None

    @classmethod
    def of(cls, incident: Incident, snapshot_path: str | None) -> "IncidentNotice":
        return cls(
            id=incident.id,
            type=str(incident.type),
            subtype=incident.subtype,
            camera_id=incident.camera_id,
            started_at=float(incident.started_at),
            confidence=float(incident.confidence),
            snapshot_path=snapshot_path,
        )

    @classmethod
    def of_stored(cls, incident: StoredIncident) -> "IncidentNotice":
        """The same notice, from a row another process stored (an API without a pipeline)."""
        return cls(
            id=incident.id,
            type=incident.type.value,
            subtype=incident.subtype,
            camera_id=incident.camera_id,
            started_at=incident.started_at.timestamp(),
            confidence=float(incident.confidence),
            snapshot_path=incident.snapshot_path,
        )


def iso_utc(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()


def incident_payload(notice: IncidentNotice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "type": notice.type,
        "subtype": notice.subtype,
        "severity": severity_of(notice.type),
        "camera_id": notice.camera_id,
        "time": iso_utc(notice.started_at),
        "confidence": round(notice.confidence, 4),
        "snapshot_path": notice.snapshot_path,
    }


def camera_status_payload(change: StateChange) -> dict[str, Any]:
    return {
        "camera_id": change.camera_id,
        "state": str(change.current),
        "previous": str(change.previous),
        "since": iso_utc(change.at),
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
