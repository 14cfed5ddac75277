"""The incident as the store keeps it and reads it back, its lifecycle status, and its one JSON shape.

`Incident` (citywatch.domain.incident) is what an analyzer raises, with its picture and epoch
times; `StoredIncident` is the plain value of the stored row, with what operators did to it. Every
reader uses it: the services, the REST API (`IncidentOut` is built from `to_json`), the notifiers
(their payload is a part of `to_json`), the dashboard, `citywatch incidents list --json`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from citywatch.domain.incident import EvidenceBox, Incident
from citywatch.domain.incident_types import IncidentType


class IncidentStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"


@dataclass(frozen=True, slots=True)
class StoredIncident:
    """An incident as the store keeps it: a plain value, detached from the database session.

    Times are timezone-aware UTC datetimes (convert to local time only for display).
    `snapshot_path` and `clip_path` are relative to the evidence folder; None when there is no such
    file (not written yet, failed: see `evidence_error`, or deleted by retention).
    """

    id: str
    type: IncidentType
    subtype: str | None
    camera_id: str
    status: IncidentStatus
    confidence: float
    started_at: datetime
    ended_at: datetime | None
    frame_index: int | None
    boxes: tuple[EvidenceBox, ...]
    details: dict[str, Any]
    snapshot_path: str | None
    clip_path: str | None
    evidence_error: str | None
    created_at: datetime
    locked: bool = False
    """Evidence lock: retention never deletes this incident's evidence."""
    group_id: str | None = None
    """Id of the first incident of its group of related ones (same camera and type, close in time)."""
    assigned_user: str | None = None
    assigned_unit: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    closed_at: datetime | None = None
    """When it was resolved or called a false alarm; None while open."""
    closed_by: str | None = None
    close_reason: str | None = None
    """The closing category the operator chose (domain.lifecycle); None while open or for incidents
    closed before reasons were asked."""

    @classmethod
    def raised(
        cls,
        incident: Incident,
        created_at: datetime,
        snapshot_path: str | None,
        clip_path: str | None = None,
        evidence_error: str | None = None,
    ) -> "StoredIncident":
        """The value of a just-raised incident: new, nobody acted on it, in no group yet (the store
        finds its group when it inserts it)."""
        return cls(
            id=incident.id,
            type=IncidentType(incident.type),
            subtype=incident.subtype,
            camera_id=incident.camera_id,
            status=IncidentStatus.NEW,
            confidence=float(incident.confidence),
            started_at=utc(incident.started_at),
            ended_at=utc(incident.ended_at) if incident.ended_at is not None else None,
            frame_index=incident.frame_index,
            boxes=tuple(incident.boxes),
            details=incident.details,
            snapshot_path=snapshot_path,
            clip_path=clip_path,
            evidence_error=evidence_error,
            created_at=created_at,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (times as ISO 8601 with offset), e.g. for `citywatch incidents list --json`."""
        return {
            "id": self.id,
            "type": self.type.value,
            "subtype": self.subtype,
            "camera_id": self.camera_id,
            "status": self.status.value,
            "confidence": self.confidence,
            "started_at": self.started_at.isoformat(),
            "ended_at": _iso(self.ended_at),
            "frame_index": self.frame_index,
            "boxes": [box.to_json() for box in self.boxes],
            "details": self.details,
            "snapshot_path": self.snapshot_path,
            "clip_path": self.clip_path,
            "evidence_error": self.evidence_error,
            "created_at": self.created_at.isoformat(),
            "locked": self.locked,
            "group_id": self.group_id,
            "assigned_user": self.assigned_user,
            "assigned_unit": self.assigned_unit,
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "closed_at": _iso(self.closed_at),
            "closed_by": self.closed_by,
            "close_reason": self.close_reason,
        }


def utc(epoch_s: float) -> datetime:
    """Epoch seconds as a timezone-aware UTC datetime."""
    return datetime.fromtimestamp(float(epoch_s), UTC)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
