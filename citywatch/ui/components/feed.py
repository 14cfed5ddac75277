"""The Live page's incident list as a work queue (after Genetec Security Center's alarm list and
Frigate's review): tabs by status (new, acknowledged, assigned to me, closed, all), filters by type
and camera, cursor pages (as fast on page 500 as on page 1). Which order each tab has, and how the
view is kept in the URL: citywatch.ui.queue_view.

New incidents come from the live hub. Those this page shows are highlighted where they land; the
others (on another page, hidden by the tab or a filter) are counted in a bar whose button opens
them: all incidents, the newest first, where every new one is on the first page. Incidents stored
since the user last looked at the list carry a "just in" mark (see `LAST_LOOKED_JS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from nicegui import background_tasks, ui

from citywatch.domain.incident_types import IncidentType, severity_of
from citywatch.domain.stored_incident import StoredIncident
from citywatch.services.search import Page
from citywatch.ui.queue_view import QUEUE_STATUSES, QueueView
from citywatch.ui.services import services
from citywatch.ui.session import UiSession

PAGE_SIZE = 12
LAST_LOOKED_JS = """(() => {
  const key = %s, before = localStorage.getItem(key);
  localStorage.setItem(key, %s);
  return before;
})()"""
"""When this user last looked at the list, kept in the browser (localStorage, per user name): the
time the server gave the page, swapped for this page's. Kept there rather than in the database
because it is a matter of one screen, not of the record: no schema change, no write per page view,
and a console is one operator's for a shift; another browser simply marks nothing at first."""


