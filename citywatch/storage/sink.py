"""The EventSink: where analyzers' incidents become stored rows with a snapshot and a clip.

It runs on its own thread behind an unbounded queue: incidents are rare and none may be lost, so
a slow disk or a restarting database delays them but never drops them (a failed store write stays
in an in-memory outbox and is retried; the incident id makes the retry idempotent). Clips wait for
their post-roll: a clip is written once `post_roll_s` has passed after the incident, from the
camera's ring buffer; on shutdown every pending clip is written with the frames there are.
"""

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from citywatch.config import EvidenceSettings
from citywatch.domain.incident import Incident, IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.storage.evidence import EvidenceError, EvidenceWriter
from citywatch.storage.store import IncidentStore, StoreError
from citywatch.video.frame import Frame

log = logging.getLogger(__name__)

ClipFrames = Callable[[str, float, float], Sequence[Frame]]
"""(camera_id, from_timestamp, to_timestamp) -> that camera's buffered frames, oldest first."""

Listener = Callable[[Incident], None]

_STOP = object()
_RETRY_EVERY_S = 2.0


@dataclass(slots=True, eq=False)
class _PendingClip:
    incident: Incident
    due_at: float


@dataclass(slots=True)
class _Written:
    """Evidence already written for an incident, so that a retried store write never writes it twice."""

    snapshot_path: str | None = None
    snapshot_error: str | None = None
    clip_written: bool = False
    clip_path: str | None = None
    clip_error: str | None = None


@dataclass(slots=True)
class SinkStats:
    incidents_stored: int = 0
    incidents_ended: int = 0
    clips_written: int = 0
    evidence_errors: int = 0
    store_failures: int = 0
    outbox: int = 0
    latencies_s: list[float] = field(default_factory=list)
    """Seconds from the frame that raised an incident to its row being stored."""


