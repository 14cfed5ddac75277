"""The `incidents` table as an SQLAlchemy 2 declarative model.

This is the shape the code expects; the Alembic migrations in `migrations/versions/` are what
create it in a database (a test compares the two so they cannot drift apart).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.stored_incident import IncidentStatus


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the value is stored as naive UTC
    (which also keeps its text sortable) and marked UTC again when read. Naive input is refused:
    it would be ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column_type(enum: type[IncidentType] | type[IncidentStatus]) -> Enum:
    """A plain VARCHAR holding the enum's values (not names), so new members need no migration."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")
"""JSONB on PostgreSQL (indexable, compact), JSON text elsewhere."""


class Base(DeclarativeBase):
    pass


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_camera_id_started_at", "camera_id", "started_at"),
        Index("ix_incidents_type_started_at", "type", "started_at"),
        Index("ix_incidents_status", "status"),
        Index("ix_incidents_started_at_id", "started_at", "id"),
        Index("ix_incidents_group_id", "group_id"),
        Index("ix_incidents_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[IncidentType] = mapped_column(enum_column_type(IncidentType))
    subtype: Mapped[str | None] = mapped_column(String(32))
    camera_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[IncidentStatus] = mapped_column(
        enum_column_type(IncidentStatus), default=IncidentStatus.NEW, server_default=IncidentStatus.NEW.value
    )
    confidence: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    frame_index: Mapped[int | None] = mapped_column(Integer)
    boxes: Mapped[list[dict[str, Any]]] = mapped_column(JSON_TYPE)
    details: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    snapshot_path: Mapped[str | None] = mapped_column(Text)
    clip_path: Mapped[str | None] = mapped_column(Text)
    evidence_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Evidence lock: retention never deletes the evidence of a locked incident."""
    group_id: Mapped[str | None] = mapped_column(String(32))
    """Id of the first incident of its group (same camera and type, each within a window of the last)."""
    assigned_user: Mapped[str | None] = mapped_column(String(64))
    assigned_unit: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When an operator first acted on it (left `new`): the start of 'time to acknowledge'."""
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When it was resolved or called a false alarm; None while open (and again once reopened)."""
    closed_by: Mapped[str | None] = mapped_column(String(80))
    close_reason: Mapped[str | None] = mapped_column(String(32))
    """The category the operator gave when closing it (domain.lifecycle's closing reasons)."""


class IncidentEventRow(Base):
    """One change of an incident (status, assignment, note, lock), with who and when."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident_id_id", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE", name="fk_incident_events_incident_id")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ui_language: Mapped[str | None] = mapped_column(String(8))
    """Dashboard language the user chose ('th', 'en'); None: the config's ui.default_language."""
    sound_alerts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Whether the dashboard sounds alarms for this user: kept across pages, browsers and restarts."""


class SessionRow(Base):
    """A person's login session; only the SHA-256 of its random token is kept."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE", name="fk_user_sessions_user_id")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiTokenRow(Base):
    """A machine's API token (made by an admin); only the SHA-256 of the token is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """Who viewed which evidence and who changed what."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(160))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)


class LoginFailureRow(Base):
    """A failed login, kept for the login limit's window (services.ratelimit); `key_hash` is the
    SHA-256 of the user name and client address, so the table holds neither."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class CameraStatusRow(Base):
    """The last known health state of each camera, so the API shows it without a running pipeline."""

    __tablename__ = "camera_status"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
