"""The latest picture of each camera for the camera wall and the zone editor, as JPEG.

With the pipeline in this process: the camera's newest frame (`Supervisor.latest_frame`), encoded
when asked (never per decoded frame). Without it, or for a camera it does not run: the first frame
of the camera's newest evidence clip (a raw camera picture: snapshots have boxes and a header bar
drawn on them, which would shift the zone editor's coordinates). Served at
/ui/cameras/{id}/frame.jpg to any logged-in role, with the feed's thumbnails of snapshots.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import cv2
import numpy as np
from fastapi import APIRouter, HTTPException, Response, status

from citywatch.api.auth import Context, Viewer
from citywatch.api.context import ApiContext
from citywatch.api.routers.incidents import IncidentId
from citywatch.services.permissions import Caller

router = APIRouter()
_JPEG_QUALITY = 80
_THUMB_WIDTH = 224


def latest_frame(context: ApiContext, caller: Caller, camera_id: str) -> np.ndarray | None:
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


@router.get("/ui/cameras/{camera_id}/frame.jpg", include_in_schema=False)
def camera_frame(camera_id: str, caller: Viewer, context: Context) -> Response:
    """The camera's newest picture (audited as a view of the camera, once per VIEW_WINDOW_S)."""
    if camera_id not in {camera.id for camera in context.cameras}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such camera")
    image = latest_frame(context, caller, camera_id)
    if image is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no picture of this camera yet")
    context.evidence.camera_viewed(caller, camera_id)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, "cannot encode the picture")
    return Response(jpeg.tobytes(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/ui/incidents/{incident_id}/thumb.jpg", include_in_schema=False)
def incident_thumbnail(incident_id: IncidentId, caller: Viewer, context: Context) -> Response:
    """A small copy of the snapshot for the feed, audited as a view of it (once per VIEW_WINDOW_S).
    Evidence files never change, so the browser may keep it."""
    thumbnail = context.evidence.thumbnail(caller, incident_id, _THUMB_WIDTH)
    if thumbnail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no snapshot for this incident")
    return Response(thumbnail, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})
