"""The last few seconds of one camera, kept for evidence clips (pre-roll before an incident)."""

import math
import threading
from collections import deque

from citywatch.video.frame import Frame
from citywatch.video.sampler import Sampler


class RingBuffer:
    """Frames of the last `seconds`, thinned to `fps`; thread-safe (the decode thread appends,
    the evidence writer reads).

    Thinning uses the same `Sampler` as analytics, so a 12.5 fps camera kept at 10 fps keeps 10
    frames a second rather than every second frame. Memory is bounded by seconds * fps + 1 frames.
    """

    def __init__(self, seconds: float, fps: float) -> None:
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, not {seconds}")
        self._seconds = seconds
        self._sampler = Sampler(fps)
        self._frames: deque[Frame] = deque(maxlen=math.ceil(seconds * fps) + 1)
        self._lock = threading.Lock()

    def append(self, frame: Frame) -> None:
        with self._lock:
            if not self._sampler.due(frame.timestamp):
                return
            if self._frames and frame.timestamp < self._frames[-1].timestamp:
                self._frames.clear()  # the wall clock was set back: keep the buffer in time order
            self._frames.append(frame)
            while frame.timestamp - self._frames[0].timestamp > self._seconds:
                self._frames.popleft()

    def frames_between(self, t0: float, t1: float) -> list[Frame]:
        """Frames with t0 <= timestamp <= t1, oldest first."""
        with self._lock:
            return [f for f in self._frames if t0 <= f.timestamp <= t1]

    def latest(self) -> Frame | None:
        """The newest frame kept (e.g. for the dashboard's camera wall), or None."""
        with self._lock:
            return self._frames[-1] if self._frames else None

    @property
    def latest_timestamp(self) -> float | None:
        with self._lock:
            return self._frames[-1].timestamp if self._frames else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)
