"""The cascade on one frame, written once: a camera's worker, `citywatch detect` and `citywatch
eval` (media_analysis) and the bench's baseline all run it.

1. Detector passes (perception.passes): each role once, a triggered role only where its trigger
   fires, a scheduled role (perception.triggers.PassSchedule: smoke and fire) only on the frames
   its schedule plans it for (`Cascade.plan`). A camera's frames get them in batches from the
   shared scheduler, which may skip a frame's least important passes under load; a file's frames
   get them here, one at a time.
2. The tracker over the `coco` boxes, when an analyzer needs that role.
3. Each analyzer, except one that needs a pass skipped on this frame (under load, or not
   scheduled): it must not take the frame for one where its detector found nothing. A camera's
   analyzers are isolated (one that raises is reset and raises nothing: analytics.isolation); a
   file's are not, so a bug stops the file.
"""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput
from citywatch.domain.incident import IncidentEvent
from citywatch.perception.passes import DetectorPasses
from citywatch.perception.tracker import TRACKED_ROLE, ObjectTracker
from citywatch.perception.triggers import PassSchedule
from citywatch.video.frame import Frame


class FrameAnalyzer(Protocol):
    """An analyzer as the cascade runs it (an Analyzer, or one wrapped by IsolatedAnalyzer)."""

    @property
    def roles(self) -> tuple[str, ...]: ...

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]: ...


def detect(image: np.ndarray, roles: Sequence[str], passes: DetectorPasses) -> dict[str, sv.Detections]:
    """Step 1 on one picture, on the caller's thread (files and the bench's baseline); raises
    RuntimeError, naming the role and the error, when a detector fails."""
    (found,) = passes.run([image], [roles])
    if found.errors:
        raise RuntimeError("; ".join(found.errors))
    return found.detections


class Cascade:
    """Steps 2 and 3 for one camera or one file: its analyzers and their tracker, kept across frames."""

    def __init__(
        self, analyzers: Sequence[FrameAnalyzer], fps: float, schedules: Sequence[PassSchedule] = ()
    ) -> None:
        self._analyzers = list(analyzers)
        self.roles = tuple(sorted({role for a in self._analyzers for role in a.roles}))
        """The detector roles its analyzers need."""
        self._tracker = ObjectTracker(fps) if TRACKED_ROLE in self.roles else None
        self._schedules = [s for s in schedules if s.role in self.roles]

    def plan(self, timestamp: float) -> tuple[tuple[str, ...], frozenset[str]]:
        """(the roles to run on the next analysed frame, captured at `timestamp`; the roles its
        schedules leave out, to hand back to `analyse` as skipped). Call once per analysed frame."""
        left_out = frozenset(s.role for s in self._schedules if not s.take(timestamp))
        return tuple(r for r in self.roles if r not in left_out), left_out

    def analyse(
        self,
        frame: Frame,
        detections: dict[str, sv.Detections],
        skipped_roles: frozenset[str] = frozenset(),
    ) -> list[IncidentEvent]:
        """The events the analyzers raise on `frame` given its passes' `detections`; `skipped_roles`
        are the passes the scheduler skipped on it under load or its schedules left out."""
        for schedule in self._schedules:
            if schedule.role in detections and schedule.role not in skipped_roles:
                schedule.observe(frame.timestamp, detections[schedule.role])
        tracks = None
        if self._tracker is not None and TRACKED_ROLE in detections:
            tracks = self._tracker.update(detections[TRACKED_ROLE], frame.timestamp)
        analysis = AnalysisInput(frame, detections, tracks)
        return [
            event
            for analyzer in self._analyzers
            if not skipped_roles.intersection(analyzer.roles)
            for event in analyzer.update(analysis)
        ]
