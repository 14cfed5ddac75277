"""The analytics sampler, on the frame timestamps of real camera rates."""

import itertools

import pytest

from citywatch.video.sampler import Sampler


def sampled(fps: float, timestamps: list[float]) -> list[float]:
    sampler = Sampler(fps)
    return [t for t in timestamps if sampler.due(t)]


@pytest.mark.parametrize("source_fps", [10, 12.5, 25, 29.97])
def test_rate_is_right_whatever_the_source_rate(source_fps: float) -> None:
    timestamps = [1000 + i / source_fps for i in range(int(20 * source_fps))]  # 20 s
    kept = sampled(2, timestamps)
    assert len(kept) in (40, 41)
    assert kept[0] == timestamps[0]  # the first frame is always due
    assert min(b - a for a, b in itertools.pairwise(kept)) >= 0.25


def test_never_more_than_fps_per_second_in_any_window() -> None:
    timestamps = [i * 0.04 for i in range(500)]  # 25 fps for 20 s
    kept = sampled(3, timestamps)
    for i, start in enumerate(kept):
        within_a_second = [t for t in kept[i:] if t < start + 1]
        assert len(within_a_second) <= 3 + 1


def test_a_slower_source_passes_whole() -> None:
    timestamps = [i * 1.0 for i in range(10)]
    assert sampled(2, timestamps) == timestamps


def test_after_a_gap_no_burst_to_catch_up() -> None:
    # 0.99 is late for the 0.5 slot; 1.0 (the 1.0 slot) would follow it at once, so the next due
    # frame is at least half a step later; then the grid goes on (1.5 is too close, 2.0 is due).
    kept = sampled(2, [0.0, 0.1, 0.99, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0])
    assert kept == [0.0, 0.99, 1.3, 1.6, 2.0]


def test_a_long_gap_starts_the_grid_again() -> None:
    assert sampled(2, [0.0, 5.2, 5.5, 5.7, 6.0]) == [0.0, 5.2, 5.7]


def test_clock_set_back_starts_again() -> None:
    kept = sampled(1, [100.0, 100.5, 101.0, 50.0, 50.5, 51.0])
    assert kept == [100.0, 101.0, 50.0, 51.0]


def test_fps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Sampler(0)
