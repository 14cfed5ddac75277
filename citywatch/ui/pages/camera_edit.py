"""Adding and editing a camera (admins): the fields an engineer sets up a camera with (id, name,
stream URL, place on the map, incident types, frames analysed per second, enabled), saved into the
config file by citywatch.services.camera_config (checked, validated, atomic, audited) and applied to
the running pipeline at once. A refused field shows why beside it, in the user's language; the
stream's password is never shown (`***` keeps it)."""

from __future__ import annotations

from typing import Any, get_args

from nicegui import run, ui
from nicegui.elements.mixins.validation_element import ValidationElement
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.config import CameraConfig, DetectionType
from citywatch.services.camera_config import (
    CameraChanged,
    CameraForm,
    CameraInvalid,
    CameraNotFound,
    FieldProblem,
)
from citywatch.services.config_file import ConfigFileError, Saved
from citywatch.services.permissions import ActionRefused, SessionEnded, Task
from citywatch.ui.components.confirm import confirm
from citywatch.ui.components.layout import page_frame
from citywatch.ui.i18n import EN
from citywatch.ui.services import services
from citywatch.ui.session import UiSession, session_of, to_login


def camera_new_page(request: Request) -> RedirectResponse | None:
    return _page(request, None)


def camera_edit_page(request: Request, camera_id: str) -> RedirectResponse | None:
    return _page(request, camera_id)


def _page(request: Request, camera_id: str | None) -> RedirectResponse | None:
    session = session_of(request)
    if session is None:
        return to_login(request)
    page_frame(session, "nav.cameras")
    admin = services().context.camera_admin
    if not session.may(Task.MANAGE_CAMERAS):
        ui.label(session.t("common.forbidden")).classes("p-6 text-xl")
    elif admin.file_name is None:
        ui.label(session.t("camera_edit.read_only")).classes("p-6 text-xl")
    elif camera_id is None:
        CameraEditor(session, None)
    else:
        try:
            CameraEditor(session, admin.form(session.caller, camera_id))
        except CameraNotFound:
            ui.label(session.t("cameras.not_found")).classes("p-6 text-xl")
        except ConfigFileError as exc:  # e.g. the file names a variable the server has not
            ui.label(session.t("camera_edit.unreadable", reason=str(exc))).classes("p-6 text-xl")
    return None


class CameraEditor:
    def __init__(self, session: UiSession, read: CameraForm | None) -> None:
        """`read`: the camera as the file had it when the page opened; None for a new one."""
        self.session = session
        self.read = read
        form = read or CameraForm(id="")
        s = session
        types = {t: s.t(f"type.{t}") for t in get_args(DetectionType)}
        with ui.card().classes("m-4 p-4 gap-3 w-full").style("max-width: 760px"):
            title = (
                s.t("camera_edit.edit_title", camera=read.name or read.id)
                if read
                else s.t("camera_edit.new_title")
            )
            ui.label(title).classes("text-xl font-bold")
            self.id = ui.input(s.t("camera_edit.id"), value=form.id).classes("w-full")
            self.id.props("data-test=camera-id" + (" readonly" if read else ""))
            if not read:
                self.id.props(f'hint="{s.t("camera_edit.id_hint")}"')
            self.name = ui.input(s.t("camera_edit.name"), value=form.name).classes("w-full")
            self.name.props("data-test=camera-name")
            self.url = ui.input(s.t("camera_edit.url"), value=form.url).classes("w-full")
            self.url.props(f'data-test=camera-url hint="{s.t("camera_edit.url_hint")}"')
            with ui.row().classes("w-full no-wrap gap-3"):
                self.lat = ui.number(s.t("camera_edit.lat"), value=form.lat, format="%.6f", step=0.0001)
                self.lat.classes("grow").props("data-test=camera-lat")
                self.lon = ui.number(s.t("camera_edit.lon"), value=form.lon, format="%.6f", step=0.0001)
                self.lon.classes("grow").props("data-test=camera-lon")
            self.types = ui.select(
                types, multiple=True, value=list(form.incident_types), label=s.t("camera_edit.types")
            )
            self.types.classes("w-full").props("use-chips data-test=camera-types")
            self.fps = ui.number(s.t("camera_edit.fps"), value=form.analytics_fps, step=0.5)
            self.fps.classes("w-full").props(f'data-test=camera-fps hint="{s.t("camera_edit.fps_hint")}"')
            self.enabled = ui.switch(s.t("camera_edit.enabled"), value=form.enabled)
            self.enabled.props("data-test=camera-enabled")
            self.status = ui.label().props("data-test=camera-status")
            self.status.set_visibility(False)
            with ui.row().classes("gap-2"):
                ui.button(s.t("camera_edit.save"), icon="save", on_click=self._save).props(
                    "no-caps color=primary data-test=camera-save"
                )
                ui.button(s.t("camera_edit.back"), on_click=lambda: ui.navigate.to("/cameras")).props(
                    "flat no-caps data-test=camera-back"
                )
        self.fields: dict[str, ValidationElement] = {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "lat": self.lat,
            "lon": self.lon,
            "incident_types": self.types,
            "analytics_fps": self.fps,
        }

    def _form(self) -> CameraForm:
        return CameraForm(
            id=(self.id.value or "").strip(),
            name=(self.name.value or "").strip(),
            url=(self.url.value or "").strip(),
            lat=self.lat.value,
            lon=self.lon.value,
            incident_types=tuple(self.types.value or ()),
            analytics_fps=self.fps.value,  # type: ignore[arg-type]  # None: the service names the field
            enabled=bool(self.enabled.value),
        )

    async def _save(self) -> None:
        admin = services().context.camera_admin
        caller = self.session.caller
        for element in self.fields.values():
            element.error = None
        self.status.set_visibility(False)
        try:
            if self.read is None:
                saved: Saved = await run.io_bound(admin.add, caller, self._form())
            else:
                saved = await run.io_bound(admin.edit, caller, self._form(), self.read)
        except (SessionEnded, ActionRefused) as refusal:
            self.session.refused(refusal)
            return
        except CameraInvalid as exc:
            self._show(exc.problems)
            return
        except CameraChanged:
            ui.notify(self.session.t("camera_edit.changed"), type="negative", multi_line=True)
            return
        except ConfigFileError as exc:
            ui.notify(
                self.session.t("camera_edit.invalid", reason=str(exc)), type="negative", multi_line=True
            )
            return
        camera_id = self._form().id if self.read is None else self.read.id
        self.read = await run.io_bound(admin.form, caller, camera_id)  # what the next save starts from
        self.id.props("readonly")
        text, kind = saved_text(self.session, saved)
        self.status.set_text(text)
        self.status.classes(replace="text-amber-800" if kind == "warning" else "text-green-800")
        self.status.set_visibility(True)

    def _show(self, problems: list[FieldProblem]) -> None:
        """Each problem beside its field; one of a key the form has not, as a notification."""
        for problem in problems:
            if f"camera_edit.error.{problem.code}" in EN:
                text = self.session.t(f"camera_edit.error.{problem.code}", **_readable(problem.limits))
            else:  # not one a form's field can make (a key of the file the form has not)
                text = self.session.t("camera_edit.error.other", message=problem.message)
            element = self.fields.get(problem.field)
            if element is not None:
                element.error = text
            else:
                ui.notify(f"{problem.field}: {text}", type="negative", multi_line=True)


