"""Box geometry and track motion for the accident rules: when two vehicles meet, when a track
stops or turns abruptly.

Speeds are in box sizes per second (a box's size is the square root of its area), so the same
thresholds hold for a near car and a far one, and for a main stream and a sub-stream.
"""

from collections import deque
from dataclasses import dataclass, field

import numpy as np

BORDER_PX = 2.0
"""A box within this of the frame edge is cut off by it: its centre moves as the object enters or
leaves, which is no motion of the object, so such positions are not used for speeds."""


def box_size(xyxy: np.ndarray) -> np.ndarray:
    """[N] square root of each box's area (at least 1 px)."""
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
    return np.sqrt(np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1.0))


def aspect(xyxy: np.ndarray) -> np.ndarray:
    """[N] width / height of each box."""
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
    return (boxes[:, 2] - boxes[:, 0]) / np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)


@dataclass(frozen=True, slots=True)
class PairGeometry:
    """How two boxes a and b lie to each other."""

    overlap: float
    """Share of the smaller box inside the other."""
    iou: float
    depth_gap: float
    """|bottom a - bottom b| / height of the taller box: 0 when they stand on the same line."""
    size_ratio: float
    """Smaller area / larger area."""


def pair_geometry(a: np.ndarray, b: np.ndarray) -> PairGeometry:
    ax1, ay1, ax2, ay2 = (float(v) for v in a)
    bx1, by1, bx2, by2 = (float(v) for v in b)
    inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    area_a = max((ax2 - ax1) * (ay2 - ay1), 1e-6)
    area_b = max((bx2 - bx1) * (by2 - by1), 1e-6)
    taller = max(ay2 - ay1, by2 - by1, 1e-6)
    return PairGeometry(
        overlap=inter / min(area_a, area_b),
        iou=inter / (area_a + area_b - inter),
        depth_gap=abs(ay2 - by2) / taller,
        size_ratio=min(area_a, area_b) / max(area_a, area_b),
    )


def box_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Distance in pixels between two boxes (0 when they touch or overlap)."""
    dx = max(0.0, float(max(a[0], b[0]) - min(a[2], b[2])))
    dy = max(0.0, float(max(a[1], b[1]) - min(a[3], b[3])))
    return float(np.hypot(dx, dy))


def touches_border(xyxy: np.ndarray, width: int, height: int) -> bool:
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    return x1 <= BORDER_PX or y1 <= BORDER_PX or x2 >= width - BORDER_PX or y2 >= height - BORDER_PX


@dataclass(slots=True, eq=False)
class TrackMotion:
    """Recent positions of one track, and what they say about its speed and heading."""

    history_s: float
    points: deque[tuple[float, float, float, float]] = field(default_factory=deque)
    """(timestamp, centre x, centre y, box size) of the sightings not cut by the frame edge."""
    last_box: np.ndarray | None = None
    last_seen: float = 0.0

    def add(self, timestamp: float, xyxy: np.ndarray, width: int, height: int) -> None:
        self.last_box, self.last_seen = np.asarray(xyxy, np.float32), timestamp
        if not touches_border(xyxy, width, height):
            centre_x, centre_y = (xyxy[0] + xyxy[2]) / 2, (xyxy[1] + xyxy[3]) / 2
            self.points.append((timestamp, float(centre_x), float(centre_y), float(box_size(xyxy)[0])))
        while self.points and timestamp - self.points[0][0] > self.history_s:
            self.points.popleft()

    def velocities(self) -> list[tuple[float, np.ndarray]]:
        """(end time, velocity in box sizes per second) of each step between kept sightings."""
        steps = []
        for (t0, x0, y0, s0), (t1, x1, y1, s1) in zip(self.points, list(self.points)[1:], strict=False):
            if t1 > t0:
                scale = (s0 + s1) / 2
                steps.append((t1, np.array([x1 - x0, y1 - y0]) / (scale * (t1 - t0))))
        return steps

    def speed(self) -> float | None:
        """Speed over the last step, or None without two recent sightings."""
        steps = self.velocities()
        return float(np.linalg.norm(steps[-1][1])) if steps else None

    def abrupt_change(
        self,
        now: float,
        window_s: float,
        min_speed: float,
        min_drop: float,
        min_turn_deg: float,
        stopped: float,
    ) -> str | None:
        """'stop' or 'turn' when the last step, ending now, broke off motion of the steps before it
        (within `window_s`): speed down by `min_drop` of the fastest earlier step that moved at
        `min_speed`, or direction turned by `min_turn_deg` while still moving."""
        steps = self.velocities()
        if len(steps) < 2 or steps[-1][0] != now:
            return None
        last = steps[-1][1]
        last_speed = float(np.linalg.norm(last))
        before = [v for t, v in steps[:-1] if now - t <= window_s and np.linalg.norm(v) >= min_speed]
        if not before:
            return None
        fastest = max(before, key=lambda v: float(np.linalg.norm(v)))
        if last_speed <= float(np.linalg.norm(fastest)) * (1.0 - min_drop):
            return "stop"
        if last_speed >= max(stopped, min_speed / 2):
            cosine = float(last @ fastest) / (last_speed * float(np.linalg.norm(fastest)))
            if np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))) >= min_turn_deg:
                return "turn"
        return None
