"""The Supervisor: wires cameras, the shared inference scheduler, analyzers and the event sink.

One way flow (DESIGN.md): CameraSource -> Sampler -> MotionGate -> InferenceScheduler ->
Analyzers -> EventSink. Decoding runs on one thread per camera, inference on the scheduler's
thread, storing on the sink's thread; the dispatcher thread here only moves the latest frame of
each camera along, so a stalled camera or a slow model never blocks decoding of the others.
"""

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from citywatch.analytics.base import (
    AnalysisInput,
    IncidentEnded,
    IncidentEvent,
    IncidentRaised,
    create_analyzer,
    models_for,
    roles_for,
    thresholds_at_frame_rate,
)
from citywatch.analytics.isolation import IsolatedAnalyzer
from citywatch.config import CameraConfig, CitywatchConfig, incident_types_of
from citywatch.domain.incident_types import IncidentType
from citywatch.incidents.evidence import EvidenceWriter
from citywatch.incidents.model import Incident
from citywatch.incidents.sink import EventSink
from citywatch.incidents.store import IncidentStore
from citywatch.memory import keep_frames_on_mmap
from citywatch.notifiers.dispatcher import build_notifier
from citywatch.notifiers.live import LiveHub
from citywatch.perception.detectors import load_detector, triggers_for
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.scheduler import InferenceJob, InferenceResult, InferenceScheduler
from citywatch.perception.second_stage import load_second_stage
from citywatch.perception.tracker import TRACKED_ROLE, ObjectTracker
from citywatch.video.frame import Frame
from citywatch.video.motion import MotionGate
from citywatch.video.ring_buffer import RingBuffer
from citywatch.video.sampler import Sampler
from citywatch.video.source import CameraSource
from citywatch.video.state import CameraState, StateChange

log = logging.getLogger(__name__)

_DISPATCH_INTERVAL_S = 0.01


WATCHDOG_EVERY_S = 1.0
"""How often the watchdog looks at every thread of the pipeline."""


@dataclass(slots=True)
class CameraCounters:
    frames_offered: int = 0
    frames_sampled: int = 0
    frames_motion_skipped: int = 0
    frames_submitted: int = 0
    frames_analysed: int = 0
    detections: int = 0
    """Boxes found by the detectors in this camera's analysed frames."""


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
        thresholds = thresholds_at_frame_rate(config.thresholds_for(camera), camera.analytics_fps)
        self.analyzers = [
            IsolatedAnalyzer(camera.id, t, functools.partial(create_analyzer, t, camera, thresholds, models))
            for t in sorted(incident_types_of(camera))
        ]
        self.roles = tuple(sorted({role for a in self.analyzers for role in a.roles}))
        self.role_ranks = role_ranks(incident_types_of(camera), config.models.type_priority)
        self.tracker = ObjectTracker(camera.analytics_fps) if TRACKED_ROLE in self.roles else None
        self.counters = CameraCounters()
        self._scheduler = scheduler
        self._emit = emit
        self._offline_incident: Incident | None = None
        self._state_listeners = state_listeners

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
        if self.roles:
            self.counters.frames_submitted += 1
            self._scheduler.submit(
                InferenceJob(frame, self.roles, self._on_result, role_ranks=self.role_ranks)
            )

    def _on_result(self, result: InferenceResult) -> None:
        if result.error is not None:
            return
        self.counters.frames_analysed += 1
        self.counters.detections += sum(len(d) for d in result.detections.values())
        frame = result.job.frame
        tracks = None
        if self.tracker is not None and TRACKED_ROLE in result.detections:
            tracks = self.tracker.update(result.detections[TRACKED_ROLE], frame.timestamp)
        analysis = AnalysisInput(frame, result.detections, tracks)
        skipped = result.job.skipped_roles
        for analyzer in self.analyzers:  # each isolated: a failure resets it and raises nothing
            if skipped.intersection(analyzer.roles):
                continue  # its detector pass was shed under load: this frame is not one it saw
            for event in analyzer.update(analysis):
                self._emit(event)

    def _on_state(self, change: StateChange) -> None:
        log.info("camera %s: %s -> %s (%s)", change.camera_id, change.previous, change.current, change.reason)
        if change.current is CameraState.OFFLINE and self._offline_incident is None:
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


