"""Features of a group of close people over the last second or so: what the fight classifier
learns from. Training (`citywatch.training.fight`) and the analyzer (`analytics.fight`) run this
same code on the same inputs (person tracks, their poses on crops, a small grey frame).

Per camera, `FightFeatureExtractor.update` takes one analysed frame at a time:

1. groups: person tracks whose boxes touch or nearly touch (gap at most `max_gap` of their mean
   size, sizes within `min_size_ratio`), joined transitively; a group needs `min_people`;
2. poses are asked for the grouped people only (a lone person needs none, which keeps MoveNet off
   most street frames);
3. each track remembers `history_s` seconds of (time, box, keypoints, motion energy in its box);
4. each group gets one feature row (FEATURE_NAMES) from its members' histories: closeness,
   limb speed and acceleration ("jerk") relative to the body, pose overlap, motion energy in the
   boxes against the whole frame's, box shape change, and the number of people.

Everything is scaled by person size (box height or its longer side) and by the real time between
frames, so the features mean the same at any resolution; they do depend on the analytics rate
through how much motion falls between two frames, so cameras that look for fights should run at
the rate the model was trained at (FIGHT_FPS).
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise as pairwise_steps

import cv2
import numpy as np
import supervision as sv

from citywatch.perception.geometry import box_iou
from citywatch.perception.pose import KEYPOINT, Poses
from citywatch.perception.tracker import ObjectTracker

FIGHT_FPS = 5.0
"""The analytics rate the fight classifier was trained at: use it for cameras that look for fights."""
MOTION_WIDTH = 320
"""Motion energy is measured on a grey copy of the frame this wide (narrower frames stay as they are)."""
MOTION_PIXEL_THRESHOLD = 25
"""Grey-level difference that counts a pixel as moving."""
KEYPOINT_MIN_SCORE = 0.2
ALONE_DISTANCE = 3.0
"""Gap and distance features of a one-person group (when `min_people` is 1)."""
MAX_STEP_S = 0.75
"""Two observations of a track further apart than this are not used for a speed."""

_WRISTS = [KEYPOINT["left_wrist"], KEYPOINT["right_wrist"]]
_ELBOWS = [KEYPOINT["left_elbow"], KEYPOINT["right_elbow"]]
_ANKLES = [KEYPOINT["left_ankle"], KEYPOINT["right_ankle"]]
_SHOULDERS = [KEYPOINT["left_shoulder"], KEYPOINT["right_shoulder"]]
_LIMBS = {"wrist": _WRISTS, "elbow": _ELBOWS, "ankle": _ANKLES}
_EPS = 1e-6

FEATURE_NAMES: tuple[str, ...] = (
    "people",
    "max_iou",
    "min_gap",
    "min_centre_distance",
    "mean_iou_window",
    "distance_change",
    *(f"{limb}_{what}" for limb in _LIMBS for what in ("speed_mean", "speed_max", "accel_mean", "accel_max")),
    "body_speed_mean",
    "body_speed_max",
    "centre_speed_mean",
    "shape_change_mean",
    "shape_change_max",
    "keypoints_in_other_box",
    "wrist_reach",
    "wrists_raised",
    "pose_score",
    "posed_fraction",
    "motion_mean",
    "motion_max",
    "moving_fraction",
    "frame_motion",
    "motion_ratio",
    "flow_speed_mean",
    "flow_speed_max",
    "flow_coherence",
    "flow_change_mean",
    "flow_change_max",
    "flow_spread",
    "history_s",
)
NUM_FEATURES = len(FEATURE_NAMES)


def motion_image(image: np.ndarray) -> np.ndarray:
    """The small grey image of a BGR frame that motion energy is measured on."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    width = grey.shape[1]
    if width <= MOTION_WIDTH:
        return grey
    height = max(1, round(grey.shape[0] * MOTION_WIDTH / width))
    return cv2.resize(grey, (MOTION_WIDTH, height), interpolation=cv2.INTER_AREA)


DUPLICATE_IOU = 0.5
"""A whole-frame MoveNet person this close to a detected person is the same person."""


