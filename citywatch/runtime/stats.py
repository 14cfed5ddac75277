"""What the Supervisor says of itself (`Supervisor.stats()`): one snapshot of every camera, the
shared scheduler and the event sink, for /metrics, `citywatch run`, the bench and the soak."""

from dataclasses import dataclass

from citywatch.analytics.isolation import AnalyzerHealth
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.scheduler import SchedulerStats
from citywatch.storage.sink import SinkStats
from citywatch.video.source import SourceStats
from citywatch.video.state import CameraState


@dataclass(slots=True)
class CameraCounters:
    """A camera worker's frames through its stages (the worker's own, counted as it goes)."""

    frames_offered: int = 0
    frames_sampled: int = 0
    frames_motion_skipped: int = 0
    frames_submitted: int = 0
    frames_analysed: int = 0
    detections: int = 0
    """Boxes found by the detectors in this camera's analysed frames."""


@dataclass(frozen=True, slots=True)
class CameraStats:
    state: CameraState
    source: SourceStats
    counters: CameraCounters
    analyzers: dict[IncidentType, AnalyzerHealth]
    """Each analyzer of the camera, in the order they run, with its failures."""


@dataclass(frozen=True, slots=True)
class SupervisorStats:
    cameras: dict[str, CameraStats]
    scheduler: SchedulerStats
    sink: SinkStats
