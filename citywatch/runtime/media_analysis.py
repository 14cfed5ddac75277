"""The cascade (runtime.cascade) on one image or video file, without cameras, threads or a database.

Used by `citywatch detect` (people tuning thresholds) and by the evaluation harness. A video is
decoded as fast as possible and sampled on its own clock at the analytics frame rate; a still
image is one frame, with persistence rules relaxed to one frame. Video frames skip the detectors
whose trigger does not fire and the smoke/fire pass where its schedule leaves it out (a frame's
`detections` then lack that role), as in the live pipeline; a still image runs every detector (the weapon
analyzer looks for people with whole-frame pose there when COCO finds none).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np
import supervision as sv

from citywatch.analytics.base import relaxed_for_single_frame, thresholds_at_frame_rate
from citywatch.analytics.catalog import create_analyzer, models_for, roles_for
from citywatch.analytics.fire import fire_schedules
from citywatch.config import CameraConfig, Thresholds
from citywatch.domain.incident import Incident, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.detectors import triggers_for
from citywatch.perception.passes import DetectorPasses
from citywatch.perception.yolo import YoloDetector
from citywatch.runtime.cascade import Cascade, detect
from citywatch.video.frame import Frame
from citywatch.video.sampler import Sampler

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


class MediaError(ValueError):
    """A file that cannot be read as an image or a video; the message names it."""


@dataclass(slots=True, eq=False)
class FrameReport:
    frame: Frame
    detections: dict[str, sv.Detections]


@dataclass(slots=True, eq=False)
class MediaReport:
    path: Path
    frames: list[FrameReport] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def required_roles(types: set[IncidentType]) -> list[str]:
    return sorted({role for t in types for role in roles_for(t)})


def required_models(types: set[IncidentType]) -> list[str]:
    return sorted({name for t in types for name in models_for(t)})


class MediaAnalyzer:
    def __init__(
        self,
        detectors: Mapping[str, YoloDetector],
        types: set[IncidentType],
        thresholds: Thresholds,
        analytics_fps: float = 2.0,
        models: Mapping[str, object] | None = None,
    ) -> None:
        missing = set(required_roles(types)) - set(detectors)
        if missing:
            raise ValueError(f"detectors missing for roles {sorted(missing)}")
        self._detectors = detectors
        self._types = types
        self._thresholds = thresholds
        self._fps = analytics_fps
        self._models = models or {}

    def analyse(self, path: Path, keep_frames: bool = False) -> MediaReport:
        """Run the cascade over every sampled frame of `path`; raises MediaError if unreadable."""
        is_image = path.suffix.lower() in IMAGE_SUFFIXES
        thresholds = (
            relaxed_for_single_frame(self._thresholds)
            if is_image
            else thresholds_at_frame_rate(self._thresholds, self._fps)
        )
        camera = CameraConfig(id="media", url=str(path), incident_types=sorted(t.value for t in self._types))
        cascade = Cascade(
            [create_analyzer(t, camera, thresholds, self._models) for t in sorted(self._types)],
            self._fps,
            () if is_image else fire_schedules(thresholds.fire, self._fps),
        )
        passes = DetectorPasses(self._detectors, {} if is_image else triggers_for(cascade.roles))
        report = MediaReport(path)
        frames = _read_image(path) if is_image else sampled_video_frames(path, self._fps)
        for frame in frames:
            roles, left_out = cascade.plan(frame.timestamp)
            detections = detect(frame.image, roles, passes)
            report.incidents.extend(
                e.incident
                for e in cascade.analyse(frame, detections, left_out)
                if isinstance(e, IncidentRaised)
            )
            stored_frame = (
                frame
                if keep_frames
                else Frame(
                    frame.camera_id,
                    frame.index,
                    frame.timestamp,
                    np.empty((frame.height, frame.width, 0), np.uint8),
                )
            )
            report.frames.append(FrameReport(stored_frame, detections))
        return report


def _read_image(path: Path) -> Iterator[Frame]:
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MediaError(f"{path}: not a readable image")
    yield Frame("media", 0, 0.0, image)


def sampled_video_frames(path: Path, fps: float) -> Iterator[Frame]:
    """Frames at `fps` on the video's own clock; timestamps are seconds from the start."""
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    sampler = Sampler(fps)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{path}: no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for index, decoded in enumerate(container.decode(stream)):
                seconds = (
                    float(decoded.time)
                    if decoded.time is not None
                    else index / float(stream.average_rate or 25)
                )
                if sampler.due(seconds):
                    yield Frame("media", index, seconds, decoded.to_ndarray(format="bgr24"))
    except av.FFmpegError as exc:
        raise MediaError(f"{path}: cannot decode video: {exc}") from None
