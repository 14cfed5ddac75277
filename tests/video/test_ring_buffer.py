"""The evidence ring buffer: thinning, age limit, lookups, and use from two threads."""

import threading

import numpy as np
import pytest

from citywatch.video.frame import Frame
from citywatch.video.ring_buffer import RingBuffer

PIXELS = np.zeros((2, 2, 3), dtype=np.uint8)


def frame(index: int, timestamp: float) -> Frame:
    return Frame("cam", index, timestamp, PIXELS)


def fill(buffer: RingBuffer, fps: float, seconds: float, start: float = 1000.0) -> list[Frame]:
    frames = [frame(i, start + i / fps) for i in range(round(seconds * fps))]
    for f in frames:
        buffer.append(f)
    return frames


def test_keeps_the_last_seconds_at_the_buffer_rate() -> None:
    buffer = RingBuffer(seconds=5, fps=10)
    offered = fill(buffer, fps=25, seconds=20)
    kept = buffer.frames_between(0, 2000)
    assert len(buffer) == len(kept) in (50, 51)  # bounded by seconds * fps + 1
    assert kept[-1] is offered[-1] or offered[-1].timestamp - kept[-1].timestamp < 0.1
    assert buffer.latest_timestamp == kept[-1].timestamp
    assert kept[-1].timestamp - kept[0].timestamp <= 5
    assert [f.timestamp for f in kept] == sorted(f.timestamp for f in kept)


def test_a_12_5_fps_camera_kept_at_10_fps_keeps_10_a_second() -> None:
    buffer = RingBuffer(seconds=4, fps=10)
    fill(buffer, fps=12.5, seconds=10)
    assert len(buffer) in (40, 41)


def test_frames_between_is_inclusive_and_oldest_first() -> None:
    buffer = RingBuffer(seconds=10, fps=10)
    fill(buffer, fps=10, seconds=3)  # timestamps 1000.0, 1000.1, ... 1002.9
    between = buffer.frames_between(1001.0, 1001.5)
    assert [f.index for f in between] == [10, 11, 12, 13, 14, 15]
    assert buffer.frames_between(2000, 3000) == []


def test_empty_buffer() -> None:
    buffer = RingBuffer(seconds=5, fps=10)
    assert len(buffer) == 0
    assert buffer.latest_timestamp is None
    assert buffer.frames_between(0, 1e12) == []


def test_clock_set_back_starts_a_fresh_buffer() -> None:
    buffer = RingBuffer(seconds=5, fps=10)
    fill(buffer, fps=10, seconds=2, start=1000)
    buffer.append(frame(99, 500.0))
    assert [f.index for f in buffer.frames_between(0, 2000)] == [99]


def test_writer_and_readers_on_different_threads() -> None:
    buffer = RingBuffer(seconds=1, fps=100)
    done = threading.Event()
    errors: list[str] = []

    def read() -> None:
        while not done.is_set():
            frames = buffer.frames_between(0, 1e9)
            if [f.index for f in frames] != sorted(f.index for f in frames) or len(frames) > 101:
                errors.append(f"{len(frames)} frames, out of order or too many")

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    fill(buffer, fps=200, seconds=50)
    done.set()
    for reader in readers:
        reader.join()
    assert errors == []
    assert len(buffer) in (100, 101)


def test_seconds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RingBuffer(seconds=0, fps=10)
