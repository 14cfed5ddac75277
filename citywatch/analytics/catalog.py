"""The built-in analyzers, found by incident type.

Importing this module imports the analyzer module of every detection type of the incident-type
table (citywatch.domain.incident_types); each module's `@register_analyzer` joins the registry of
analytics.base. Analyzers import analytics.base, never this module.
"""

import importlib
from collections.abc import Mapping

from citywatch.analytics.base import ANALYZERS, Analyzer, AnalyzerRegistration, UnsupportedIncidentType
from citywatch.config import CameraConfig, Thresholds
from citywatch.domain.incident_types import INCIDENT_TYPES, IncidentType


def available_types() -> list[IncidentType]:
    return ANALYZERS.known()


def _registration(incident_type: IncidentType, camera_id: str | None = None) -> AnalyzerRegistration:
    if incident_type not in ANALYZERS:
        known = ", ".join(available_types())
        where = f"camera {camera_id!r}: " if camera_id else ""
        raise UnsupportedIncidentType(
            f"{where}incident type {incident_type.value!r} has no analyzer in this version "
            f"(available: {known})"
        )
    return ANALYZERS.get(incident_type)


def roles_for(incident_type: IncidentType, camera_id: str | None = None) -> tuple[str, ...]:
    """Detector roles the analyzer of this type needs (`camera_id` names the asker in errors)."""
    return _registration(incident_type, camera_id).roles


def models_for(incident_type: IncidentType, camera_id: str | None = None) -> tuple[str, ...]:
    """Second-stage models the analyzer of this type needs (`camera_id` names the asker in errors)."""
    return _registration(incident_type, camera_id).models


def create_analyzer(
    incident_type: IncidentType,
    camera: CameraConfig,
    thresholds: Thresholds,
    models: Mapping[str, object] | None = None,
) -> Analyzer:
    return _registration(incident_type, camera.id).factory(camera, thresholds, models or {})


def _import_builtin_analyzers() -> None:
    for info in INCIDENT_TYPES.values():
        if info.analyzer is not None:
            importlib.import_module(f"citywatch.analytics.{info.analyzer}")


_import_builtin_analyzers()
