"""The pictures the dashboard loads, as JPEG: each camera's latest picture for the camera wall and
the zone editor (at /ui/cameras/{id}/frame.jpg; which picture is citywatch.services.pictures'),
encoded when asked, never per decoded frame, and the feed's thumbnails of snapshots. Any logged-in
role may load them. They are routes, so they live in the API; the pages only name their URLs.
"""

from __future__ import annotations

import cv2
from fastapi import APIRouter, HTTPException, Response, status

from citywatch.api.auth import Context, Viewer
from citywatch.api.routers.incidents import IncidentId
from citywatch.services.pictures import latest_frame

router = APIRouter()
_JPEG_QUALITY = 80
_THUMB_WIDTH = 224


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
