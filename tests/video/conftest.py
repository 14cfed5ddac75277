"""Fixtures for the video tests: real clips from the shared datasets, a real RTSP server, sources
that are always stopped, and short health timings so failures play out in seconds."""

import itertools
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pytest

from citywatch.config import CameraConfig, HealthSettings
from citywatch.paths import datasets_dir
from citywatch.video.clip_writer import write_clip
from citywatch.video.frame import Frame
from citywatch.video.source import CameraSource
from citywatch.video.state import CameraState, StateChange

RTSP_SERVER = Path(__file__).resolve().parent.parent / "support" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's Python, which has GStreamer's bindings (gi)


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


WaitUntil = Callable[[Callable[[], bool], float, str], None]


@pytest.fixture
def wait_until() -> WaitUntil:
    """wait_until(predicate, timeout_s, what): poll until true, fail naming `what` on timeout."""
    return _wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def street_video() -> Path:
    """768x432, 12.5 fps, 30 s, moov atom at the front."""
    return datasets_dir() / "streets" / "car-detection.mp4"


@pytest.fixture
def fire_video() -> Path:
    """426x240, 29.97 fps, 30 s."""
    return datasets_dir() / "fire_smoke" / "videos" / "furg_house6.mp4"


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 20 frames of the street video as a 2 s, 10 fps H.264 MP4 (a quick file to loop)."""
    street = datasets_dir() / "streets" / "car-detection.mp4"
    with av.open(str(street)) as container:
        pictures = itertools.islice(container.decode(video=0), 20)
        images = [picture.to_ndarray(format="bgr24") for picture in pictures]
    frames = [Frame("clip", i, i * 0.1, image) for i, image in enumerate(images)]
    return write_clip(frames, tmp_path_factory.mktemp("clips") / "short.mp4", fps=10)


@pytest.fixture
def health() -> HealthSettings:
    return HealthSettings(
        connect_timeout_s=1, stalled_after_s=1, offline_after_s=3, backoff_initial_s=0.2, backoff_max_s=0.5
    )


class StateLog:
    """Collects the StateChange events of one source (they arrive on its threads)."""

    def __init__(self) -> None:
        self._changes: list[StateChange] = []
        self._lock = threading.Lock()

    def __call__(self, change: StateChange) -> None:
        with self._lock:
            self._changes.append(change)

    @property
    def changes(self) -> list[StateChange]:
        with self._lock:
            return list(self._changes)

    @property
    def states(self) -> list[CameraState]:
        return [c.current for c in self.changes]


class Sources:
    """Starts CameraSources and stops every one of them when the test ends."""

    def __init__(self, health: HealthSettings) -> None:
        self.health = health
        self._started: list[CameraSource] = []

    def start(
        self,
        camera_id: str,
        url: str | Path,
        on_frame: Callable[[Frame], None] | None = None,
        **camera: object,
    ) -> tuple[CameraSource, StateLog]:
        log = StateLog()
        config = CameraConfig(id=camera_id, url=str(url), **camera)
        source = CameraSource(config, self.health, on_frame=on_frame, on_state=log)
        source.start()
        self._started.append(source)
        return source, log

    def stop_all(self) -> None:
        for source in self._started:
            source.stop(timeout=5)


@pytest.fixture
def sources(health: HealthSettings) -> Iterator[Sources]:
    started = Sources(health)
    yield started
    started.stop_all()


class Bystander:
    """A healthy camera (the fire video, looping in real time) that must not notice others failing."""

    def __init__(self, sources: Sources, video: Path) -> None:
        self.frames: list[Frame] = []
        self.source, self.log = sources.start("bystander", video, on_frame=self.frames.append, loop=True)

    def streamed_for(self) -> float:
        return self.frames[-1].timestamp - self.frames[0].timestamp if self.frames else 0.0

    def assert_unaffected(self, min_seconds: float) -> None:
        """Streaming now, for at least `min_seconds`, and never a gap of half a second."""
        assert self.log.states == [CameraState.CONNECTING, CameraState.STREAMING]
        assert self.streamed_for() >= min_seconds
        timestamps = [f.timestamp for f in self.frames]
        assert time.time() - timestamps[-1] < 0.5
        assert max(b - a for a, b in itertools.pairwise(timestamps)) < 0.5
        assert [f.index for f in self.frames] == list(range(len(self.frames)))


@pytest.fixture
def bystander(sources: Sources, fire_video: Path) -> Bystander:
    return Bystander(sources, fire_video)


class RtspServer:
    """tests/support/rtsp_server.py in a subprocess, on a fixed port so it can be restarted."""

    def __init__(self, video: Path) -> None:
        self.video = video
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/cam"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [SYSTEM_PYTHON, str(RTSP_SERVER), str(self.video), str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_until(self._accepts, 10, f"the RTSP server on port {self.port}")

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            self._process.stdout.close()  # type: ignore[union-attr]
            self._process.stderr.close()  # type: ignore[union-attr]
            self._process = None

    def pause(self) -> None:
        """Freeze the server: connections stay open but nothing is answered or sent."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def _accepts(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise AssertionError(f"RTSP server exited: {self._process.stderr.read()}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False


@pytest.fixture
def rtsp_server(street_video: Path) -> Iterator[RtspServer]:
    server = RtspServer(street_video)
    server.start()
    yield server
    server.kill()
