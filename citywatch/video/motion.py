"""A cheap per-camera test of whether a frame changed enough to be worth running the models on."""

from dataclasses import dataclass

import cv2
import numpy as np

from citywatch.config import MotionSettings
from citywatch.video.frame import Frame

_WIDTH = 160
"""Frames are compared at this width: enough for people and cars, and a few microseconds a frame."""


@dataclass(frozen=True)
class MotionResult:
    """`moving`: the frame changed; `forced`: analysed without motion (first frame, the periodic
    full check, or the gate switched off)."""

    moving: bool
    changed_fraction: float
    forced: bool

    @property
    def analyse(self) -> bool:
        return self.moving or self.forced


class MotionGate:
    """Compares each checked frame with the one checked before it (one camera; not thread-safe)."""

    def __init__(self, settings: MotionSettings) -> None:
        self._settings = settings
        self._previous: np.ndarray | None = None
        self._last_analysed_at: float | None = None

    def check(self, frame: Frame) -> MotionResult:
        if not self._settings.enabled:
            return MotionResult(moving=False, changed_fraction=0.0, forced=True)
        small = _small_grey(frame.image)
        previous, self._previous = self._previous, small
        # A first frame, or one after the resolution changed, has nothing to compare with: analyse it.
        fresh = previous is None or previous.shape != small.shape
        if fresh:
            fraction = 0.0
        else:
            changed = cv2.absdiff(small, previous) > self._settings.pixel_threshold
            fraction = float(np.count_nonzero(changed)) / changed.size
        moving = fraction > self._settings.min_changed_fraction
        forced = not moving and (
            fresh
            or self._last_analysed_at is None
            or frame.timestamp - self._last_analysed_at >= self._settings.full_check_every_s
        )
        if moving or forced:
            self._last_analysed_at = frame.timestamp
        return MotionResult(moving=moving, changed_fraction=fraction, forced=forced)


def _small_grey(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    if width > _WIDTH:
        size = (_WIDTH, max(1, round(height * _WIDTH / width)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.GaussianBlur(grey, (5, 5), 0)
