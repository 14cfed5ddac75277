"""Live: the camera map and the incident feed side by side, both updated as things happen (the
alarms of new incidents are every page's: components.alarms)."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.ui.components.camera_map import CameraMap
from citywatch.ui.components.feed import IncidentFeed
from citywatch.ui.components.hub_listener import listen
from citywatch.ui.components.layout import HEADER_PX, page_frame
from citywatch.ui.queue_view import QueueView
from citywatch.ui.services import services
from citywatch.ui.session import UiSession, session_of, to_login


def live_page(request: Request) -> RedirectResponse | None:
    session = session_of(request)
    if session is None:
        return to_login(request)
    build_live(session, request.query_params)
    return None


def build_live(session: UiSession, query: QueryParams) -> None:
    """The page, showing the work queue's view named by `query` (citywatch.ui.queue_view)."""
    context = services().context
    cameras = list(context.cameras)
    names = {c.id: c.name or c.id for c in cameras}
    view = QueueView.from_query(query, names)
    page_frame(session, "nav.live")
    with ui.row().classes("w-full no-wrap gap-3 p-3").style(f"height: calc(100vh - {HEADER_PX}px)"):
        with ui.card().classes("h-full p-2 gap-1 flex-nowrap").style("flex: 11 1 0; min-width: 0"):
            ui.label(session.t("live.map")).classes("text-base font-bold")
            camera_map = CameraMap(session, cameras)
        with ui.card().classes("h-full p-2 gap-2 flex-nowrap").style("flex: 9 1 0; min-width: 0"):
            ui.label(session.t("live.feed")).classes("text-base font-bold")
            feed = IncidentFeed(session, names, view)

    states = {camera_id: status.state for camera_id, status in context.monitor.states().items()}
    camera_map.update(states, context.incidents.open_by_camera(session.caller))

    def on_messages(messages: list[dict[str, Any]]) -> None:
        for message in messages:
            if message["event"] == "camera_state":
                states[message["data"]["camera_id"]] = message["data"]["state"]
        incidents = [m["data"] for m in messages if m["event"] == "incident"]
        changed = {m["data"]["id"] for m in messages if m["event"] == "incident_changed"}
        open_now = (
            context.incidents.open_by_camera(session.caller) if incidents or changed else camera_map.open
        )
        camera_map.update(states, open_now, alarming=[i["camera_id"] for i in incidents])
        feed.update(incidents, changed)

    listen(on_messages, context.live, context.changes)
