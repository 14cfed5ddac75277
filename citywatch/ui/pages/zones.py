"""The zone editor of one camera (admins): click corners on the camera's latest picture to draw
polygons, name them, pick the incident types they apply to, and save them into the config file
(citywatch.services.zones: checked, validated, atomic, other keys kept, audited). The pipeline
reads zones when it starts. Corners are fractions of the picture, so a camera never seen (no
picture yet) cannot have zones drawn or saved: the editor says so and waits for its picture."""

from __future__ import annotations

import base64
from typing import Any

import cv2
import numpy as np
from nicegui import run, ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.config import DetectionType, Zone
from citywatch.services.permissions import ActionRefused, SessionEnded, Task
from citywatch.services.pictures import latest_frame
from citywatch.services.zones import ZoneFileError, ZonesChanged
from citywatch.ui.components.layout import page_frame
from citywatch.ui.services import services
from citywatch.ui.session import UiSession, session_of, to_login

PICTURE_POLL_S = 5.0
"""How often an editor without a picture looks for one (the pipeline's first frame of the camera, or
without a pipeline the first evidence clip of the camera)."""
_STROKE = 'stroke-width="3"'
_FILLS = ("#f59e0b", "#3b82f6", "#10b981", "#ef4444", "#8b5cf6", "#ec4899")


def zones_page(request: Request, camera_id: str) -> RedirectResponse | None:
    session = session_of(request)
    if session is None:
        return to_login(request)
    page_frame(session, "nav.cameras")
    camera = next((c for c in services().context.cameras if c.id == camera_id), None)
    if camera is None or not session.may(Task.EDIT_ZONES):
        ui.label(session.t("common.forbidden") if camera else session.t("cameras.not_found")).classes(
            "p-6 text-xl"
        )
        return None
    ZoneEditor(session, camera_id, camera.name or camera_id, list(camera.zones))
    return None


