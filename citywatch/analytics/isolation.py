"""One analyzer of one camera failing costs that analyzer's state on that camera, nothing more.

`IsolatedAnalyzer` wraps an analyzer: when its `update` raises, the exception is counted, logged
with its traceback the first time and then at most once every LOG_EVERY_S (with the count since),
and the analyzer is made again from its factory, so the state that made it fail (a track, a spot,
an episode) is gone and the next frame starts clean; the frame it failed on raises nothing. Its
`health` says how often and when it last failed, for /metrics and /api/health.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from citywatch.analytics.base import AnalysisInput, Analyzer
from citywatch.domain.incident import IncidentEvent
from citywatch.domain.incident_types import IncidentType

log = logging.getLogger(__name__)

LOG_EVERY_S = 60.0
"""After the first traceback, one log line per analyzer and camera at most this often."""
FAILING_WINDOW_S = 600.0
"""An analyzer that failed within this many seconds counts as failing (health, the camera card)."""


@dataclass(slots=True)
class AnalyzerHealth:
    failures: int = 0
    last_error: str | None = None
    last_failed_at: float | None = None
    previous_failed_at: float | None = None

    def failing(self, now: float) -> bool:
        """It failed again after a reset, within FAILING_WINDOW_S: a repeat, not a one-off."""
        return self.previous_failed_at is not None and now - self.previous_failed_at <= FAILING_WINDOW_S


class IsolatedAnalyzer:
    def __init__(
        self,
        camera_id: str,
        incident_type: IncidentType,
        factory: Callable[[], Analyzer],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.camera_id = camera_id
        self.incident_type = incident_type
        self._factory = factory
        self._analyzer = factory()
        self.roles = self._analyzer.roles
        self.health = AnalyzerHealth()
        self._clock = clock
        self._logged_at: float | None = None
        self._unlogged = 0

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        try:
            return self._analyzer.update(analysis)
        except Exception as exc:
            self._failed(exc, analysis.frame.index)
            return []

    def _failed(self, exc: Exception, frame_index: int) -> None:
        now = self._clock()
        health = self.health
        health.failures += 1
        health.previous_failed_at = health.last_failed_at
        health.last_error, health.last_failed_at = f"{type(exc).__name__}: {exc}", now
        if self._logged_at is None:
            log.exception(
                "camera %s: the %s analyzer failed on frame %d; its state is reset and it goes on",
                self.camera_id, self.incident_type.value, frame_index,
            )  # fmt: skip
            self._logged_at = now
        elif now - self._logged_at >= LOG_EVERY_S:
            log.error(
                "camera %s: the %s analyzer failed %d more times since it was last logged (last: %s)",
                self.camera_id, self.incident_type.value, self._unlogged + 1, health.last_error,
            )  # fmt: skip
            self._logged_at, self._unlogged = now, 0
        else:
            self._unlogged += 1
        self._analyzer = self._factory()
