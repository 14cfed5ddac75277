"""The fall-box spot rule (analytics.fall_spots) on hand-made boxes at 2 analysed frames a second."""

import numpy as np

from citywatch.analytics.fall_spots import CLEAR_AFTER_S, FallSpots
from citywatch.config import FallThresholds

STANDING = np.array([[300, 100, 340, 300]], np.float32)
LYING = np.array([[230, 250, 420, 310]], np.float32)  # on the floor where STANDING stood
ELSEWHERE = np.array([[20, 20, 60, 120]], np.float32)
NOBODY = np.zeros((0, 4), np.float32)
STEP = 0.5


def run(frames: list[tuple[np.ndarray, np.ndarray]], spots: FallSpots | None = None, start: float = 0.0):
    """(fall boxes, person boxes) per frame -> [(frame index, 'raised' | 'ended')]."""
    spots = spots or FallSpots(FallThresholds())
    events = []
    for index, (fall, people) in enumerate(frames):
        update = spots.update(start + index * STEP, fall, np.full(len(fall), 0.8, np.float32), people)
        events += [(index, "raised") for _ in update.raised] + [(index, "ended") for _ in update.ended]
    return events


def test_standing_then_lying_there_and_staying_down_raises_once() -> None:
    frames = [(NOBODY, STANDING)] * 3 + [(LYING, NOBODY)] * 8
    # Defaults: 2 of the last 3 frames with a fall box, the first at least 2 s old: frame 3 + 4.
    assert run(frames) == [(7, "raised")]


def test_someone_already_lying_when_first_seen_raises_nothing() -> None:
    assert run([(LYING, NOBODY)] * 12) == []
    # Standing somewhere else in the room does not count either.
    assert run([(NOBODY, ELSEWHERE)] * 3 + [(LYING, ELSEWHERE)] * 10) == []


def test_standing_too_long_before_lying_is_not_a_fall() -> None:
    gap = int(FallThresholds().max_fall_s / STEP) + 2
    assert run([(NOBODY, STANDING)] + [(NOBODY, NOBODY)] * gap + [(LYING, NOBODY)] * 8) == []


def test_a_brief_fall_box_raises_nothing() -> None:
    frames = [(NOBODY, STANDING)] * 3 + [(LYING, NOBODY)] * 2 + [(NOBODY, STANDING)] * 8
    assert run(frames) == []


def test_the_episode_ends_after_the_fall_boxes_stop_and_a_new_fall_raises_again() -> None:
    spots = FallSpots(FallThresholds())
    quiet = int(CLEAR_AFTER_S / STEP) + 2
    frames = [(NOBODY, STANDING)] * 2 + [(LYING, NOBODY)] * 6 + [(NOBODY, STANDING)] * quiet
    first = run(frames, spots)
    assert [e for _, e in first] == ["raised", "ended"]
    again = run([(LYING, NOBODY)] * 6, spots, start=len(frames) * STEP)
    assert again == [(4, "raised")]
    assert len(spots.spots) == 1


def test_spots_follow_a_box_that_moves_a_little() -> None:
    drifting = [(LYING + np.array([i * 3, 0, i * 3, 0], np.float32), NOBODY) for i in range(8)]
    assert run([(NOBODY, STANDING)] * 2 + drifting) == [(6, "raised")]


def test_a_spot_cleared_behind_another_is_forgotten_without_error() -> None:
    """The held-out compilation's case: two spots, the second one goes stale while the first is still
    seen. Removing it compared the first spot's numpy box with `==` (ValueError), so that camera's fall
    analyzer raised on every later frame."""
    spots = FallSpots(FallThresholds())
    both = np.concatenate([LYING, ELSEWHERE])
    run([(both, NOBODY)] * 2, spots)
    steps = int(CLEAR_AFTER_S / STEP) + 2
    run([(LYING, NOBODY)] * steps, spots, start=2 * STEP)  # ELSEWHERE is not seen again
    assert [s.box.tolist() for s in spots.spots] == LYING.tolist()