def _readable(limits: dict[str, Any]) -> dict[str, Any]:
    """Limits as people write them: 30, not 30.0."""
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in limits.items()}


def add_camera_button(session: UiSession) -> None:
    """'Add camera' above the camera wall, for those who may."""
    if session.may(Task.MANAGE_CAMERAS):
        with ui.row().classes("w-full px-3 pt-3"):
            ui.button(
                session.t("camera_edit.add"), icon="add", on_click=lambda: ui.navigate.to("/cameras/new")
            ).props("no-caps color=primary data-test=camera-add")


class CameraControls:
    """On a camera's card: that it is disabled (everyone), and Edit and Disable/Enable (admins)."""

    def __init__(self, session: UiSession, camera: CameraConfig) -> None:
        self.session = session
        self.camera_id = camera_id = camera.id
        self.camera_name = camera.name or camera.id
        self.enabled = enabled = camera.enabled
        self.note = ui.label(session.t("cameras.disabled")).classes("text-sm text-gray-600")
        self.note.props("data-test=camera-disabled").set_visibility(not enabled)
        if not session.may(Task.MANAGE_CAMERAS):
            return
        with ui.row().classes("gap-1"):
            ui.button(
                session.t("camera_edit.edit"),
                icon="edit",
                on_click=lambda: ui.navigate.to(f"/cameras/{camera_id}/edit"),
            ).props("flat dense no-caps data-test=camera-edit")
            self.toggle = ui.button(on_click=self._ask).props("flat dense no-caps data-test=camera-toggle")
        self._show()

    def _show(self) -> None:
        self.note.set_visibility(not self.enabled)
        self.toggle.set_text(self.session.t("camera_edit.disable" if self.enabled else "camera_edit.enable"))
        self.toggle.props(f"icon={'videocam_off' if self.enabled else 'videocam'}")

    async def _ask(self) -> None:
        """Disabling stops the camera's detection: asked first; enabling is not."""
        question = self.session.t("camera_edit.disable_question", camera=self.camera_name)
        if self.enabled and not await confirm(self.session, question):
            return
        admin = services().context.camera_admin
        try:
            saved = await run.io_bound(
                admin.set_enabled, self.session.caller, self.camera_id, not self.enabled
            )
        except (SessionEnded, ActionRefused) as refusal:
            self.session.refused(refusal)
            return
        except ConfigFileError as exc:
            ui.notify(
                self.session.t("camera_edit.invalid", reason=str(exc)), type="negative", multi_line=True
            )
            return
        self.enabled = not self.enabled
        self._show()
        text, kind = saved_text(self.session, saved)
        ui.notify(text, type=kind, multi_line=True)


def saved_text(session: UiSession, saved: Saved) -> tuple[str, str]:
    """What became of a saved change, and its notification type: applied to the pipeline of this
    server, taken by a pipeline run apart when it restarts, or (cameras needing models the pipeline
    has not loaded) at the next start."""
    file = services().context.camera_admin.file_name
    if saved.pending:
        return session.t(
            "camera_edit.pending", file=file, cameras=", ".join(sorted(saved.pending))
        ), "warning"
    if services().context.supervisor is None:
        return session.t("camera_edit.saved_apart", file=file), "info"
    return session.t("camera_edit.applied", file=file), "positive"