class ZoneEditor:
    def __init__(self, session: UiSession, camera_id: str, camera_name: str, configured: list[Zone]) -> None:
        self.session = session
        self.camera_id = camera_id
        file_name = services().zones.file_name
        self.zones: list[Zone] = services().zones.of(session.caller, camera_id, configured)
        self.saved: list[Zone] = list(self.zones)
        """The zones as the file had them when this editor read or last saved them."""
        self.draft: list[tuple[float, float]] = []
        image = latest_frame(services().context, session.caller, camera_id)
        s = session
        with ui.row().classes("w-full no-wrap gap-3 p-3 items-start"):
            with ui.card().classes("p-2").style("flex: 3 1 0; min-width: 0"):
                ui.label(s.t("zones.title", camera=camera_name)).classes("text-lg font-bold")
                ui.label(s.t("zones.help")).classes("text-sm text-gray-600")
                self.no_picture = (
                    ui.label(s.t("zones.no_picture"))
                    .classes("p-6 text-amber-800")
                    .props("data-test=zone-no-picture")
                )
                self.picture_box = ui.element("div").classes("w-full")
                self.picture: ui.interactive_image | None = None
                self.size = (16.0, 9.0)
            with ui.card().classes("p-3 gap-2").style("flex: 2 1 0; min-width: 0"):
                self.list = ui.column().classes("w-full gap-1")
                self.name = ui.input(s.t("zones.name")).classes("w-full").props("data-test=zone-name")
                self.types = (
                    ui.select(
                        {code: s.t(f"type.{code}") for code in DetectionType.__args__},
                        multiple=True,
                        label=s.t("zones.types"),
                        clearable=True,
                    )
                    .classes("w-full")
                    .props("data-test=zone-types")
                )
                with ui.row().classes("gap-2"):
                    self.tools: list[ui.element] = [
                        ui.button(s.t("zones.undo"), icon="undo", on_click=self._undo).props("flat no-caps"),
                        ui.button(s.t("zones.clear"), icon="restart_alt", on_click=self._clear).props(
                            "flat no-caps"
                        ),
                        ui.button(s.t("zones.add"), icon="add", on_click=self._add).props(
                            "no-caps data-test=zone-add"
                        ),
                    ]
                self.tools += [self.name, self.types]
                if file_name is None:
                    ui.label(s.t("zones.read_only")).classes("text-amber-800")
                else:
                    self.tools.append(
                        ui.button(s.t("zones.save"), icon="save", on_click=self._save).props(
                            "no-caps color=primary data-test=zone-save"
                        )
                    )
        if image is None:
            for tool in self.tools:
                tool.disable()
            self.waiting = ui.timer(PICTURE_POLL_S, self._look_for_picture)
        else:
            self._show_picture(image)
        self.show()

    def _show_picture(self, image: np.ndarray) -> None:
        """Draw on `image` from now on: the picture shown, the tools enabled."""
        self.size = (float(image.shape[1]), float(image.shape[0]))
        ok, jpeg = cv2.imencode(".jpg", image)
        source = "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode() if ok else ""
        with self.picture_box:
            self.picture = ui.interactive_image(source, on_mouse=self._click, events=["click"], cross=True)
            self.picture.classes("w-full").props("data-test=zone-image")
        self.no_picture.set_visibility(False)
        for tool in self.tools:
            tool.enable()

    async def _look_for_picture(self) -> None:
        image = await run.io_bound(latest_frame, services().context, self.session.caller, self.camera_id)
        if image is not None and self.picture is None:
            self.waiting.cancel()
            self._show_picture(image)
            self.show()

    def _click(self, event: Any) -> None:
        width, height = self.size
        self.draft.append(
            (min(max(event.image_x / width, 0.0), 1.0), min(max(event.image_y / height, 0.0), 1.0))
        )
        self.show()

    def _undo(self) -> None:
        if self.draft:
            self.draft.pop()
            self.show()

    def _clear(self) -> None:
        self.draft = []
        self.show()

    def _add(self) -> None:
        name = (self.name.value or "").strip()
        if len(self.draft) < 3 or not name:
            ui.notify(self.session.t("zones.need_points"), type="warning")
            return
        self.zones.append(
            Zone(name=name, polygon=list(self.draft), incident_types=list(self.types.value) or None)
        )
        self.draft = []
        self.name.set_value("")
        self.types.set_value([])
        self.show()

    def _delete(self, index: int) -> None:
        del self.zones[index]
        self.show()

    async def _save(self) -> None:
        zones = list(self.zones)
        try:
            await run.io_bound(services().zones.save, self.session.caller, self.camera_id, zones, self.saved)
        except (SessionEnded, ActionRefused) as refusal:
            self.session.refused(refusal)
            return
        except ZonesChanged:
            ui.notify(self.session.t("zones.changed"), type="negative", multi_line=True)
            return
        except ZoneFileError as exc:
            ui.notify(self.session.t("zones.invalid", reason=str(exc)), type="negative", multi_line=True)
            return
        self.saved = zones
        ui.notify(self.session.t("zones.saved", path=services().zones.file_name), type="positive")

    def show(self) -> None:
        s = self.session
        self.list.clear()
        with self.list:
            if not self.zones:
                ui.label(s.t("zones.none")).classes("text-sm text-gray-600")
            for index, zone in enumerate(self.zones):
                with ui.row().classes("w-full no-wrap items-center gap-2").props("data-test=zone-row"):
                    ui.icon("square").style(f"color: {_FILLS[index % len(_FILLS)]}")
                    types = ", ".join(s.t(f"type.{t}") for t in zone.incident_types or []) or s.t(
                        "common.all"
                    )
                    ui.label(f"{zone.name} · {types}").classes("grow truncate")
                    ui.button(icon="delete", on_click=lambda i=index: self._delete(i)).props(
                        "flat round dense"
                    ).tooltip(s.t("zones.delete")).set_enabled(self.picture is not None)
        if self.picture is not None:
            self.picture.set_content(self._svg())

    def _svg(self) -> str:
        width, height = self.size
        shapes = []
        for index, zone in enumerate(self.zones):
            points = " ".join(f"{x * width:.1f},{y * height:.1f}" for x, y in zone.polygon)
            fill = _FILLS[index % len(_FILLS)]
            shapes.append(
                f'<polygon points="{points}" fill="{fill}" fill-opacity=".3" stroke="{fill}" {_STROKE}/>'
            )
        if self.draft:
            points = " ".join(f"{x * width:.1f},{y * height:.1f}" for x, y in self.draft)
            shapes.append(
                f'<polyline points="{points}" fill="none" stroke="white" {_STROKE} stroke-dasharray="8"/>'
            )
            shapes += [
                f'<circle cx="{x * width:.1f}" cy="{y * height:.1f}" r="6" fill="white" stroke="black" />'
                for x, y in self.draft
            ]
        return "".join(shapes)
