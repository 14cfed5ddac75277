"""The fall analyzer: its temporal rule on hand-made pose sequences (stub pose model and a stub
classifier that reads the torso angle), then the real cascade on a real fall frame."""

import cv2
import numpy as np
import pytest
import supervision as sv

from citywatch.analytics.base import AnalysisInput, relaxed_for_single_frame
from citywatch.analytics.catalog import create_analyzer
from citywatch.analytics.fall import FORGET_AFTER_S
from citywatch.analytics.pose_features import FEATURE_NAMES
from citywatch.config import CameraConfig, FallThresholds, ModelSettings, Thresholds
from citywatch.domain.incident import IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.perception.pose import NUM_KEYPOINTS, Poses
from citywatch.video.frame import Frame

IMAGE = np.zeros((480, 640, 3), np.uint8)
STANDING = (300.0, 100.0, 340.0, 300.0)
SITTING = (280.0, 200.0, 390.0, 300.0)  # torso upright in a box wider than tall: not "upright"
LYING = (220.0, 260.0, 420.0, 300.0)
_TORSO_UP = FEATURE_NAMES.index("torso_up")


def skeleton(box: tuple[float, float, float, float]) -> np.ndarray:
    """[17, 2] keypoints from head to ankles (the order of KEYPOINT_NAMES): top to bottom of the
    box, or left to right for LYING."""
    x1, y1, x2, y2 = box
    t = np.linspace(0.05, 0.95, NUM_KEYPOINTS)
    if box != LYING:
        return np.stack([np.full(NUM_KEYPOINTS, (x1 + x2) / 2), y1 + t * (y2 - y1)], axis=1)
    return np.stack([x1 + t * (x2 - x1), np.full(NUM_KEYPOINTS, (y1 + y2) / 2)], axis=1)


class StubPose:
    """Poses laid along each person box; no people of its own on whole frames."""

    def estimate(self, image: np.ndarray, boxes: np.ndarray) -> Poses:
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        points = np.array([skeleton(tuple(float(v) for v in b)) for b in boxes], np.float32)
        return Poses(
            points.reshape(-1, NUM_KEYPOINTS, 2),
            np.full((len(boxes), NUM_KEYPOINTS), 0.9, np.float32),
            boxes,
            np.full(len(boxes), 0.9, np.float32),
        )

    def estimate_frame(self, image: np.ndarray, min_confidence: float = 0.2, size: int = 384) -> Poses:
        return Poses.empty()


class StubClassifier:
    """Fallen (0.9) when the torso is far from vertical, else 0.05."""

    def probability(self, features: np.ndarray) -> np.ndarray:
        return np.where(features[:, _TORSO_UP] < 0.5, 0.9, 0.05).astype(np.float32)


def people(*boxes: tuple[float, float, float, float], track_id: int = 7) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), 0.8, np.float32),
        class_id=np.zeros(len(boxes), int),
        tracker_id=np.arange(track_id, track_id + len(boxes)),
        data={"class_name": np.array(["person"] * len(boxes))},
    )


def analyzer(single_frame: bool = False, **settings: float):
    camera = CameraConfig(id="cam", url="x.mp4", incident_types=["fall"])
    thresholds = Thresholds(fall=FallThresholds(**settings))
    if single_frame:
        thresholds = relaxed_for_single_frame(thresholds)
    return create_analyzer(
        IncidentType.FALL, camera, thresholds, {"pose": StubPose(), "fall": StubClassifier()}
    )


def feed(
    fall_analyzer, boxes: list, step: float = 0.5, start: float = 100.0
) -> list[tuple[int, IncidentEvent]]:
    events = []
    for i, box in enumerate(boxes):
        tracks = people(box) if box else people()
        analysis = AnalysisInput(Frame("cam", i, start + i * step, IMAGE), {"coco": tracks}, tracks)
        events.extend((i, e) for e in fall_analyzer.update(analysis))
    return events


def raised(events: list[tuple[int, IncidentEvent]]) -> list[tuple[int, IncidentRaised]]:
    return [(i, e) for i, e in events if isinstance(e, IncidentRaised)]


def test_upright_then_lying_and_staying_down_raises_once() -> None:
    # 2 fps: down from frame 4 (t=102.0); min_down_s 2 -> raised at frame 8 (t=104.0).
    events = feed(analyzer(min_down_s=2.0), [STANDING] * 4 + [LYING] * 12)
    assert [i for i, _ in raised(events)] == [8]
    incident = raised(events)[0][1].incident
    assert incident.type is IncidentType.FALL and incident.started_at == 104.0
    assert [b.xyxy for b in incident.boxes] == [LYING] and incident.confidence == pytest.approx(0.9)
    assert incident.details["track_id"] == 7 and incident.details["down_s"] == 2.0
    assert len(incident.details["keypoints"][0]) == NUM_KEYPOINTS


