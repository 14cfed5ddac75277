"""One camera of the Supervisor: its source, sampler, motion gate, ring buffer and cascade.

The source decodes on its own thread into the ring buffer (clips, the latest picture) and a
one-frame slot; the Supervisor's dispatcher thread polls the worker, which hands a due frame worth
looking at to the shared scheduler; the scheduler's thread hands its passes back to the cascade.

A running worker takes new zones in place (`rezone`: new analyzers, the same source, so the stream
is not reopened) and is stopped for good by `retire`, which ends the incidents it left open.
"""

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from citywatch.analytics.base import thresholds_at_frame_rate
from citywatch.analytics.catalog import create_analyzer, roles_for
from citywatch.analytics.fire import fire_schedules
from citywatch.analytics.isolation import IsolatedAnalyzer
from citywatch.config import CameraConfig, CitywatchConfig, Thresholds, incident_types_of
from citywatch.domain.incident import Incident, IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.scheduler import InferenceJob, InferenceResult, InferenceScheduler
from citywatch.runtime.cascade import Cascade
from citywatch.runtime.stats import CameraCounters, CameraStats
from citywatch.video.motion import MotionGate
from citywatch.video.ring_buffer import RingBuffer
from citywatch.video.sampler import Sampler
from citywatch.video.source import CameraSource
from citywatch.video.state import CameraState, StateChange

log = logging.getLogger(__name__)


