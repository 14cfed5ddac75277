"""MoveNet on person crops of a real street video: plausible keypoints, in frame pixels."""

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

from citywatch.analytics.people import persons
from citywatch.config import ModelSettings
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.pose import KEYPOINT, PoseEstimator, Poses, load_pose_estimator
from citywatch.perception.second_stage import load_second_stage
from citywatch.perception.yolo import YoloDetector

Frames = Callable[[str, Iterable[int]], list[np.ndarray]]


@pytest.fixture(scope="module")
def estimator(settings: ModelSettings) -> PoseEstimator:
    return load_pose_estimator(settings)


def test_standing_people_have_their_head_above_their_hips(
    estimator: PoseEstimator, coco: YoloDetector, frames: Frames
) -> None:
    checked = 0
    for image in frames("person", [80, 120, 240, 320]):
        people = persons(coco.detect(image), 0.5)
        poses = estimator.estimate(image, people.xyxy)
        assert len(poses) == len(people)
        for points, scores, box in zip(poses.keypoints, poses.scores, poses.boxes, strict=True):
            nose, hips = KEYPOINT["nose"], [KEYPOINT["left_hip"], KEYPOINT["right_hip"]]
            if scores[nose] < 0.3 or scores[hips].max() < 0.3:
                continue
            assert points[nose, 1] < points[hips, 1].mean()
            height = box[3] - box[1]
            confident = points[scores >= 0.3]
            # In frame pixels, within the person box (plus the crop margin).
            assert (confident[:, 0] >= box[0] - 0.2 * height).all() and (
                confident[:, 0] <= box[2] + 0.2 * height
            ).all()
            assert (confident[:, 1] >= box[1] - 0.2 * height).all() and (
                confident[:, 1] <= box[3] + 0.2 * height
            ).all()
            checked += 1
    assert checked >= 3


def test_no_boxes_no_poses(estimator: PoseEstimator) -> None:
    poses = estimator.estimate(np.zeros((100, 100, 3), np.uint8), [])
    assert len(poses) == 0 and poses.keypoints.shape == (0, 17, 2)
    assert len(Poses.empty()[np.zeros(0, bool)]) == 0


def test_registered_as_the_pose_second_stage_model(settings: ModelSettings) -> None:
    assert isinstance(load_second_stage("pose", settings), PoseEstimator)


def test_an_altered_pose_model_is_refused(tmp_path: Path, pack: ModelPack) -> None:
    (tmp_path / "manifest.json").write_text(pack.manifest_path.read_text())
    (tmp_path / "pose-movenet-multipose.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelPackError, match=r"pose-movenet-multipose.*sha256"):
        load_pose_estimator(ModelSettings(path=tmp_path))


def test_poses_of_one_frame_are_computed_once_whoever_asks(frames: Frames) -> None:
    pack_pose = load_pose_estimator(ModelSettings())  # its own counters
    image = frames("person", [300])[0]
    boxes = np.array([[300, 100, 420, 400], [0, 0, 200, 200]], np.float32)
    runs = pack_pose.model_runs
    first = pack_pose.estimate(image, boxes)
    assert pack_pose.model_runs == runs + 2
    again = pack_pose.estimate(image, boxes[:1])  # a second analyzer, one of the same people
    whole = pack_pose.estimate_frame(image, min_confidence=0.1)
    whole_again = pack_pose.estimate_frame(image, min_confidence=0.3)
    assert pack_pose.model_runs == runs + 3 and pack_pose.reused == 2
    np.testing.assert_array_equal(again.keypoints[0], first.keypoints[0])
    # Another analyzer's tracker boxes the same person a pixel or two off: the same pose, in frame pixels.
    near = pack_pose.estimate(image, boxes[:1] + np.array([2, 1, 2, 1], np.float32))
    assert pack_pose.model_runs == runs + 3
    np.testing.assert_allclose(near.keypoints[0], first.keypoints[0], atol=1e-3)
    np.testing.assert_array_equal(near.boxes[0], boxes[0] + [2, 1, 2, 1])
    assert len(whole_again) <= len(whole)

    copy = image.copy()  # another frame, even with the same pixels, runs the model again
    pack_pose.estimate(copy, boxes[:1])
    assert pack_pose.model_runs == runs + 4

    # Each thread has its own memo: another camera's worker does not read this one's frame.
    worker = threading.Thread(target=pack_pose.estimate, args=(copy, boxes[:1]))
    worker.start()
    worker.join()
    assert pack_pose.model_runs == runs + 5