class Supervisor:
    """Builds and runs the whole pipeline for one config on one machine."""

    def __init__(self, config: CitywatchConfig) -> None:
        keep_frames_on_mmap()
        self.config = config
        cameras = [c for c in config.cameras if c.enabled]
        needs = [(t, c.id) for c in cameras for t in sorted(incident_types_of(c))]
        roles = sorted({role for t, camera_id in needs for role in roles_for(t, camera_id)})
        pack = ModelPack.open(config.models.path)
        detectors = {role: load_detector(pack, role, config.models) for role in roles}
        second_stage = {
            name: load_second_stage(name, config.models)
            for name in sorted({m for t, camera_id in needs for m in models_for(t, camera_id)})
        }
        self.scheduler = InferenceScheduler(
            detectors,
            batch_size=config.models.batch_size,
            max_wait_ms=config.models.max_wait_ms,
            queue_size=config.models.queue_size,
            triggers=triggers_for(roles),
            latency_budget_s=config.models.latency_budget_s,
            per_camera=config.models.per_camera_queue,
            priority_levels=len(config.models.type_priority) + 1,
        )
        self.store = IncidentStore(
            config.storage.database_url, group_window_s=config.incidents.group_window_s
        )
        self.store.upgrade()
        self.evidence = EvidenceWriter(config.storage.evidence_dir, config.evidence)
        self.sink = EventSink(self.store, self.evidence, config.evidence, self._clip_frames)
        self.state_listeners: list[Callable[[StateChange], None]] = []
        """Called on a camera's decode thread with every state change (notifiers, the API)."""
        self.live = LiveHub()
        """Incidents and camera states for WebSocket clients (the API's /api/live)."""
        self.notifier = build_notifier(config.notifications, self.store, self.live)
        self.sink.subscribe(self.notifier.on_incident)
        self.state_listeners.append(self.notifier.on_state_change)
        self.workers = {
            c.id: CameraWorker(
                c, config, self.scheduler, self.sink.submit, self.state_listeners, second_stage
            )
            for c in cameras
        }
        self._stop = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self.fatal: str | None = None
        """Why the watchdog stopped the pipeline; None while it runs or after a requested stop."""
        self.on_fatal: list[Callable[[str], None]] = []
        """Called (on the watchdog thread) with `fatal` when it stops the pipeline."""

    def _clip_frames(self, camera_id: str, start: float, end: float) -> Sequence[Frame]:
        return self.workers[camera_id].ring.frames_between(start, end)

    def start(self) -> None:
        repaired = self.store.repair_interrupted(list(self.workers), time.time())
        if repaired:
            log.warning("closed %d incidents a pipeline left open when it died: %s", len(repaired), repaired)
        self.notifier.start()
        self.sink.start()
        self.scheduler.start()
        for worker in self.workers.values():
            worker.source.start()
        self._dispatcher = threading.Thread(target=self._dispatch, name="dispatcher", daemon=True)
        self._dispatcher.start()
        self._watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self._watchdog.start()
        log.info(
            "citywatch running: %d cameras, detectors %s",
            len(self.workers),
            ", ".join(sorted({r for w in self.workers.values() for r in w.roles})) or "none",
        )

    def stages(self) -> dict[str, bool]:
        """Each thread of the pipeline -> whether it runs as it should (stopped on purpose counts)."""
        stages = {
            "dispatcher": self._dispatcher is None or self._dispatcher.is_alive() or self._stop.is_set(),
            "inference-scheduler": self.scheduler.thread_alive,
            "event-sink": self.sink.thread_alive,
        }
        dead_notifiers = set(self.notifier.dead_threads())
        stages["notifier"] = "notifier" not in dead_notifiers
        stages |= {name: False for name in dead_notifiers - {"notifier"}}
        stages |= {f"camera-{camera_id}": w.source.threads_alive for camera_id, w in self.workers.items()}
        return stages

    def _watch(self) -> None:
        """The watchdog: a thread that died while it should run stops the pipeline, with the reason
        in `fatal` and the log, so that the process exits non-zero and systemd or the container
        starts it again (a half-dead pipeline would look alive while it misses incidents)."""
        while not self._stop.wait(WATCHDOG_EVERY_S):
            dead = [name for name, alive in self.stages().items() if not alive]
            if dead:
                self.fatal = f"pipeline thread(s) {', '.join(dead)} stopped unexpectedly"
                log.critical("%s: stopping so that the service manager restarts citywatch", self.fatal)
                self._stop.set()
                for callback in self.on_fatal:
                    callback(self.fatal)
                return

    def failing_analyzers(self, now: float) -> dict[str, str]:
        """'camera/type' -> last error, for each analyzer that failed again after a reset lately."""
        return {
            f"{camera_id}/{analyzer.incident_type.value}": analyzer.health.last_error or ""
            for camera_id, worker in self.workers.items()
            for analyzer in worker.analyzers
            if analyzer.health.failing(now)
        }

    @property
    def running(self) -> bool:
        """Started, not stopped, and every thread runs (`stages`)."""
        started = self._dispatcher is not None and not self._stop.is_set()
        return started and all(self.stages().values())

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            for worker in self.workers.values():
                try:
                    worker.poll()
                except Exception:
                    log.exception("camera %s: dispatching a frame failed", worker.camera.id)
            self._stop.wait(_DISPATCH_INTERVAL_S)

    def run(self, duration: float | None = None) -> None:
        """Run until `duration` seconds have passed or stop() is called (e.g. from a signal)."""
        self.start()
        try:
            self._stop.wait(duration)
        finally:
            self.stop()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        """Clean shutdown: no new frames, finish inference already queued, store every incident and clip."""
        self._stop.set()
        if self._dispatcher is not None:
            self._dispatcher.join()
            self._dispatcher = None
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join()
            self._watchdog = None
        self.scheduler.stop(timeout=30)
        for worker in self.workers.values():
            worker.source.stop()
        self.sink.stop()
        self.notifier.stop()  # after the sink: the incidents it stored last are alerted too
        self.store.dispose()
        log.info(
            "citywatch stopped: %d incidents stored, %d clips",
            self.sink.stats.incidents_stored,
            self.sink.stats.clips_written,
        )
