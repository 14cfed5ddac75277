"""The detector passes over a batch of frames: the one place that runs detectors and gates them.

Each role runs once over the frames that asked for it. A role with a trigger (perception.triggers)
runs after the role that triggers it and only on the frames where it fires; the others get an
empty result. A detector that raises costs its role on that batch: the frames that asked for it
go without it and name the failure. The shared scheduler runs a camera's frames through here in
batches; a file's frames (`citywatch detect`, `citywatch eval`, the bench's baseline) come one at a
time through runtime.cascade.
"""

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import supervision as sv

from citywatch.perception.triggers import RoleTrigger, trigger_order
from citywatch.perception.yolo import empty_detections

log = logging.getLogger(__name__)


class BatchDetector(Protocol):
    """What the passes need of a detector (YoloDetector is one)."""

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[sv.Detections]: ...


@dataclass(frozen=True, slots=True, eq=False)
class FramePasses:
    """What the passes found in one frame: detections per role run or gated; a role whose detector
    failed is missing and named in `errors`."""

    detections: dict[str, sv.Detections]
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PassCounts:
    detector_calls: dict[str, int]
    frames_per_role: dict[str, int]
    frames_gated_per_role: dict[str, int]
    """Frames a triggered role was asked for but not run on, because its trigger did not fire."""
    errors: int
    """Detector calls that raised."""


class DetectorPasses:
    """Runs detector roles over batches of frames, gated by their triggers, and counts the work.

    Thread-safe counting: `counts` may be read from any thread while a batch runs.
    """

    def __init__(
        self, detectors: Mapping[str, BatchDetector], triggers: Mapping[str, RoleTrigger] | None = None
    ) -> None:
        self._detectors = dict(detectors)
        self._triggers = dict(triggers or {})
        unknown = {r: t.source for r, t in self._triggers.items() if {r, t.source} - set(self._detectors)}
        if unknown:
            raise ValueError(f"triggers name roles without a detector: {unknown}")
        self._lock = threading.Lock()
        self._calls = dict.fromkeys(self._detectors, 0)
        self._frames = dict.fromkeys(self._detectors, 0)
        self._gated = dict.fromkeys(self._triggers, 0)
        self._errors = 0

    @property
    def roles(self) -> frozenset[str]:
        """The roles it has a detector for."""
        return frozenset(self._detectors)

    def counts(self) -> PassCounts:
        with self._lock:
            return PassCounts(dict(self._calls), dict(self._frames), dict(self._gated), self._errors)

    def run(self, images: Sequence[np.ndarray], roles: Sequence[Sequence[str]]) -> list[FramePasses]:
        """The passes of `roles[i]` on `images[i]`, for each i, each role once over the batch."""
        detections: list[dict[str, sv.Detections]] = [{} for _ in images]
        errors: list[list[str]] = [[] for _ in images]
        for role in trigger_order((role for asked in roles for role in asked), self._triggers):
            members = [i for i, asked in enumerate(roles) if role in asked]
            trigger = self._triggers.get(role)
            if trigger is not None:
                gated = [i for i in members if not trigger.fires(detections[i])]
                for i in gated:
                    detections[i][role] = empty_detections()
                members = [i for i in members if i not in gated]
                with self._lock:
                    self._gated[role] += len(gated)
                if not members:
                    continue
            failed = False
            try:
                results = self._detectors[role].detect_batch([images[i] for i in members])
            except Exception as exc:
                log.exception("detector %r failed on a batch of %d frames", role, len(members))
                failed = True
                for i in members:
                    errors[i].append(f"{role}: {type(exc).__name__}: {exc}")
            else:
                for i, result in zip(members, results, strict=True):
                    detections[i][role] = result
            with self._lock:
                self._calls[role] += 1
                self._frames[role] += len(members)
                self._errors += failed
        return [FramePasses(found, tuple(why)) for found, why in zip(detections, errors, strict=True)]
