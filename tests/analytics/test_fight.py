"""The fight features on hand-made pose sequences, the episode rule on hand-made probabilities,
then the real cascade (COCO + MoveNet + the bundled classifier) on a real fight clip and on a
stretch of a street video."""

import numpy as np
import pytest
import supervision as sv

from citywatch.analytics.base import AnalysisInput
from citywatch.analytics.base import relaxed_for_single_frame as relaxed
from citywatch.analytics.catalog import create_analyzer
from citywatch.analytics.fight import FightEpisodes
from citywatch.analytics.fight_features import (
    FEATURE_NAMES,
    FightFeatureExtractor,
    GroupSettings,
    candidate_people,
    find_groups,
)
from citywatch.config import CameraConfig, FightThresholds, Thresholds
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.pose import KEYPOINT, NUM_KEYPOINTS, Poses
from citywatch.video.frame import Frame

STEP = 0.2  # 5 analysed frames a second
GREY = np.zeros((180, 320), np.uint8)  # the motion image of a 640 x 360 frame
WRIST_SPEED = FEATURE_NAMES.index("wrist_speed_mean")
ELBOW_SPEED = FEATURE_NAMES.index("elbow_speed_mean")
PEOPLE = FEATURE_NAMES.index("people")
MAX_IOU = FEATURE_NAMES.index("max_iou")
MOTION = FEATURE_NAMES.index("motion_mean")


def skeleton(box: np.ndarray, swing: float = 0.0) -> np.ndarray:
    """[17, 2] keypoints of an upright person in `box`; wrists and elbows pushed sideways by
    `swing` box widths (a punch)."""
    x1, y1, x2, y2 = box
    t = np.linspace(0.05, 0.95, NUM_KEYPOINTS)
    points = np.stack([np.full(NUM_KEYPOINTS, (x1 + x2) / 2), y1 + t * (y2 - y1)], axis=1)
    for name in ("left_wrist", "right_wrist", "left_elbow", "right_elbow"):
        points[KEYPOINT[name], 0] += swing * (x2 - x1) * (1.0 if "wrist" in name else 0.5)
    return points


def pose_for(swing: float):
    def pose(boxes: np.ndarray) -> Poses:
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        return Poses(
            np.array([skeleton(b, swing) for b in boxes], np.float32).reshape(-1, NUM_KEYPOINTS, 2),
            np.full((len(boxes), NUM_KEYPOINTS), 0.9, np.float32),
            boxes,
            np.full(len(boxes), 0.9, np.float32),
        )

    return pose


def run(frames: list[tuple[np.ndarray, float, np.ndarray]]) -> list[list]:
    """Feed (boxes [2, 4], wrist swing, grey image) frames of tracks 1 and 2; groups per frame."""
    extractor = FightFeatureExtractor()
    out = []
    for i, (boxes, swing, grey) in enumerate(frames):
        out.append(extractor.update(100 + i * STEP, boxes, np.array([1, 2]), grey, 640, pose_for(swing)))
    return out


def close_pair(shift: float = 0.0) -> np.ndarray:
    return np.array([[200 - shift, 100, 260 - shift, 300], [240 + shift, 100, 300 + shift, 300]], np.float64)


def noise_in(boxes: np.ndarray, seed: int) -> np.ndarray:
    grey = GREY.copy()
    for x1, y1, x2, y2 in boxes.astype(int) // 2:
        grey[y1:y2, x1:x2] = np.random.default_rng(seed).integers(0, 255, (y2 - y1, x2 - x1))
    return grey


def test_two_close_people_with_fast_wrists_vs_two_walking_apart() -> None:
    fighting = run([(close_pair(), (-1) ** i * 0.8, noise_in(close_pair(), i)) for i in range(8)])
    assert all(len(groups) == 1 for groups in fighting)
    features = fighting[-1][0].features
    assert fighting[-1][0].track_ids == (1, 2) and features[PEOPLE] == 2 and features[MAX_IOU] > 0.1
    assert features[WRIST_SPEED] > 2.0 and features[ELBOW_SPEED] > 1.0  # body heights a second
    assert features[MOTION] > 0.2

    walking = run([(close_pair(shift=25 * i), 0.0, GREY) for i in range(8)])
    assert len(walking[0]) == 1 and walking[-1] == []  # together at first, then too far apart
    first_features = walking[1][0].features
    assert first_features[WRIST_SPEED] < 0.05 and first_features[MOTION] == 0
    assert max(len(g) for g in walking[3:]) == 0


def test_groups_need_closeness_and_similar_size() -> None:
    settings = GroupSettings()
    near_far = np.array([[0, 0, 50, 200], [40, 100, 55, 140]], float)  # a far-away person behind
    apart = np.array([[0, 0, 50, 200], [200, 0, 250, 200]], float)
    three = np.array([[0, 0, 50, 200], [45, 0, 95, 200], [90, 0, 140, 200], [400, 0, 450, 200]], float)
    assert find_groups(near_far, settings) == [] and find_groups(apart, settings) == []
    assert [g.tolist() for g in find_groups(three, settings)] == [[0, 1, 2]]


def test_whole_frame_people_add_to_the_detected_ones() -> None:
    detections = sv.Detections(
        xyxy=np.array([[0, 0, 50, 200], [300, 0, 350, 40]], np.float32),
        confidence=np.array([0.6, 0.9], np.float32),
        class_id=np.array([0, 2]),
        data={"class_name": np.array(["person", "car"])},
    )
    frame_people = pose_for(0.0)(np.array([[2, 0, 52, 200], [100, 0, 150, 200]], np.float32))
    boxes = candidate_people(detections, frame_people, 0.25, 0.15)
    assert boxes.tolist() == [[0, 0, 50, 200], [100, 0, 150, 200]]


