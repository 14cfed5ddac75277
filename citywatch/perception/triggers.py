"""Triggers that keep a heavy detector off frames where its analyzers could find nothing, and
schedules that run a slowly changing one on some frames only (`PassSchedule`).

The weapon detector only matters where a person can hold the weapon: on a frame in which the COCO
pass found nobody, the weapon analyzer raises nothing whatever the weapon detector says (an
incident needs a person track), so running it there is pure cost. A `RoleTrigger` says which
earlier role's classes must be present; the scheduler runs the trigger's source first and hands
the gated role an empty result where the trigger does not fire.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import supervision as sv


@dataclass(frozen=True)
class RoleTrigger:
    """Run a detector role on a frame only when `source` found one of `classes` in it."""

    source: str
    classes: frozenset[str]

    def fires(self, detections: Mapping[str, sv.Detections]) -> bool:
        """True when the trigger's classes are present, or when the source's result is missing
        (its detector failed, or the job did not ask for it): better a wasted pass than a miss."""
        found = detections.get(self.source)
        if found is None:
            return True
        names = found.data.get("class_name")
        return names is not None and bool(np.isin(names, list(self.classes)).any())


def trigger_order(roles: Iterable[str], triggers: Mapping[str, RoleTrigger]) -> list[str]:
    """`roles` with every triggered role after the roles that trigger it (one level deep)."""
    roles = list(dict.fromkeys(roles))
    return [r for r in roles if r not in triggers] + [r for r in roles if r in triggers]


@dataclass(eq=False)
class PassSchedule:
    """Run a slowly changing role (smoke and fire) on some of one camera's frames, not on all.

    While the role finds nothing it runs on every `every_frames`-th analysed frame, or on the first
    one `every_s` seconds after its last run (a still scene's frames come seconds apart: video.motion).
    Once it finds something (`counts` of its result is true) it runs on every frame for `hold_s`,
    so a persistence rule whose window lasts `hold_s` counts every frame of an episode: the schedule
    only delays the first sighting, by at most `every_frames` - 1 frames. `take` is called as a
    frame is planned, `observe` when its result is back (a camera's two threads; each field has
    one writer).
    """

    role: str
    every_frames: int
    every_s: float
    hold_s: float
    counts: Callable[[sv.Detections], bool]
    _frames_since: int = 0
    _last_run_at: float | None = None
    _last_found_at: float | None = None

    def take(self, timestamp: float) -> bool:
        """Whether the next analysed frame, captured at `timestamp`, gets the pass (and count it)."""
        due = (
            self._last_run_at is None
            or self._frames_since + 1 >= self.every_frames
            or timestamp - self._last_run_at >= self.every_s
            or (self._last_found_at is not None and timestamp - self._last_found_at <= self.hold_s)
        )
        if due:
            self._frames_since, self._last_run_at = 0, timestamp
        else:
            self._frames_since += 1
        return due

    def observe(self, timestamp: float, found: sv.Detections) -> None:
        """The role's result on the frame captured at `timestamp`."""
        if self.counts(found):
            self._last_found_at = max(timestamp, self._last_found_at or timestamp)
