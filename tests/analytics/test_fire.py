"""The fire analyzer's temporal rules and its pass schedule, on hand-made detections (the model is
tested in perception/, the schedule on real video in perception/test_triggers.py)."""

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput, thresholds_at_frame_rate
from citywatch.analytics.catalog import create_analyzer
from citywatch.analytics.fire import FIRE_ROLE, fire_schedules
from citywatch.config import CameraConfig, FireThresholds, Thresholds, Zone
from citywatch.domain.incident import IncidentEnded, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.runtime.cascade import Cascade
from citywatch.video.frame import Frame

IMAGE = np.zeros((100, 200, 3), np.uint8)


def detections(*boxes: tuple[str, float, tuple[float, float, float, float]]) -> sv.Detections:
    if not boxes:
        return sv.Detections.empty()
    names = [b[0] for b in boxes]
    return sv.Detections(
        xyxy=np.array([b[2] for b in boxes], dtype=np.float32),
        confidence=np.array([b[1] for b in boxes], dtype=np.float32),
        class_id=np.array([0 if n == "smoke" else 1 for n in names]),
        data={"class_name": np.array(names)},
    )


def analyzer(zones: list[Zone] | None = None, **fire: float):
    camera = CameraConfig(id="cam", url="x.mp4", incident_types=["fire"], zones=zones or [])
    return create_analyzer(IncidentType.FIRE, camera, Thresholds(fire=FireThresholds(**fire)))


def feed(fire_analyzer, sequence, start: float = 1000.0, step: float = 0.5):
    events = []
    for i, dets in enumerate(sequence):
        frame = Frame("cam", i, start + i * step, IMAGE)
        events.extend((i, e) for e in fire_analyzer.update(AnalysisInput(frame, {FIRE_ROLE: dets})))
    return events


SMOKE = detections(("smoke", 0.8, (10, 10, 50, 50)))
FIRE = detections(("fire", 0.9, (60, 20, 90, 60)), ("smoke", 0.6, (10, 10, 50, 50)))
NONE = detections()


def test_one_incident_per_episode_after_persistence() -> None:
    events = feed(
        analyzer(persist_frames=3, window_frames=5), [SMOKE, NONE, SMOKE, SMOKE, SMOKE, SMOKE, SMOKE]
    )
    raised = [(i, e) for i, e in events if isinstance(e, IncidentRaised)]
    assert len(raised) == 1
    index, event = raised[0]
    assert index == 3
    incident = event.incident
    assert incident.type is IncidentType.FIRE and incident.subtype == "smoke"
    assert incident.frame_index == 3 and incident.started_at == 1001.5
    assert incident.confidence == np.float32(0.8)
    assert [b.label for b in incident.boxes] == ["smoke"]
    assert incident.frame is IMAGE


def test_fire_outranks_smoke_and_takes_its_confidence() -> None:
    events = feed(analyzer(persist_frames=2, window_frames=3), [SMOKE, FIRE])
    ((_, event),) = events
    assert event.incident.subtype == "fire"
    assert event.incident.confidence == np.float32(0.9)
    assert sorted(b.label for b in event.incident.boxes) == ["fire", "smoke"]


def test_isolated_flickers_raise_nothing() -> None:
    assert feed(analyzer(persist_frames=3, window_frames=5), [SMOKE, NONE, NONE] * 6) == []


def test_low_confidence_ignored() -> None:
    weak = detections(("fire", 0.2, (0, 0, 10, 10)))
    assert feed(analyzer(min_confidence=0.4, persist_frames=1, window_frames=1), [weak] * 5) == []


def test_smoke_needs_its_own_higher_confidence() -> None:
    grey = detections(("smoke", 0.55, (0, 0, 50, 50)), ("fire", 0.3, (60, 0, 70, 10)))
    settings = {"persist_frames": 1, "window_frames": 1, "min_confidence": 0.4}
    assert feed(analyzer(smoke_min_confidence=0.6, **settings), [grey]) == []
    ((_, event),) = feed(analyzer(smoke_min_confidence=0.5, **settings), [grey])
    assert event.incident.subtype == "smoke" and [b.label for b in event.incident.boxes] == ["smoke"]
    flames = detections(("fire", 0.45, (60, 0, 70, 10)))
    ((_, event),) = feed(analyzer(smoke_min_confidence=0.9, **settings), [flames])
    assert event.incident.subtype == "fire"


def test_episode_ends_after_clear_time_and_a_new_one_starts() -> None:
    sequence = [SMOKE] * 3 + [NONE] * 30 + [SMOKE] * 3  # 0.5 s a frame: 15 s without smoke
    events = feed(analyzer(persist_frames=2, window_frames=3, clear_after_s=10), sequence)
    kinds = [type(e).__name__ for _, e in events]
    assert kinds == ["IncidentRaised", "IncidentEnded", "IncidentRaised"]
    first, ended = events[0][1], events[1][1]
    assert isinstance(ended, IncidentEnded) and ended.incident_id == first.incident.id
    assert events[2][1].incident.id != first.incident.id