def test_lying_down_too_briefly_does_not_raise() -> None:
    assert raised(feed(analyzer(min_down_s=2.0), [STANDING] * 4 + [LYING] * 3 + [STANDING] * 4)) == []


def test_sitting_down_slowly_then_lying_does_not_raise() -> None:
    slow = [STANDING] * 4 + [SITTING] * 10 + [LYING] * 10  # 5 s seated: longer than max_fall_s
    assert raised(feed(analyzer(max_fall_s=3.0), slow)) == []


def test_someone_already_lying_when_first_seen_does_not_raise() -> None:
    assert raised(feed(analyzer(), [LYING] * 20)) == []


def test_getting_up_ends_the_episode_and_a_new_fall_is_a_new_incident() -> None:
    events = feed(analyzer(), ([STANDING] * 4 + [LYING] * 8) * 2)
    assert len(raised(events)) == 2
    ended = [e for _, e in events if isinstance(e, IncidentEnded)]
    assert [e.incident_id for e in ended] == [raised(events)[0][1].incident.id]


def test_a_lost_track_is_forgotten_and_its_incident_ends() -> None:
    fall_analyzer = analyzer()
    events = feed(fall_analyzer, [STANDING] * 4 + [LYING] * 8)
    later = AnalysisInput(Frame("cam", 99, 100 + 6 + FORGET_AFTER_S + 1, IMAGE), {"coco": people()}, people())
    assert [type(e) for e in fall_analyzer.update(later)] == [IncidentEnded]
    assert len(raised(events)) == 1


def fall_boxes(*boxes: tuple[float, float, float, float], confidence: float = 0.8) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), confidence, np.float32),
        class_id=np.zeros(len(boxes), int),
        data={"class_name": np.array(["fall"] * len(boxes))},
    )


def test_a_still_image_raises_on_a_fallen_pose_when_asked_to() -> None:
    image = Frame("cam", 0, 0.0, IMAGE)
    detections = {"coco": people(STANDING, LYING)}
    with_pose = analyzer(single_frame=True, still_image_pose=True)
    events = with_pose.update(AnalysisInput(image, detections, people()))
    assert len(events) == 1 and [b.xyxy for b in events[0].incident.boxes] == [LYING]
    standing = {"coco": people(STANDING)}
    assert with_pose.update(AnalysisInput(image, standing, people())) == []
    # By default (still_image_pose off) a fallen pose alone raises nothing on a still image.
    assert analyzer(single_frame=True).update(AnalysisInput(image, detections, people())) == []


def test_a_still_image_raises_on_a_confident_fall_box() -> None:
    image = Frame("cam", 0, 0.0, IMAGE)
    confident = {"coco": people(STANDING), "fall_detector": fall_boxes(LYING, confidence=0.7)}
    (event,) = analyzer(single_frame=True).update(AnalysisInput(image, confident, people()))
    assert [(b.xyxy, b.label) for b in event.incident.boxes] == [(LYING, "fallen person")]
    assert event.incident.confidence == pytest.approx(0.7)
    weak = {"coco": people(STANDING), "fall_detector": fall_boxes(LYING, confidence=0.3)}
    assert analyzer(single_frame=True).update(AnalysisInput(image, weak, people())) == []


def test_in_video_a_fall_box_where_someone_stood_raises_once_even_when_the_track_is_lost() -> None:
    fall = analyzer()
    events: list[tuple[int, IncidentEvent]] = []
    for i in range(12):
        frame = Frame("cam", i, 100 + i * 0.5, IMAGE)
        if i < 3:  # standing, tracked by COCO
            detections, tracks = {"coco": people(STANDING), "fall_detector": fall_boxes()}, people(STANDING)
        else:  # on the floor: COCO lost them, the fall detector boxes them
            detections, tracks = {"coco": people(), "fall_detector": fall_boxes(LYING)}, people()
        events += [(i, e) for e in fall.update(AnalysisInput(frame, detections, tracks))]
    ((index, event),) = raised(events)
    assert index == 7
    assert event.incident.details["evidence"] == "fall boxes" and event.incident.started_at == 100 + 7 * 0.5


def test_the_analyzer_needs_its_models() -> None:
    camera = CameraConfig(id="cam", url="x.mp4", incident_types=["fall"])
    with pytest.raises(ValueError, match=r"cam.*\['fall'\]"):
        create_analyzer(IncidentType.FALL, camera, Thresholds(), {"pose": StubPose()})


