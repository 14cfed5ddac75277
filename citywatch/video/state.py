"""Camera health: the states a camera connection goes through and the one place that moves between them.

    STOPPED --connecting()--> CONNECTING --frame--> STREAMING --no frame for stalled_after_s--> STALLED
    CONNECTING / STREAMING / STALLED --connection_failed()--> RECONNECTING
    CONNECTING / STALLED / RECONNECTING --down for offline_after_s--> OFFLINE
    CONNECTING / STALLED / RECONNECTING / OFFLINE --frame--> STREAMING
    any --stopped()--> STOPPED

Events that do not apply to the current state are ignored rather than raised: they come from
different threads (decode, health monitor, the caller of stop) that race by nature, e.g. a last frame
decoded just after stop() or a failure reported while the monitor already declared the camera
OFFLINE. Raising there would turn a harmless race into a dead decode thread.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from citywatch.config import HealthSettings


class CameraState(StrEnum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    STOPPED = "stopped"


_DOWN = frozenset({CameraState.CONNECTING, CameraState.STALLED, CameraState.RECONNECTING})
"""States that turn OFFLINE when they last longer than offline_after_s."""


@dataclass(frozen=True)
class StateChange:
    """One transition; `at` is wall-clock seconds, the clock incidents use."""

    camera_id: str
    previous: CameraState
    current: CameraState
    at: float
    reason: str


class ConnectionStateMachine:
    """The health state of one camera connection, driven by events and by a periodic `tick()`.

    Thread-safe. `on_change` is called for every transition, in order, while the machine's lock is
    held: keep it cheap and do not call back into a machine of another thread from it.
    """

    def __init__(
        self,
        camera_id: str,
        health: HealthSettings,
        on_change: Callable[[StateChange], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._camera_id = camera_id
        self._health = health
        self._on_change = on_change
        self._clock = clock
        self._lock = threading.RLock()
        self._state = CameraState.STOPPED
        self._started_at: float | None = None
        self._last_frame_at: float | None = None
        self._backoff = health.backoff_initial_s

    @property
    def state(self) -> CameraState:
        return self._state

    def connecting(self) -> None:
        """A (re)start from STOPPED: the offline clock starts now."""
        with self._lock:
            if self._state is CameraState.STOPPED:
                self._started_at = self._clock()
                self._last_frame_at = None
                self._backoff = self._health.backoff_initial_s
                self._move(CameraState.CONNECTING, "starting")

    def frame_received(self) -> None:
        """A decoded frame: STREAMING, and the reconnect backoff starts again from its first step."""
        with self._lock:
            if self._state is CameraState.STOPPED:
                return
            self._last_frame_at = self._clock()
            self._backoff = self._health.backoff_initial_s
            if self._state is CameraState.CONNECTING:
                self._move(CameraState.STREAMING, "first frame")
            elif self._state is not CameraState.STREAMING:
                self._move(CameraState.STREAMING, "frames again")

    def connection_failed(self, reason: str) -> None:
        """Opening or reading the stream failed; an OFFLINE camera stays OFFLINE while it retries."""
        with self._lock:
            if self._state in (CameraState.CONNECTING, CameraState.STREAMING, CameraState.STALLED):
                self._move(CameraState.RECONNECTING, reason)
            self._check_offline()

    def tick(self) -> None:
        """Apply the time-based rules; call it periodically (a hung read sends no events)."""
        with self._lock:
            if self._state is CameraState.STREAMING and self._last_frame_at is not None:
                idle = self._clock() - self._last_frame_at
                if idle >= self._health.stalled_after_s:
                    self._move(CameraState.STALLED, f"no frame for {idle:.1f} s")
            self._check_offline()

    def stopped(self, reason: str = "stopped") -> None:
        with self._lock:
            if self._state is not CameraState.STOPPED:
                self._move(CameraState.STOPPED, reason)

    def next_backoff(self) -> float:
        """Seconds to wait before the next reconnect: doubles per call up to backoff_max_s."""
        with self._lock:
            delay = self._backoff
            self._backoff = min(self._backoff * 2, self._health.backoff_max_s)
            return delay

    def _check_offline(self) -> None:
        if self._state not in _DOWN:
            return
        since = self._last_frame_at if self._last_frame_at is not None else self._started_at
        assert since is not None  # every state in _DOWN is entered after connecting()
        down = self._clock() - since
        if down >= self._health.offline_after_s:
            what = "since the last frame" if self._last_frame_at is not None else "since start"
            self._move(CameraState.OFFLINE, f"down for {down:.1f} s {what}")

    def _move(self, to: CameraState, reason: str) -> None:
        change = StateChange(self._camera_id, self._state, to, self._clock(), reason)
        self._state = to
        if self._on_change is not None:
            self._on_change(change)
