"""The camera worker: which passes it asks for first under load, and what its analyzers see."""

import time
from pathlib import Path

import numpy as np
import supervision as sv
from runtime_support import FIRE_CLIP, camera, make_config

from citywatch.domain.incident_types import IncidentType
from citywatch.perception.scheduler import InferenceJob, InferenceResult, InferenceScheduler
from citywatch.runtime.worker import CameraWorker, role_ranks
from citywatch.video.frame import Frame


def test_type_priority_ranks_each_role_by_the_most_important_type_that_needs_it() -> None:
    priority = ["fire", "weapon", "fall", "fight", "accident", "no_helmet"]
    ranks = role_ranks([IncidentType.NO_HELMET, IncidentType.FIRE, IncidentType.WEAPON], priority)
    # COCO serves weapon and no_helmet: weapon's place; the rider heads only no_helmet.
    assert ranks == {"fire_smoke": 0, "coco": 1, "weapon": 1, "rider_heads": 5}
    assert role_ranks([IncidentType.FALL], ["fire"]) == {"coco": 1, "fall_detector": 1}  # not listed: last


def test_an_analyzer_whose_pass_was_shed_does_not_see_the_frame(tmp_path: Path) -> None:
    """Under load the scheduler skips a camera's low-priority passes; the analyzer that needs a
    skipped pass must not take the frame for one where its detector found nothing. Fire needs 4 of
    its last 6 frames: 3 with fire, 3 whose pass was shed, 1 with fire raises (4 of 4 seen); counted
    as empty frames the window would hold 3 of 6 with fire and stay silent."""
    config = make_config(tmp_path, [camera("cam", FIRE_CLIP)])
    events: list = []
    worker = CameraWorker(config.cameras[0], config, InferenceScheduler({}), events.append)
    fire = sv.Detections(
        xyxy=np.array([[100.0, 100.0, 200.0, 200.0]]),
        confidence=np.array([0.9]),
        class_id=np.array([0]),
        data={"class_name": np.array(["fire"])},
    )
    image = np.zeros((360, 640, 3), np.uint8)
    for index, seen in enumerate([True] * 3 + [False] * 3 + [True]):
        frame = Frame("cam", index, 1_000.0 + index / 2, image)
        skipped = frozenset() if seen else frozenset({"fire_smoke"})
        job = InferenceJob(frame, ("fire_smoke",), lambda _: None, skipped_roles=skipped)
        worker._on_result(InferenceResult(job, {"fire_smoke": fire} if seen else {}, time.monotonic()))
    assert [type(e).__name__ for e in events] == ["IncidentRaised"]
    assert worker.counters.frames_analysed == 7
