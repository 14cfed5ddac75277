"""Fixtures for the video tests: real clips from the shared datasets, a real RTSP server, sources
that are always stopped, and short health timings so failures play out in seconds."""

import itertools
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
