"""The accident analyzer: its video rules on hand-made track sequences, its still-image rules on
hand-made boxes, per-camera thresholds and zones, then the real cascade on a real accident frame
and a stretch of a street video."""

import numpy as np
import pytest
import supervision as sv

from citywatch.analytics.base import AnalysisInput, relaxed_for_single_frame
from citywatch.analytics.catalog import create_analyzer
from citywatch.analytics.vehicle_motion import TrackMotion, pair_geometry
from citywatch.config import (
    AccidentThresholds,
    CameraConfig,
    CitywatchConfig,
    ModelSettings,
    Thresholds,
    Zone,
)
from citywatch.domain.incident import IncidentEnded, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.video.frame import Frame

WIDTH, HEIGHT = 640, 480
IMAGE = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
STEP_S = 0.5  # 2 analysed frames a second


def objects(*items: tuple[int, str, tuple[float, float, float, float]]) -> sv.Detections:
    """Tracks from (track id, class name, xyxy)."""
    if not items:
        return sv.Detections(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, int),
            tracker_id=np.zeros(0, int),
            data={"class_name": np.array([], dtype=str)},
        )
    return sv.Detections(
        xyxy=np.array([box for _, _, box in items], np.float32),
        confidence=np.full(len(items), 0.8, np.float32),
        class_id=np.zeros(len(items), int),
        tracker_id=np.array([track for track, _, _ in items]),
        data={"class_name": np.array([name for _, name, _ in items])},
    )


def camera(**overrides) -> CameraConfig:
    return CameraConfig(id="junction", url="x.mp4", incident_types=["accident"], **overrides)


def analyzer(single_frame: bool = False, cam: CameraConfig | None = None, **settings):
    thresholds = Thresholds(accident=AccidentThresholds(**settings))
    if single_frame:
        thresholds = relaxed_for_single_frame(thresholds)
    return create_analyzer(IncidentType.ACCIDENT, cam or camera(), thresholds, {})


def feed(accident, frames: list[sv.Detections], start: float = 100.0) -> list[tuple[int, object]]:
    events = []
    for i, tracks in enumerate(frames):
        frame = Frame("junction", i, start + i * STEP_S, IMAGE)
        events.extend((i, e) for e in accident.update(AnalysisInput(frame, {"coco": tracks}, tracks)))
    return events


def raised(events) -> list:
    return [e.incident for _, e in events if isinstance(e, IncidentRaised)]


def car(x: float, y: float, w: float = 80, h: float = 40) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def converging_then_stopped(frames_after: int = 8) -> list[sv.Detections]:
    """Car 1 drives right and car 2 left along the same road (100 px a frame) until they hit
    at frame 3; both then stand where they hit."""
    left = [100, 200, 300, 320] + [320] * frames_after
    right = [580, 480, 380, 340] + [340] * frames_after
    return [
        objects((1, "car", car(a, 200)), (2, "car", car(b, 205))) for a, b in zip(left, right, strict=True)
    ]


def test_pair_geometry_measures_overlap_depth_and_size() -> None:
    g = pair_geometry(np.array([0, 0, 100, 50]), np.array([50, 10, 150, 60]))
    assert g.overlap == pytest.approx(0.4) and g.depth_gap == pytest.approx(0.2) and g.size_ratio == 1.0


def test_a_track_that_stops_dead_is_an_abrupt_stop_and_slowing_at_a_light_is_not() -> None:
    dead, gentle = TrackMotion(10), TrackMotion(10)
    for i, (a, b) in enumerate(zip([100, 200, 300, 302], [100, 160, 200, 225], strict=True)):
        dead.add(i * STEP_S, np.array(car(a, 200)), WIDTH, HEIGHT)
        gentle.add(i * STEP_S, np.array(car(b, 200)), WIDTH, HEIGHT)
    assert dead.abrupt_change(1.5, 1.5, 0.6, 0.7, 60, 0.15) == "stop"
    assert gentle.abrupt_change(1.5, 1.5, 0.6, 0.7, 60, 0.15) is None


def test_two_cars_that_meet_and_stop_abruptly_raise_one_collision() -> None:
    events = feed(analyzer(), converging_then_stopped())
    incidents = raised(events)
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.type is IncidentType.ACCIDENT and incident.subtype == "collision"
    assert sorted(b.label for b in incident.boxes) == ["car", "car"]
    assert incident.details["track_ids"] == [1, 2] and incident.details["abrupt"]


def test_the_collision_episode_ends_when_both_cars_are_gone() -> None:
    accident = analyzer(clear_after_s=5)
    events = feed(accident, converging_then_stopped() + [objects()] * 12)
    ended = [e for _, e in events if isinstance(e, IncidentEnded)]
    assert len(raised(events)) == 1 and [e.incident_id for e in ended] == [raised(events)[0].id]


def test_cars_passing_in_adjacent_lanes_without_stopping_raise_nothing() -> None:
    # Boxes overlap (neighbouring lanes seen at an angle) for several frames, at steady speed.
    frames = [
        objects((1, "car", car(60 + 60 * i, 200)), (2, "car", car(520 - 60 * i, 215))) for i in range(9)
    ]
    assert raised(feed(analyzer(), frames)) == []


def test_a_queue_stopping_at_a_light_raises_nothing() -> None:
    # One car behind the other (different depth): they overlap in the image and stop together.
    frames = [
        objects((1, "car", car(300, y1)), (2, "car", car(300, y2)))
        for y1, y2 in [(100, 40), (160, 100), (200, 150), (201, 170), (201, 171), (201, 171)]
    ]
    assert raised(feed(analyzer(), frames)) == []