class EventSink:
    def __init__(
        self,
        store: IncidentStore,
        evidence: EvidenceWriter,
        settings: EvidenceSettings,
        clip_frames: ClipFrames,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._evidence = evidence
        self._settings = settings
        self._clip_frames = clip_frames
        self._clock = clock
        self._queue: queue.Queue[object] = queue.Queue()
        self._pending_clips: list[_PendingClip] = []
        self._outbox: list[IncidentEvent] = []
        self._written: dict[str, _Written] = {}
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._last_retry = 0.0
        self.stats = SinkStats()

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` (on the sink thread) with every incident once it is stored."""
        self._listeners.append(listener)

    def submit(self, event: IncidentEvent) -> None:
        """Hand over an event from any thread; never blocks."""
        self._queue.put(event)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="event-sink", daemon=True)
        self._thread.start()

    @property
    def thread_alive(self) -> bool:
        """False when the sink thread died while it should run (for the Supervisor's watchdog)."""
        return self._thread is None or self._thread.is_alive()

    def stop(self, timeout: float = 60) -> None:
        """Store everything queued, write every pending clip with the frames there are, then return."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error(
                "event sink did not finish within %.0f s; %d clips pending", timeout, len(self._pending_clips)
            )
        self._thread = None

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            if item is not None:
                self._handle(item)  # type: ignore[arg-type]
            self._write_due_clips(self._clock())
            self._retry_outbox()
        self._drain_on_stop()

    def _drain_on_stop(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                self._handle(item)  # type: ignore[arg-type]
        for attempt in range(3):
            if not self._outbox:
                break
            if attempt:
                time.sleep(_RETRY_EVERY_S)
            self._retry_outbox(force=True)
        self._write_due_clips(float("inf"))  # after the retries: a stored retry queues its clip
        if self._outbox:
            log.error("%d incidents could not be stored before shutdown: %s", len(self._outbox), self._outbox)

    def _handle(self, event: IncidentEvent) -> None:
        try:
            if isinstance(event, IncidentRaised):
                self._store_raised(event.incident)
            else:
                self._store_ended(event)
        except StoreError as exc:
            log.error("storing %s failed, kept for retry: %s", _describe(event), exc)
            self.stats.store_failures += 1
            self._outbox.append(event)
            self.stats.outbox = len(self._outbox)

    def _store_raised(self, incident: Incident) -> None:
        written = self._written.get(incident.id)
        if written is None:
            written = self._written[incident.id] = _Written(*self._snapshot(incident))
        stored = dataclasses.replace(incident, frame=None)
        if self._store.add(stored, written.snapshot_path, evidence_error=written.snapshot_error):
            self.stats.incidents_stored += 1
            self.stats.latencies_s.append(self._clock() - incident.started_at)
            log.warning(
                "incident %s: %s%s on camera %s, confidence %.2f",
                incident.id,
                incident.type,
                f"/{incident.subtype}" if incident.subtype else "",
                incident.camera_id,
                incident.confidence,
            )
        self._pending_clips.append(_PendingClip(incident, incident.started_at + self._settings.post_roll_s))
        for listener in self._listeners:
            try:
                listener(stored)
            except Exception:
                log.exception("incident listener %r failed", listener)

    def _snapshot(self, incident: Incident) -> tuple[str | None, str | None]:
        """(relative path, None), or (None, why it failed); (None, None) for an incident without a picture."""
        if incident.frame is None:
            return None, None
        try:
            return self._evidence.relative(self._evidence.snapshot(incident)), None
        except EvidenceError as exc:
            self.stats.evidence_errors += 1
            log.error(
                "incident %s (%s, camera %s): snapshot not written: %s",
                incident.id,
                incident.type,
                incident.camera_id,
                exc,
            )
            return None, str(exc)

    def _store_ended(self, event: IncidentEnded) -> None:
        self._store.close(event.incident_id, event.ended_at)
        self.stats.incidents_ended += 1

    def _write_due_clips(self, now: float) -> None:
        due = [p for p in self._pending_clips if p.due_at <= now]
        if not due:
            return
        self._pending_clips = [p for p in self._pending_clips if p.due_at > now]
        for pending in due:
            self._write_clip(pending.incident)

    def _write_clip(self, incident: Incident) -> None:
        incident.frame = None  # the snapshot is written; let the picture go
        written = self._written.setdefault(incident.id, _Written())
        if not written.clip_written:
            start = incident.started_at - self._settings.pre_roll_s
            end = incident.started_at + self._settings.post_roll_s
            frames = self._clip_frames(incident.camera_id, start, end)
            if not frames:
                log.info("incident %s: no buffered frames for a clip", incident.id)
                self._written.pop(incident.id, None)
                return
            written.clip_path, written.clip_error = self._clip_file(incident, frames)
            written.clip_written = True
        try:
            self._store.set_clip(incident.id, written.clip_path, evidence_error=written.clip_error)
        except StoreError as exc:
            log.error("incident %s: clip path not stored, kept for retry: %s", incident.id, exc)
            self._pending_clips.append(_PendingClip(incident, self._clock() + _RETRY_EVERY_S))
            return
        self._written.pop(incident.id, None)

    def _clip_file(self, incident: Incident, frames: Sequence[Frame]) -> tuple[str | None, str | None]:
        try:
            path = self._evidence.relative(self._evidence.clip(incident, frames))
        except EvidenceError as exc:
            self.stats.evidence_errors += 1
            log.error("incident %s: clip not written: %s", incident.id, exc)
            return None, str(exc)
        self.stats.clips_written += 1
        return path, None

    def _retry_outbox(self, force: bool = False) -> None:
        now = self._clock()
        if not self._outbox or (not force and now - self._last_retry < _RETRY_EVERY_S):
            return
        self._last_retry = now
        events, self._outbox = self._outbox, []
        for event in events:
            self._handle(event)
        self.stats.outbox = len(self._outbox)


def _describe(event: IncidentEvent) -> str:
    if isinstance(event, IncidentRaised):
        return f"incident {event.incident.id} ({event.incident.type}, camera {event.incident.camera_id})"
    return f"end of incident {event.incident_id}"
