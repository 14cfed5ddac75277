"""Cameras of the config with their health: live from the running pipeline, else the last state
stored. Stream URLs are not shown: they often carry the camera's password."""

from fastapi import APIRouter, HTTPException, status

from citywatch.api.auth import Context, Viewer
from citywatch.api.schemas import CameraOut
from citywatch.config import CameraConfig
from citywatch.storage.store import CameraStatus

router = APIRouter(prefix="/cameras", tags=["cameras"])


@router.get("")
def list_cameras(caller: Viewer, context: Context) -> list[CameraOut]:
    states = context.monitor.states()
    return [_camera(c, states.get(c.id), context.monitor.is_live(c.id)) for c in context.cameras]


@router.get("/{camera_id}", responses={404: {"description": "No such camera"}})
def get_camera(camera_id: str, caller: Viewer, context: Context) -> CameraOut:
    for camera in context.cameras:
        if camera.id == camera_id:
            return _camera(
                camera, context.monitor.states().get(camera_id), context.monitor.is_live(camera_id)
            )
    raise HTTPException(status.HTTP_404_NOT_FOUND, "no such camera")


def _camera(camera: CameraConfig, state: CameraStatus | None, live: bool) -> CameraOut:
    return CameraOut(
        id=camera.id,
        name=camera.name,
        enabled=camera.enabled,
        incident_types=list(camera.incident_types),
        location=camera.location.model_dump() if camera.location else None,
        state=state.state if state else None,
        state_since=state.since if state else None,
        state_reason=state.reason if state else None,
        live=live,
    )
