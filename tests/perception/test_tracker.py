from collections.abc import Callable, Iterable

import numpy as np
import pytest

from citywatch.perception.tracker import ObjectTracker
from citywatch.perception.yolo import YoloDetector

Frames = Callable[[str, Iterable[int]], list[np.ndarray]]
FPS = 12.5  # car-detection.mp4
START = 1_700_000_000.0  # wall-clock seconds, as in Frame.timestamp


def test_two_vehicles_keep_their_ids_across_frames(coco: YoloDetector, frames: Frames) -> None:
    # Frames 197-226: one vehicle drives down the left lane, one up the right lane. The detector's
    # class for them flickers (car, bus, cell phone, suitcase); tracking is class-agnostic.
    tracker = ObjectTracker(frame_rate=FPS)
    ids: dict[str, set[int]] = {"left": set(), "right": set()}
    indices = range(197, 227)
    for index, detections in zip(indices, coco.detect_batch(frames("car", indices)), strict=True):
        tracked = tracker.update(detections, START + index / FPS)
        assert "class_name" in tracked.data and len(tracked.data["class_name"]) == len(tracked)
        for tracker_id, (x0, _, x1, _) in zip(tracked.tracker_id, tracked.xyxy, strict=True):
            ids["left" if (x0 + x1) / 2 < 300 else "right"].add(int(tracker_id))
    assert len(ids["left"]) == 1 and len(ids["right"]) == 1
    assert ids["left"] != ids["right"]


def test_new_objects_are_confirmed_before_they_are_returned(coco: YoloDetector, frames: Frames) -> None:
    person = coco.detect(frames("person", [300])[0])
    person = person[person.data["class_name"] == "person"]
    tracker = ObjectTracker(frame_rate=2.0)
    assert len(tracker.update(person, START)) == 0  # seen once: not yet a track
    first = tracker.update(person, START + 0.5)
    assert list(first.data["class_name"]) == ["person"] and first.tracker_id.tolist() == [0]
    assert tracker.update(person, START + 1.0).tracker_id.tolist() == [0]


def test_a_track_lost_for_longer_than_the_limit_gets_a_new_id(coco: YoloDetector, frames: Frames) -> None:
    person = coco.detect(frames("person", [300])[0])
    person = person[person.data["class_name"] == "person"]
    nobody = person[np.zeros(len(person), dtype=bool)]
    tracker = ObjectTracker(frame_rate=2.0, lost_track_seconds=1.0)
    for t in (0.0, 0.5, 1.0):
        old_id = tracker.update(person, START + t).tracker_id.tolist()
    for t in (1.5, 2.0, 2.5, 3.0):
        assert len(tracker.update(nobody, START + t)) == 0
    tracker.update(person, START + 3.5)
    new_id = tracker.update(person, START + 4.0).tracker_id.tolist()
    assert len(new_id) == 1 and new_id != old_id


def test_a_timestamp_going_back_returns_nothing(coco: YoloDetector, frames: Frames) -> None:
    person = coco.detect(frames("person", [300])[0])
    tracker = ObjectTracker(frame_rate=2.0)
    tracker.update(person, START + 1.0)
    with pytest.warns(UserWarning, match="earlier"):
        assert len(tracker.update(person, START)) == 0
