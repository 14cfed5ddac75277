"""CameraSource on files and HTTP: frames, indices, the latest-frame slot, pacing, looping, stopping."""

import functools
import itertools
import logging
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np
import pytest

from citywatch.config import CameraConfig
from citywatch.video.frame import Frame
from citywatch.video.source import CameraSource, hardware_decoding, redact_url
from citywatch.video.state import CameraState

S = CameraState


def test_file_decodes_every_frame_then_stops_at_its_end(sources, fire_video: Path, wait_until) -> None:
    seen: list[Frame] = []
    started = time.time()
    source, log = sources.start("fire", fire_video, on_frame=seen.append, realtime=False)
    wait_until(lambda: source.state is S.STOPPED, 30, "the end of the file")

    assert [f.index for f in seen] == list(range(899))  # every frame of the 30 s file
    assert seen[-1].timestamp - started < 15  # not paced: far faster than the file's 30 s
    first = seen[0]
    assert first.camera_id == "fire"
    assert first.image.shape == (240, 426, 3) and first.image.dtype == np.uint8
    assert all(a.timestamp <= b.timestamp for a, b in itertools.pairwise(seen))
    assert log.states == [S.CONNECTING, S.STREAMING, S.STOPPED]
    assert log.changes[-1].reason == "end of file"

    stats = source.stats
    assert (stats.frames_decoded, stats.reconnects, stats.last_error) == (899, 0, None)
    assert stats.last_frame_at == seen[-1].timestamp


def test_take_latest_hands_over_the_newest_frame_once(sources, short_clip: Path, wait_until) -> None:
    source, _ = sources.start("clip", short_clip, realtime=False)
    wait_until(lambda: source.state is S.STOPPED, 10, "the end of the clip")

    latest = source.take_latest()
    assert latest is not None and latest.index == 19
    assert source.take_latest() is None
    assert source.stats.frames_dropped == 19  # all others were overwritten before anyone took them


def test_bgr_channel_order(sources, short_clip: Path, wait_until) -> None:
    """The image is BGR, as OpenCV expects: compare with PyAV's own RGB conversion."""
    with av.open(str(short_clip)) as container:
        rgb = next(container.decode(video=0)).to_ndarray(format="rgb24")
    seen: list[Frame] = []
    source, _ = sources.start("clip", short_clip, on_frame=seen.append, realtime=False)
    wait_until(lambda: source.state is S.STOPPED, 10, "the end of the clip")
    np.testing.assert_array_equal(seen[0].image, rgb[:, :, ::-1])


def test_realtime_file_is_paced_at_its_frame_rate(sources, short_clip: Path, wait_until) -> None:
    seen: list[Frame] = []
    source, _ = sources.start("clip", short_clip, on_frame=seen.append, realtime=True)
    wait_until(lambda: source.state is S.STOPPED, 10, "the end of the clip")
    # 20 frames at 10 fps: the last one is shown 1.9 s after the first.
    assert seen[-1].timestamp - seen[0].timestamp == pytest.approx(1.9, abs=0.2)


def test_looping_file_restarts_without_a_reconnect(sources, short_clip: Path, wait_until) -> None:
    seen: list[Frame] = []
    source, log = sources.start("clip", short_clip, on_frame=seen.append, loop=True, realtime=False)
    wait_until(lambda: len(seen) >= 50, 10, "two and a half passes of the clip")

    assert [f.index for f in seen[:50]] == list(range(50))  # indices go on across restarts
    np.testing.assert_array_equal(seen[0].image, seen[20].image)  # the second pass starts again
    assert log.states == [S.CONNECTING, S.STREAMING]
    assert source.stats.reconnects == 0


def test_stop_ends_decoding(sources, fire_video: Path, wait_until) -> None:
    source, log = sources.start("fire", fire_video, loop=True)
    wait_until(lambda: source.state is S.STREAMING, 5, "streaming")
    source.stop(timeout=2)
    decoded = source.stats.frames_decoded
    time.sleep(0.3)
    assert source.stats.frames_decoded == decoded
    assert log.states == [S.CONNECTING, S.STREAMING, S.STOPPED]
    assert not [t.name for t in threading.enumerate() if t.name in ("decode-fire", "health-fire")]


def test_a_source_starts_once(health, short_clip: Path) -> None:
    source = CameraSource(CameraConfig(id="clip", url=str(short_clip)), health)
    source.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            source.start()
    finally:
        source.stop()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/Streaming/101", "rtsp://admin:***@10.0.0.5:554/Streaming/101"),
        ("rtsps://op:p@ss:w@cam.example/live", "rtsps://op:***@cam.example/live"),
        ("http://user@cam.example/mjpeg", "http://user@cam.example/mjpeg"),
        ("rtsp://10.0.0.5/x?token=a@b", "rtsp://10.0.0.5/x?token=a@b"),
        ("/data/video@night.mp4", "/data/video@night.mp4"),
    ],
)
def test_redact_url_hides_passwords_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_http_stream(sources, short_clip: Path, wait_until) -> None:
    """An http:// URL (here a real HTTP server sending the clip) is a live stream: decoded as it comes."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(short_clip.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{short_clip.name}"
        source, log = sources.start("http", url)
        wait_until(lambda: source.stats.frames_decoded >= 20, 10, "the clip over HTTP")
        assert log.states[:2] == [S.CONNECTING, S.STREAMING]
        source.stop()
    finally:
        server.shutdown()
        server.server_close()


def test_max_fps_converts_and_delivers_only_what_is_needed(health, fire_video: Path, wait_until) -> None:
    """The 29.97 fps fire video paced live, thinned to 5 fps: every picture decoded, 1 in 6 delivered."""
    delivered: list[Frame] = []
    camera = CameraConfig(id="thin", url=str(fire_video), loop=True)
    source = CameraSource(camera, health, on_frame=delivered.append, max_fps=5)
    source.start()
    try:
        wait_until(lambda: source.stats.frames_decoded >= 90, 10, "3 s of pictures")
    finally:
        source.stop()
    stats = source.stats
    span = delivered[-1].timestamp - delivered[0].timestamp
    assert 4 <= (len(delivered) - 1) / span <= 5.5
    assert stats.frames_thinned == stats.frames_decoded - len(delivered)
    assert stats.frames_thinned >= 4 * len(delivered)
    assert [f.index for f in delivered] == sorted({f.index for f in delivered})  # indices count every picture
    assert delivered[-1].index - delivered[0].index > 4 * (len(delivered) - 1)


def test_hardware_decoding_falls_back_to_software_with_a_log_line(
    health, short_clip: Path, wait_until, caplog: pytest.LogCaptureFixture
) -> None:
    """NVDEC asked for on a machine without a usable GPU (this one): said once, frames still decoded."""
    hardware_decoding.cache_clear()
    delivered: list[Frame] = []
    camera = CameraConfig(id="nvdec", url=str(short_clip))
    with caplog.at_level(logging.INFO, logger="citywatch.video.source"):
        source = CameraSource(camera, health, on_frame=delivered.append, hwaccel="cuda")
        CameraSource(camera, health, hwaccel="cuda")  # a second camera: no second probe, no second line
    source.start()
    try:
        wait_until(lambda: source.state is S.STOPPED, 30, "the end of the file")
    finally:
        source.stop()
    assert delivered and source.stats.last_error is None
    lines = [r.getMessage() for r in caplog.records if "hardware decoding (cuda)" in r.getMessage()]
    assert len(lines) == 1 and "decoding in software" in lines[0]