def test_a_motorcycle_on_its_side_in_a_still_image_is_rider_down() -> None:
    image = Frame("junction", 0, 0.0, IMAGE)
    lying = objects((1, "motorcycle", (200, 300, 330, 340)))
    events = analyzer(single_frame=True).update(AnalysisInput(image, {"coco": lying}))
    assert [(e.incident.subtype, e.incident.details["rule"]) for e in events] == [
        ("rider_down", "two_wheeler_on_its_side")
    ]
    upright = objects((1, "motorcycle", (200, 260, 280, 340)), (2, "person", (215, 200, 265, 320)))
    assert analyzer(single_frame=True).update(AnalysisInput(image, {"coco": upright})) == []


def test_a_rider_lying_next_to_a_motorcycle_is_rider_down() -> None:
    image = Frame("junction", 0, 0.0, IMAGE)
    scene = objects((1, "motorcycle", (200, 260, 280, 340)), (2, "person", (290, 310, 400, 345)))
    events = analyzer(single_frame=True).update(AnalysisInput(image, {"coco": scene}))
    assert [e.incident.subtype for e in events] == ["rider_down"]
    assert sorted(b.label for b in events[0].incident.boxes) == ["motorcycle", "person"]
    far = objects((1, "motorcycle", (20, 260, 100, 340)), (2, "person", (400, 310, 510, 345)))
    assert analyzer(single_frame=True).update(AnalysisInput(image, {"coco": far})) == []


def test_in_video_a_lying_rider_must_persist() -> None:
    down = objects((1, "motorcycle", (200, 300, 330, 340)))
    assert len(raised(feed(analyzer(), [down, down, down, down]))) == 1
    assert raised(feed(analyzer(), [down] + [objects((1, "motorcycle", (200, 260, 280, 340)))] * 3)) == []


def test_people_gathering_at_an_abruptly_stopped_car_raise_collision() -> None:
    xs = [100, 200, 300, 302, 302, 302, 302, 302, 302]
    frames = []
    for i, x in enumerate(xs):
        people = [
            (10 + k, "person", (40 + 80 * k + 25 * i, 400 - 20 * i, 60 + 80 * k + 25 * i, 440 - 20 * i))
            for k in range(3)
        ]
        frames.append(objects((1, "car", car(x, 200)), *people))
    incidents = raised(feed(analyzer(gathering_min_people=3, gathering_radius=3.0), frames))
    assert [i.details["rule"] for i in incidents] == ["people_gather_at_stopped_vehicle"]


def test_thresholds_and_zones_are_per_camera() -> None:
    junction = camera()
    highway = CameraConfig(
        id="highway",
        url="y.mp4",
        incident_types=["accident"],
        thresholds=Thresholds(accident=AccidentThresholds(collision_min_overlap=0.9, min_speed=3.0)),
    )
    config = CitywatchConfig(cameras=[junction, highway])
    assert config.thresholds_for(highway).accident.collision_min_overlap == 0.9
    assert config.thresholds_for(junction).accident == AccidentThresholds()
    scenes = converging_then_stopped()
    for cam, expected in ((junction, 1), (highway, 0)):
        accident = create_analyzer(IncidentType.ACCIDENT, cam, config.thresholds_for(cam), {})
        assert len(raised(feed(accident, scenes))) == expected, cam.id
    # A zone that covers only the left half: the crash at x 320-460 has its cars' centres outside.
    left = camera(
        zones=[Zone(name="left", polygon=[(0, 0), (0.4, 0), (0.4, 1), (0, 1)], incident_types=["accident"])]
    )
    assert raised(feed(analyzer(cam=left), scenes)) == []


@pytest.fixture(scope="module")
def media():
    from citywatch.perception.detectors import load_detector
    from citywatch.perception.model_pack import ModelPack
    from citywatch.perception.second_stage import load_second_stage
    from citywatch.runtime.media_analysis import MediaAnalyzer

    settings = ModelSettings()
    return MediaAnalyzer(
        {"coco": load_detector(ModelPack.open(), "coco", settings)},
        {IncidentType.ACCIDENT},
        Thresholds(),
        models={name: load_second_stage(name, settings) for name in ("pose", "fall")},
    )


ACCIDENT_FRAME = "images/train/Accident/test7_30.jpg"  # clip test7: held out from tuning


@pytest.mark.slow
def test_a_real_accident_frame_raises_accident_through_the_cascade(media) -> None:
    report = media.analyse(datasets_dir() / "accident" / ACCIDENT_FRAME)
    assert {i.type for i in report.incidents} == {IncidentType.ACCIDENT}
    assert all(len(i.boxes) >= 1 for i in report.incidents)


@pytest.mark.slow
def test_a_street_video_with_cars_passing_close_raises_nothing(media, tmp_path) -> None:
    import av

    source = datasets_dir() / "streets" / "car-detection.mp4"
    clip = tmp_path / "cars-8s.mp4"
    with av.open(str(source)) as src, av.open(str(clip), "w") as dst:  # first 8 s, packets copied
        stream_in = src.streams.video[0]
        stream_out = dst.add_stream_from_template(stream_in)
        for packet in src.demux(stream_in):
            if packet.dts is None or packet.pts is None:
                continue
            if packet.pts * packet.time_base > 8:
                break
            packet.stream = stream_out
            dst.mux(packet)
    report = media.analyse(clip)
    assert len(report.frames) >= 14 and report.incidents == []