def test_zone_limits_where_fire_counts() -> None:
    left_half = Zone(name="left", polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)])
    right_fire = detections(("fire", 0.9, (150, 10, 190, 50)))
    left_fire = detections(("fire", 0.9, (10, 10, 50, 50)))
    assert feed(analyzer([left_half], persist_frames=1, window_frames=1), [right_fire] * 3) == []
    assert len(feed(analyzer([left_half], persist_frames=1, window_frames=1), [left_fire])) == 1


def test_persistence_means_the_same_seconds_at_any_analysed_frame_rate() -> None:
    """4 of 6 frames at 2 fps is 10 of 15 at 5 fps: a camera analysing faster for fights does
    not raise fire on a sighting 2.5 times shorter (smoke on asphalt did, at 5 fps)."""
    thresholds = Thresholds(fire=FireThresholds(persist_frames=4, window_frames=6))
    camera = CameraConfig(id="cam", url="x.mp4", incident_types=["fire"], analytics_fps=5)

    def at_5_fps(sequence):
        fire = create_analyzer(IncidentType.FIRE, camera, thresholds_at_frame_rate(thresholds, 5))
        return feed(fire, sequence, step=0.2)

    assert feed(create_analyzer(IncidentType.FIRE, camera, thresholds), [SMOKE] * 4) != []  # 2 s at 2 fps
    assert at_5_fps([SMOKE] * 4 + [NONE] * 11) == []  # 0.8 s at 5 fps
    raised = [i for i, e in at_5_fps([SMOKE] * 10) if isinstance(e, IncidentRaised)]
    assert raised == [9]  # 2 s at 5 fps


def scheduled(sequence, fps: float = 2.0, **fire: float) -> tuple[list[int], list[bool]]:
    """`sequence` (what the detector would find on each frame) through the cascade with the fire
    schedule: (frames an incident was raised on, frames the pass ran on)."""
    thresholds = thresholds_at_frame_rate(Thresholds(fire=FireThresholds(**fire)), fps)
    camera = CameraConfig(id="cam", url="x.mp4", incident_types=["fire"], analytics_fps=fps)
    cascade = Cascade(
        [create_analyzer(IncidentType.FIRE, camera, thresholds)], fps, fire_schedules(thresholds.fire, fps)
    )
    raised, ran = [], []
    for i, found in enumerate(sequence):
        frame = Frame("cam", i, 1000.0 + i / fps, IMAGE)
        roles, left_out = cascade.plan(frame.timestamp)
        ran.append(FIRE_ROLE in roles)
        detections = {FIRE_ROLE: found} if FIRE_ROLE in roles else {}
        raised += [i for e in cascade.analyse(frame, detections, left_out) if isinstance(e, IncidentRaised)]
    return raised, ran


def test_a_calm_camera_gets_the_fire_pass_once_a_second_at_any_frame_rate() -> None:
    assert scheduled([NONE] * 8)[1] == [True, False] * 4
    assert scheduled([NONE] * 10, fps=5)[1] == [True, False, False, False, False] * 2
    assert all(scheduled([NONE] * 8, check_every_s=0)[1])


def test_a_sighting_puts_every_frame_under_the_rule_so_it_raises_at_most_a_second_later() -> None:
    smoke_from_frame_3 = [NONE] * 3 + [SMOKE] * 8
    every_frame, ran = scheduled(smoke_from_frame_3, check_every_s=0)
    assert every_frame == [6] and all(ran)  # 4 of 6 at 2 fps: frames 3-6
    raised, ran = scheduled(smoke_from_frame_3)
    assert raised == [7]  # first seen on frame 4 (frame 3 was not looked at), then frames 4-7
    assert ran == [True, False, True, False] + [True] * 7


def test_the_schedule_raises_nothing_the_every_frame_rule_would_not() -> None:
    """Smoke on every other frame is 3 of 6, never 4: a schedule that saw only the sightings and
    held them would raise; here each sighting makes the pass run on every frame, and both agree."""
    flicker = [SMOKE, NONE] * 12
    assert scheduled(flicker, check_every_s=0)[0] == []
    raised, ran = scheduled(flicker)
    assert raised == [] and all(ran)
    assert scheduled([NONE, SMOKE] * 12) == ([], [True, False] * 12)  # never looked at


def test_smoke_below_what_the_rule_counts_does_not_hold_the_pass_on() -> None:
    faint = detections(("smoke", 0.2, (10, 10, 50, 50)))  # below both confidences
    assert scheduled([faint] * 6)[1] == [True, False] * 3


def test_a_still_scene_analysed_seconds_apart_gets_the_pass_on_every_frame() -> None:
    """The motion gate sends a still scene's frames 10 s apart (video.motion): every one of them
    is more than a second after the last pass."""
    assert scheduled([NONE] * 4, fps=0.1)[1] == [True] * 4
