"""The fight rule on a model whose scores the test sets (people in view, persistence, one incident
per episode, gaps, still images), then the real cascade (COCO + the bundled fight clip model) on
real fight clips and on a stretch of a street video."""

import numpy as np
import pytest
import supervision as sv

from citywatch.analytics.base import AnalysisInput
from citywatch.analytics.base import relaxed_for_single_frame as relaxed
from citywatch.analytics.catalog import create_analyzer
from citywatch.config import CameraConfig, Thresholds
from citywatch.domain.incident import IncidentEnded, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.fight_clip import CLIP_FPS, WINDOW
from citywatch.video.frame import Frame

STEP = 1.0 / CLIP_FPS
CAMERA = CameraConfig(id="cam", url="x.mp4", incident_types=["fight"], analytics_fps=CLIP_FPS)
TWO_PEOPLE = [(100, 100, 200, 300), (180, 110, 280, 310)]


class ScriptedModel:
    """Encodes nothing; scores what the test says; counts the windows it was asked to score."""

    def __init__(self, score: float) -> None:
        self.score_value, self.scored = score, 0

    def encode(self, picture: np.ndarray) -> np.ndarray:
        return np.zeros((128, 12, 20), np.float32)

    def score(self, window: np.ndarray) -> float:
        assert window.shape == (WINDOW, 128, 12, 20)
        self.scored += 1
        return self.score_value


def people(boxes: list[tuple[int, int, int, int]]) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), 0.8, np.float32),
        class_id=np.zeros(len(boxes), int),
        data={"class_name": np.array(["person"] * len(boxes))},
    )


def feed(analyzer, count: int, boxes=TWO_PEOPLE, start: float = 0.0, index: int = 0) -> list:
    """`count` analysed frames at CLIP_FPS from `start`; (frame number, event) of each event."""
    events = []
    rng = np.random.default_rng(index)
    for n in range(count):
        image = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
        frame = Frame("cam", index + n, start + n * STEP, image)
        events += [(n, e) for e in analyzer.update(AnalysisInput(frame, {"coco": people(boxes)}))]
    return events


def analyzer_with(score: float, thresholds: Thresholds | None = None):
    model = ScriptedModel(score)
    return create_analyzer(
        IncidentType.FIGHT, CAMERA, thresholds or Thresholds(), {"fight_clip": model}
    ), model


def test_a_fight_raises_once_after_the_window_fills_and_persists() -> None:
    analyzer, _ = analyzer_with(0.999)
    events = feed(analyzer, 12)
    raised = [(n, e) for n, e in events if isinstance(e, IncidentRaised)]
    # The first score comes with the WINDOW-th frame, the incident with the second fighting one.
    assert [n for n, _ in raised] == [WINDOW]
    incident = raised[0][1].incident
    assert incident.type == IncidentType.FIGHT and incident.started_at == pytest.approx(WINDOW * STEP)
    assert [b.label for b in incident.boxes] == ["person", "person"]
    assert incident.details["people"] == 2


def test_scores_below_the_operating_point_raise_nothing() -> None:
    analyzer, model = analyzer_with(Thresholds().fight.min_probability - 0.01)
    assert feed(analyzer, 20) == [] and model.scored == 20 - WINDOW + 1


def test_the_model_does_not_run_without_people_in_view() -> None:
    analyzer, model = analyzer_with(0.999)
    assert feed(analyzer, 20, boxes=[]) == []
    assert model.scored == 0


def test_min_people_two_needs_two_people_in_one_frame_of_the_window() -> None:
    fight = Thresholds().fight.model_copy(update={"min_people": 2})
    analyzer, model = analyzer_with(0.999, Thresholds().model_copy(update={"fight": fight}))
    assert feed(analyzer, 20, boxes=TWO_PEOPLE[:1]) == [] and model.scored == 0
    assert len(feed(analyzer, 3, start=20 * STEP, index=20)) == 1  # a second person steps in


