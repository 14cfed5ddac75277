from collections.abc import Callable, Iterable

import cv2
import numpy as np
import pytest
import supervision as sv

from citywatch.paths import datasets_dir
from citywatch.perception.yolo import PAD_VALUE, YoloDetector, letterbox

Frames = Callable[[str, Iterable[int]], list[np.ndarray]]
FIRE_SMOKE = datasets_dir() / "fire_smoke"
DATASET_CLASSES = {0: "fire", 1: "smoke"}  # the dataset's order; the model's is smoke, fire


def _val_items() -> list[tuple[np.ndarray, list[tuple[str, np.ndarray]]]]:
    """(image, [(class name, xyxy pixels)]) for every fire_smoke val image."""
    items = []
    for path in sorted((FIRE_SMOKE / "images" / "val").glob("*.jpg")):
        image = cv2.imread(str(path))
        height, width = image.shape[:2]
        labels = np.loadtxt(FIRE_SMOKE / "labels" / "val" / f"{path.stem}.txt", ndmin=2)
        boxes = [
            (
                DATASET_CLASSES[int(c)],
                np.array(
                    [(x - w / 2) * width, (y - h / 2) * height, (x + w / 2) * width, (y + h / 2) * height]
                ),
            )
            for c, x, y, w, h in labels
        ]
        items.append((image, boxes))
    return items


@pytest.fixture(scope="module")
def val_results(fire_smoke: YoloDetector) -> list[tuple[sv.Detections, list[tuple[str, np.ndarray]]]]:
    return [(fire_smoke.detect(image), boxes) for image, boxes in _val_items()]


def _best_iou(detections: sv.Detections, name: str, box: np.ndarray) -> float:
    same = detections[detections.data["class_name"] == name]
    return float(sv.box_iou_batch(box[None], same.xyxy).max()) if len(same) else 0.0


def test_letterbox_centres_the_image_on_grey() -> None:
    image = np.full((432, 768, 3), 7, dtype=np.uint8)
    canvas, placed = letterbox(image, (640, 640))
    assert canvas.shape == (640, 640, 3)
    assert placed.scale == pytest.approx(640 / 768)
    assert (placed.pad_x, placed.pad_y) == (0, 140)
    assert (canvas[:140] == PAD_VALUE).all() and (canvas[500:] == PAD_VALUE).all()
    assert (canvas[140:500] == 7).all()


def test_detections_follow_the_contract(coco: YoloDetector, frames: Frames) -> None:
    image = frames("person", [300])[0]
    found = coco.detect(image)
    assert len(found) > 0
    assert found.xyxy.dtype == np.float32 and found.confidence.dtype == np.float32
    assert (found.xyxy[:, [0, 2]] <= image.shape[1]).all() and (found.xyxy[:, [1, 3]] <= image.shape[0]).all()
    assert (found.xyxy >= 0).all() and (found.confidence >= coco.conf_threshold).all()
    assert list(found.data["class_name"]) == [coco.class_names[i] for i in found.class_id]
    assert found.tracker_id is None


def test_smoke_boxes_match_the_labels(val_results: list) -> None:
    ious = [
        _best_iou(found, name, box) for found, boxes in val_results for name, box in boxes if name == "smoke"
    ]
    assert len(ious) == 17
    # Measured: 10 of 17 labelled smoke boxes matched at IoU > 0.5 (the model was trained elsewhere).
    assert sum(iou > 0.5 for iou in ious) >= 9


def test_fire_is_found_inside_the_labelled_fire(val_results: list) -> None:
    # The labels draw fire loosely (often most of the frame); the model boxes the flames tightly,
    # so IoU with the label is low. What holds: each fire box it reports lies inside a labelled one.
    inside = 0
    for found, boxes in val_results:
        labelled = np.array([box for name, box in boxes if name == "fire"]).reshape(-1, 4)
        for xyxy in found[found.data["class_name"] == "fire"].xyxy:
            overlap = sv.box_iou_batch(labelled, xyxy[None], overlap_metric=sv.OverlapMetric.IOS)
            assert overlap.size and overlap.max() > 0.8, "fire reported outside any labelled fire"
            inside += 1
    assert inside >= 2


def test_fire_model_sees_no_fire_in_street_frames(fire_smoke: YoloDetector, frames: Frames) -> None:
    for found in fire_smoke.detect_batch(frames("person", [0, 100, 300, 600])):
        assert len(found) == 0
    # On the car video's bare grey asphalt the model does report 'smoke' (about 0.55): a known
    # false alarm left to the fire analyzer's thresholds; it never reports fire there.
    for found in fire_smoke.detect_batch(frames("car", [0, 60, 120, 240])):
        assert "fire" not in found.data["class_name"]


def test_coco_finds_cars_on_the_road(coco: YoloDetector, frames: Frames) -> None:
    for found in coco.detect_batch(frames("car", [192, 224, 232])):
        cars = found[found.data["class_name"] == "car"]
        assert len(cars) >= 1 and cars.confidence.max() >= 0.5


def test_coco_finds_the_person_walking_in(coco: YoloDetector, frames: Frames) -> None:
    for found in coco.detect_batch(frames("person", [100, 300, 400])):
        people = found[found.data["class_name"] == "person"]
        assert len(people) == 1 and people.confidence[0] > 0.8
        x0, y0, x1, y1 = people.xyxy[0]
        assert 300 < y1 - y0 < 432 and 350 < (x0 + x1) / 2 < 500


def test_a_batch_gives_the_same_detections_as_single_calls(coco: YoloDetector, frames: Frames) -> None:
    images = frames("car", [200, 210, 230])
    for single, batched in zip((coco.detect(i) for i in images), coco.detect_batch(images), strict=True):
        np.testing.assert_allclose(single.xyxy, batched.xyxy)
        assert list(single.data["class_name"]) == list(batched.data["class_name"])
    assert coco.detect_batch([]) == []
