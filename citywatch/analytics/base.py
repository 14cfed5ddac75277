"""What every analyzer takes and gives, and the registry it joins by incident type
(`@register_analyzer`); analytics.catalog finds the built-in ones."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

import supervision as sv

from citywatch.config import CameraConfig, PersistenceRule, Thresholds
from citywatch.domain.incident import IncidentEvent
from citywatch.domain.incident_types import IncidentType
from citywatch.registry import Registry
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
class AnalyzerRegistration:
    factory: AnalyzerFactory
    roles: tuple[str, ...]
    models: tuple[str, ...]


ANALYZERS: Registry[IncidentType, AnalyzerRegistration] = Registry("analyzer")


def register_analyzer(incident_type: IncidentType, roles: tuple[str, ...], models: tuple[str, ...] = ()):
    """Class decorator: make an analyzer available for `incident_types` in the config."""

    def wrap(cls):
        cls.incident_type = incident_type
        cls.roles = roles
        cls.models = models
        ANALYZERS.register(incident_type, AnalyzerRegistration(cls, roles, models))
        return cls

    return wrap


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
