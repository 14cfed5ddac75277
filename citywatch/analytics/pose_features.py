"""Features of a person's pose that do not depend on where the person is or how big: what the
fall classifier (and later the fight analyzer) learns from.

Keypoints are taken relative to the person box (its centre, scaled by its longer side, so a lying
person's box aspect survives). The hand-made ones (torso and leg angles, head below hips, spread)
say "lying" directly, which keeps a small model on a few hundred examples from learning the scene.
"""

import numpy as np

from citywatch.perception.pose import KEYPOINT, NUM_KEYPOINTS, Poses

_HEAD = [KEYPOINT[k] for k in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")]
_SHOULDERS = [KEYPOINT["left_shoulder"], KEYPOINT["right_shoulder"]]
_HIPS = [KEYPOINT["left_hip"], KEYPOINT["right_hip"]]
_ANKLES = [KEYPOINT["left_ankle"], KEYPOINT["right_ankle"]]
_EPS = 1e-6

FEATURE_NAMES: tuple[str, ...] = (
    *(f"kp{i}_{axis}" for i in range(NUM_KEYPOINTS) for axis in "xy"),
    *(f"kp{i}_score" for i in range(NUM_KEYPOINTS)),
    "log_aspect",
    "torso_up",
    "torso_side",
    "torso_length",
    "legs_up",
    "legs_side",
    "head_below_hips",
    "log_spread_ratio",
    "mean_score",
    "pose_confidence",
)
NUM_FEATURES = len(FEATURE_NAMES)


def _weighted_point(points: np.ndarray, scores: np.ndarray, indices: list[int]) -> np.ndarray:
    """Score-weighted mean [N, 2] of some keypoints (their plain mean when none is confident)."""
    weights = scores[:, indices] + _EPS
    return (points[:, indices] * weights[..., None]).sum(axis=1) / weights.sum(axis=1, keepdims=True)


def _direction(start: np.ndarray, end: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, ...]:
    """Unit 'up' and 'side' components of start -> end (image y grows down), and its length / scale."""
    vector = end - start
    length = np.linalg.norm(vector, axis=1) + _EPS
    return -vector[:, 1] / length, np.abs(vector[:, 0]) / length, length / scale


def pose_features(poses: Poses) -> np.ndarray:
    """[N, NUM_FEATURES] float32 features of N poses, in the order of FEATURE_NAMES."""
    if len(poses) == 0:
        return np.zeros((0, NUM_FEATURES), np.float32)
    boxes = poses.boxes.astype(np.float64)
    points = poses.keypoints.astype(np.float64)
    scores = poses.scores.astype(np.float64)
    width = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    scale = np.maximum(width, height)
    centre = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    relative = (points - centre[:, None, :]) / scale[:, None, None]

    head = _weighted_point(points, scores, _HEAD)
    shoulders = _weighted_point(points, scores, _SHOULDERS)
    hips = _weighted_point(points, scores, _HIPS)
    ankles = _weighted_point(points, scores, _ANKLES)
    torso_up, torso_side, torso_length = _direction(hips, shoulders, scale)
    legs_up, legs_side, _ = _direction(ankles, hips, scale)

    weights = scores + _EPS
    mean = (points * weights[..., None]).sum(axis=1) / weights.sum(axis=1)[:, None]
    spread = np.sqrt(
        (((points - mean[:, None, :]) ** 2) * weights[..., None]).sum(axis=1) / weights.sum(axis=1)[:, None]
    )

    features = np.concatenate(
        [
            relative.reshape(len(poses), -1),
            scores,
            np.stack(
                [
                    np.log(width / height),
                    torso_up,
                    torso_side,
                    torso_length,
                    legs_up,
                    legs_side,
                    (head[:, 1] - hips[:, 1]) / scale,
                    np.log((spread[:, 0] + 0.01 * scale) / (spread[:, 1] + 0.01 * scale)),
                    scores.mean(axis=1),
                    poses.confidence,
                ],
                axis=1,
            ),
        ],
        axis=1,
    )
    return features.astype(np.float32)