def episodes_run(probabilities: list[float], settings: FightThresholds) -> list[tuple[int, str]]:
    rule, events = FightEpisodes(settings), []
    boxes = close_pair().astype(np.float32)
    for i, p in enumerate(probabilities):
        update = rule.update(i * STEP, np.array([1, 2]), [(1, 2)], [boxes], np.array([p]))
        events += [(i, "raised") for _ in update.raised] + [(i, "ended") for _ in update.ended]
    return events


def test_one_incident_per_episode_and_a_new_one_after_it_ends() -> None:
    settings = FightThresholds(persist_frames=2, window_frames=3, min_probability=0.5, end_after_s=2.0)
    fight = [0.1, 0.9, 0.2, 0.8] + [0.9, 0.3] * 10  # raised at frame 3 (2 of the last 3), then on and off
    calm = [0.1] * 12  # 2.4 s without fighting ends it
    events = episodes_run(fight + calm + fight, settings)
    first_end = len(fight) - 2 + 11  # 2.2 s after the last fighting frame (0.9 at len(fight) - 2)
    assert events == [(3, "raised"), (first_end, "ended"), (len(fight) + len(calm) + 3, "raised")]
    assert episodes_run([0.9, 0.1, 0.1, 0.9, 0.1, 0.1] * 5, settings) == []  # 1 of 3 never raises


def test_a_still_image_never_raises_a_fight() -> None:
    camera = CameraConfig(id="cam", url="x.jpg", incident_types=["fight"])
    thresholds = relaxed(Thresholds())
    assert thresholds.fight.persist_frames == 1 and thresholds.fight.window_frames == 1
    analyzer = create_analyzer(IncidentType.FIGHT, camera, thresholds, {"pose": object(), "fight": object()})
    image = Frame("cam", 0, 0.0, np.zeros((360, 640, 3), np.uint8))
    assert analyzer.update(AnalysisInput(image, {"coco": sv.Detections.empty()})) == []


def test_the_analyzer_needs_its_models() -> None:
    camera = CameraConfig(id="cam", url="x.mp4", incident_types=["fight"])
    with pytest.raises(ValueError, match=r"cam.*\['fight'\]"):
        create_analyzer(IncidentType.FIGHT, camera, Thresholds(), {"pose": object()})


# Clips the source-video cross-validation of `python -m citywatch.training.fight` judged right.
FIGHT_CLIP = "clips/fi026.mp4"
CALM_CLIP = "clips/nofi002.mp4"
STREET = "streets/one-by-one-person-detection.mp4"
STREET_SEGMENT_S = (79.0, 87.0)  # two people in view the whole time


class Recording:
    """The real fight classifier, remembering the highest probability it gave."""

    def __init__(self, classifier) -> None:
        self.classifier, self.highest = classifier, 0.0

    def probability(self, features: np.ndarray) -> np.ndarray:
        probability = self.classifier.probability(features)
        self.highest = max([self.highest, *probability.tolist()])
        return probability


@pytest.fixture(scope="module")
def cascade():
    from citywatch.config import ModelSettings
    from citywatch.perception.detectors import load_detector
    from citywatch.perception.fight_classifier import load_fight_classifier
    from citywatch.perception.model_pack import ModelPack
    from citywatch.perception.pose import load_pose_estimator

    settings = ModelSettings()
    detector = load_detector(ModelPack.open(), "coco", settings)
    return detector, load_pose_estimator(settings), load_fight_classifier(settings)


def analyse(cascade, path):
    from citywatch.analytics.fight_features import FIGHT_FPS
    from citywatch.runtime.media_analysis import MediaAnalyzer

    detector, pose, classifier = cascade
    recording = Recording(classifier)
    media = MediaAnalyzer(
        {"coco": detector},
        {IncidentType.FIGHT},
        Thresholds(),
        analytics_fps=FIGHT_FPS,
        models={"pose": pose, "fight": recording},
    )
    return media.analyse(path), recording.highest


@pytest.mark.slow
def test_a_real_fight_clip_raises_once_and_a_calm_one_does_not(cascade) -> None:
    from citywatch.paths import datasets_dir

    fight, fight_probability = analyse(cascade, datasets_dir() / "fight" / FIGHT_CLIP)
    calm, calm_probability = analyse(cascade, datasets_dir() / "fight" / CALM_CLIP)
    assert fight_probability > calm_probability
    assert [i.type for i in fight.incidents] == [IncidentType.FIGHT]
    incident = fight.incidents[0]
    assert len(incident.boxes) >= 2 and incident.started_at <= 2.0
    assert incident.confidence >= Thresholds().fight.min_probability
    assert calm.incidents == []


@pytest.mark.slow
def test_no_fight_on_a_street_video_segment(cascade, tmp_path) -> None:
    import av

    from citywatch.paths import datasets_dir

    segment = tmp_path / "street.mp4"
    start, end = STREET_SEGMENT_S
    with av.open(str(datasets_dir() / STREET)) as source, av.open(str(segment), "w") as target:
        stream = target.add_stream("libx264", rate=10)
        stream.pix_fmt = "yuv420p"
        stream.width, stream.height = source.streams.video[0].width, source.streams.video[0].height
        for frame in source.decode(video=0):
            if frame.time is None or frame.time < start:
                continue
            if frame.time >= end:
                break
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"))):
                target.mux(packet)
        for packet in stream.encode():
            target.mux(packet)
    report, _ = analyse(cascade, segment)
    assert len(report.frames) >= 35 and report.incidents == []
