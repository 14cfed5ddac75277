"""One incident: the snapshot (boxes drawn on it) with the list of detections, the clip in a
player that seeks (the API serves Range requests; the session cookie authenticates the video
element), the history as a timeline, the actions the user's role allows in the incident's status
(each one click plus a confirmation that names the incident; the everyday ones apart from closing,
which asks how and why, and reopening, a supervisor's) and the export of a report file for the case."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.domain.lifecycle import CLOSING_ACTIONS, Action, LifecycleError
from citywatch.domain.stored_incident import StoredIncident
from citywatch.services.incident_actions import ActionInput, offered_actions
from citywatch.services.permissions import ActionRefused, SessionEnded
from citywatch.ui.box_labels import box_label
from citywatch.ui.components.confirm import (
    ACTION_STYLE,
    ask_assignee,
    ask_closing,
    ask_note,
    confirm,
    incident_name,
    problem_text,
)
from citywatch.ui.components.hub_listener import listen
from citywatch.ui.components.layout import page_frame
from citywatch.ui.report_export import incident_report_html
from citywatch.ui.services import services
from citywatch.ui.session import UiSession, session_of, to_login

_EVERYDAY = (Action.ACKNOWLEDGE, Action.ASSIGN)
"""Shown first, filled; the other actions (notes, the lock) outlined, then closing or reopening."""


def incident_page(request: Request, incident_id: str) -> RedirectResponse | None:
    session = session_of(request)
    if session is None:
        return to_login(request)
    page_frame(session, "nav.live")
    IncidentView(session, incident_id)
    return None


class IncidentView:
    def __init__(self, session: UiSession, incident_id: str) -> None:
        self.session = session
        self.incident_id = incident_id
        self.context = services().context
        self.names = {c.id: c.name or c.id for c in self.context.cameras}
        incident = self.context.incidents.get(session.caller, incident_id)
        if incident is None:
            ui.label(session.t("incident.not_found")).classes("text-xl p-6").props("data-test=not-found")
            return
        # How the confirmations name it: type, camera and local time (none of them changes).
        self.name = incident_name(session, incident, self.names.get(incident.camera_id, incident.camera_id))
        s = session
        with ui.row().classes("w-full no-wrap gap-3 p-3 items-start"):
            with (
                ui.element("div")
                .classes("grid grid-cols-2 gap-3 items-start")
                .style("flex: 3 1 0; min-width: 0")
            ):
                self._evidence(incident)
            with ui.column().classes("gap-3").style("flex: 2 1 0; min-width: 0"):
                with ui.card().classes("w-full p-3 gap-2"):
                    with ui.row().classes("w-full items-center no-wrap"):
                        ui.button(icon="arrow_back", on_click=ui.navigate.back).props(
                            "flat round dense"
                        ).tooltip(s.t("incident.back"))
                        ui.label(s.t(f"type.{incident.type.value}")).classes("text-2xl font-bold truncate")
                        ui.space()
                        ui.button(s.t("incident.export"), icon="download", on_click=self._export).props(
                            "outline no-caps data-test=export"
                        )
                    self.facts = ui.column().classes("w-full gap-1")
                    self.actions = ui.row().classes("w-full gap-2")
                with ui.card().classes("w-full p-3"):
                    ui.label(s.t("incident.history")).classes("text-lg font-bold")
                    self.timeline = ui.column().classes("w-full")
        self.refresh()
        listen(self._on_messages, self.context.changes)

    def _evidence(self, incident: StoredIncident) -> None:
        s = self.session
        with ui.card().classes("w-full p-3 gap-2"):
            ui.label(s.t("incident.snapshot")).classes("text-lg font-bold")
            if incident.snapshot_path:
                ui.element("img").classes("w-full rounded").props(
                    f'src="/api/incidents/{incident.id}/snapshot" alt="" data-test=snapshot'
                )
            else:
                ui.label(s.t("incident.no_snapshot")).classes("text-gray-500")
            if incident.boxes:
                ui.label(s.t("incident.boxes")).classes("font-bold")
                for box in incident.boxes:
                    ui.label(f"{box_label(box, s)} · [{', '.join(f'{v:.0f}' for v in box.xyxy)}]").classes(
                        "text-sm"
                    ).props("data-test=box")
        with ui.card().classes("w-full p-3 gap-2"):
            ui.label(s.t("incident.clip")).classes("text-lg font-bold")
            if incident.clip_path:
                ui.video(f"/api/incidents/{incident.id}/clip").classes("w-full").props(
                    "preload=metadata data-test=clip"
                )
            else:
                ui.label(s.t("incident.no_clip")).classes("text-gray-500")

    def refresh(self) -> None:
        incident = self.context.incidents.get(self.session.caller, self.incident_id)
        if incident is None:
            return
        self._facts(incident)
        self._actions(incident)
        self._timeline()

    def _facts(self, incident: StoredIncident) -> None:
        s = self.session
        rows = [
            ("incident.status", s.t(f"status.{incident.status.value}")),
            ("incident.camera", self.names.get(incident.camera_id, incident.camera_id)),
            ("incident.time", s.time(incident.started_at, long=True)),
            ("incident.ended", s.time(incident.ended_at, long=True) if incident.ended_at else "–"),
            ("incident.confidence", f"{incident.confidence:.0%}"),
            ("incident.assigned", incident.assigned_user or incident.assigned_unit or "–"),
            ("incident.locked", "✔" if incident.locked else "–"),
        ]
        if incident.closed_at is not None:
            closed = f"{s.time(incident.closed_at, long=True)} · {s.t('action.by', actor=incident.closed_by)}"
            reason = s.t(f"reason.{incident.close_reason}") if incident.close_reason else "–"
            rows += [("incident.closed", closed), ("incident.close_reason", reason)]
        self.facts.clear()
        with self.facts:
            for key, value in rows:
                with ui.row().classes("w-full no-wrap gap-2"):
                    ui.label(s.t(key)).classes("text-gray-600 w-40 shrink-0")
                    ui.label(value).classes("font-medium").props(f"data-test=fact-{key.split('.')[1]}")

    def _actions(self, incident: StoredIncident) -> None:
        """Acknowledge and assign first, the notes and the lock after them; on a row of its own, at
        the right, one Close… (asking resolved or false alarm, and why) or, for supervisors, Reopen."""
        offered = offered_actions(incident, self.session.caller.role)
        self.actions.clear()
        with self.actions:
            with ui.row().classes("w-full gap-2"):
                for action in sorted(
                    (a for a in offered if a not in CLOSING_ACTIONS and a is not Action.REOPEN),
                    key=lambda a: a not in _EVERYDAY,
                ):
                    self._button(action, f"action.{action.value}", "" if action in _EVERYDAY else "outline")
            with ui.row().classes("w-full gap-2 justify-end"):
                if any(a in CLOSING_ACTIONS for a in offered):
                    self._button(Action.RESOLVE, "action.close", "", test="action-close")
                if Action.REOPEN in offered:
                    self._button(Action.REOPEN, "action.reopen", "outline")

    def _button(self, action: Action, key: str, props: str, test: str | None = None) -> None:
        icon, color = ACTION_STYLE[action]
        ui.button(self.session.t(key), icon=icon, color=color, on_click=lambda: self._do(action)).props(
            f"no-caps {props} data-test={test or f'action-{action.value}'}"
        )

    def _timeline(self) -> None:
        s = self.session
        history = self.context.incidents.history(s.caller, self.incident_id)
        self.timeline.clear()
        with self.timeline:
            if not history:
                ui.label(s.t("incident.no_history")).classes("text-gray-500")
                return
            with ui.timeline(side="right", layout="dense").props("data-test=history"):
                for event in reversed(history):
                    title = (
                        s.t(f"status.{event.to_status.value}")
                        if event.to_status is not None
                        else s.t(f"action.{event.action.value}")
                    )
                    if event.action is Action.REOPEN:
                        title = s.t("history.reopened", status=title)
                    reason = event.details.get("reason")
                    detail = event.details.get("user") or event.details.get("unit")
                    if reason:
                        detail = s.t(f"reason.{reason}")
                    body = " · ".join(
                        p for p in (s.t("action.by", actor=event.actor), detail, event.note) if p
                    )
                    ui.timeline_entry(
                        body, title=title, subtitle=s.time(event.at), icon=ACTION_STYLE[event.action][0]
                    )

    async def _do(self, action: Action) -> None:
        answer = await self._ask(action)
        if answer is not None:
            self._perform(*answer)

    async def _ask(self, action: Action) -> tuple[Action, ActionInput] | None:
        """What `action` needs, asked in its confirmation, which names the incident (closing asks
        which of the two closing actions too); None when cancelled."""
        s = self.session
        question = s.t("action.confirm_question", action=s.t(f"action.{action.value}"), incident=self.name)
        if action in CLOSING_ACTIONS:
            return await ask_closing(s, s.t("close.question", incident=self.name))
        if action is Action.ASSIGN:
            data = await ask_assignee(s, question, self.context.accounts.assignees(s.caller))
        elif action in (Action.NOTE, Action.REOPEN):
            if action is Action.REOPEN:
                note = await ask_note(s, s.t("reopen.question", incident=self.name), "reopen.note")
            else:
                note = await ask_note(s, question)
            data = ActionInput(note=note) if note is not None else None
        else:
            data = ActionInput() if await confirm(s, question) else None
        return (action, data) if data is not None else None

    def _perform(self, action: Action, data: ActionInput) -> None:
        s = self.session
        try:
            self.context.actions.perform(s.caller, self.incident_id, action, data)
        except (SessionEnded, ActionRefused) as refusal:
            s.refused(refusal)
            if isinstance(refusal, SessionEnded):
                return  # the page is on its way to the login page: nothing to redraw
        except LifecycleError as exc:
            ui.notify(problem_text(s, exc), type="negative")
        else:
            ui.notify(s.t("action.done", action=s.t(f"action.{action.value}")), type="positive")
        self.refresh()

    def _on_messages(self, messages: list[dict[str, Any]]) -> None:
        if any(m["event"] == "incident_changed" and m["data"]["id"] == self.incident_id for m in messages):
            self.refresh()

    async def _export(self) -> None:
        export = self.context.evidence.export(self.session.caller, self.incident_id)
        if export is None:
            return
        incident = export.incident
        camera_name = self.names.get(incident.camera_id, "")
        html = await run.io_bound(incident_report_html, export, camera_name, self.session)
        ui.download.content(html.encode("utf-8"), f"citywatch-incident-{incident.id}.html", "text/html")
