"""Every incident type in one table: its canonical name, severity, English and Thai names, whether
it comes from the picture (a detection type, with an analyzer) or from camera health, and the
evaluation labels that mean it.

The config vocabulary (`config.DetectionType`, `config.AlertType`), alert routing and the LINE
message (severity, Thai name), the dashboard's labels (`ui.i18n`), the analyzer registry's
built-in modules (`analytics.catalog`) and the evaluation aliases (`evaluation.labels`) all read
this table; adding a type is a row here, its analyzer module and its tests
(tests/domain/test_incident_types.py checks that every row is complete).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Severity = Literal["low", "medium", "high"]
SEVERITY_RANK: dict[Severity, int] = {"low": 0, "medium": 1, "high": 2}
"""The order of severities, for 'at least this severe' (quiet hours) and 'most severe first' (queue)."""


class IncidentType(StrEnum):
    WEAPON = "weapon"
    FIGHT = "fight"
    FALL = "fall"
    NO_HELMET = "no_helmet"
    ACCIDENT = "accident"
    FIRE = "fire"
    CAMERA_OFFLINE = "camera_offline"
    CAMERA_TAMPERED = "camera_tampered"


@dataclass(frozen=True)
class TypeInfo:
    severity: Severity
    english: str
    thai: str
    analyzer: str | None
    """The module under citywatch.analytics whose analyzer raises it; None for camera health
    (raised by the camera's source and health checks, not by looking for something)."""
    eval_labels: tuple[str, ...] = ()
    """labels.csv labels, besides the type's own name, that mean this type (DESIGN.md)."""


INCIDENT_TYPES: dict[IncidentType, TypeInfo] = {
    IncidentType.WEAPON: TypeInfo("high", "Weapon", "อาวุธ", "weapon", ("weapon_gun", "weapon_knife")),
    IncidentType.FIGHT: TypeInfo("high", "Fight", "ทะเลาะวิวาท", "fight"),
    IncidentType.FALL: TypeInfo("medium", "Fall", "คนล้ม", "fall"),
    IncidentType.NO_HELMET: TypeInfo("medium", "No helmet", "ไม่สวมหมวกกันน็อก", "no_helmet"),
    IncidentType.ACCIDENT: TypeInfo("high", "Accident", "อุบัติเหตุ", "accident"),
    IncidentType.FIRE: TypeInfo("high", "Fire / smoke", "ไฟไหม้ / ควัน", "fire", ("smoke",)),
    IncidentType.CAMERA_OFFLINE: TypeInfo("medium", "Camera offline", "กล้องออฟไลน์", None),
    IncidentType.CAMERA_TAMPERED: TypeInfo("medium", "Camera tampered", "กล้องถูกรบกวน", None),
}

DETECTION_TYPES: tuple[IncidentType, ...] = tuple(t for t, info in INCIDENT_TYPES.items() if info.analyzer)
"""Incident types that come from looking at the picture (the rest are camera health)."""


def severity_of(incident_type: IncidentType | str) -> Severity:
    return INCIDENT_TYPES[IncidentType(incident_type)].severity


def name_of(incident_type: IncidentType | str, language: Literal["en", "th"]) -> str:
    """The type's name for people, in English or Thai."""
    info = INCIDENT_TYPES[IncidentType(incident_type)]
    return info.thai if language == "th" else info.english
