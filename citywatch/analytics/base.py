"""What every analyzer takes and gives, and the registry that finds one by incident type."""

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

import supervision as sv

from citywatch.config import CameraConfig, PersistenceRule, Thresholds
from citywatch.domain.incident import IncidentEvent
from citywatch.domain.incident_types import INCIDENT_TYPES, IncidentType
from citywatch.video.frame import Frame


@dataclass(frozen=True, slots=True, eq=False)
class AnalysisInput:
    """One analysed frame of one camera with what each detector role found in it.

    `tracks` are the camera's `coco` detections with stable `tracker_id`s (ByteTrack), present
    when an analyzer of the camera asked for the `coco` role.
    """

    frame: Frame
    detections: dict[str, sv.Detections]
    tracks: sv.Detections | None = None


class UnsupportedIncidentType(ValueError):
    """A config asks for an incident type that no analyzer of this version handles."""


class Analyzer(Protocol):
    """Per camera, per incident type: temporal rules over analysed frames."""

    incident_type: ClassVar[IncidentType]
    roles: ClassVar[tuple[str, ...]]
    """Detector roles (see perception.detectors) run on the whole frame by the shared scheduler."""
    models: ClassVar[tuple[str, ...]]
    """Second-stage models (see perception.second_stage) the analyzer runs itself on crops."""

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]: ...


AnalyzerFactory = Callable[[CameraConfig, Thresholds, Mapping[str, object]], Analyzer]
"""(camera, its thresholds, the loaded second-stage models by name) -> a new analyzer."""


@dataclass(frozen=True, slots=True)
class _Registration:
    factory: AnalyzerFactory
    roles: tuple[str, ...]
    models: tuple[str, ...]


_REGISTRY: dict[IncidentType, _Registration] = {}


def register_analyzer(incident_type: IncidentType, roles: tuple[str, ...], models: tuple[str, ...] = ()):
    """Class decorator: make an analyzer available for `incident_types` in the config."""

    def wrap(cls):
        cls.incident_type = incident_type
        cls.roles = roles
        cls.models = models
        _REGISTRY[incident_type] = _Registration(cls, roles, models)
        return cls

    return wrap


def available_types() -> list[IncidentType]:
    _load_builtin_analyzers()
    return sorted(_REGISTRY)


def _registration(incident_type: IncidentType, camera_id: str | None = None) -> _Registration:
    _load_builtin_analyzers()
    try:
        return _REGISTRY[incident_type]
    except KeyError:
        known = ", ".join(available_types())
        where = f"camera {camera_id!r}: " if camera_id else ""
        raise UnsupportedIncidentType(
            f"{where}incident type {incident_type.value!r} has no analyzer in this version "
            f"(available: {known})"
        ) from None


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


def _load_builtin_analyzers() -> None:
    """Import the analyzer module of every detection type of the table; importing runs its
    @register_analyzer decorator."""
    for info in INCIDENT_TYPES.values():
        if info.analyzer is not None:
            importlib.import_module(f"citywatch.analytics.{info.analyzer}")


def thresholds_at_frame_rate(thresholds: Thresholds, fps: float) -> Thresholds:
    """The same thresholds with every persistence rule counted at `fps` analysed frames a second
    (PersistenceRule.at_frame_rate): what a camera analysing at that rate runs with."""
    scaled = {}
    for name in type(thresholds).model_fields:
        settings = getattr(thresholds, name)
        scaled[name] = settings.at_frame_rate(fps) if isinstance(settings, PersistenceRule) else settings
    return thresholds.model_copy(update=scaled)


def relaxed_for_single_frame(thresholds: Thresholds) -> Thresholds:
    """The same thresholds with every persistence rule cut to one frame, for still images."""
    relaxed = {}
    for name in type(thresholds).model_fields:
        settings = getattr(thresholds, name)
        update = {k: 1 for k in ("persist_frames", "window_frames") if k in type(settings).model_fields}
        relaxed[name] = settings.model_copy(update=update)
    return thresholds.model_copy(update=relaxed)