class IncidentFeed:
    def __init__(self, session: UiSession, camera_names: dict[str, str], view: QueueView) -> None:
        self.session = session
        self.camera_names = camera_names
        self.view = view
        self.cursors: list[str | None] = [None]
        """The cursor of every page up to the one shown; [None] is the first page."""
        self.page = Page([], None)
        self.highlight: set[str] = set()
        self.waiting: dict[str, tuple[str, str]] = {}
        """New incidents this page does not show: id -> (type, camera id)."""
        self.looked_before: datetime | None = None
        """When the user last looked at the list before this page: what came since is marked."""
        self.url: str | None = None
        """The address the browser shows (None: as it was opened)."""
        s = session
        self.tabs = ui.tabs(value=view.status, on_change=self._on_status).classes("w-full")
        self.tabs.props(
            "dense no-caps inline-label align=left active-color=primary indicator-color=primary "
            "outside-arrows mobile-arrows data-test=queue-status"
        )
        with self.tabs:
            for status in QUEUE_STATUSES:
                ui.tab(status, s.t(f"queue.{status}")).props(f"data-test=queue-{status}")
        with ui.row().classes("w-full no-wrap gap-2 items-center"):
            type_options = {t.value: s.t(f"type.{t.value}") for t in IncidentType}
            self.type_select = ui.select(
                type_options,
                multiple=True,
                value=[t.value for t in view.types],
                label=s.t("live.filter_type"),
                on_change=self._on_types,
            )
            self.type_select.props("dense outlined clearable use-chips data-test=filter-type").classes(
                "w-1/2"
            )
            self.camera_select = ui.select(
                camera_names,
                multiple=True,
                value=list(view.cameras),
                label=s.t("live.filter_camera"),
                on_change=self._on_cameras,
            )
            self.camera_select.props("dense outlined clearable use-chips data-test=filter-camera")
            self.camera_select.classes("w-1/2")
        with ui.row().classes("w-full no-wrap items-center gap-2 px-3 py-1 rounded bg-red-1") as self.bar:
            ui.icon("notification_important", color="red-8")
            self.bar_label = ui.label().classes("grow font-bold text-red-10")
            ui.button(s.t("queue.show"), on_click=self._show_waiting).props(
                "dense unelevated no-caps color=red-8 data-test=feed-arrivals-show"
            )
        self.bar.props("data-test=feed-arrivals")
        self.order_label = ui.label().classes("text-xs text-gray-600").props("data-test=queue-order")
        self.list = (
            ui.column().classes("w-full gap-2 grow overflow-y-auto flex-nowrap").props("data-test=feed")
        )
        with ui.row().classes("w-full items-center justify-between"):
            self.newer = ui.button(s.t("live.newer"), icon="chevron_left", on_click=self._newer)
            self.newer.props("flat no-caps dense data-test=feed-newer")
            self.page_label = ui.label().classes("text-sm text-gray-600").props("data-test=feed-page")
            self.older = ui.button(s.t("live.older"), icon="chevron_right", on_click=self._older)
            self.older.props("flat no-caps dense icon-right=chevron_right data-test=feed-older")
        self._open(view.page)
        looked_at = datetime.now(UTC).isoformat()
        background_tasks.create(
            self._remember_look(looked_at), name="citywatch-last-looked", context=ui.context.client
        )

    def _search(self, cursor: str | None) -> Page:
        return services().context.incidents.search(
            self.session.caller,
            self.view.where(self.session.caller.actor),
            self.view.sort,
            limit=PAGE_SIZE,
            cursor=cursor,
        )

    def _open(self, page: int) -> None:
        """Show page `page` of the view (its last page when it has fewer), walking the cursors."""
        self.cursors = [None]
        self.page = self._search(None)
        while len(self.cursors) < page and self.page.next_cursor is not None:
            self.cursors.append(self.page.next_cursor)
            self.page = self._search(self.page.next_cursor)
        self._shown()

    def _shown(self) -> None:
        """Draw the page and keep the URL, the bar and the pager in step with it."""
        self.view = replace(self.view, page=len(self.cursors))
        if self.view.url() != self.url:
            self.url = self.view.url()
            ui.navigate.history.replace(self.url)
        for incident in self.page.items:
            self.waiting.pop(incident.id, None)
        self.render()

    def render(self) -> None:
        s = self.session
        self.list.clear()
        with self.list:
            if not self.page.items:
                ui.label(s.t("live.empty")).classes("text-gray-500 p-4")
            for incident in self.page.items:
                unseen = self.looked_before is not None and incident.created_at > self.looked_before
                feed_item(s, incident, self.camera_names, incident.id in self.highlight, unseen)
        self.highlight.clear()
        self._show_bar()
        self.order_label.set_text(s.t(f"queue.order.{self.view.sort.name.lower()}"))
        self.page_label.set_text(s.t("live.page", page=len(self.cursors)))
        self.newer.set_enabled(len(self.cursors) > 1)
        self.older.set_enabled(self.page.next_cursor is not None)

    def update(self, new: list[dict[str, Any]], changed: set[str]) -> None:
        """New incidents from the live hub and ids of incidents operators changed: the page is read
        again (once for the whole batch) when something may have moved in or out of it; the new
        ones it does not show go to the bar."""
        if not new and not any(i.id in changed for i in self.page.items):
            return
        page = self._search(self.cursors[-1])
        shown = {i.id for i in page.items}
        self.highlight = {d["id"] for d in new if d["id"] in shown}
        self.waiting.update({d["id"]: (d["type"], d["camera_id"]) for d in new if d["id"] not in shown})
        if page != self.page or self.highlight:
            self.page = page
            self._shown()
        else:
            self._show_bar()

    def _show_bar(self) -> None:
        self.bar.set_visibility(bool(self.waiting))
        self.bar_label.set_text(self.session.t("queue.arrived", count=len(self.waiting)))

    async def _remember_look(self, looked_at: str) -> None:
        client = ui.context.client
        await client.connected()
        if client.is_deleted:
            return  # left before it connected: not a look
        key = f"citywatch.queue.lookedAt.{self.session.caller.actor}"
        try:
            before = await client.run_javascript(
                LAST_LOOKED_JS % (json.dumps(key), json.dumps(looked_at)), timeout=5
            )
            self.looked_before = datetime.fromisoformat(before) if isinstance(before, str) else None
        except (TimeoutError, ValueError):  # gone meanwhile; a value not written by this page
            return
        if self.looked_before is not None:
            self.render()

    def _show_waiting(self) -> None:
        """All incidents, newest first, from the first page: the types and cameras filters stay
        only if every waiting incident passes them."""
        types = {t.value for t in self.view.types}
        cameras = set(self.view.cameras)
        keep_types = all(not types or t in types for t, _ in self.waiting.values())
        keep_cameras = all(not cameras or c in cameras for _, c in self.waiting.values())
        self.highlight = set(self.waiting)
        self._change(
            status="all",
            types=self.view.types if keep_types else (),
            cameras=self.view.cameras if keep_cameras else (),
        )

    def _change(self, **changes: Any) -> None:
        """Another view, from its first page; its controls follow (their handlers then see no change)."""
        self.view = replace(self.view, page=1, **changes)
        self.tabs.set_value(self.view.status)
        self.type_select.set_value([t.value for t in self.view.types])
        self.camera_select.set_value(list(self.view.cameras))
        self._open(1)

    def _on_status(self, event: Any) -> None:
        if event.value != self.view.status:
            self._change(status=event.value)

    def _on_types(self, event: Any) -> None:
        types = tuple(IncidentType(t) for t in event.value or [])
        if types != self.view.types:
            self._change(types=types)

    def _on_cameras(self, event: Any) -> None:
        cameras = tuple(event.value or [])
        if cameras != self.view.cameras:
            self._change(cameras=cameras)

    def _older(self) -> None:
        if self.page.next_cursor is not None:
            self.cursors.append(self.page.next_cursor)
            self.page = self._search(self.page.next_cursor)
            self._shown()

    def _newer(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            self.page = self._search(self.cursors[-1])
            self._shown()


def feed_item(
    session: UiSession,
    incident: StoredIncident,
    camera_names: dict[str, str],
    new: bool = False,
    unseen: bool = False,
) -> None:
    """One incident as a clickable row: thumbnail, type, severity, status, camera, time, confidence;
    `new`: it just arrived (a flash); `unseen`: stored since the user last looked (a mark)."""
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
                if unseen:
                    with ui.badge(s.t("queue.unseen"), color="blue-7").props("data-test=feed-unseen"):
                        ui.tooltip(s.t("queue.unseen_hint"))
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
