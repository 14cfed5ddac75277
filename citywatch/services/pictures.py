"""The latest picture of a camera, for the camera wall and the zone editor.

With the pipeline in this process: the camera's newest frame (`Supervisor.latest_frame`). Without
it, or for a camera it does not run: the first frame of the camera's newest evidence clip (a raw
camera picture: snapshots have boxes and a header bar drawn on them, which would shift the zone
editor's coordinates).
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import cv2
import numpy as np

from citywatch.services.context import AppContext
from citywatch.services.permissions import Caller


def latest_frame(context: AppContext, caller: Caller, camera_id: str) -> np.ndarray | None:
    """The newest BGR picture of the camera, or None when there is none yet."""
    if context.supervisor is not None:
        with contextlib.suppress(KeyError):  # KeyError: a camera the pipeline does not run
            return context.supervisor.latest_frame(camera_id)
    path = context.evidence.latest_clip(caller, camera_id)
    return _first_frame(path) if path is not None else None


@functools.lru_cache(maxsize=128)
def _first_frame(path: Path) -> np.ndarray | None:
    capture = cv2.VideoCapture(str(path))
    try:
        ok, image = capture.read()
    finally:
        capture.release()
    return image if ok else None