def test_the_episode_ends_after_a_quiet_spell_and_a_new_fight_raises_again() -> None:
    fight = Thresholds().fight
    analyzer, model = analyzer_with(0.999)
    first = feed(analyzer, 10)
    model.score_value = 0.0
    quiet_frames = int(fight.end_after_s * CLIP_FPS) + 2
    quiet = feed(analyzer, quiet_frames, start=10 * STEP, index=10)
    ended = [e for _, e in quiet if isinstance(e, IncidentEnded)]
    raised = [e for _, e in first if isinstance(e, IncidentRaised)]
    assert len(raised) == 1 and [e.incident_id for e in ended] == [raised[0].incident.id]
    assert ended[0].ended_at == pytest.approx(9 * STEP)  # the last fighting frame
    model.score_value = 0.999
    again = feed(analyzer, 10, start=(10 + quiet_frames) * STEP, index=10 + quiet_frames)
    assert len([e for _, e in again if isinstance(e, IncidentRaised)]) == 1


def test_a_gap_in_the_frames_starts_the_window_again() -> None:
    analyzer, model = analyzer_with(0.999)
    feed(analyzer, WINDOW - 1)
    # 2 s without frames (a dropped camera): the jump is not motion, the window refills first.
    assert feed(analyzer, WINDOW - 1, start=(WINDOW - 1) * STEP + 2.0, index=WINDOW) == []
    assert model.scored == 0


def test_nobody_boxed_gives_the_region_that_moved() -> None:
    thresholds = Thresholds().model_copy(
        update={"fight": Thresholds().fight.model_copy(update={"min_people": 0})}
    )
    analyzer, _ = analyzer_with(0.999, thresholds)
    raised = [e for _, e in feed(analyzer, 10, boxes=[]) if isinstance(e, IncidentRaised)]
    assert [b.label for b in raised[0].incident.boxes] == ["motion"]


def test_a_still_image_never_raises_a_fight() -> None:
    analyzer, model = analyzer_with(0.999, relaxed(Thresholds()))
    assert feed(analyzer, 10) == [] and model.scored == 0


def test_the_analyzer_needs_its_model() -> None:
    with pytest.raises(ValueError, match=r"cam.*'fight_clip'"):
        create_analyzer(IncidentType.FIGHT, CAMERA, Thresholds(), {})


# Clips the grouped cross-validation of `python -m citywatch.training.fight_clip` judged right at
# the default operating point (its out-of-fold scores; docs/ACCURACY.md).
FIGHT_CLIPS = ("clips/fi026.mp4",)
CALM_CLIPS = ("clips/nofi002.mp4",)
STREET = "streets/one-by-one-person-detection.mp4"
STREET_SEGMENT_S = (79.0, 87.0)  # two people in view the whole time


@pytest.fixture(scope="module")
def cascade():
    from citywatch.config import ModelSettings
    from citywatch.perception.detectors import load_detector
    from citywatch.perception.fight_clip import load_fight_clip_model
    from citywatch.perception.model_pack import ModelPack

    settings = ModelSettings()
    return load_detector(ModelPack.open(), "coco", settings), load_fight_clip_model(settings)


def analyse(cascade, path):
    from citywatch.runtime.media_analysis import MediaAnalyzer

    detector, model = cascade
    media = MediaAnalyzer(
        {"coco": detector},
        {IncidentType.FIGHT},
        Thresholds(),
        analytics_fps=CLIP_FPS,
        models={"fight_clip": model},
    )
    return media.analyse(path)


@pytest.mark.slow
@pytest.mark.parametrize("clip", FIGHT_CLIPS)
def test_a_real_fight_clip_raises_once_within_two_seconds(cascade, clip) -> None:
    from citywatch.paths import datasets_dir

    report = analyse(cascade, datasets_dir() / "fight" / clip)
    assert [i.type for i in report.incidents] == [IncidentType.FIGHT]
    incident = report.incidents[0]
    assert incident.started_at <= 2.0 and incident.confidence >= Thresholds().fight.min_probability


@pytest.mark.slow
@pytest.mark.parametrize("clip", CALM_CLIPS)
def test_a_calm_clip_raises_nothing(cascade, clip) -> None:
    from citywatch.paths import datasets_dir

    assert analyse(cascade, datasets_dir() / "fight" / clip).incidents == []


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
    report = analyse(cascade, segment)
    assert len(report.frames) >= 35 and report.incidents == []
