"""The cascade on one frame, written once: a camera's worker, `citywatch detect` and `citywatch
eval` (media_analysis) and the bench's baseline all run it.

1. Detector passes (perception.passes): each role once, a triggered role only where its trigger
   fires. A camera's frames get them in batches from the shared scheduler, which may skip a
   frame's least important passes under load; a file's frames get them here, one at a time.
2. The tracker over the `coco` boxes, when an analyzer needs that role.
3. Each analyzer, except one that needs a pass skipped on this frame: it must not take the frame
   for one where its detector found nothing. A camera's analyzers are isolated (one that raises
   is reset and raises nothing: analytics.isolation); a file's are not, so a bug stops the file.
"""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput
from citywatch.domain.incident import IncidentEvent
from citywatch.perception.passes import DetectorPasses
from citywatch.perception.tracker import TRACKED_ROLE, ObjectTracker
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

    def __init__(self, analyzers: Sequence[FrameAnalyzer], fps: float) -> None:
        self._analyzers = list(analyzers)
        self.roles = tuple(sorted({role for a in self._analyzers for role in a.roles}))
        """The detector roles its analyzers need."""
        self._tracker = ObjectTracker(fps) if TRACKED_ROLE in self.roles else None

    def analyse(
        self,
        frame: Frame,
        detections: dict[str, sv.Detections],
        skipped_roles: frozenset[str] = frozenset(),
    ) -> list[IncidentEvent]:
        """The events the analyzers raise on `frame` given its passes' `detections`; `skipped_roles`
        are the passes the scheduler skipped on it under load."""
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