class PeopleTracker:
    """The people of one camera that the fight analyzer follows, with ids of their own.

    The COCO detector finds few of the people in a fight (tangled bodies, motion blur: in the fight
    clips it has under two people at 0.25 in most frames), and the pipeline's tracker starts tracks
    only from detections at 0.7 or more. So the people are the COCO `person` detections from
    `min_person_confidence` plus the people MoveNet finds in the whole frame from
    `min_frame_confidence` that no detection covers (looked for only in frames where the detector
    found somebody), tracked by a ByteTrack of their own that
    treats every kept box as confident (it is given no confidences), so weak boxes start tracks.
    """

    def __init__(self, fps: float, min_person_confidence: float, min_frame_confidence: float) -> None:
        self._tracker = ObjectTracker(fps)
        self.min_person_confidence = min_person_confidence
        self.min_frame_confidence = min_frame_confidence

    def wants_frame_people(self, detections: sv.Detections) -> bool:
        """Whether to look for people in the whole frame (a MoveNet pass about as costly as the
        detector): only when the detector found somebody, so frames without people cost nothing."""
        if len(detections) == 0:
            return False
        people = (detections.data["class_name"] == "person") & (
            detections.confidence >= self.min_person_confidence
        )
        return bool(people.any())

    def update(
        self, timestamp: float, detections: sv.Detections, frame_people: Poses
    ) -> tuple[np.ndarray, np.ndarray]:
        """(boxes [N, 4], track ids [N]) of the confirmed people in this frame."""
        boxes = candidate_people(
            detections, frame_people, self.min_person_confidence, self.min_frame_confidence
        )
        found = sv.Detections(
            xyxy=boxes.astype(np.float32),
            class_id=np.zeros(len(boxes), int),
            data={"class_name": np.array(["person"] * len(boxes))},
        )
        tracks = self._tracker.update(found, timestamp)
        if len(tracks) == 0:
            return np.zeros((0, 4), np.float32), np.zeros(0, int)
        return tracks.xyxy.astype(np.float32), np.asarray(tracks.tracker_id, int)


def candidate_people(
    detections: sv.Detections, frame_people: Poses, min_person_confidence: float, min_frame_confidence: float
) -> np.ndarray:
    """[N, 4] person boxes: detected people, then whole-frame MoveNet people no detection covers."""
    if len(detections):
        keep = (detections.data["class_name"] == "person") & (detections.confidence >= min_person_confidence)
        detected = detections.xyxy[keep].astype(np.float32)
    else:
        detected = np.zeros((0, 4), np.float32)
    extra = [
        box
        for box, score in zip(frame_people.boxes, frame_people.confidence, strict=True)
        if score >= min_frame_confidence
        and (box[2] - box[0]) >= 2
        and (box[3] - box[1]) >= 2
        and (len(detected) == 0 or box_iou(box, detected).max() < DUPLICATE_IOU)
    ]
    return np.concatenate([detected.reshape(-1, 4), np.asarray(extra, np.float32).reshape(-1, 4)])


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """How close people must be to form a group (see the module doc)."""

    max_gap: float = 0.3
    min_size_ratio: float = 0.4
    min_people: int = 2
    history_s: float = 1.2


@dataclass(frozen=True, slots=True, eq=False)
class Observation:
    """One track in one analysed frame."""

    timestamp: float
    box: np.ndarray
    keypoints: np.ndarray | None
    scores: np.ndarray | None
    motion: float
    """Mean absolute grey difference in the box since the previous analysed frame, / 255 (NaN if none)."""
    moving: float
    """Fraction of the box's pixels that changed by MOTION_PIXEL_THRESHOLD or more (NaN if none)."""
    flow: tuple[float, float, float, float] = (float("nan"),) * 4
    """Dense optical flow in the box since the previous analysed frame: mean speed (box heights a
    second), coherence (length of the mean flow vector over the mean flow length: 1 when everything
    moves one way, as a walker does), change of flow speed since the frame before (the "violent
    flows" cue) and the spread of flow speeds (std over mean). NaN where there is no flow."""


