"""The database, evidence on disk, camera health timings and incident grouping."""

from pathlib import Path

from pydantic import Field, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from citywatch.config.base import StrictModel


class StorageSettings(StrictModel):
    database_url: str = Field(
        default="sqlite:///citywatch.db",
        description="SQLAlchemy URL; sqlite:///file.db (relative to the config) or postgresql+psycopg://...",
    )
    evidence_dir: Path = Field(default=Path("evidence"), description="Folder of snapshots and clips.")
    retention_days: float = Field(default=30, gt=0, description="Evidence older than this is deleted.")
    retention_max_gb: float = Field(default=50, gt=0, description="Evidence beyond this size is deleted.")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                f"{value!r} is not a database URL (sqlite:///file.db or postgresql+psycopg://...)"
            ) from None
        backend = url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"database {backend!r} is not supported: use sqlite or postgresql")
        return value


class EvidenceSettings(StrictModel):
    pre_roll_s: float = Field(default=5, ge=0, le=60, description="Seconds of clip before the incident.")
    post_roll_s: float = Field(default=5, ge=0, le=60, description="Seconds of clip after the incident.")
    snapshot_quality: int = Field(default=85, ge=10, le=100, description="JPEG quality of snapshots.")
    clip_fps: float = Field(default=10, gt=0, le=30, description="Frame rate of evidence clips.")


class HealthSettings(StrictModel):
    connect_timeout_s: float = Field(default=10, gt=0, description="Time to open a stream.")
    stalled_after_s: float = Field(default=5, gt=0, description="No frame for this long: stalled.")
    offline_after_s: float = Field(
        default=30, gt=0, description="Down for this long: offline, and a camera_offline incident."
    )
    backoff_initial_s: float = Field(default=1, gt=0, description="First wait before reconnecting.")
    backoff_max_s: float = Field(default=30, gt=0, description="Longest wait between reconnects.")


class IncidentSettings(StrictModel):
    group_window_s: float = Field(
        default=300,
        ge=0,
        description="An incident started this soon after another of its camera and type joins its group.",
    )
