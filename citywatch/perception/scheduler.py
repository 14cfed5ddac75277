"""The one inference scheduler that all cameras share.

Cameras submit frames without ever waiting; one worker thread takes a batch of jobs, runs each
detector once over the frames that asked for it, and hands every job its result. When inference
falls behind it sheds frames rather than analyse them late, and counts each per camera and reason:

- each camera has its own queue of at most `per_camera` frames; a newer frame supersedes its
  oldest ("superseded"), so one busy camera cannot fill the queue of all;
- batches take the cameras in turn (round robin), each camera's oldest frame first: fair shares;
- a frame that would be older than `latency_budget_s` from its capture by the time it is analysed
  is skipped ("late"): an incident found seven seconds late is late, and the next frame of that
  camera is fresher. "By the time" is its age when its turn comes plus the worker's recent seconds
  per frame times the size of its batch (a batch's frames are all done when it is); a batch
  closes early rather than make its oldest frame late;
- priorities between incident types: a frame that will be done past half the budget loses the
  detector passes of its least important types first (each job ranks its roles, 0 = most
  important, out of `priority_levels`): at half the budget every rank runs, and as its wait grows
  towards the whole budget the cut-off falls rank by rank to the most important alone. A skipped
  pass is counted per camera and role (`skipped_passes`) and the job says which it skipped, so the
  analyzers that need it do not take the frame for an empty one; a frame left with no pass is shed
  ("low_priority").

A batch's detector passes, triggers included, are perception.passes's.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import supervision as sv

from citywatch.perception.passes import BatchDetector, DetectorPasses
from citywatch.perception.triggers import RoleTrigger
from citywatch.video.frame import Frame

log = logging.getLogger(__name__)

SPEED_WEIGHT = 0.2
"""Weight of the newest batch in the moving averages of seconds per frame and of its deviation."""
PLANNING_DEVIATIONS = 4.0
"""How many mean deviations above the average a frame's cost is planned at (batches vary with the
roles their frames need and with what else the machine runs); 4, as TCP plans its retransmission timeout."""
PRESSURE_FROM = 0.5
"""Share of the latency budget a frame may wait before its least important passes are skipped."""
LATENCY_SAMPLES = 100_000
"""Capture-to-analysis latencies kept for the stats (about 3.5 h of 8 analysed frames a second)."""


@dataclass(frozen=True, eq=False)
class InferenceJob:
    """One frame and the detector roles to run on it.

    `on_done` is called on the scheduler's thread, so it should be quick (hand off, don't work).
    `submitted_at` is `time.monotonic()`, the clock of `InferenceResult.finished_at`.
    """

    frame: Frame
    roles: tuple[str, ...]
    on_done: Callable[["InferenceResult"], None]
    submitted_at: float = field(default_factory=time.monotonic)
    role_ranks: Mapping[str, int] = field(default_factory=dict)
    """Role -> importance under load (0 first); a role not named is never skipped."""
    skipped_roles: frozenset[str] = frozenset()
    """Roles the scheduler skipped for this frame under load (set by the scheduler)."""


@dataclass(frozen=True, eq=False)
class InferenceResult:
    """Detections per role; a role whose detector failed is missing and named in `error`."""

    job: InferenceJob
    detections: dict[str, sv.Detections]
    finished_at: float
    error: str | None = None


@dataclass(frozen=True)
class SchedulerStats:
    jobs_submitted: int
    jobs_done: int
    jobs_dropped: int
    detector_calls: dict[str, int]
    frames_per_role: dict[str, int]
    frames_gated_per_role: dict[str, int]
    """Frames a triggered role was asked for but not run on, because its trigger did not fire."""
    queue_depth: int
    busy_seconds: float
    errors: int
    shed: dict[str, dict[str, int]] = field(default_factory=dict)
    """camera -> reason ("superseded", "late", "queue_full", "low_priority") -> frames shed."""
    skipped_passes: dict[str, dict[str, int]] = field(default_factory=dict)
    """camera -> detector role -> frames that ran without that role's pass (priorities under load)."""
    latencies_s: list[float] = field(default_factory=list)
    """Seconds from capture to the end of inference, of the last LATENCY_SAMPLES analysed frames."""


