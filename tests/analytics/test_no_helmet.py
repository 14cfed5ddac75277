"""The no_helmet analyzer: heads assigned to riders and voting on hand-made tracks and head boxes,
then the real cascade (COCO detector + our rider head detector) on labelled helmet_th frames."""

import numpy as np
import pytest
import supervision as sv

from citywatch.analytics.base import AnalysisInput, relaxed_for_single_frame
from citywatch.analytics.catalog import create_analyzer
from citywatch.analytics.no_helmet import FORGET_AFTER_S, lower_half_overlap
from citywatch.config import CameraConfig, ModelSettings, NoHelmetThresholds, Thresholds
from citywatch.domain.incident import IncidentEnded, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.runtime.media_analysis import MediaAnalyzer
from citywatch.video.frame import Frame

IMAGE = np.zeros((360, 640, 3), np.uint8)
MOTO = (100.0, 150.0, 200.0, 260.0)
RIDER = (120.0, 100.0, 180.0, 220.0)  # lower half (160..220) lies on MOTO
HEAD = (140.0, 100.0, 160.0, 122.0)  # the top of RIDER
WALKER = (400.0, 100.0, 440.0, 220.0)
WALKER_HEAD = (410.0, 100.0, 430.0, 122.0)

Box = tuple[float, float, float, float]


def coco(*objects: tuple[str, Box, int]) -> tuple[sv.Detections, sv.Detections]:
    """(detections, confirmed tracks) of (class, box, tracker id; -1 for not yet a track)."""
    detections = sv.Detections(
        xyxy=np.array([o[1] for o in objects], dtype=np.float32).reshape(-1, 4),
        confidence=np.full(len(objects), 0.8, dtype=np.float32),
        class_id=np.array([0 if o[0] == "person" else 3 for o in objects], dtype=int),
        data={"class_name": np.array([o[0] for o in objects], dtype=str)},
    )
    detections.tracker_id = np.array([o[2] for o in objects], dtype=int)
    tracks = detections[detections.tracker_id >= 0]
    detections.tracker_id = None
    return detections, tracks


def heads(*found: tuple[str, Box, float]) -> sv.Detections:
    """Rider head detector output: (class, box, confidence)."""
    return sv.Detections(
        xyxy=np.array([h[1] for h in found], dtype=np.float32).reshape(-1, 4),
        confidence=np.array([h[2] for h in found], dtype=np.float32),
        class_id=np.array([1 if h[0] == "without_helmet" else 0 for h in found], dtype=int),
        data={"class_name": np.array([h[0] for h in found], dtype=str)},
    )


def shifted(box: Box, dx: float) -> Box:
    return (box[0] + dx, box[1], box[2] + dx, box[3])


def analyzer(single_frame: bool = False, **settings: float):
    thresholds = Thresholds(no_helmet=NoHelmetThresholds(**settings))
    if single_frame:
        thresholds = relaxed_for_single_frame(thresholds)
    camera = CameraConfig(id="cam", url="x.mp4", incident_types=["no_helmet"])
    return create_analyzer(IncidentType.NO_HELMET, camera, thresholds, {})


def feed(no_helmet_analyzer, frames, start: float = 1000.0, step: float = 0.5):
    """`frames`: per frame (COCO objects, head boxes)."""
    events = []
    for i, (objects, found) in enumerate(frames):
        detections, tracks = coco(*objects)
        frame = Frame("cam", i, start + i * step, IMAGE)
        analysis = AnalysisInput(frame, {"coco": detections, "rider_heads": heads(*found)}, tracks)
        events.extend((i, e) for e in no_helmet_analyzer.update(analysis))
    return events


def riding(frames: int, head: str = "without_helmet", confidence: float = 0.7, dx: float = 10.0) -> list:
    """A rider (track 1) on a motorcycle (track 2) moving right together, its head boxed as `head`,
    and a bare-headed pedestrian (track 3)."""
    return [
        (
            [
                ("person", shifted(RIDER, i * dx), 1),
                ("motorcycle", shifted(MOTO, i * dx), 2),
                ("person", WALKER, 3),
            ],
            [(head, shifted(HEAD, i * dx), confidence), ("without_helmet", WALKER_HEAD, 0.9)],
        )
        for i in range(frames)
    ]


def raised(events) -> list[tuple[int, IncidentRaised]]:
    return [(i, e) for i, e in events if isinstance(e, IncidentRaised)]


def test_rider_overlap_uses_the_lower_half_only() -> None:
    overlap = lower_half_overlap(np.array([RIDER, WALKER]), np.array([MOTO]))
    assert overlap[:, 0].tolist() == pytest.approx([1.0, 0.0])


def test_one_incident_per_rider_track_after_persistence_and_never_for_the_pedestrian() -> None:
    events = feed(analyzer(persist_frames=3, window_frames=5), riding(8))
    assert len(raised(events)) == 1
    index, event = raised(events)[0]
    assert index == 2
    incident = event.incident
    assert incident.type is IncidentType.NO_HELMET and incident.confidence == pytest.approx(0.7)
    assert [b.label for b in incident.boxes] == ["head (no helmet)", "rider", "motorcycle"]
    assert incident.boxes[0].xyxy == shifted(HEAD, 20) and incident.boxes[1].xyxy == shifted(RIDER, 20)
    assert incident.details["rider_track"] == "person:1"
    assert incident.frame is IMAGE


