"""Bad cameras: each fails with a clear one-line error, retries, goes OFFLINE and never disturbs a
healthy camera running beside it."""

import logging
import random
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from citywatch.config import HealthSettings
from citywatch.video.state import CameraState

S = CameraState
INVALID = "invalid data (corrupt or truncated file, or not a video stream)"


@pytest.fixture
def health() -> HealthSettings:
    """Quicker than the conftest timings: these cameras never stream, only OFFLINE is awaited."""
    return HealthSettings(
        connect_timeout_s=1, stalled_after_s=1, offline_after_s=1.5, backoff_initial_s=0.2, backoff_max_s=0.4
    )


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listener accepts TCP connections (the kernel does) but never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_missing_file_goes_offline_then_recovers_when_the_file_appears(
    sources, bystander, short_clip: Path, tmp_path: Path, wait_until, caplog
) -> None:
    path = tmp_path / "later.mp4"
    camera, log = sources.start("missing", path)
    wait_until(lambda: camera.state is S.OFFLINE, 5, "offline")
    assert camera.stats.last_error == f"{path}: file not found"
    assert f"camera missing: {path}: file not found; retrying in" in caplog.text
    assert log.states == [S.CONNECTING, S.RECONNECTING, S.OFFLINE]
    assert camera.stats.reconnects >= 2

    shutil.copy(short_clip, path)
    wait_until(lambda: camera.state is S.STREAMING, 5, "streaming once the file exists")
    bystander.assert_unaffected(min_seconds=1)


def test_refused_connection(sources, bystander, closed_port: int, wait_until) -> None:
    url = f"rtsp://127.0.0.1:{closed_port}/x"
    camera, log = sources.start("refused", url)
    wait_until(lambda: camera.state is S.OFFLINE, 5, "offline")
    assert camera.stats.last_error == f"{url}: connection refused"
    assert log.states == [S.CONNECTING, S.RECONNECTING, S.OFFLINE]
    bystander.assert_unaffected(min_seconds=1)


def test_server_that_never_answers_times_out(
    sources, bystander, silent_port: int, health, wait_until
) -> None:
    url = f"rtsp://127.0.0.1:{silent_port}/x"
    camera, _ = sources.start("silent", url)
    wait_until(lambda: camera.stats.last_error is not None, health.connect_timeout_s + 2, "an error")
    assert camera.stats.last_error.startswith(f"{url}: no answer for 1.")
    assert camera.stats.last_error.endswith("(timed out)")
    wait_until(lambda: camera.state is S.OFFLINE, 5, "offline")
    bystander.assert_unaffected(min_seconds=1)


def test_password_never_shown(sources, closed_port: int, wait_until, caplog) -> None:
    camera, _ = sources.start("secret", f"rtsp://admin:hunter2@127.0.0.1:{closed_port}/x")
    wait_until(lambda: camera.stats.reconnects >= 1, 5, "a failed attempt")
    assert camera.stats.last_error == f"rtsp://admin:***@127.0.0.1:{closed_port}/x: connection refused"
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize("seed", [0, 37], ids=["ffmpeg-invalid-data", "ffmpeg-eperm"])
def test_corrupt_file(sources, bystander, tmp_path: Path, wait_until, caplog, seed: int) -> None:
    """Random bytes: FFmpeg calls most such files invalid data, but for some (seed 37) a demuxer
    that took them for its format answers "Operation not permitted"; both read as corrupt."""
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(random.Random(seed).randbytes(200_000))
    camera, log = sources.start("corrupt", path)
    wait_until(lambda: camera.state is S.OFFLINE, 5, "offline")
    assert camera.stats.last_error == f"{path}: {INVALID}"
    assert camera.stats.frames_decoded == 0
    assert log.states == [S.CONNECTING, S.RECONNECTING, S.OFFLINE]
    assert any(r.levelno == logging.ERROR and "camera corrupt:" in r.message for r in caplog.records)
    bystander.assert_unaffected(min_seconds=1)


def test_truncated_file(sources, bystander, street_video: Path, tmp_path: Path, wait_until) -> None:
    """The first 30 % of a file whose index is at the front: frames decode, then the data runs out."""
    path = tmp_path / "truncated.mp4"
    data = street_video.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 10])
    camera, log = sources.start("truncated", path, realtime=False)
    wait_until(lambda: camera.stats.reconnects >= 2, 10, "two failed passes")
    wait_until(lambda: bystander.streamed_for() >= 1, 5, "a second of the healthy camera")

    assert camera.stats.frames_decoded > 100
    assert camera.stats.last_error == f"{path}: {INVALID}"
    assert log.states[:3] == [S.CONNECTING, S.STREAMING, S.RECONNECTING]
    bystander.assert_unaffected(min_seconds=1)
