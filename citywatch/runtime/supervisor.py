"""The Supervisor: wires cameras, the shared inference scheduler, analyzers and the event sink.

One way flow (DESIGN.md): CameraSource -> Sampler -> MotionGate -> InferenceScheduler ->
Analyzers -> EventSink. Decoding runs on one thread per camera, inference on the scheduler's
thread, storing on the sink's thread; the dispatcher thread here only moves the latest frame of
each camera along, so a stalled camera or a slow model never blocks decoding of the others.
Code outside reads it through `stats()` and `latest_frame()`, never its workers, scheduler or sink.

`apply(cameras)` takes a new camera list while it runs (the config file saved by the dashboard):
new and re-enabled cameras start, removed and disabled ones stop, a camera whose zones alone
changed takes them in place, any other changed camera restarts; the others are not touched.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from citywatch.analytics.catalog import models_for, roles_for
from citywatch.config import CameraConfig, CitywatchConfig, incident_types_of
from citywatch.memory import keep_frames_on_mmap
from citywatch.notifiers.dispatcher import build_notifier
from citywatch.notifiers.live import LiveHub
from citywatch.perception.detectors import load_detector, triggers_for
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.scheduler import InferenceScheduler
from citywatch.perception.second_stage import load_second_stage
from citywatch.runtime.stats import SupervisorStats
from citywatch.runtime.worker import CameraWorker
from citywatch.storage.evidence import EvidenceWriter
from citywatch.storage.sink import EventSink
from citywatch.storage.store import IncidentStore
from citywatch.video.frame import Frame
from citywatch.video.ring_buffer import RingBuffer
from citywatch.video.state import StateChange

log = logging.getLogger(__name__)

_DISPATCH_INTERVAL_S = 0.01


WATCHDOG_EVERY_S = 1.0
"""How often the watchdog looks at every thread of the pipeline."""
RETIRED_RING_EXTRA_S = 5.0
"""How long past its post-roll a stopped camera's frames are kept for the clips of its last incidents."""


