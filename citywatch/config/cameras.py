"""A camera: its source, place, zones, incident types, sensitivity and motion gate."""

import re
from typing import Annotated

from pydantic import Field, field_validator

from citywatch.config.base import DetectionType, Sensitivity, StrictModel, TimeZoneName
from citywatch.config.thresholds import Thresholds
from citywatch.domain.incident_types import IncidentType


class Location(StrictModel):
    lat: float = Field(ge=-90, le=90, description="Latitude in degrees (WGS84).")
    lon: float = Field(ge=-180, le=180, description="Longitude in degrees (WGS84).")


Point = tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]]


class Zone(StrictModel):
    name: str = Field(min_length=1, description="Name shown to operators, e.g. 'crossing'.")
    polygon: list[Point] = Field(
        min_length=3,
        description="Corners as [x, y] fractions of the frame width and height (0..1), in order.",
    )
    incident_types: list[DetectionType] | None = Field(
        default=None, description="Types this zone applies to; all enabled types when left out."
    )


class MotionSettings(StrictModel):
    enabled: bool = Field(default=True, description="Run the detector only on frames that changed.")
    pixel_threshold: int = Field(
        default=25, ge=1, le=255, description="Grey-level difference that counts a pixel as changed."
    )
    min_changed_fraction: float = Field(
        default=0.002, ge=0, le=1, description="Fraction of changed pixels that counts a frame as moving."
    )
    full_check_every_s: float = Field(
        default=10, gt=0, description="Analyse a frame at least this often even without motion."
    )


CAMERA_ID_PATTERN = r"^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$"
"""Letters, digits, `_`, `.`, `-`, at least one of them not a dot; at most CAMERA_ID_MAX_LENGTH."""
CAMERA_ID_MAX_LENGTH = 64


class CameraConfig(StrictModel):
    id: str = Field(
        min_length=1,
        max_length=CAMERA_ID_MAX_LENGTH,
        description="Stable id used in the database and as the camera's evidence folder: letters, digits, "
        "`_`, `.` and `-`, not only dots (`.` and `..` would name a folder outside the evidence folder).",
    )
    name: str = Field(default="", description="Name shown to operators (Thai or English).")
    url: str = Field(
        min_length=1, description="rtsp://, rtsps://, http(s):// stream, or a local video file path."
    )
    loop: bool = Field(default=False, description="Restart a local file at its end (demos, soak runs).")
    realtime: bool = Field(
        default=True, description="Pace a local file at its own frame rate, like a live camera."
    )
    location: Location | None = Field(default=None, description="Where the camera is, for the map.")
    analytics_fps: float = Field(default=2.0, gt=0, le=30, description="Frames analysed per second.")
    incident_types: list[DetectionType] = Field(
        default_factory=lambda: ["fire"], description="Incident types looked for on this camera."
    )
    zones: list[Zone] = Field(default_factory=list, description="Areas that limit where incidents count.")
    sensitivity: Sensitivity = Field(
        default="normal",
        description="Trade alarms for misses on this camera without editing numbers: `normal` is each "
        "type's operating point (best F1 at precision >= 0.9 on held-out cameras), `low` a point with "
        "fewer false alarms and more misses, `high` one with fewer misses and more false alarms; the "
        "points are in docs/ACCURACY.md. Thresholds this camera sets itself are kept as set.",
    )
    thresholds: Thresholds | None = Field(
        default=None, description="Per-type thresholds; the top-level `thresholds` when left out."
    )
    motion: MotionSettings | None = Field(
        default=None, description="Motion gate; the top-level `motion` when left out."
    )
    enabled: bool = Field(default=True, description="A disabled camera is not opened.")
    timezone: TimeZoneName | None = Field(
        default=None,
        description="Time zone of the camera's place (IANA name, e.g. Asia/Bangkok): the local time with "
        "its UTC offset burned into its evidence snapshots and in its incident reports; the "
        "installation's `api.timezone` when left out.",
    )

    @field_validator("id")
    @classmethod
    def _id_names_a_folder(cls, value: str) -> str:
        if not re.fullmatch(CAMERA_ID_PATTERN, value):
            raise ValueError(
                f"{value!r} is not a camera id: use letters, digits, '_', '.' and '-', not only dots"
            )
        return value


def incident_types_of(camera: CameraConfig) -> set[IncidentType]:
    return {IncidentType(t) for t in camera.incident_types}