class InferenceScheduler:
    """Batches jobs from all cameras onto the detectors, on one worker thread."""

    def __init__(
        self,
        detectors: Mapping[str, BatchDetector],
        batch_size: int = 8,
        max_wait_ms: float = 20,
        queue_size: int = 64,
        triggers: Mapping[str, RoleTrigger] | None = None,
        latency_budget_s: float | None = 2.0,
        per_camera: int = 2,
        priority_levels: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if batch_size < 1 or queue_size < 1 or max_wait_ms < 0:
            raise ValueError("batch_size and queue_size must be at least 1, max_wait_ms not negative")
        self._passes = DetectorPasses(detectors, triggers)
        self._batch_size = batch_size
        self._max_wait_s = max_wait_ms / 1000
        self._queues: dict[str, deque[InferenceJob]] = {}
        """Waiting jobs per camera, oldest first; the dict's order is the round-robin turn."""
        self._queue_size = queue_size
        self._per_camera = per_camera
        self._budget = latency_budget_s
        self._levels = priority_levels
        self._batches_timed = 0
        self._mean_seconds_per_frame = 0.0
        self._deviation = 0.0
        self._clock = clock
        self._shed: dict[str, dict[str, int]] = {}
        self._skipped_passes: dict[str, dict[str, int]] = {}
        self._latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._submitted = 0
        self._done = 0
        self._dropped = 0
        self._errors = 0
        """on_done calls that raised (the passes count the detector calls that did)."""
        self._busy_seconds = 0.0

    def start(self) -> None:
        with self._cond:
            if self._thread is not None or self._stopping:
                raise RuntimeError("the inference scheduler can be started once")
            self._thread = threading.Thread(target=self._run, name="inference-scheduler", daemon=True)
            self._thread.start()

    @property
    def thread_alive(self) -> bool:
        """False when the worker thread died while it should run (for the Supervisor's watchdog)."""
        return self._thread is None or self._stopping or self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop taking jobs and finish the ones already queued, so no analysed frame is lost.

        Returns whether the worker finished within `timeout` seconds. Jobs queued on a scheduler
        that was never started cannot be run and count as dropped.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
            if thread is None:
                self._dropped += self._waiting()
                self._queues.clear()
                return True
        thread.join(timeout)
        return not thread.is_alive()

    def submit(self, job: InferenceJob) -> bool:
        """Queue `job` without blocking; False when the scheduler is stopping.

        A job shed (see the module doc) never has its `on_done` called.
        """
        unknown = [role for role in job.roles if role not in self._passes.roles]
        if unknown:
            raise ValueError(f"unknown detector roles {unknown} (known: {sorted(self._passes.roles)})")
        with self._cond:
            if self._stopping:
                return False
            camera = self._queues.setdefault(job.frame.camera_id, deque())
            if len(camera) >= self._per_camera:
                self._count_shed(camera.popleft(), "superseded")
            elif self._waiting() >= self._queue_size:
                oldest = min((q for q in self._queues.values() if q), key=lambda q: q[0].submitted_at)
                self._count_shed(oldest.popleft(), "queue_full")
            camera.append(job)
            self._submitted += 1
            self._cond.notify()
        return True

    @property
    def stats(self) -> SchedulerStats:
        passes = self._passes.counts()
        with self._cond:
            return SchedulerStats(
                jobs_submitted=self._submitted,
                jobs_done=self._done,
                jobs_dropped=self._dropped,
                detector_calls=passes.detector_calls,
                frames_per_role=passes.frames_per_role,
                frames_gated_per_role=passes.frames_gated_per_role,
                queue_depth=self._waiting(),
                busy_seconds=self._busy_seconds,
                errors=passes.errors + self._errors,
                shed={camera: dict(reasons) for camera, reasons in self._shed.items()},
                skipped_passes={camera: dict(roles) for camera, roles in self._skipped_passes.items()},
                latencies_s=list(self._latencies),
            )

    @property
    def _seconds_per_frame(self) -> float:
        """What a frame taken now is planned to cost the worker (inference and hand-off): the moving
        average of its recent seconds per frame plus PLANNING_DEVIATIONS moving mean deviations (as
        TCP estimates a round trip), so that a frame is not taken when it would be done too late."""
        return self._mean_seconds_per_frame + PLANNING_DEVIATIONS * self._deviation

    def _waiting(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _count_shed(self, job: InferenceJob, reason: str) -> None:
        reasons = self._shed.setdefault(job.frame.camera_id, {})
        reasons[reason] = reasons.get(reason, 0) + 1
        self._dropped += 1

    def _take(self, batch: list[InferenceJob]) -> tuple[InferenceJob | None, bool]:
        """(the next camera's oldest job that can still be analysed within the budget as the next
        frame of `batch`, whether the batch is full). Every frame of a batch is done when the whole
        batch is, so a job joins only if the batch with it would still be done within the budget of
        its oldest frame; one that would be late only because the batch is already long is left
        first in its queue and the batch closes (it goes first in the next one). Jobs that would be
        late even alone are shed on the way. A taken job's camera moves to the end of the turn.
        (None, False) when nothing waits.

        When the planned cost of one frame alone exceeds the budget (a stall, a CPU spike, a slow
        first run), no frame could be planned in time and shedding them all would keep the stale
        estimate for ever (nothing would run to measure it again): a frame still within the budget
        is then taken alone, analysed late rather than never, and its batch measures the worker
        again."""
        while self._waiting():
            camera_id = next(c for c, q in self._queues.items() if q)
            queue = self._queues[camera_id]
            job = queue[0]
            done_at_age = None
            if self._budget is not None:
                now = self._clock()
                age = now - job.frame.timestamp
                batch_done_in = (len(batch) + 1) * self._seconds_per_frame
                done_at_age = age + batch_done_in
                oldest = max([age, *(now - j.frame.timestamp for j in batch)])
                alone_in_time = age + self._seconds_per_frame <= self._budget
                unmeasured = not self._batches_timed  # the first batch times the worker: one frame
                hopeless = self._seconds_per_frame > self._budget
                if (
                    batch
                    and (unmeasured or hopeless or oldest + batch_done_in > self._budget)
                    and (alone_in_time or hopeless)
                ):
                    return None, True
            queue.popleft()
            self._queues[camera_id] = self._queues.pop(camera_id)  # to the end of the round robin
            if done_at_age is None:
                return job, False
            if done_at_age > self._budget:
                if hopeless and not batch and age < self._budget:
                    return job, False  # alone, to measure the worker again (docstring)
                self._count_shed(job, "late")
                continue
            taken = self._by_priority(job, done_at_age)
            if taken is not None:
                return taken, False
        return None, False

    def _by_priority(self, job: InferenceJob, age: float) -> InferenceJob | None:
        """`job` without the roles its wait (`age`, when it will be done) no longer affords (module
        doc); None if none is left."""
        assert self._budget is not None
        pressure = (age / self._budget - PRESSURE_FROM) / (1 - PRESSURE_FROM)
        if pressure <= 0:
            return job
        cutoff = self._levels * (1 - pressure)
        skipped = frozenset(r for r in job.roles if job.role_ranks.get(r, 0) >= max(cutoff, 1))
        if not skipped:
            return job
        kept = tuple(r for r in job.roles if r not in skipped)
        if not kept:
            self._count_shed(job, "low_priority")
            return None
        roles = self._skipped_passes.setdefault(job.frame.camera_id, {})
        for role in skipped:
            roles[role] = roles.get(role, 0) + 1
        return replace(job, roles=kept, skipped_roles=job.skipped_roles | skipped)

    def _next_batch(self) -> list[InferenceJob]:
        """Up to batch_size jobs: waits for the first, then up to max_wait for more; [] to exit."""
        with self._cond:
            batch: list[InferenceJob] = []
            while not batch:
                while not self._waiting() and not self._stopping:
                    self._cond.wait()
                if not self._waiting():
                    return []  # stopping and nothing left
                job, _ = self._take(batch)
                if job is not None:
                    batch.append(job)
            deadline = time.monotonic() + self._max_wait_s
            while len(batch) < self._batch_size:
                job, full = self._take(batch)
                if job is not None:
                    batch.append(job)
                    continue
                remaining = deadline - time.monotonic()
                if full or self._stopping or remaining <= 0:
                    break
                self._cond.wait(remaining)
            return batch

    def _run(self) -> None:
        while batch := self._next_batch():
            started = time.monotonic()
            self._process(batch)
            elapsed = time.monotonic() - started
            with self._cond:
                self._busy_seconds += elapsed
                self._batches_timed += 1
                error = elapsed / len(batch) - self._mean_seconds_per_frame
                self._mean_seconds_per_frame += SPEED_WEIGHT * error
                self._deviation += SPEED_WEIGHT * (abs(error) - self._deviation)

    def _process(self, batch: list[InferenceJob]) -> None:
        found = self._passes.run([job.frame.image for job in batch], [job.roles for job in batch])
        analysed_at = self._clock()
        with self._cond:
            self._latencies.extend(analysed_at - job.frame.timestamp for job in batch)
        for job, passes in zip(batch, found, strict=True):
            error = "; ".join(passes.errors) or None
            result = InferenceResult(job, passes.detections, time.monotonic(), error)
            try:
                job.on_done(result)
            except Exception:
                log.exception("on_done of camera %r frame %d failed", job.frame.camera_id, job.frame.index)
                with self._cond:
                    self._errors += 1
            with self._cond:
                self._done += 1