class CameraWorker:
    """Everything per camera: its source, sampler, motion gate, ring buffer and analyzers."""

    def __init__(
        self,
        camera: CameraConfig,
        config: CitywatchConfig,
        scheduler: InferenceScheduler,
        emit: Callable[[IncidentEvent], None],
        state_listeners: Sequence[Callable[[StateChange], None]] = (),
        models: Mapping[str, object] | None = None,
    ) -> None:
        self.camera = camera
        evidence = config.evidence
        self.ring = RingBuffer(seconds=evidence.pre_roll_s + evidence.post_roll_s + 2, fps=evidence.clip_fps)
        self.source = CameraSource(
            camera,
            config.health,
            on_frame=self.ring.append,
            on_state=self._on_state,
            max_fps=max(evidence.clip_fps, camera.analytics_fps),
        )
        self.sampler = Sampler(camera.analytics_fps)
        self.motion = MotionGate(config.motion_for(camera))
        self._config = config
        self._models = models
        self.analyzers = self._analyzers(camera)
        self._cascade = self._new_cascade(camera, self.analyzers)
        self.roles = self._cascade.roles
        self.role_ranks = role_ranks(incident_types_of(camera), config.models.type_priority)
        self.counters = CameraCounters()
        self._scheduler = scheduler
        self._emit = emit
        self._offline_incident: Incident | None = None
        self._state_listeners = state_listeners
        self._lock = threading.Lock()
        """Held while a frame's result goes through the analyzers, so `rezone` and `retire` come
        between two frames."""
        self._open: set[str] = set()
        """Incidents the analyzers raised and have not ended."""
        self._retired = False

    def _thresholds(self, camera: CameraConfig) -> Thresholds:
        return thresholds_at_frame_rate(self._config.thresholds_for(camera), camera.analytics_fps)

    def _new_cascade(self, camera: CameraConfig, analyzers: list[IsolatedAnalyzer]) -> Cascade:
        fps = camera.analytics_fps
        return Cascade(analyzers, fps, fire_schedules(self._thresholds(camera).fire, fps))

    def _analyzers(self, camera: CameraConfig) -> list[IsolatedAnalyzer]:
        thresholds = self._thresholds(camera)
        return [
            IsolatedAnalyzer(
                camera.id, t, functools.partial(create_analyzer, t, camera, thresholds, self._models)
            )
            for t in sorted(incident_types_of(camera))
        ]

    def rezone(self, camera: CameraConfig) -> None:
        """Take `camera`, which differs from this worker's only in its zones, without reopening the
        stream: new analyzers (an analyzer reads its zones when it is made); the incidents the old
        ones left open end now."""
        analyzers = self._analyzers(camera)
        with self._lock:
            self._end_open(time.time())
            self.camera = camera
            self.analyzers = analyzers
            self._cascade = self._new_cascade(camera, analyzers)

    def retire(self) -> None:
        """Stop this camera for good (disabled, removed or replaced): close its stream, drop the
        results still on their way, end the incidents it left open (its offline one too)."""
        self.source.stop()
        with self._lock:
            self._retired = True
            now = time.time()
            self._end_open(now)
            if self._offline_incident is not None:
                self._emit(IncidentEnded(self._offline_incident.id, self.camera.id, now))
                self._offline_incident = None

    def _end_open(self, at: float) -> None:
        for incident_id in sorted(self._open):
            self._emit(IncidentEnded(incident_id, self.camera.id, at))
        self._open.clear()

    def stats(self) -> CameraStats:
        return CameraStats(
            state=self.source.state,
            source=self.source.stats,
            counters=replace(self.counters),
            analyzers={a.incident_type: replace(a.health) for a in self.analyzers},
        )

    def poll(self) -> None:
        """Move this camera's newest frame along, if it is due and worth looking at."""
        frame = self.source.take_latest()
        if frame is None:
            return
        self.counters.frames_offered += 1
        if not self.sampler.due(frame.timestamp):
            return
        self.counters.frames_sampled += 1
        if not self.motion.check(frame).analyse:
            self.counters.frames_motion_skipped += 1
            return
        roles, left_out = self._cascade.plan(frame.timestamp)
        if roles:
            self.counters.frames_submitted += 1
            job = InferenceJob(
                frame, roles, self._on_result, role_ranks=self.role_ranks, skipped_roles=left_out
            )
            self._scheduler.submit(job)

    def _on_result(self, result: InferenceResult) -> None:
        if result.error is not None:
            return
        with self._lock:
            if self._retired:
                return
            self.counters.frames_analysed += 1
            self.counters.detections += sum(len(d) for d in result.detections.values())
            job = result.job
            for event in self._cascade.analyse(job.frame, result.detections, job.skipped_roles):
                if isinstance(event, IncidentRaised):
                    self._open.add(event.incident.id)
                elif isinstance(event, IncidentEnded):
                    self._open.discard(event.incident_id)
                self._emit(event)

    def _on_state(self, change: StateChange) -> None:
        log.info("camera %s: %s -> %s (%s)", change.camera_id, change.previous, change.current, change.reason)
        with self._lock:  # a retired camera's stop is no incident
            if not self._retired and change.current is CameraState.OFFLINE and self._offline_incident is None:
                self._offline_incident = self._offline(change)
                self._emit(IncidentRaised(self._offline_incident))
            elif change.current is CameraState.STREAMING and self._offline_incident is not None:
                self._emit(IncidentEnded(self._offline_incident.id, self.camera.id, change.at))
                self._offline_incident = None
        for listener in self._state_listeners:
            try:
                listener(change)
            except Exception:
                log.exception("camera state listener %r failed", listener)

    def _offline(self, change: StateChange) -> Incident:
        """The snapshot is the last picture the camera sent, which shows what it saw before it died."""
        last_frame = self.ring.latest()
        return Incident(
            type=IncidentType.CAMERA_OFFLINE,
            camera_id=self.camera.id,
            started_at=change.at,
            confidence=1.0,
            frame_index=last_frame.index if last_frame else None,
            details={
                "reason": change.reason,
                "last_error": self.source.stats.last_error,
                "last_frame_at": last_frame.timestamp if last_frame else None,
            },
            frame=last_frame.image if last_frame else None,
        )


def role_ranks(types: Iterable[IncidentType], type_priority: Sequence[str]) -> dict[str, int]:
    """Each detector role the analyzers of `types` need -> the place in `type_priority` of the most
    important of those types that needs it (a type not listed comes after every listed one): the
    order in which the scheduler drops a camera's passes under load."""
    ranks: dict[str, int] = {}
    for incident_type in types:
        place = type_priority.index(incident_type) if incident_type in type_priority else len(type_priority)
        for role in roles_for(incident_type):
            ranks[role] = min(ranks.get(role, place), place)
    return ranks
