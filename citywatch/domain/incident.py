"""The incident value that analyzers raise and the store keeps, and the events that carry it.

Its types are the table of citywatch.domain.incident_types (canonical names of DESIGN.md, used in
config, database, API and eval labels).
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from citywatch.domain.incident_types import IncidentType


@dataclass(frozen=True, slots=True)
class EvidenceBox:
    """A box drawn on the snapshot: pixel corners in the frame, a label and a confidence."""

    xyxy: tuple[float, float, float, float]
    label: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """Its JSON shape, as the database, the API and `incidents list --json` keep it."""
        xyxy = [float(v) for v in self.xyxy]
        return {"xyxy": xyxy, "label": self.label, "confidence": float(self.confidence)}

    @classmethod
    def of(cls, xyxy: np.ndarray, label: str, confidence: float) -> "EvidenceBox":
        """The box of a detector's or tracker's [4] corners (numpy floats made plain floats)."""
        x1, y1, x2, y2 = (float(v) for v in xyxy)
        return cls(xyxy=(x1, y1, x2, y2), label=label, confidence=float(confidence))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EvidenceBox":
        x1, y1, x2, y2 = data["xyxy"]
        return cls(xyxy=(x1, y1, x2, y2), label=data["label"], confidence=data["confidence"])


@dataclass(slots=True, eq=False)
class Incident:
    """Something an operator must see.

    `id` is made once, when the incident is raised, and is the idempotency key of the store: the
    same incident saved twice is one row. `started_at`/`ended_at` are wall-clock seconds; a health
    incident stays open (`ended_at` None) until the camera is back. `frame` is the picture the
    snapshot is drawn from (None for a camera that shows nothing).
    """

    type: IncidentType
    camera_id: str
    started_at: float
    confidence: float
    subtype: str | None = None
    frame_index: int | None = None
    boxes: list[EvidenceBox] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)
    frame: np.ndarray | None = field(default=None, repr=False)
    ended_at: float | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True, slots=True, eq=False)
class IncidentRaised:
    incident: Incident


@dataclass(frozen=True, slots=True)
class IncidentEnded:
    incident_id: str
    camera_id: str
    ended_at: float


IncidentEvent = IncidentRaised | IncidentEnded
"""What an analyzer gives for a frame, and what the event sink stores."""