@dataclass
class CameraChanges:
    """What `Supervisor.apply` did, camera ids in each."""

    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    rezoned: list[str] = field(default_factory=list)
    """Running cameras that took new zones without reopening their stream."""
    pending: dict[str, str] = field(default_factory=dict)
    """Cameras not changed now, with why: they take the change when citywatch next starts."""


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
        self._roles = frozenset(detectors)
        """The detector roles the scheduler has: a camera applied later may need no other."""
        self._second_stage = {
            name: load_second_stage(name, config.models)
            for name in sorted({m for t, camera_id in needs for m in models_for(t, camera_id)})
        }
        self._scheduler = InferenceScheduler(
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
        self.evidence = EvidenceWriter(
            config.storage.evidence_dir, config.evidence, {c.id: config.timezone_for(c) for c in cameras}
        )
        self._sink = EventSink(self.store, self.evidence, config.evidence, self._clip_frames)
        self.state_listeners: list[Callable[[StateChange], None]] = []
        """Called on a camera's decode thread with every state change (notifiers, the API)."""
        self.live = LiveHub()
        """Incidents and camera states for WebSocket clients (the API's /api/live)."""
        self.notifier = build_notifier(config.notifications, self.store, self.live)
        self._sink.subscribe(self.notifier.on_incident)
        self.state_listeners.append(self.notifier.on_state_change)
        self._workers = {c.id: self._worker(c) for c in cameras}
        """Replaced whole, never changed in place (`apply`), so other threads read it without a lock."""
        self._retired: tuple[tuple[float, str, RingBuffer], ...] = ()
        """(kept until, camera, ring) of stopped cameras, for the clips of their last incidents."""
        self._applying = threading.Lock()
        self._stop = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self.fatal: str | None = None
        """Why the watchdog stopped the pipeline; None while it runs or after a requested stop."""
        self.on_fatal: list[Callable[[str], None]] = []
        """Called (on the watchdog thread) with `fatal` when it stops the pipeline."""

    def stats(self) -> SupervisorStats:
        """A snapshot of every camera, the scheduler and the sink (safe from any thread)."""
        sink = self._sink.stats
        return SupervisorStats(
            cameras={camera_id: worker.stats() for camera_id, worker in self._workers.items()},
            scheduler=self._scheduler.stats,
            sink=replace(sink, latencies_s=list(sink.latencies_s)),
        )

    def latest_frame(self, camera_id: str) -> np.ndarray | None:
        """The newest BGR picture of the camera, None before its first; KeyError for a camera this
        pipeline does not run (not in the config, or disabled)."""
        frame = self._workers[camera_id].ring.latest()
        return frame.image if frame is not None else None

    def _worker(self, camera: CameraConfig) -> CameraWorker:
        return CameraWorker(
            camera, self.config, self._scheduler, self._sink.submit, self.state_listeners, self._second_stage
        )

    def _clip_frames(self, camera_id: str, start: float, end: float) -> Sequence[Frame]:
        rings = [ring for _, retired_id, ring in self._retired if retired_id == camera_id]
        worker = self._workers.get(camera_id)
        rings += [worker.ring] if worker is not None else []
        frames = [frame for ring in rings for frame in ring.frames_between(start, end)]
        return sorted(frames, key=lambda frame: frame.timestamp) if len(rings) > 1 else frames

    def apply(self, cameras: Sequence[CameraConfig]) -> CameraChanges:
        """Run `cameras` from now on (the whole list; a disabled one stops), touching only the
        cameras that changed. A camera whose incident types need a detector this pipeline did not
        load (the shared scheduler's detectors are fixed when it starts), or a model that fails to
        load, is left as it was and named in `pending`. Safe from any thread; calls take turns."""
        with self._applying:
            changes = CameraChanges()
            if self._stop.is_set():
                changes.pending.update({c.id: "the pipeline is stopping" for c in cameras})
                return changes
            wanted = {c.id: c for c in cameras if c.enabled}
            workers = dict(self._workers)
            retiring = [workers.pop(camera_id) for camera_id in list(workers) if camera_id not in wanted]
            changes.stopped.extend(worker.camera.id for worker in retiring)
            starting: list[CameraWorker] = []
            for camera in wanted.values():
                current = workers.get(camera.id)
                if current is not None and current.camera == camera:
                    continue
                why = self._cannot_run(camera)
                if why is not None:
                    log.warning("camera %s: not applied until citywatch restarts: %s", camera.id, why)
                    changes.pending[camera.id] = why
                elif (
                    current is not None
                    and current.camera.model_copy(update={"zones": camera.zones}) == camera
                ):
                    current.rezone(camera)
                    changes.rezoned.append(camera.id)
                else:
                    workers[camera.id] = self._worker(camera)
                    starting.append(workers[camera.id])
                    (changes.restarted if current is not None else changes.started).append(camera.id)
                    retiring += [current] if current is not None else []
            self.config = self.config.model_copy(update={"cameras": list(cameras)})
            self.evidence.set_time_zones({c.id: self.config.timezone_for(c) for c in cameras})
            self._workers = workers
            self._retire(retiring)
            if self._dispatcher is not None:  # started: else start() starts them
                for worker in starting:
                    worker.source.start()
            log.info("cameras applied: %s", changes)
            return changes

    def _cannot_run(self, camera: CameraConfig) -> str | None:
        """Why this pipeline cannot run `camera` now; None when it can (its models loaded here)."""
        types = sorted(incident_types_of(camera))
        missing = sorted({r for t in types for r in roles_for(t, camera.id)} - self._roles)
        if missing:
            return f"its incident types need detectors this pipeline has not loaded: {', '.join(missing)}"
        for name in sorted({m for t in types for m in models_for(t, camera.id)} - set(self._second_stage)):
            try:
                self._second_stage[name] = load_second_stage(name, self.config.models)
            except Exception as exc:
                return f"model {name} could not be loaded: {exc}"
        return None

    def _retire(self, workers: Sequence[CameraWorker]) -> None:
        """Stop `workers` (no longer in `_workers`); their frames stay for their last clips."""
        keep_until = time.monotonic() + self.config.evidence.post_roll_s + RETIRED_RING_EXTRA_S
        self._retired += tuple((keep_until, w.camera.id, w.ring) for w in workers)
        for worker in workers:
            worker.retire()

    def _forget_retired(self) -> None:
        now = time.monotonic()
        if self._retired and self._retired[0][0] < now:
            self._retired = tuple(entry for entry in self._retired if entry[0] >= now)

    def start(self) -> None:
        repaired = self.store.repair_interrupted(list(self._workers), time.time())
        if repaired:
            log.warning("closed %d incidents a pipeline left open when it died: %s", len(repaired), repaired)
        self.notifier.start()
        self._sink.start()
        self._scheduler.start()
        with self._applying:  # a camera applied meanwhile is started here or by `apply`, once
            for worker in self._workers.values():
                worker.source.start()
            self._dispatcher = threading.Thread(target=self._dispatch, name="dispatcher", daemon=True)
            self._dispatcher.start()
        self._watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self._watchdog.start()
        log.info(
            "citywatch running: %d cameras, detectors %s",
            len(self._workers),
            ", ".join(sorted({r for w in self._workers.values() for r in w.roles})) or "none",
        )

    def stages(self) -> dict[str, bool]:
        """Each thread of the pipeline -> whether it runs as it should (stopped on purpose counts)."""
        stages = {
            "dispatcher": self._dispatcher is None or self._dispatcher.is_alive() or self._stop.is_set(),
            "inference-scheduler": self._scheduler.thread_alive,
            "event-sink": self._sink.thread_alive,
        }
        dead_notifiers = set(self.notifier.dead_threads())
        stages["notifier"] = "notifier" not in dead_notifiers
        stages |= {name: False for name in dead_notifiers - {"notifier"}}
        stages |= {f"camera-{camera_id}": w.source.threads_alive for camera_id, w in self._workers.items()}
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
            for camera_id, worker in self._workers.items()
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
            for worker in self._workers.values():
                try:
                    worker.poll()
                except Exception:
                    log.exception("camera %s: dispatching a frame failed", worker.camera.id)
            self._forget_retired()
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
        self._scheduler.stop(timeout=30)
        with self._applying:  # an apply in progress finishes first; none starts after `_stop`
            for worker in self._workers.values():
                worker.source.stop()
        self._sink.stop()
        self.notifier.stop()  # after the sink: the incidents it stored last are alerted too
        self.store.dispose()
        log.info(
            "citywatch stopped: %d incidents stored, %d clips",
            self._sink.stats.incidents_stored,
            self._sink.stats.clips_written,
        )