@pytest.mark.slow
def test_a_real_fall_frame_raises_fall_through_the_cascade() -> None:
    from citywatch.perception.detectors import load_detector
    from citywatch.perception.model_pack import ModelPack
    from citywatch.perception.second_stage import load_second_stage
    from citywatch.runtime.media_analysis import MediaAnalyzer

    settings = ModelSettings()
    media = MediaAnalyzer(
        {role: load_detector(ModelPack.open(), role, settings) for role in ("coco", "fall_detector")},
        {IncidentType.FALL},
        Thresholds(),
        models={name: load_second_stage(name, settings) for name in ("pose", "fall")},
    )
    # Camera 16 and k107 are validation cameras: the fall detector never trained on them.
    images = datasets_dir() / "fall" / "images" / "train"
    fall = media.analyse(images / FALL_FRAME)
    assert [i.type for i in fall.incidents] == [IncidentType.FALL]
    (incident,) = fall.incidents
    assert incident.boxes and {b.label for b in incident.boxes} == {"fallen person"}
    assert media.analyse(images / NO_FALL_FRAME).incidents == []


@pytest.fixture(scope="module")
def real_models() -> tuple[dict, dict]:
    from citywatch.perception.detectors import load_detector
    from citywatch.perception.model_pack import ModelPack
    from citywatch.perception.second_stage import load_second_stage

    settings = ModelSettings()
    detectors = {role: load_detector(ModelPack.open(), role, settings) for role in ("coco", "fall_detector")}
    return detectors, {name: load_second_stage(name, settings) for name in ("pose", "fall")}


def pose_requests(models: dict, run) -> tuple[object, int]:
    """What `run()` returns, and the poses it asked MoveNet for (run or answered by the memo)."""
    pose = models["pose"]
    before = pose.model_runs + pose.reused
    result = run()
    return result, pose.model_runs + pose.reused - before


@pytest.mark.slow
def test_the_pose_gate_leaves_people_walking_past_unposed_and_raises_the_same(real_models) -> None:
    from citywatch.runtime.media_analysis import MediaAnalyzer

    detectors, models = real_models
    video = datasets_dir() / "streets" / "one-by-one-person-detection.mp4"
    found = {}
    for gate in (False, True):
        thresholds = Thresholds(fall=FallThresholds(pose_gate=gate))
        media = MediaAnalyzer(detectors, {IncidentType.FALL}, thresholds, analytics_fps=1.0, models=models)
        found[gate] = pose_requests(models, lambda media=media: media.analyse(video))
    (every_person, asked_all), (gated, asked_gated) = found[False], found[True]
    people = sum(
        int((f.detections["coco"].data["class_name"] == "person").sum()) for f in every_person.frames
    )
    assert asked_all >= people // 2 > 20, (asked_all, people)  # tracked people, each posed
    assert asked_gated < asked_all / 3, (asked_gated, asked_all)
    assert every_person.incidents == gated.incidents == []


@pytest.mark.slow
def test_the_pose_gate_poses_a_person_lying_on_the_floor(real_models) -> None:
    """A real fall frame seen as video frames. Seen from the ceiling, the lying woman's box is 2.5
    times taller than wide, as a standing person's: the fall detector's box over her gets her posed
    on every frame, and the temporal rule sees the same fallen poses as without the gate."""
    from citywatch.analytics.base import thresholds_at_frame_rate
    from citywatch.perception.passes import DetectorPasses
    from citywatch.runtime.cascade import Cascade, detect

    detectors, models = real_models
    image = cv2.imread(str(datasets_dir() / "fall" / "images" / "train" / LYING_TALL_FRAME))
    camera = CameraConfig(id="cam", url="x.mp4", incident_types=["fall"])
    asked = {}
    for gate in (False, True):
        thresholds = thresholds_at_frame_rate(Thresholds(fall=FallThresholds(pose_gate=gate)), 2.0)
        fall = create_analyzer(IncidentType.FALL, camera, thresholds, models)
        cascade, passes = Cascade([fall], 2.0), DetectorPasses(detectors)

        def run(cascade=cascade, passes=passes, fall=fall) -> list:
            for i in range(4):
                frame = Frame("cam", i, 100.0 + i / 2, image.copy())
                cascade.analyse(frame, detect(frame.image, cascade.roles, passes))
            return [list(t.recent) for t in fall._tracks.values()]

        asked[gate] = pose_requests(models, run)
    (recent_all, asked_all), (recent_gated, asked_gated) = asked[False], asked[True]
    assert any(any(r) for r in recent_all)  # her pose is fallen
    assert recent_gated == recent_all
    assert asked_gated == asked_all


FALL_FRAME = "16_100234_png.rf.bbde5f8bc96d43bc808029cd976fa838.jpg"
LYING_TALL_FRAME = "16_100216_png.rf.e6c3ca5d097d589300e1828052cce054.jpg"
NO_FALL_FRAME = "k107_100010_png_jpg.rf.5dfd44d9e73f2b55b8e5651b4195feb4.jpg"  # people up and about
