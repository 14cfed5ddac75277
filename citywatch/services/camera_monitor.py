"""Live camera health for the API, the dashboard and `citywatch run`: the Supervisor's state
changes, kept in memory for reads and written to the `camera_status` table so the API alone
(`--no-pipeline`) still shows the last known state.

State listeners are called on a camera's decode thread (with its state machine's lock held), so
the listener only records the change and queues it; a writer thread of its own does the database
work, and a database outage delays it without ever stalling decoding.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime

from citywatch.storage.store import CameraStatus, IncidentStore, StoreError
from citywatch.video.state import StateChange

log = logging.getLogger(__name__)

_STOP = None


class CameraMonitor:
    def __init__(self, store: IncidentStore) -> None:
        self._store = store
        self._live: dict[str, CameraStatus] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[StateChange | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __call__(self, change: StateChange) -> None:
        """The state listener: cheap, never blocks, never raises."""
        status = CameraStatus(change.camera_id, change.current.value, change.reason, _utc(change.at))
        with self._lock:
            self._live[change.camera_id] = status
        self._queue.put(change)

    def start(self) -> None:
        """Start the writer thread; a no-op when it runs already (an app's lifespan may run twice)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="camera-status-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Write what is queued, then stop."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def states(self) -> dict[str, CameraStatus]:
        """Every camera's latest state: live changes over what the database last knew."""
        stored = self._store.camera_states()
        with self._lock:
            return stored | self._live

    def is_live(self, camera_id: str) -> bool:
        """Whether this process has seen a state change of the camera (its pipeline is running)."""
        with self._lock:
            return camera_id in self._live

    def _run(self) -> None:
        while (change := self._queue.get()) is not _STOP:
            try:
                self._store.set_camera_state(change.camera_id, change.current.value, change.reason, change.at)
            except StoreError as exc:  # the in-memory state is still served; the next change retries
                log.error("camera %s: state %s not stored: %s", change.camera_id, change.current, exc)


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)
