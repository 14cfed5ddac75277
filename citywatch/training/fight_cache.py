"""What the fight analyzer's expensive models see in a video, computed once and kept on disk.

The COCO detector (about 110 ms a frame on the CPU) and MoveNet on every person crop (about 27 ms
each) are the slow part of fight training; the tracker, the features, the classifier and the
cross-validation are cheap. So `extract` runs the real models over the frames that a `Sampler` at
each asked rate picks (exactly the frames `MediaAnalyzer` would analyse) and stores, per frame:
every COCO detection (the tracker is class-agnostic, so it needs them all), the pose of every
person detection estimated on its crop as the analyzer does, and the small grey image that motion
energy is measured on. `citywatch.training.fight` replays them through the run-time feature code.
"""

import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import supervision as sv

from citywatch.analytics.fight_features import motion_image
from citywatch.perception.pose import PoseEstimator, Poses
from citywatch.perception.yolo import YoloDetector
from citywatch.video.sampler import Sampler

log = logging.getLogger(__name__)

CACHE_VERSION = 1
FRAME_PEOPLE_MIN_CONFIDENCE = 0.05
FRAME_PEOPLE_SIZE = 384
POSE_MIN_CONFIDENCE = 0.0
"""Poses are cached for every person detection; the analyzer's own confidence floor is applied
when replaying."""


@dataclass(slots=True, eq=False)
class CachedFrame:
    index: int
    timestamp: float
    detections: sv.Detections
    poses: Poses
    """One pose per `person` detection, in the order they appear in `detections`."""
    grey: np.ndarray
    """`fight_features.motion_image` of the frame."""
    shape: tuple[int, int]
    """(height, width) of the frame."""
    frame_people: Poses | None = None
    """The people MoveNet finds in the whole frame (`PoseEstimator.estimate_frame`, FRAME_PEOPLE_*)."""
    frame_people_crops: Poses | None = None
    """Poses estimated on the crops of `frame_people`'s boxes."""

    def pose_of(self, box: np.ndarray) -> tuple[Poses, int] | None:
        """The cached crop pose of exactly this box (tracks keep the boxes they were given):
        (poses, index), None if there is none."""
        for poses in (self.poses, getattr(self, "frame_people_crops", None)):
            if poses is None:
                continue
            same = np.flatnonzero(np.all(np.abs(poses.boxes - box) < 1e-3, axis=1))
            if len(same):
                return poses, int(same[0])
        return None


@dataclass(slots=True)
class CachedVideo:
    path: str
    timestamps: list[float]
    picks: dict[float, list[int]] = field(default_factory=dict)
    """Frame indices a Sampler at each extracted rate picks."""
    frames: dict[int, CachedFrame] = field(default_factory=dict)
    version: int = CACHE_VERSION

    def sampled(self, fps: float) -> list[CachedFrame]:
        if fps not in self.picks:
            raise KeyError(f"{self.path}: not extracted at {fps} fps (have {sorted(self.picks)})")
        return [self.frames[i] for i in self.picks[fps]]


def sampler_picks(timestamps: list[float], fps: float) -> list[int]:
    """The frame indices `media_analysis._sampled_video_frames` analyses at `fps`."""
    sampler = Sampler(fps)
    return [i for i, t in enumerate(timestamps) if sampler.due(t)]


def _decode(path: Path, wanted: set[int] | None) -> tuple[list[float], dict[int, np.ndarray]]:
    """All frame timestamps of a video, and the BGR images of the `wanted` frames."""
    times: list[float] = []
    images: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, decoded in enumerate(container.decode(stream)):
            times.append(
                float(decoded.time) if decoded.time is not None else index / float(stream.average_rate or 25)
            )
            if wanted is not None and index in wanted:
                images[index] = decoded.to_ndarray(format="bgr24")
    return times, images


def cache_path(cache_dir: Path, video: Path) -> Path:
    return cache_dir / f"{video.parent.name}__{video.stem}.pkl"


def load(cache_dir: Path, video: Path) -> CachedVideo | None:
    path = cache_path(cache_dir, video)
    if not path.is_file():
        return None
    cached = pickle.loads(path.read_bytes())
    return cached if getattr(cached, "version", None) == CACHE_VERSION else None


def extract(
    video: Path,
    fps_rates: tuple[float, ...],
    detector: YoloDetector,
    estimator: PoseEstimator,
    cache_dir: Path,
) -> CachedVideo:
    """The cached models' outputs for `video` at every rate of `fps_rates` (computing only what the
    cache lacks, and saving it)."""
    cached = load(cache_dir, video)
    if cached is None:
        timestamps, _ = _decode(video, None)
        cached = CachedVideo(str(video), timestamps)
    missing = [fps for fps in fps_rates if fps not in cached.picks]
    for fps in missing:
        cached.picks[fps] = sampler_picks(cached.timestamps, fps)
    wanted = {i for fps in missing for i in cached.picks[fps]} - set(cached.frames)
    lacking = {
        i
        for fps in fps_rates
        for i in cached.picks[fps]
        if i in cached.frames and getattr(cached.frames[i], "frame_people", None) is None
    }
    if not wanted and not lacking:
        return cached
    _, images = _decode(video, wanted | lacking)
    for index in sorted(lacking):
        old = cached.frames[index]
        people = estimator.estimate_frame(images[index], FRAME_PEOPLE_MIN_CONFIDENCE, FRAME_PEOPLE_SIZE)
        cached.frames[index] = CachedFrame(
            old.index, old.timestamp, old.detections, old.poses, old.grey, old.shape,
            people, estimator.estimate(images[index], people.boxes),
        )  # fmt: skip
    for index in sorted(wanted):
        image = images[index]
        people = estimator.estimate_frame(image, FRAME_PEOPLE_MIN_CONFIDENCE, FRAME_PEOPLE_SIZE)
        detections = detector.detect(image)
        detected = detections.xyxy[detections.data["class_name"] == "person"].astype(np.float32)
        cached.frames[index] = CachedFrame(
            index,
            cached.timestamps[index],
            detections,
            estimator.estimate(image, detected),
            motion_image(image),
            (int(image.shape[0]), int(image.shape[1])),
            people,
            estimator.estimate(image, people.boxes),
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_path(cache_dir, video)
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(pickle.dumps(cached, protocol=pickle.HIGHEST_PROTOCOL))
    temporary.replace(target)
    log.info(
        "%s: %d frames extracted at %s fps, %d completed", video.name, len(wanted), missing, len(lacking)
    )
    return cached
