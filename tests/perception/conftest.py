"""Real models from the shared pack and real frames from the shared datasets."""

from collections.abc import Callable, Iterable
from functools import cache

import av
import numpy as np
import pytest

from citywatch.config import ModelSettings
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.yolo import YoloDetector

# Short names the tests use for the shared videos.
VIDEOS = {"car": "streets/car-detection.mp4", "person": "streets/one-by-one-person-detection.mp4"}


@cache
def _frames(video: str, indices: tuple[int, ...]) -> dict[int, np.ndarray]:
    wanted, found = set(indices), {}
    with av.open(str(datasets_dir() / video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found[index] = frame.to_ndarray(format="bgr24")
            if len(found) == len(wanted):
                break
    return found


def read_frames(video: str, indices: Iterable[int]) -> list[np.ndarray]:
    """BGR frames `indices` of the "car" or "person" video (each set decoded once per session)."""
    indices = tuple(indices)
    frames = _frames(VIDEOS[video], tuple(sorted(set(indices))))
    return [frames[i] for i in indices]


@pytest.fixture(scope="session")
def pack() -> ModelPack:
    return ModelPack.open()


@pytest.fixture(scope="session")
def settings() -> ModelSettings:
    return ModelSettings()


@pytest.fixture(scope="session")
def coco(pack: ModelPack, settings: ModelSettings) -> YoloDetector:
    return load_detector(pack, "coco", settings)


@pytest.fixture(scope="session")
def fire_smoke(pack: ModelPack, settings: ModelSettings) -> YoloDetector:
    return load_detector(pack, "fire_smoke", settings)


@pytest.fixture(scope="session")
def frames() -> Callable[[str, Iterable[int]], list[np.ndarray]]:
    return read_frames
