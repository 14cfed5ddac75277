"""Evidence clips written from real frames, read back with PyAV."""

import itertools
from pathlib import Path

import av
import numpy as np
import pytest

from citywatch.video.clip_writer import write_clip
from citywatch.video.frame import Frame


def real_frames(video: Path, count: int, timestamps: list[float] | None = None) -> list[Frame]:
    with av.open(str(video)) as container:
        images = [p.to_ndarray(format="bgr24") for p in itertools.islice(container.decode(video=0), count)]
    times = timestamps or [1_700_000_000 + i * 0.08 for i in range(count)]
    return [Frame("cam", i, t, image) for i, (t, image) in enumerate(zip(times, images, strict=True))]


def read_back(path: Path) -> tuple[av.video.stream.VideoStream, list[av.VideoFrame]]:
    container = av.open(str(path))
    stream = container.streams.video[0]
    frames = list(container.decode(stream))
    container.close()
    return stream, frames


def test_clip_has_every_frame_at_the_right_speed(street_video: Path, tmp_path: Path) -> None:
    frames = real_frames(street_video, 30)
    path = write_clip(frames, tmp_path / "incident" / "clip.mp4", fps=12.5)

    assert path == tmp_path / "incident" / "clip.mp4"
    stream, decoded = read_back(path)
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.width, stream.height) == (768, 432)
    assert len(decoded) == 30
    assert decoded[-1].time == pytest.approx(29 * 0.08, abs=0.002)
    first = decoded[0].to_ndarray(format="bgr24").astype(np.int16)
    assert np.abs(first - frames[0].image).mean() < 6  # the picture itself, not just the right size
    assert [p.name for p in path.parent.iterdir()] == ["clip.mp4"]  # no temporary file left


def test_index_is_at_the_front_so_browsers_can_seek(street_video: Path, tmp_path: Path) -> None:
    data = write_clip(real_frames(street_video, 5), tmp_path / "clip.mp4", fps=12.5).read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")


def test_irregular_timestamps_are_kept(street_video: Path, tmp_path: Path) -> None:
    times = [100.0, 100.1, 100.2, 101.2, 101.3]  # a one-second hiccup in the middle
    _, decoded = read_back(write_clip(real_frames(street_video, 5, times), tmp_path / "c.mp4", fps=10))
    assert [round(f.time, 3) for f in decoded] == [0.0, 0.1, 0.2, 1.2, 1.3]


def test_odd_sizes_are_cropped_to_even(fire_video: Path, tmp_path: Path) -> None:
    frames = [Frame("cam", f.index, f.timestamp, f.image[:239, :425]) for f in real_frames(fire_video, 3)]
    stream, decoded = read_back(write_clip(frames, tmp_path / "odd.mp4", fps=10))
    assert (stream.width, stream.height) == (424, 238)
    assert len(decoded) == 3


def test_empty_clip_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        write_clip([], tmp_path / "empty.mp4", fps=10)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_file(street_video: Path, tmp_path: Path) -> None:
    good = real_frames(street_video, 2)
    broken = Frame("cam", 2, good[-1].timestamp + 0.1, np.zeros((432, 768), dtype=np.uint8))  # not BGR
    with pytest.raises(ValueError):
        write_clip([*good, broken], tmp_path / "clip.mp4", fps=10)
    assert list(tmp_path.iterdir()) == []