@dataclass(frozen=True, slots=True, eq=False)
class Group:
    """A group of close person tracks in the current frame and its feature row."""

    track_ids: tuple[int, ...]
    rows: np.ndarray
    """Indices of the members in the frame's person tracks."""
    boxes: np.ndarray
    features: np.ndarray


def _size(boxes: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]), 1.0)


def _height(boxes: np.ndarray) -> np.ndarray:
    return np.maximum(boxes[..., 3] - boxes[..., 1], 1.0)


def pairwise(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For [N, 4] boxes: IoU, gap (the distance between the boxes, 0 when they overlap) over the
    pair's mean size, centre distance over the mean height, and size ratio (smaller / larger)."""
    a, b = boxes[:, None, :], boxes[None, :, :]
    ix = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    iy = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = ix * iy
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iou = inter / np.maximum(area[:, None] + area[None, :] - inter, _EPS)
    dx = np.clip(np.maximum(a[..., 0] - b[..., 2], b[..., 0] - a[..., 2]), 0, None)
    dy = np.clip(np.maximum(a[..., 1] - b[..., 3], b[..., 1] - a[..., 3]), 0, None)
    size = _size(boxes)
    mean_size = (size[:, None] + size[None, :]) / 2
    height = _height(boxes)
    centre = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    distance = np.linalg.norm(centre[:, None] - centre[None, :], axis=2) / (
        (height[:, None] + height[None, :]) / 2
    )
    ratio = np.minimum(size[:, None], size[None, :]) / np.maximum(size[:, None], size[None, :])
    return iou, np.hypot(dx, dy) / mean_size, distance, ratio


def find_groups(boxes: np.ndarray, settings: GroupSettings) -> list[np.ndarray]:
    """Indices of the boxes in each group of close people (connected components of the
    "close" relation), groups of fewer than `settings.min_people` left out."""
    count = len(boxes)
    if count == 0:
        return []
    _, gap, _, ratio = pairwise(boxes.astype(np.float64))
    close = (gap <= settings.max_gap) & (ratio >= settings.min_size_ratio)
    label = np.full(count, -1)
    groups = []
    for start in range(count):
        if label[start] >= 0:
            continue
        label[start] = len(groups)
        members, stack = [start], [start]
        while stack:
            current = stack.pop()
            for other in np.flatnonzero(close[current] & (label < 0)):
                label[other] = label[start]
                members.append(int(other))
                stack.append(int(other))
        groups.append(np.array(sorted(members)))
    return [g for g in groups if len(g) >= settings.min_people]


def dense_flow(previous: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """[H, W, 2] Farneback optical flow between two motion images (about 10 ms at 320 x 180)."""
    return cv2.calcOpticalFlowFarneback(previous, grey, None, 0.5, 2, 9, 2, 5, 1.1, 0)


def _box_slice(shape: tuple[int, ...], box: np.ndarray, scale: float) -> tuple[slice, slice] | None:
    height, width = shape[:2]
    x1, y1 = int(max(0, np.floor(box[0] * scale))), int(max(0, np.floor(box[1] * scale)))
    x2, y2 = int(min(width, np.ceil(box[2] * scale))), int(min(height, np.ceil(box[3] * scale)))
    if x2 <= x1 or y2 <= y1:
        return None
    return slice(y1, y2), slice(x1, x2)


def _box_flow(
    flow: np.ndarray | None,
    previous_speed: np.ndarray | None,
    box: np.ndarray,
    scale: float,
    dt: float,
) -> tuple[float, float, float, float]:
    nothing = (float("nan"),) * 4
    if flow is None:
        return nothing
    where = _box_slice(flow.shape, box, scale)
    if where is None:
        return nothing
    per_second = 1.0 / (max(float(box[3] - box[1]), 1.0) * scale * dt)
    vectors = flow[where].reshape(-1, 2)
    speed = np.linalg.norm(vectors, axis=1)
    mean_speed = float(speed.mean())
    coherence = float(np.linalg.norm(vectors.mean(axis=0)) / (mean_speed + 1e-3))
    spread = float(speed.std() / (mean_speed + 1e-3))
    change = float("nan")
    if previous_speed is not None:
        change = (
            float(np.abs(np.linalg.norm(flow[where], axis=2) - previous_speed[where]).mean()) * per_second
        )
    return mean_speed * per_second, coherence, change, spread


def _box_motion(diff: np.ndarray | None, box: np.ndarray, scale: float) -> tuple[float, float]:
    where = _box_slice(diff.shape, box, scale) if diff is not None else None
    if where is None:
        return float("nan"), float("nan")
    patch = diff[where]  # type: ignore[index]
    return float(patch.mean()) / 255.0, float((patch >= MOTION_PIXEL_THRESHOLD).mean())


def _relative(observation: Observation) -> np.ndarray:
    """Keypoints relative to the box centre, over the box height."""
    box = observation.box
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    return (observation.keypoints - centre) / _height(box)  # type: ignore[operator]


def _stats(values: list[float]) -> tuple[float, float]:
    """(mean, max) of the finite values, (0, 0) when there is none."""
    finite = np.asarray([v for v in values if np.isfinite(v)], np.float64)
    if len(finite) == 0:
        return 0.0, 0.0
    return float(finite.mean()), float(finite.max())


def _mean(values: list[float]) -> float:
    return _stats(values)[0]


def _kinematics(track: list[Observation]) -> dict[str, list[float]]:
    """Per step between consecutive posed observations: limb speeds and accelerations (body
    heights per second, relative to the box centre), whole-body speed, box centre speed and
    box shape change."""
    out: dict[str, list[float]] = {k: [] for k in ("body", "centre", "shape")}
    for limb in _LIMBS:
        out[f"{limb}_speed"], out[f"{limb}_accel"] = [], []
    previous_velocity: np.ndarray | None = None
    previous_valid: np.ndarray | None = None
    for before, after in pairwise_steps(track):
        dt = after.timestamp - before.timestamp
        if dt <= 0 or dt > MAX_STEP_S:
            previous_velocity = None
            continue
        height = (_height(before.box) + _height(after.box)) / 2
        centre_before = (before.box[:2] + before.box[2:]) / 2
        centre_after = (after.box[:2] + after.box[2:]) / 2
        out["centre"].append(float(np.linalg.norm(centre_after - centre_before) / height / dt))
        size_before = before.box[2:] - before.box[:2]
        size_after = after.box[2:] - after.box[:2]
        out["shape"].append(float(np.abs(size_after - size_before).sum() / height / dt))
        if before.keypoints is None or after.keypoints is None:
            previous_velocity = None
            continue
        valid = (before.scores >= KEYPOINT_MIN_SCORE) & (after.scores >= KEYPOINT_MIN_SCORE)  # type: ignore[operator]
        velocity = (_relative(after) - _relative(before)) / dt
        speed = np.linalg.norm(velocity, axis=1)
        if valid.any():
            out["body"].append(float(np.median(speed[valid])))
        both = valid & previous_valid if previous_velocity is not None else None
        for limb, joints in _LIMBS.items():
            ok = [j for j in joints if valid[j]]
            if ok:
                out[f"{limb}_speed"].append(float(speed[ok].mean()))
            if both is not None:
                ok = [j for j in joints if both[j]]
                if ok:
                    change = np.linalg.norm(velocity[ok] - previous_velocity[ok], axis=1)  # type: ignore[index]
                    out[f"{limb}_accel"].append(float(change.mean() / dt))
        previous_velocity, previous_valid = velocity, valid
    return out


def _pose_overlap(members: list[Observation]) -> tuple[float, float, float]:
    """In one frame: the largest fraction of one member's confident keypoints inside another's
    box, the nearest wrist of one member to any keypoint of another (over their mean height),
    and the fraction of members with a wrist above their shoulders. NaN where no pose."""
    posed = [m for m in members if m.keypoints is not None and (m.scores >= KEYPOINT_MIN_SCORE).any()]  # type: ignore[operator]
    raised = []
    for m in posed:
        ok = m.scores >= KEYPOINT_MIN_SCORE  # type: ignore[operator]
        wrists = [j for j in _WRISTS if ok[j]]
        shoulders = [j for j in _SHOULDERS if ok[j]]
        if wrists and shoulders:
            raised.append(float(m.keypoints[wrists, 1].min() < m.keypoints[shoulders, 1].mean()))  # type: ignore[index]
    if len(posed) < 2:
        return float("nan"), float("nan"), _mean(raised) if raised else float("nan")
    inside, reach = 0.0, np.inf
    for a in posed:
        ok_a = a.scores >= KEYPOINT_MIN_SCORE  # type: ignore[operator]
        points = a.keypoints[ok_a]  # type: ignore[index]
        wrists = a.keypoints[[j for j in _WRISTS if ok_a[j]]]  # type: ignore[index]
        for b in posed:
            if a is b:
                continue
            x1, y1, x2, y2 = b.box
            within = (points[:, 0] >= x1) & (points[:, 0] <= x2) & (points[:, 1] >= y1) & (points[:, 1] <= y2)
            inside = max(inside, float(within.mean()))
            targets = b.keypoints[b.scores >= KEYPOINT_MIN_SCORE]  # type: ignore[index]
            if len(wrists) and len(targets):
                distance = np.linalg.norm(wrists[:, None] - targets[None], axis=2).min()
                reach = min(reach, float(distance / ((_height(a.box) + _height(b.box)) / 2)))
    return inside, (reach if np.isfinite(reach) else float("nan")), _mean(raised) if raised else float("nan")


class FightFeatureExtractor:
    """Per camera: remembers person tracks and gives each group of close people a feature row.

    `update` takes the frame's person tracks (boxes [N, 4] and ids [N]), the frame's
    `motion_image` and a `pose` callable that estimates poses for the boxes it is given (only the
    grouped people are asked for); frames must come in time order.
    """

    def __init__(self, settings: GroupSettings | None = None) -> None:
        self.settings = settings or GroupSettings()
        self._tracks: dict[int, deque[Observation]] = {}
        self._previous: tuple[float, np.ndarray] | None = None
        self._previous_speed: np.ndarray | None = None
        self._frame_motion: deque[tuple[float, float]] = deque()

    def update(
        self,
        timestamp: float,
        boxes: np.ndarray,
        track_ids: np.ndarray,
        grey: np.ndarray,
        frame_width: int,
        pose: Callable[[np.ndarray], Poses],
    ) -> list[Group]:
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        track_ids = np.asarray(track_ids, int).reshape(-1)
        diff = flow = previous_speed = None
        dt = 0.0
        if self._previous is not None:
            then, previous = self._previous
            dt = timestamp - then
            if previous.shape == grey.shape and 0 < dt <= MAX_STEP_S:
                diff = cv2.absdiff(grey, previous)
                flow = dense_flow(previous, grey)
                previous_speed = self._previous_speed
        self._previous = (timestamp, grey)
        self._previous_speed = np.linalg.norm(flow, axis=2) if flow is not None else None
        if diff is not None:
            self._frame_motion.append((timestamp, float(diff.mean()) / 255.0))
        scale = grey.shape[1] / max(frame_width, 1)

        groups = find_groups(boxes, self.settings)
        grouped = np.unique(np.concatenate(groups)) if groups else np.zeros(0, int)
        poses = pose(boxes[grouped].astype(np.float32)) if len(grouped) else Poses.empty()
        pose_row = {int(row): i for i, row in enumerate(grouped)}

        for row, track_id in enumerate(track_ids):
            motion, moving = _box_motion(diff, boxes[row], scale)
            posed = pose_row.get(row)
            keypoints = scores = None
            if posed is not None and poses.confidence[posed] > 0:
                keypoints = poses.keypoints[posed].astype(np.float64)
                scores = poses.scores[posed].astype(np.float64)
            history = self._tracks.setdefault(int(track_id), deque())
            flow_features = _box_flow(flow, previous_speed, boxes[row], scale, dt)
            history.append(
                Observation(timestamp, boxes[row].copy(), keypoints, scores, motion, moving, flow_features)
            )
        self._forget(timestamp)

        return [
            Group(
                tuple(int(track_ids[r]) for r in members),
                members,
                boxes[members].astype(np.float32),
                self._features([int(track_ids[r]) for r in members], timestamp),
            )
            for members in groups
        ]

    def _forget(self, now: float) -> None:
        horizon = now - self.settings.history_s - _EPS
        for track_id in list(self._tracks):
            history = self._tracks[track_id]
            while history and history[0].timestamp < horizon:
                history.popleft()
            if not history:
                del self._tracks[track_id]
        while self._frame_motion and self._frame_motion[0][0] < horizon:
            self._frame_motion.popleft()

    def _features(self, members: list[int], now: float) -> np.ndarray:
        histories = {t: list(self._tracks[t]) for t in members}
        current = np.array([histories[t][-1].box for t in members])
        iou, gap, distance, _ = pairwise(current)
        off = ~np.eye(len(members), dtype=bool)

        # Closeness over the window: at each past time where two or more members were seen.
        times = sorted({o.timestamp for h in histories.values() for o in h})
        window_iou, pair_distance = [], []
        frames: list[list[Observation]] = []
        for t in times:
            seen = [o for h in histories.values() for o in h if o.timestamp == t]
            if len(seen) >= 2:
                frames.append(seen)
                i, _, d, _ = pairwise(np.array([o.box for o in seen]))
                mask = ~np.eye(len(seen), dtype=bool)
                window_iou.append(float(i[mask].max()))
                pair_distance.append(float(d[mask].min()))
        distance_change = float(np.std(pair_distance)) if len(pair_distance) >= 2 else 0.0

        kinematics = [_kinematics(h) for h in histories.values()]

        def pooled(key: str) -> tuple[float, float]:
            return _stats([v for k in kinematics for v in k[key]])

        limbs = []
        for limb in _LIMBS:
            limbs.extend([*pooled(f"{limb}_speed"), *pooled(f"{limb}_accel")])
        body_mean, body_max = pooled("body")
        shape_mean, shape_max = pooled("shape")

        overlaps = [_pose_overlap(f) for f in frames]
        inside = _mean([o[0] for o in overlaps])
        reach_values = [o[1] for o in overlaps if np.isfinite(o[1])]
        reach = float(np.mean(reach_values)) if reach_values else 2.0
        raised = _mean([o[2] for o in overlaps])

        observations = [o for h in histories.values() for o in h]
        posed = [o for o in observations if o.scores is not None]
        pose_score = float(np.mean([o.scores.mean() for o in posed])) if posed else 0.0  # type: ignore[union-attr]
        motion_mean, motion_max = _stats([o.motion for o in observations])
        moving = _mean([o.moving for o in observations])
        frame_motion = float(np.mean([m for _, m in self._frame_motion])) if self._frame_motion else 0.0
        span = now - min(o.timestamp for o in observations)

        row = [
            min(len(members), 6),
            float(iou[off].max()) if off.any() else 0.0,
            float(gap[off].min()) if off.any() else ALONE_DISTANCE,
            float(distance[off].min()) if off.any() else ALONE_DISTANCE,
            _mean(window_iou),
            distance_change,
            *limbs,
            body_mean,
            body_max,
            pooled("centre")[0],
            shape_mean,
            shape_max,
            inside,
            reach,
            raised,
            pose_score,
            len(posed) / len(observations),
            motion_mean,
            motion_max,
            moving,
            frame_motion,
            np.log((motion_mean + 1e-3) / (frame_motion + 1e-3)),
            *_stats([o.flow[0] for o in observations]),
            _mean([o.flow[1] for o in observations]),
            *_stats([o.flow[2] for o in observations]),
            _mean([o.flow[3] for o in observations]),
            span,
        ]
        return np.nan_to_num(np.asarray(row, np.float64), nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
