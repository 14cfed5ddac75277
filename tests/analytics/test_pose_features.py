"""Pose features: what tells lying from standing, independent of where and how big the person is."""

import numpy as np

from citywatch.analytics.pose_features import FEATURE_NAMES, NUM_FEATURES, pose_features
from citywatch.perception.pose import NUM_KEYPOINTS, Poses


def poses(*people: tuple[tuple[float, float, float, float], bool]) -> Poses:
    """People in boxes, keypoints from head to ankles down the box (or left to right if lying)."""
    t = np.linspace(0.05, 0.95, NUM_KEYPOINTS)
    points = []
    for (x1, y1, x2, y2), lying in people:
        if lying:
            points.append(np.stack([x1 + t * (x2 - x1), np.full(NUM_KEYPOINTS, (y1 + y2) / 2)], 1))
        else:
            points.append(np.stack([np.full(NUM_KEYPOINTS, (x1 + x2) / 2), y1 + t * (y2 - y1)], 1))
    n = len(people)
    return Poses(
        np.array(points, np.float32),
        np.full((n, NUM_KEYPOINTS), 0.8, np.float32),
        np.array([box for box, _ in people], np.float32),
        np.full(n, 0.7, np.float32),
    )


def feature(rows: np.ndarray, name: str) -> np.ndarray:
    return rows[:, FEATURE_NAMES.index(name)]


def test_standing_and_lying_differ_where_expected() -> None:
    rows = pose_features(poses(((100, 50, 140, 250), False), ((100, 200, 300, 240), True)))
    assert rows.shape == (2, NUM_FEATURES) and rows.dtype == np.float32
    assert feature(rows, "torso_up")[0] > 0.99 and abs(feature(rows, "torso_up")[1]) < 0.01
    assert feature(rows, "torso_side")[1] > 0.99
    assert feature(rows, "log_aspect")[0] < 0 < feature(rows, "log_aspect")[1]
    assert feature(rows, "head_below_hips")[0] < 0  # head above hips when standing
    assert feature(rows, "log_spread_ratio")[1] > 0 > feature(rows, "log_spread_ratio")[0]
    assert feature(rows, "pose_confidence")[0] == np.float32(0.7)


def test_features_do_not_depend_on_position_or_size() -> None:
    small = pose_features(poses(((10, 10, 30, 110), False)))
    moved_and_bigger = pose_features(poses(((400, 300, 460, 600), False)))
    np.testing.assert_allclose(small, moved_and_bigger, atol=1e-5)


def test_no_people_no_rows() -> None:
    assert pose_features(Poses.empty()).shape == (0, NUM_FEATURES)
