"""Request and response bodies of the API (pydantic): the OpenAPI schema is generated from these.

Free text is refused when it holds a NUL character (PostgreSQL cannot store one), and every
string has a length limit, so a hostile body is a 422, never a database error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import CLOSE_REASONS, Action, CloseReason, IncidentEvent
from citywatch.domain.stored_incident import IncidentStatus, StoredIncident
from citywatch.storage.users import NAME_PATTERN, ApiToken, Role, User

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=r"^[^\x00]*$")]
UnitName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00]*$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Box(BaseModel):
    xyxy: tuple[float, float, float, float]
    label: str
    confidence: float


# `StoredIncident.to_json` with `snapshot_url` and `clip_url` for its paths; tests/api/test_incident_json.py
# keeps the two in step. (A comment, not a docstring: the OpenAPI schema stays as it is.)
class IncidentOut(BaseModel):
    id: str
    type: IncidentType
    subtype: str | None
    camera_id: str
    status: IncidentStatus
    confidence: float
    started_at: datetime
    ended_at: datetime | None
    frame_index: int | None
    boxes: list[Box]
    details: dict[str, Any]
    snapshot_url: str | None = Field(description="Evidence snapshot (JPEG); None when there is none.")
    clip_url: str | None = Field(description="Evidence clip (MP4, seekable); None when there is none.")
    evidence_error: str | None
    created_at: datetime
    locked: bool
    group_id: str | None
    assigned_user: str | None
    assigned_unit: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None = Field(
        description="The closing category given when it was resolved or called a false alarm."
    )

    @classmethod
    def of(cls, incident: StoredIncident) -> IncidentOut:
        """The incident's one JSON shape (`StoredIncident.to_json`), its evidence as URLs, not paths."""
        base = f"/api/incidents/{incident.id}"
        return cls.model_validate(
            incident.to_json()
            | {
                "snapshot_url": f"{base}/snapshot" if incident.snapshot_path else None,
                "clip_url": f"{base}/clip" if incident.clip_path else None,
            }
        )


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; None on the last.")


class IncidentEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: Action
    from_status: IncidentStatus | None
    to_status: IncidentStatus | None
    note: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, event: IncidentEvent) -> IncidentEventOut:
        return cls(
            id=event.id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            from_status=event.from_status,
            to_status=event.to_status,
            note=event.note,
            details=event.details,
        )


class IncidentDetail(IncidentOut):
    history: list[IncidentEventOut]
    related: list[str] = Field(description="Ids of the other incidents of its group, newest first.")


class StatusChange(BaseModel):
    note: Text | None = None


_OFFERED = "; ".join(
    f"{status.value}: {', '.join(r.value for r in reasons)}" for status, reasons in CLOSE_REASONS.items()
)


class Closing(BaseModel):
    """Why the incident is closed. `reason` is required, so a request without one (an older
    client's empty body too) is a 422: reports count closings by reason to say what to tune, and a
    closing that a client could leave unexplained would count for nothing there; a client that
    closes incidents learns at once what to add, rather than filling the reports with gaps."""

    reason: CloseReason = Field(
        description=f"One of the reasons offered for the status it closes as ({_OFFERED}); "
        "another status's reason is a 422."
    )
    note: Text | None = Field(default=None, description="Required when `reason` is `other`.")


class Reopening(BaseModel):
    """Why a closed incident is reopened (supervisors): the note is required."""

    note: Text


class Assignment(BaseModel):
    """Exactly one of `user` (a user name) or `unit` (a police unit, free text)."""

    user: Name | None = None
    unit: UnitName | None = None
    note: Text | None = None


class NoteIn(BaseModel):
    note: Text


class CameraOut(BaseModel):
    id: str
    name: str
    enabled: bool
    incident_types: list[str]
    location: dict[str, float] | None
    state: str | None = Field(description="Last known health state; None if never reported.")
    state_since: datetime | None
    state_reason: str | None
    live: bool = Field(description="Whether the state comes from a pipeline running in this process.")


class DurationsOut(BaseModel):
    count: int = Field(description="Incidents timed.")
    mean_s: float
    median_s: float


class StatsOut(BaseModel):
    since: datetime | None
    until: datetime | None
    timezone: str
    total: int
    by_type: dict[str, int]
    by_camera: dict[str, int]
    by_status: dict[str, int]
    by_hour: dict[int, int]
    by_day: dict[str, int]
    by_shift: dict[str, int] = Field(description="Incidents per shift (api.shifts) they started in.")
    false_alarm_rate: float | None
    by_close_reason: dict[str, int] = Field(description="Closed incidents per closing reason.")
    acknowledged: int
    mean_time_to_acknowledge_s: float | None
    median_time_to_acknowledge_s: float | None
    time_to_acknowledge_by_type: dict[str, DurationsOut]
    time_to_acknowledge_by_camera: dict[str, DurationsOut]
    time_to_acknowledge_by_shift: dict[str, DurationsOut]
    closed: int = Field(description="Incidents closed with their closing time kept.")
    mean_time_to_close_s: float | None
    median_time_to_close_s: float | None


class LoginIn(BaseModel):
    username: Name
    password: Password


class LoginOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: str
    role: Role


class Me(BaseModel):
    actor: str
    role: Role


class UserOut(BaseModel):
    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id, name=user.name, role=user.role, disabled=user.disabled, created_at=user.created_at
        )


class UserIn(BaseModel):
    name: Name
    role: Role
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class UserPatch(BaseModel):
    role: Role | None = None
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] | None = None
    disabled: bool | None = None


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            role=token.role,
            created_by=token.created_by,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )


class TokenIn(BaseModel):
    name: Name
    role: Role


class TokenCreated(TokenOut):
    token: str = Field(description="The secret, shown this once; only its hash is stored.")


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    ip: str | None
    details: dict[str, Any]


class DeadLetterOut(BaseModel):
    id: int
    channel: str = Field(description="'mqtt', 'line' or a webhook's name.")
    message_key: str = Field(description="The message's stable id (webhook X-Citywatch-Delivery).")
    target: str = Field(description="Where it was going: URL, LINE recipient id or MQTT topic.")
    incident_id: str | None
    payload: dict[str, Any]
    attempts: int
    last_error: str
    created_at: datetime


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: bool
    pipeline: bool | None = Field(description="Whether the pipeline runs; None when served without one.")
    version: str | None = Field(description="The citywatch version; None when `api.health_version` is off.")
    stages: dict[str, bool] = Field(
        default_factory=dict,
        description="Each thread of the pipeline (dispatcher, inference-scheduler, event-sink, notifier, "
        "camera-<id>) -> whether it runs; empty when served without one.",
    )
    failing_analyzers: dict[str, str] = Field(
        default_factory=dict,
        description="'camera/type' -> last error of each analyzer that keeps failing (it is reset and goes "
        "on; the rest of the pipeline is unaffected).",
    )
