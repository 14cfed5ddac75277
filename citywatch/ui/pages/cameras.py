"""Cameras: a wall of the latest pictures with each camera's state (streaming, stalled, offline,
tampered...) and open incidents, its recent incidents, and (admins) the way to its zone editor and
its settings (citywatch.ui.pages.camera_edit: add, edit, disable and enable)."""

from __future__ import annotations

import time
from html import escape
from typing import Any

from nicegui import ui
from nicegui.elements.badge import Badge
from nicegui.elements.label import Label
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.services.permissions import Task
from citywatch.services.search import OpenIncidents
from citywatch.ui.camera_status import BADGE_COLORS, display_state, failing_types, open_text
from citywatch.ui.components.hub_listener import listen
from citywatch.ui.components.layout import page_frame
from citywatch.ui.pages.camera_edit import CameraControls, add_camera_button
from citywatch.ui.services import services
from citywatch.ui.session import UiSession, session_of, to_login

RECENT_PER_CAMERA = 3
FAILING_REFRESH_S = 5.0
"""How often the cards ask the pipeline which analyzers keep failing (nothing pushes that)."""
_HIDE = "this.style.visibility='hidden'"
_SHOW = "this.style.visibility='visible'"


def cameras_page(request: Request) -> RedirectResponse | None:
    session = session_of(request)
    if session is None:
        return to_login(request)
    page_frame(session, "nav.cameras")
    CameraWall(session)
    return None


class CameraWall:
    def __init__(self, session: UiSession) -> None:
        self.session = session
        context = services().context
        cameras = list(context.cameras)
        self.states = {camera_id: status.state for camera_id, status in context.monitor.states().items()}
        self.open = context.incidents.open_by_camera(session.caller)
        recent = context.incidents.recent_by_camera(
            session.caller, [c.id for c in cameras], RECENT_PER_CAMERA
        )
        self.badges: dict[str, Badge] = {}
        self.failing: dict[str, Label] = {}
        s = session
        add_camera_button(s)
        with (
            ui.element("div")
            .classes("w-full p-3 grid gap-3")
            .style("grid-template-columns: repeat(auto-fill, minmax(340px, 1fr))")
        ):
            for camera in cameras:
                with (
                    ui.card()
                    .classes("p-0 gap-0 overflow-hidden")
                    .props(
                        f"id=camera-{escape(camera.id)} data-test=camera-card data-camera={escape(camera.id)}"
                    )
                ):
                    with ui.element("div").classes("relative w-full"):
                        ui.label(s.t("cameras.no_frame")).classes("absolute-center text-gray-400")
                        src = f"/ui/cameras/{camera.id}/frame.jpg"
                        ui.element("img").classes("cw-frame relative").props(
                            f'src="{src}" data-frame="{src}" alt="" loading=lazy '
                            f'onerror="{_HIDE}" onload="{_SHOW}"'
                        )
                    with ui.column().classes("w-full p-2 gap-1"):
                        with ui.row().classes("w-full no-wrap items-center gap-2"):
                            ui.label(camera.name or camera.id).classes("font-bold truncate grow")
                            self.badges[camera.id] = ui.badge().props("data-test=camera-state")
                        self.failing[camera.id] = (
                            ui.label().classes("text-sm text-red-700").props("data-test=analysis-failing")
                        )
                        ui.label(s.t("cameras.recent")).classes("text-xs text-gray-600")
                        for incident in recent[camera.id]:
                            ui.link(
                                f"{s.t(f'type.{incident.type.value}')} · {s.time(incident.started_at)} · "
                                f"{s.t(f'status.{incident.status.value}')}",
                                f"/incidents/{incident.id}",
                            ).classes("text-sm truncate")
                        if not recent[camera.id]:
                            ui.label(s.t("cameras.no_recent")).classes("text-sm text-gray-500")
                        if s.may(Task.EDIT_ZONES):
                            ui.button(
                                s.t("cameras.zones"),
                                icon="pentagon",
                                on_click=lambda c=camera.id: ui.navigate.to(f"/cameras/{c}/zones"),
                            ).props("flat dense no-caps data-test=zones")
                        CameraControls(s, camera)
        self.show_states()
        self.show_failing()
        ui.timer(FAILING_REFRESH_S, self.show_failing)
        listen(self._on_messages, context.live, context.changes)

    def show_failing(self) -> None:
        """A line on the card of each camera with an analyzer that failed again after its reset
        (citywatch.analytics.isolation): its detection of that type is not to be trusted now."""
        supervisor = services().context.supervisor
        failing = {} if supervisor is None else supervisor.failing_analyzers(time.time())
        for camera_id, label in self.failing.items():
            types = ", ".join(self.session.t(f"type.{t}") for t in failing_types(failing, camera_id))
            label.set_text(self.session.t("cameras.analysis_failing", types=types) if types else "")
            label.set_visibility(bool(types))

    def show_states(self) -> None:
        for camera_id, badge in self.badges.items():
            state = display_state(self.states.get(camera_id), self.open.get(camera_id))
            open_: OpenIncidents | None = self.open.get(camera_id)
            text = self.session.t(f"state.{state}")
            if open_ is not None:
                text += " · " + open_text(self.session, open_.new, open_.handling)
            badge.set_text(text)
            badge.props(f"color={BADGE_COLORS[state]}")

    def _on_messages(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            if message["event"] == "camera_state":
                self.states[message["data"]["camera_id"]] = message["data"]["state"]
        if any(m["event"] != "camera_state" for m in messages):
            self.open = services().context.incidents.open_by_camera(self.session.caller)
        self.show_states()
