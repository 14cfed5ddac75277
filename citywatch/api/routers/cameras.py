"""Cameras of the config with their health: live from the running pipeline, else the last state
stored. Stream URLs are not shown: they often carry the camera's password. Admins add and edit
cameras (disabling is `enabled: false`) through the same service as the dashboard
(citywatch.services.camera_config): saved into the config file and applied at once."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from citywatch.api.auth import Context, Viewer, may, refusals_as_http
from citywatch.api.schemas import CameraOut
from citywatch.config import CameraConfig, Location
from citywatch.services.camera_config import CameraForm, CameraInvalid, CameraNotFound
from citywatch.services.config_file import ConfigFileError
from citywatch.services.permissions import Caller, Task
from citywatch.storage.store import CameraStatus

router = APIRouter(prefix="/cameras", tags=["cameras"])
T = TypeVar("T")
CameraAdmin = Annotated[Caller, may(Task.MANAGE_CAMERAS)]
_CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such camera"},
    409: {"description": "Changed by someone else meanwhile, or no config file to save into"},
    422: {"description": "A field is refused: `detail` lists each with its field, code and message"},
}


class CameraIn(BaseModel):
    """A camera's settings as the dashboard's form has them (the config's `CameraConfig` checks
    them); the rest of its entry in the file (zones, thresholds...) is kept."""

    name: str = ""
    url: str = Field(
        description="As written in the config file; a password given as `***` keeps the one it has."
    )
    location: Location | None = None
    incident_types: list[str] = Field(default_factory=lambda: list(CameraForm(id="").incident_types))
    analytics_fps: float = Field(default_factory=lambda: CameraForm(id="").analytics_fps)
    enabled: bool = True

    def form(self, camera_id: str) -> CameraForm:
        return CameraForm(
            id=camera_id,
            name=self.name,
            url=self.url,
            lat=self.location.lat if self.location else None,
            lon=self.location.lon if self.location else None,
            incident_types=tuple(self.incident_types),
            analytics_fps=self.analytics_fps,
            enabled=self.enabled,
        )


class NewCameraIn(CameraIn):
    id: str


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


@router.post("", status_code=status.HTTP_201_CREATED, responses=_CHANGE_RESPONSES)
def add_camera(body: NewCameraIn, caller: CameraAdmin, context: Context) -> CameraOut:
    """Add a camera to the config file; the pipeline of this server starts it at once."""
    _saved(lambda: context.camera_admin.add(caller, body.form(body.id)))
    return get_camera(body.id, caller, context)


@router.put("/{camera_id}", responses=_CHANGE_RESPONSES)
def edit_camera(camera_id: str, body: CameraIn, caller: CameraAdmin, context: Context) -> CameraOut:
    """Replace the camera's settings (`enabled: false` disables it); applied at once."""
    admin = context.camera_admin
    _saved(lambda: admin.edit(caller, body.form(camera_id), admin.form(caller, camera_id)))
    return get_camera(camera_id, caller, context)


def _saved(change: Callable[[], T]) -> T:
    with refusals_as_http():
        try:
            return change()
        except CameraNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such camera") from None
        except CameraInvalid as exc:
            problems = [{"field": p.field, "code": p.code, "message": p.message} for p in exc.problems]
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problems) from None
        except ConfigFileError as exc:  # changed meanwhile (CameraChanged), no file, not valid as saved
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


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
