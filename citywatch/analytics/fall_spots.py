"""Falls in video from the fall detector's boxes: a spot where someone lies after standing.

The pose rule of analytics.fall follows COCO person tracks, and COCO loses most people once they
lie on a floor seen from above, so their track ends before `min_down_s` has passed. This rule
follows the fall detector's boxes themselves. A spot is a place where fall boxes keep appearing
(each new box matched to a spot by IoU); it raises once when

- an upright person (a COCO person box taller than wide) stood there at most `max_fall_s` before
  the spot's first fall box (the "upright, then down" of a fall; someone already lying when the
  camera first sees them never stood there),
- fall boxes were found there in `persist_frames` of the spot's last `window_frames` frames, and
- the first one is at least `min_down_s` old.

The episode ends, and the spot is forgotten, `clear_after_s` after its last fall box.
"""

from collections import deque
from dataclasses import dataclass

import numpy as np

from citywatch.analytics.weapon import body_overlap
from citywatch.config import FallThresholds
from citywatch.perception.geometry import box_iou

SAME_SPOT_IOU = 0.3
"""A fall box overlapping a spot's last box this much is the same person, still down."""
STOOD_THERE_OVERLAP = 0.2
"""Share of an upright person box inside the (widened) fall box that places them at the spot."""
CLEAR_AFTER_S = 10.0


@dataclass(slots=True, eq=False)
class FallSpot:
    box: np.ndarray
    confidence: float
    first_seen: float
    last_seen: float
    stood_before: bool
    hits: deque[bool]
    raised: bool = False
    matched_now: bool = False


@dataclass(frozen=True, slots=True)
class SpotUpdate:
    raised: list[FallSpot]
    """Spots that qualified in this frame (each raises once)."""
    ended: list[FallSpot]
    """Spots that had raised and are now forgotten (their episode ends)."""


class FallSpots:
    """Fall boxes of one camera over time -> spots that raise a fall (see the module doc)."""

    def __init__(self, settings: FallThresholds) -> None:
        self._settings = settings
        self._spots: list[FallSpot] = []
        self._upright: deque[tuple[float, np.ndarray]] = deque()

    @property
    def spots(self) -> list[FallSpot]:
        return list(self._spots)

    def update(
        self, now: float, fall_boxes: np.ndarray, fall_confidence: np.ndarray, person_boxes: np.ndarray
    ) -> SpotUpdate:
        settings = self._settings
        person_boxes = person_boxes.reshape(-1, 4)
        taller = (person_boxes[:, 3] - person_boxes[:, 1]) > (person_boxes[:, 2] - person_boxes[:, 0])
        self._upright.append((now, person_boxes[taller]))
        while self._upright and now - self._upright[0][0] > settings.max_fall_s:
            self._upright.popleft()
        for spot in self._spots:
            spot.matched_now = False
        for box, confidence in sorted(zip(fall_boxes, fall_confidence, strict=True), key=lambda b: -b[1]):
            spot = self._match(box)
            if spot is None:
                hits: deque[bool] = deque(maxlen=settings.window_frames)
                spot = FallSpot(box, float(confidence), now, now, self._stood_at(box), hits)
                self._spots.append(spot)
            spot.box, spot.last_seen, spot.matched_now = box, now, True
            spot.confidence = max(spot.confidence, float(confidence))
        raised, ended = [], []
        for spot in self._spots:
            spot.hits.append(spot.matched_now)
            if (
                not spot.raised
                and spot.stood_before
                and sum(spot.hits) >= settings.persist_frames
                and now - spot.first_seen >= settings.min_down_s
            ):
                spot.raised = True
                raised.append(spot)
        for spot in [s for s in self._spots if now - s.last_seen > CLEAR_AFTER_S]:
            self._spots.remove(spot)
            if spot.raised:
                ended.append(spot)
        return SpotUpdate(raised, ended)

    def _match(self, box: np.ndarray) -> FallSpot | None:
        free = [s for s in self._spots if not s.matched_now]
        if not free:
            return None
        overlap = box_iou(box, np.stack([s.box for s in free]))
        best = int(overlap.argmax())
        return free[best] if overlap[best] >= SAME_SPOT_IOU else None

    def _stood_at(self, box: np.ndarray) -> bool:
        """An upright person box in the last `max_fall_s` lies partly in `box` widened by half its size."""
        return any(
            len(boxes) and (body_overlap(box[None], boxes, 0.5) >= STOOD_THERE_OVERLAP).any()
            for _, boxes in self._upright
        )
