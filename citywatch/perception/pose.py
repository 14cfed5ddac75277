"""Multi-person pose (MoveNet MultiPose Lightning from the model pack), on person crops or frames.

MoveNet finds people poorly when they are under about 60 px tall, which CCTV people usually are;
cropping each person box (with a margin) and letterboxing the crop to the model's canvas makes every
person big enough. The model runs one canvas per call (its batch is fixed at 1), so "batched"
here means one call per crop, all results returned together in frame pixels.

Several analyzers ask for poses of the same people in the same frame (fall on every person, fight
on the grouped ones, weapon near a weapon, accident near a vehicle): each thread remembers the
model's outputs for the last frame it asked about, so a crop is run once per frame, whoever asks.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime

from citywatch.config import ModelSettings
from citywatch.perception.geometry import box_iou
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.runtime import create_session
from citywatch.perception.yolo import Letterbox, letterbox

POSE_MODEL = "pose-movenet-multipose"
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
KEYPOINT = {name: index for index, name in enumerate(KEYPOINT_NAMES)}
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
_MAX_PEOPLE = 6
SAME_CROP_IOU = 0.9
"""Two crops of one frame this close are one crop to the pose memo (see _LastFrameMemo)."""


@dataclass(frozen=True, slots=True, eq=False)
class Poses:
    """N people's keypoints in frame pixels.

    `keypoints` [N, 17, 2] are (x, y) in the order of KEYPOINT_NAMES, `scores` [N, 17] their
    confidences, `boxes` [N, 4] the xyxy box each pose belongs to (the person box it was estimated
    on, or the model's own box for whole-frame poses), `confidence` [N] the model's person score
    (0 where no pose was found in a crop).
    """

    keypoints: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    confidence: np.ndarray

    def __len__(self) -> int:
        return len(self.confidence)

    def __getitem__(self, index: int | slice | np.ndarray) -> "Poses":
        select = np.atleast_1d(np.arange(len(self))[index])
        return Poses(self.keypoints[select], self.scores[select], self.boxes[select], self.confidence[select])

    @classmethod
    def empty(cls) -> "Poses":
        return cls(
            np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            np.zeros((0, NUM_KEYPOINTS), np.float32),
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
        )


_RawPoses = tuple[np.ndarray, np.ndarray, np.ndarray]
"""people [6, 5] (xyxy, score), keypoints [6, 17, 2], keypoint scores [6, 17], in the image's pixels."""


class _LastFrameMemo(threading.local):
    """This thread's model outputs for one frame, per crop (x1, y1, x2, y2) and canvas size.

    The frame is recognised by identity (`is`): frames are never changed in place, and holding a
    reference keeps its id from being reused by a later frame. A crop matches a remembered one of
    the same canvas size when their IoU is at least `SAME_CROP_IOU`: analyzers box the same person
    with boxes a pixel or two apart (each has its own tracker), and MoveNet's keypoints do not move
    for that.
    """

    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.crops = np.zeros((0, 5), np.float32)
        self.outputs: list[_RawPoses] = []

    def get(
        self, image: np.ndarray, crop: tuple[int, int, int, int], size: int, compute: Callable[[], _RawPoses]
    ) -> tuple[_RawPoses, tuple[int, int, int, int] | None]:
        """The outputs for `crop` on `image`, and the crop they were computed on when it was
        another one (None when they were computed now for `crop` itself)."""
        if self.image is not image:
            self.image, self.crops, self.outputs = image, np.zeros((0, 5), np.float32), []
        same_size = np.flatnonzero(self.crops[:, 4] == size)
        if len(same_size):
            overlap = box_iou(np.asarray(crop, np.float32), self.crops[same_size, :4])
            best = int(overlap.argmax())
            if overlap[best] >= SAME_CROP_IOU:
                index = int(same_size[best])
                x1, y1, x2, y2 = (int(v) for v in self.crops[index, :4])
                return self.outputs[index], (x1, y1, x2, y2)
        self.outputs.append(compute())
        self.crops = np.vstack([self.crops, np.asarray([[*crop, size]], np.float32)])
        return self.outputs[-1], None


class PoseEstimator:
    """MoveNet MultiPose on person crops (`estimate`) or on a whole frame (`estimate_frame`).

    `input_size` is the square canvas (a multiple of 32; 256 is the model's native size). `margin`
    widens each person box by that fraction of its width and height on every side before
    cropping, so limbs that stick out of a detector box are kept. Thread-safe: the only state is
    the per-thread memo of the last frame's outputs and the run counters.
    """

    def __init__(
        self, session: onnxruntime.InferenceSession, input_size: int = 256, margin: float = 0.15
    ) -> None:
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.input_size = input_size
        self.margin = margin
        self._memo = _LastFrameMemo()
        self._count_lock = threading.Lock()
        self.model_runs = 0
        """Times the model ran (one crop or one whole frame each)."""
        self.reused = 0
        """Times a crop or frame already run on this frame was answered from the memo instead."""

    def estimate(self, image: np.ndarray, person_boxes_xyxy: np.ndarray | Sequence) -> Poses:
        """One pose per person box of a BGR frame, keypoints in the frame's pixels.

        In each crop the pose whose own box overlaps the person box most (weighted by its score)
        is taken, so a second person at the crop's edge is not mistaken for the one asked about.
        """
        boxes = np.asarray(person_boxes_xyxy, dtype=np.float32).reshape(-1, 4)
        if len(boxes) == 0:
            return Poses.empty()
        height, width = image.shape[:2]
        keypoints = np.zeros((len(boxes), NUM_KEYPOINTS, 2), np.float32)
        scores = np.zeros((len(boxes), NUM_KEYPOINTS), np.float32)
        confidence = np.zeros(len(boxes), np.float32)
        for i, box in enumerate(boxes):
            mx, my = (box[2] - box[0]) * self.margin, (box[3] - box[1]) * self.margin
            x1, y1 = int(max(0, np.floor(box[0] - mx))), int(max(0, np.floor(box[1] - my)))
            x2, y2 = int(min(width, np.ceil(box[2] + mx))), int(min(height, np.ceil(box[3] + my)))
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            people, points, point_scores = self._memoized(image, (x1, y1, x2, y2), self.input_size)
            people, points = people.copy(), points.copy()
            people[:, [0, 2]] += x1
            people[:, [1, 3]] += y1
            points += (x1, y1)
            match = box_iou(box, people[:, :4]) * people[:, 4]
            best = int(match.argmax())
            if match[best] > 0:
                keypoints[i], scores[i], confidence[i] = points[best], point_scores[best], people[best, 4]
        return Poses(keypoints, scores, boxes, confidence)

    def estimate_frame(self, image: np.ndarray, min_confidence: float = 0.2, size: int = 384) -> Poses:
        """Up to 6 people found by the model itself in a whole BGR frame, on a `size` canvas (a
        multiple of 32; people under about 60 px on the canvas are missed)."""
        height, width = image.shape[:2]
        people, points, point_scores = self._memoized(image, (0, 0, width, height), size)
        keep = people[:, 4] >= min_confidence
        return Poses(points[keep], point_scores[keep], people[keep, :4].copy(), people[keep, 4].copy())

    def _memoized(self, image: np.ndarray, crop: tuple[int, int, int, int], size: int) -> _RawPoses:
        """`_run` on `image[y1:y2, x1:x2]`, once per frame and (nearly) the same crop and size on
        this thread; returned in the coordinates of `crop`."""
        x1, y1, x2, y2 = crop
        (people, points, scores), computed_on = self._memo.get(
            image, crop, size, lambda: self._run(image[y1:y2, x1:x2], size)
        )
        with self._count_lock:
            if computed_on is None:
                self.model_runs += 1
            else:
                self.reused += 1
        if computed_on is None or computed_on[:2] == (x1, y1):
            return people, points, scores
        shift = np.asarray([computed_on[0] - x1, computed_on[1] - y1], np.float32)
        people = people.copy()
        people[:, :4] += np.tile(shift, 2)
        return people, points + shift, scores

    def _run(self, image: np.ndarray, size: int) -> _RawPoses:
        """The model on one BGR image on a `size` canvas: people [6, 5] (xyxy, score), keypoints
        [6, 17, 2] (x, y), keypoint scores [6, 17], all in the image's pixels."""
        if size % 32:
            raise ValueError(f"pose input size must be a multiple of 32, not {size}")
        canvas, placed = letterbox(image, (size, size))
        blob = canvas[None, :, :, ::-1].astype(np.int32)
        output = self.session.run(None, {self.input_name: blob})[0][0]  # [6, 56]
        raw_points = output[:, : NUM_KEYPOINTS * 3].reshape(_MAX_PEOPLE, NUM_KEYPOINTS, 3)
        points = _to_image(raw_points[:, :, [1, 0]] * size, placed)
        ymin, xmin, ymax, xmax = (output[:, 51 + k] * size for k in range(4))
        corners = _to_image(np.stack([np.stack([xmin, ymin], 1), np.stack([xmax, ymax], 1)], 1), placed)
        people = np.concatenate([corners.reshape(_MAX_PEOPLE, 4), output[:, 55:56]], axis=1)
        return people.astype(np.float32), points.astype(np.float32), raw_points[:, :, 2].astype(np.float32)


def _to_image(canvas_xy: np.ndarray, placed: Letterbox) -> np.ndarray:
    """(x, y) points on the letterboxed canvas back to the pixels of the image it was made from."""
    xy = (canvas_xy - (placed.pad_x, placed.pad_y)) / placed.scale
    xy[..., 0] = xy[..., 0].clip(0, placed.width)
    xy[..., 1] = xy[..., 1].clip(0, placed.height)
    return xy


def load_pose_estimator(settings: ModelSettings) -> PoseEstimator:
    """The pack's MoveNet, its file verified against the manifest's sha256 first."""
    pack = ModelPack.open(settings.path)
    return PoseEstimator(create_session(pack.verified_path(POSE_MODEL), settings))
