"""The weapon detector runs only on frames where the COCO pass found a person, smoke and fire on a
schedule (perception.triggers): in the shared scheduler and in the cascade over a video file, with
real models and real frames."""

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pytest
import supervision as sv

from citywatch.config import FireThresholds, ModelSettings, Thresholds
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_detector, triggers_for
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.scheduler import InferenceJob, InferenceResult, InferenceScheduler
from citywatch.perception.triggers import RoleTrigger
from citywatch.perception.yolo import YoloDetector
from citywatch.runtime.media_analysis import MediaAnalyzer
from citywatch.video.frame import Frame

Frames = Callable[[str, Iterable[int]], list[np.ndarray]]
NOBODY = ("car", 200)  # four vehicles, no person
SOMEONE = ("person", 300)  # a person walking


class CountingDetector:
    """The real detector, counting the frames it is run on."""

    def __init__(self, detector: YoloDetector) -> None:
        self.detector = detector
        self.frames = 0

    def detect(self, image: np.ndarray) -> sv.Detections:
        self.frames += 1
        return self.detector.detect(image)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[sv.Detections]:
        self.frames += len(images)
        return self.detector.detect_batch(images)


@pytest.fixture(scope="module")
def weapon(pack: ModelPack, settings: ModelSettings) -> YoloDetector:
    return load_detector(pack, "weapon", settings)


def test_the_weapon_role_is_triggered_by_coco_people_only_when_coco_runs_too() -> None:
    assert triggers_for(["coco", "weapon"]) == {"weapon": RoleTrigger("coco", frozenset({"person"}))}
    assert triggers_for(["weapon"]) == {}
    assert triggers_for(["coco", "fire_smoke"]) == {}


def test_a_trigger_fires_on_its_classes_and_when_its_source_is_missing(
    coco: YoloDetector, frames: Frames
) -> None:
    trigger = RoleTrigger("coco", frozenset({"person"}))
    nobody, someone = frames(NOBODY[0], [NOBODY[1]])[0], frames(SOMEONE[0], [SOMEONE[1]])[0]
    assert not trigger.fires({"coco": coco.detect(nobody)})
    assert trigger.fires({"coco": coco.detect(someone)})
    assert trigger.fires({})  # the COCO pass failed or was not asked for: run rather than miss


def test_the_scheduler_runs_the_weapon_detector_only_where_coco_found_a_person(
    coco: YoloDetector, weapon: YoloDetector, frames: Frames
) -> None:
    nobody, someone = frames(NOBODY[0], [NOBODY[1]])[0], frames(SOMEONE[0], [SOMEONE[1]])[0]
    counted = CountingDetector(weapon)
    results: list[InferenceResult] = []
    scheduler = InferenceScheduler(
        {"coco": coco, "weapon": counted},
        batch_size=4,
        max_wait_ms=0,
        triggers=triggers_for(["coco", "weapon"]),
        per_camera=4,
        latency_budget_s=None,
    )
    for index, image in enumerate([nobody, someone, nobody]):
        # "weapon" first in the job: the scheduler still runs coco before it.
        scheduler.submit(InferenceJob(Frame("cam", index, 0.0, image), ("weapon", "coco"), results.append))
    scheduler.submit(InferenceJob(Frame("cam", 3, 0.0, nobody), ("weapon",), results.append))
    scheduler.start()
    assert scheduler.stop(timeout=60)

    assert [r.job.frame.index for r in results] == [0, 1, 2, 3]
    assert all(r.error is None for r in results)
    assert counted.frames == 2  # the frame with a person, and the job that did not ask for coco
    stats = scheduler.stats
    assert stats.frames_per_role["weapon"] == 2 and stats.frames_gated_per_role == {"weapon": 2}
    for gated in (results[0], results[2]):
        assert len(gated.detections["weapon"]) == 0 and "class_name" in gated.detections["weapon"].data
        assert len(gated.detections["coco"]) > 0  # the vehicles are still reported
    assert "person" in results[1].detections["coco"].data["class_name"]


def test_a_trigger_naming_a_role_without_a_detector_is_refused(coco: YoloDetector) -> None:
    with pytest.raises(ValueError, match="weapon"):
        InferenceScheduler({"coco": coco}, triggers={"weapon": RoleTrigger("coco", frozenset({"person"}))})


def test_the_file_cascade_gates_video_frames_but_not_still_images(
    coco: YoloDetector, weapon: YoloDetector, tmp_path: Path
) -> None:
    counted = CountingDetector(weapon)
    analyzer = MediaAnalyzer({"coco": coco, "weapon": counted}, {IncidentType.WEAPON}, Thresholds(), 1.0)
    report = analyzer.analyse(datasets_dir() / "streets" / "one-by-one-person-detection.mp4")
    sampled = len(report.frames)
    with_people = sum("person" in f.detections["coco"].data["class_name"] for f in report.frames)
    assert 0 < with_people < sampled, (with_people, sampled)
    assert counted.frames == with_people
    assert all("weapon" in f.detections for f in report.frames)

    still = datasets_dir() / "gun" / "images" / "val"
    image = sorted(still.iterdir())[0]
    analyzer.analyse(image)
    assert counted.frames == with_people + 1  # a still image runs every detector


def test_the_file_cascade_runs_smoke_and_fire_on_a_schedule_and_still_finds_the_fire(
    fire_smoke: YoloDetector,
) -> None:
    """The FURG house fire at 2 fps is raised as with the pass on every frame, at most a second
    later, with fewer passes; on a street without fire the pass runs on every 2nd frame, held on for the
    seconds after a confident smoke box."""
    furg = datasets_dir() / "fire_smoke" / "videos" / "furg_house6.mp4"
    found = {}
    for every_s in (0.0, 1.0):
        counted = CountingDetector(fire_smoke)
        thresholds = Thresholds(fire=FireThresholds(check_every_s=every_s))
        analyzer = MediaAnalyzer({"fire_smoke": counted}, {IncidentType.FIRE}, thresholds, 2.0)
        found[every_s] = (analyzer.analyse(furg), counted)
    (fire_all, passes_all), (fire, passes) = found[0.0], found[1.0]
    assert [i.subtype for i in fire.incidents] == [i.subtype for i in fire_all.incidents] == ["fire"]
    assert 0 <= fire.incidents[0].started_at - fire_all.incidents[0].started_at <= 1.0
    assert passes_all.frames == len(fire_all.frames) and passes.frames < passes_all.frames

    scheduled = MediaAnalyzer({"fire_smoke": passes}, {IncidentType.FIRE}, Thresholds(), 2.0)
    before = passes.frames
    street = scheduled.analyse(datasets_dir() / "streets" / "car-detection.mp4")
    assert street.incidents == []
    assert passes.frames - before == sum("fire_smoke" in f.detections for f in street.frames)
    # Every 2nd frame, and every frame for 3 s after the smoke the model sees on this street (0.6+).
    assert (len(street.frames) + 1) // 2 <= passes.frames - before < len(street.frames) * 0.7
