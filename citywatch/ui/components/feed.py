"""The incident feed of the Live page: newest first, filtered by type and camera, a page at a time
(cursor pages: as fast on page 500 as on page 1, however many incidents are stored); a new
incident that matches the filters appears on the first page at once, highlighted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from citywatch.domain.incident_types import IncidentType, severity_of
from citywatch.domain.stored_incident import StoredIncident
from citywatch.services.search import IncidentFilter, Page
from citywatch.ui.services import services
from citywatch.ui.session import UiSession

PAGE_SIZE = 12


class IncidentFeed:
    def __init__(self, session: UiSession, camera_names: dict[str, str]) -> None:
        self.session = session
        self.camera_names = camera_names
        self.types: list[str] = []
        self.camera_ids: list[str] = []
        self.cursors: list[str | None] = [None]
        """The cursor of every page up to the one shown; [None] is the first page."""
        self.page = Page([], None)
        self.highlight: set[str] = set()
        s = session
        with ui.row().classes("w-full no-wrap gap-2 items-center"):
            type_options = {t.value: s.t(f"type.{t.value}") for t in IncidentType}
            ui.select(
                type_options, multiple=True, label=s.t("live.filter_type"), on_change=self._on_types
            ).props("dense outlined clearable use-chips data-test=filter-type").classes("w-1/2")
            ui.select(
                camera_names, multiple=True, label=s.t("live.filter_camera"), on_change=self._on_cameras
            ).props("dense outlined clearable use-chips data-test=filter-camera").classes("w-1/2")
        self.list = (
            ui.column().classes("w-full gap-2 grow overflow-y-auto flex-nowrap").props("data-test=feed")
        )
        with ui.row().classes("w-full items-center justify-between"):
            self.newer = ui.button(s.t("live.newer"), icon="chevron_left", on_click=self._newer)
            self.newer.props("flat no-caps dense data-test=feed-newer")
            self.page_label = ui.label().classes("text-sm text-gray-600").props("data-test=feed-page")
            self.older = ui.button(s.t("live.older"), icon="chevron_right", on_click=self._older)
            self.older.props("flat no-caps dense icon-right=chevron_right data-test=feed-older")
        self.load()

    def where(self) -> IncidentFilter:
        return IncidentFilter(types=[IncidentType(t) for t in self.types], camera_ids=self.camera_ids)

    def load(self) -> None:
        self.page = services().context.incidents.search(
            self.session.caller, self.where(), limit=PAGE_SIZE, cursor=self.cursors[-1]
        )
        self.render()

    def render(self) -> None:
        self.list.clear()
        with self.list:
            if not self.page.items:
                ui.label(self.session.t("live.empty")).classes("text-gray-500 p-4")
            for incident in self.page.items:
                feed_item(self.session, incident, self.camera_names, incident.id in self.highlight)
        self.highlight.clear()
        self.page_label.set_text(self.session.t("live.page", page=len(self.cursors)))
        self.newer.set_enabled(len(self.cursors) > 1)
        self.older.set_enabled(self.page.next_cursor is not None)

    def update(self, new: list[dict[str, Any]], changed: set[str]) -> None:
        """New incidents from the live hub (those matching the filters go on page one, highlighted)
        and ids of incidents operators changed: one reload for the whole batch, if any is shown."""
        matching = [
            data["id"]
            for data in new
            if (not self.types or data["type"] in self.types)
            and (not self.camera_ids or data["camera_id"] in self.camera_ids)
        ]
        on_first_page = len(self.cursors) == 1
        if (matching and on_first_page) or any(i.id in changed for i in self.page.items):
            self.highlight.update(matching if on_first_page else [])
            self.load()

    def _on_types(self, event: Any) -> None:
        self.types = list(event.value or [])
        self._first_page()

    def _on_cameras(self, event: Any) -> None:
        self.camera_ids = list(event.value or [])
        self._first_page()

    def _first_page(self) -> None:
        self.cursors = [None]
        self.load()

    def _older(self) -> None:
        if self.page.next_cursor is not None:
            self.cursors.append(self.page.next_cursor)
            self.load()

    def _newer(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            self.load()


def feed_item(
    session: UiSession, incident: StoredIncident, camera_names: dict[str, str], new: bool = False
) -> None:
    """One incident as a clickable row: thumbnail, type, status, camera, time, confidence."""
    s = session
    severity = severity_of(incident.type)
    open_page: Callable[[], None] = lambda: ui.navigate.to(f"/incidents/{incident.id}")  # noqa: E731
    card = ui.card().classes(
        f"cw-feed-item cw-{severity} w-full p-2 cursor-pointer" + (" cw-new" if new else "")
    )
    card.props(f"data-test=feed-item data-id={incident.id} data-status={incident.status.value}").on(
        "click", open_page
    )
    with card, ui.row().classes("w-full no-wrap items-center gap-3"):
        if incident.snapshot_path:
            ui.element("img").props(
                f'src="/ui/incidents/{incident.id}/thumb.jpg" loading=lazy alt=""'
            ).classes("cw-thumb")
        else:
            ui.icon("videocam_off", size="md").classes(
                "cw-thumb text-gray-400 flex items-center justify-center"
            )
        with ui.column().classes("gap-0 min-w-0 grow"):
            with ui.row().classes("w-full no-wrap items-center gap-2"):
                ui.label(s.t(f"type.{incident.type.value}")).classes("font-bold text-base truncate")
                ui.badge(s.t(f"severity.{severity}"), color="red-7" if severity == "high" else "amber-8")
                ui.space()
                ui.badge(
                    s.t(f"status.{incident.status.value}"), color=_STATUS_COLORS[incident.status.value]
                ).props("data-test=feed-status")
            ui.label(camera_names.get(incident.camera_id, incident.camera_id)).classes(
                "text-sm truncate w-full"
            )
            ui.label(f"{s.time(incident.started_at)} · {incident.confidence:.0%}").classes(
                "text-xs text-gray-600"
            )


_STATUS_COLORS = {
    "new": "red-6",
    "acknowledged": "orange-7",
    "assigned": "blue-7",
    "resolved": "green-7",
    "false_alarm": "grey-6",
}
