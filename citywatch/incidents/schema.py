"""The `incidents` table as an SQLAlchemy 2 declarative model.

This is the shape the code expects; the Alembic migrations in `migrations/versions/` are what
create it in a database (a test compares the two so they cannot drift apart).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Enum, Float, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from citywatch.incidents.model import IncidentStatus, IncidentType


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