def test_helmeted_or_unsure_heads_raise_nothing() -> None:
    assert raised(feed(analyzer(), riding(8, head="with_helmet", confidence=0.9))) == []
    assert raised(feed(analyzer(min_head_confidence=0.6), riding(8, confidence=0.55))) == []
    assert len(raised(feed(analyzer(min_head_confidence=0.5), riding(8, confidence=0.55)))) == 1


def test_far_heads_are_not_judged() -> None:
    assert raised(feed(analyzer(min_head_px=25), riding(6))) == []  # heads 20 px wide
    assert len(raised(feed(analyzer(min_head_px=20), riding(6)))) == 1


def test_a_pedestrian_passing_a_parked_motorcycle_is_not_a_rider() -> None:
    walking = [
        (
            [("person", shifted(RIDER, dx), 1), ("motorcycle", MOTO, 2)],
            [("without_helmet", shifted(HEAD, dx), 0.9)],
        )
        for dx in (-40, 0, 40)
    ]
    assert raised(feed(analyzer(persist_frames=2, window_frames=3), walking)) == []


def test_a_rider_coco_missed_is_found_by_the_head_above_the_motorcycle() -> None:
    """Distant riders: the COCO model boxes the motorcycle but not the person on it."""
    alone = [
        ([("motorcycle", shifted(MOTO, 10 * i), 2)], [("without_helmet", shifted(HEAD, 10 * i), 0.6)])
        for i in range(4)
    ]
    incidents = raised(feed(analyzer(persist_frames=2, window_frames=4), alone))
    assert len(incidents) == 1
    assert [b.label for b in incidents[0][1].incident.boxes] == ["head (no helmet)", "motorcycle"]
    assert incidents[0][1].incident.details["rider_track"] == "vehicle:2"
    low_moto = (100.0, 250.0, 200.0, 300.0)  # 50 px high: HEAD's centre is 2.8 heights above it
    far_above = [([("motorcycle", low_moto, 2)], [("without_helmet", HEAD, 0.9)])] * 4
    assert raised(feed(analyzer(persist_frames=2, window_frames=4), far_above)) == []


def test_untracked_riders_wait_for_a_track_in_video_but_count_in_a_still_image() -> None:
    untracked = [([("person", RIDER, -1), ("motorcycle", MOTO, -1)], [("without_helmet", HEAD, 0.8)])]
    assert raised(feed(analyzer(), untracked * 4)) == []
    assert len(raised(feed(analyzer(single_frame=True), untracked))) == 1


def test_the_incident_ends_when_the_rider_is_gone() -> None:
    events = feed(analyzer(persist_frames=1, window_frames=1), riding(2) + [([], [])] * 30)
    ended = [(i, e) for i, e in events if isinstance(e, IncidentEnded)]
    assert len(ended) == 1
    assert ended[0][1].incident_id == raised(events)[0][1].incident.id
    assert ended[0][1].ended_at == pytest.approx(1000.5)
    assert ended[0][0] * 0.5 >= FORGET_AFTER_S


@pytest.fixture(scope="module")
def media() -> MediaAnalyzer:
    settings = ModelSettings()
    pack = ModelPack.open()
    return MediaAnalyzer(
        {role: load_detector(pack, role, settings) for role in ("coco", "rider_heads")},
        {IncidentType.NO_HELMET},
        Thresholds(),
    )


# A frame of a helmet_idn validation camera (garden 2; the head detector never trained on that
# camera) with a bare-headed rider, and a helmet_th validation frame with helmeted riders only.
BARE_RIDER = "yosiabatch2-127-_png.rf.939590468b1c9912655014f61af50592.jpg"
HELMETED = "2_-6-11_30-13_00_MP4-0013_jpg.rf.f128e65c1b5f390d0319c3f6a3f33eba.jpg"


def labelled_bare_heads(image: str) -> np.ndarray:
    """The `Without Helmet` boxes (xyxy, px) of a helmet_idn frame (640x360)."""
    rows = np.loadtxt(datasets_dir() / "helmet_idn/labels/all" / f"{image[:-4]}.txt", ndmin=2)
    bare = rows[rows[:, 0] == 1][:, 1:] * [640, 360, 640, 360]
    return np.concatenate([bare[:, :2] - bare[:, 2:] / 2, bare[:, :2] + bare[:, 2:] / 2], axis=1)


@pytest.mark.slow
def test_real_frame_with_a_rider_without_helmet_raises_no_helmet(media: MediaAnalyzer) -> None:
    report = media.analyse(datasets_dir() / "helmet_idn/images/all" / BARE_RIDER)
    assert report.incidents and {i.type for i in report.incidents} == {IncidentType.NO_HELMET}
    labelled = labelled_bare_heads(BARE_RIDER)
    for incident in report.incidents:
        head, *_, vehicle = incident.boxes
        assert head.label == "head (no helmet)" and vehicle.label in ("motorcycle", "bicycle")
        assert head.confidence >= Thresholds().no_helmet.min_head_confidence
        centre = ((head.xyxy[0] + head.xyxy[2]) / 2, (head.xyxy[1] + head.xyxy[3]) / 2)
        inside = (labelled[:, 0] <= centre[0]) & (centre[0] <= labelled[:, 2])
        assert (inside & (labelled[:, 1] <= centre[1]) & (centre[1] <= labelled[:, 3])).any()
        assert incident.frame is not None


@pytest.mark.slow
def test_real_frame_with_helmeted_riders_raises_nothing(media: MediaAnalyzer) -> None:
    assert media.analyse(datasets_dir() / "helmet_th/images/train" / HELMETED).incidents == []
