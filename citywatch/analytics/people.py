"""Person boxes for the pose-based analyzers (fall; fight later).

The pack's COCO detector misses many people in unusual postures (in the care-home fall set it
finds only about 40% of people lying on the floor at confidence 0.25), while MoveNet run on the
whole frame finds most of them. On a still image there is no track history to lose, so both are
used; in video the analyzers follow COCO tracks, whose ids the temporal rules need.
"""

import numpy as np
import supervision as sv

from citywatch.perception.geometry import box_iou
from citywatch.perception.pose import PoseEstimator, Poses

PERSON = "person"


def persons(detections: sv.Detections, min_confidence: float) -> sv.Detections:
    """The `person` detections (or tracks) at or above `min_confidence`."""
    if len(detections) == 0:
        return detections
    return detections[(detections.data["class_name"] == PERSON) & (detections.confidence >= min_confidence)]


def still_image_people(
    image: np.ndarray,
    detected: np.ndarray,
    estimator: PoseEstimator,
    min_pose_confidence: float,
    duplicate_iou: float = 0.5,
) -> np.ndarray:
    """`detected` person boxes plus the people MoveNet finds in the whole frame that no detected box
    already covers (IoU below `duplicate_iou`)."""
    found = estimator.estimate_frame(image, min_confidence=min_pose_confidence)
    extra = [box for box in found.boxes if len(detected) == 0 or box_iou(box, detected).max() < duplicate_iou]
    return np.concatenate([detected.reshape(-1, 4), np.asarray(extra, np.float32).reshape(-1, 4)])


def still_image_poses(
    image: np.ndarray,
    detections: sv.Detections,
    estimator: PoseEstimator,
    min_person_confidence: float,
    min_pose_confidence: float,
) -> Poses:
    """Poses of everyone found in a still image (see `still_image_people`), estimated on crops."""
    detected = persons(detections, min_person_confidence).xyxy.astype(np.float32)
    boxes = still_image_people(image, detected, estimator, min_pose_confidence)
    return estimator.estimate(image, boxes)
