"""The motion gate on real street footage (static stretches, then cars driving through)."""

import itertools
from pathlib import Path

import av
import numpy as np
import pytest

from citywatch.config import MotionSettings
from citywatch.paths import datasets_dir
from citywatch.video.frame import Frame
from citywatch.video.motion import MotionGate, MotionResult


@pytest.fixture(scope="module")
def street_frames() -> list[Frame]:
    """The first 110 frames of the street video at their real 12.5 fps timestamps. Frames 0-55 show
    an empty street; from about frame 56 cars drive through."""
    path: Path = datasets_dir() / "streets" / "car-detection.mp4"
    with av.open(str(path)) as container:
        pictures = itertools.islice(container.decode(video=0), 110)
        images = [picture.to_ndarray(format="bgr24") for picture in pictures]
    return [Frame("street", i, 1000 + i * 0.08, image) for i, image in enumerate(images)]


def test_static_frame_is_skipped_and_a_changed_one_analysed(street_frames: list[Frame]) -> None:
    gate = MotionGate(MotionSettings())
    still, moved = street_frames[10], street_frames[80]
    first = gate.check(still)
    assert first == MotionResult(moving=False, changed_fraction=0.0, forced=True)  # nothing to compare
    again = Frame("street", 11, still.timestamp + 0.08, still.image.copy())
    assert gate.check(again) == MotionResult(moving=False, changed_fraction=0.0, forced=False)
    assert not gate.check(again).analyse
    changed = gate.check(Frame("street", 12, still.timestamp + 0.16, moved.image))
    assert changed.moving and changed.analyse and not changed.forced
    assert changed.changed_fraction > 0.01


def test_over_a_real_sequence(street_frames: list[Frame]) -> None:
    gate = MotionGate(MotionSettings(full_check_every_s=2))
    results = [gate.check(f) for f in street_frames]
    assert not any(r.moving for r in results[:55])
    assert all(r.moving for r in results[64:100])
    # No motion: a full check every 2 s of frame time (25 frames at 12.5 fps) keeps the camera seen.
    assert [i for i, r in enumerate(results[:55]) if r.forced] == [0, 25, 50]


def test_noise_below_the_pixel_threshold_is_not_motion(street_frames: list[Frame]) -> None:
    gate = MotionGate(MotionSettings(pixel_threshold=25))
    image = street_frames[10].image
    gate.check(street_frames[10])
    noisy = np.clip(image.astype(np.int16) + np.random.default_rng(0).integers(-10, 11, image.shape), 0, 255)
    result = gate.check(Frame("street", 11, 1001.0, noisy.astype(np.uint8)))
    assert not result.moving


def test_disabled_gate_passes_every_frame(street_frames: list[Frame]) -> None:
    gate = MotionGate(MotionSettings(enabled=False))
    assert all(gate.check(f).analyse for f in street_frames[:20])


def test_a_new_resolution_is_analysed(street_frames: list[Frame]) -> None:
    gate = MotionGate(MotionSettings())
    gate.check(street_frames[0])
    gate.check(street_frames[1])
    smaller = Frame("street", 2, street_frames[2].timestamp, street_frames[2].image[::2, ::3].copy())
    assert gate.check(smaller).forced
