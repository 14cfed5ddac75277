"""The alarm layer of every logged-in page (`layout.page_frame` builds it), whatever page the
operator is on (Live, an incident, Cameras, Reports), after Milestone XProtect's alarm manager and
Genetec's alarm list:

- every new incident of high or medium severity (the one table, citywatch.domain.incident_types)
  gets a banner that says what and where in the user's language and opens the incident on a click;
  a high one stays until it is opened, dismissed or acknowledged by anyone, a medium one for
  MEDIUM_BANNER_S; a burst is stacked, the newest first, with "+N more", every one reachable, and
  the stack follows the operator from page to page (the browser tab keeps it);
- a high one flashes the screen; each sounds (high: three loud tones, medium: one quiet tone)
  when the user's sound switch is on;
- the header counts the incidents nobody has acknowledged yet (status new, up to COUNT_CAP, then
  "99+"), updated as incidents arrive and as anyone acts on them, and opens Live's queue of them;
- the sound switch says its state in words that cannot be read as an action ("Sound: on", "Sound:
  off", "Sound: on (click to allow)" until the browser has had the click or key press it needs
  to play sound), kept per user in the database (users.sound_alerts) across pages, browsers and
  restarts;
- SESSION_WARNING_S before the login session ends, a banner says when and offers to sign in again
  (the login page, coming back to this page and query);
- while the server is away, a full-width red banner says that the alarms are not live (NiceGUI's
  own small "Connection lost" box is hidden) until the page reconnects.

The page hands the browser what it must show (static/dashboard.js draws the banners, plays the
sound, keeps the stack across pages and counts the alarms shown in `window.citywatchAlerts`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from nicegui import background_tasks, run, ui
from nicegui.elements.button import Button
from nicegui.elements.tooltip import Tooltip

from citywatch.domain.incident_types import severity_of
from citywatch.domain.stored_incident import IncidentStatus
from citywatch.services.search import IncidentFilter
from citywatch.ui.components.hub_listener import listen
from citywatch.ui.services import services
from citywatch.ui.session import UiSession

ALARM_SEVERITIES = ("high", "medium")
"""Severities that raise an alarm (banner and sound); low ones only count."""
MEDIUM_BANNER_S = 300
"""How long a medium-severity banner stays when nobody opens or dismisses it."""
COUNT_CAP = 99
"""The counter reads 99+ above this (it is one bounded query per update)."""
SESSION_WARNING_S = 600
"""How long before the login session ends the page warns."""
QUEUE_URL = "/?status=new"
"""Live's queue of the incidents nobody has acknowledged yet."""


class AlarmLayer:
    """Build with `header()` inside the page's header, then `start()` after it."""

    def __init__(self, session: UiSession) -> None:
        self.session = session
        self.context = services().context
        self.names = {c.id: c.name or c.id for c in self.context.cameras}
        self.sound_on = self.context.accounts.sound_alerts(session.caller)
        self.audio_running = False
        """Whether the browser said it may play sound now (it needs a click or key press first)."""
        self.counter: Button | None = None
        self.sound: Button | None = None
        self.sound_tip: Tooltip | None = None
        self.client = ui.context.client
        self._recounting = False
        self._recount_wanted = False

    def header(self) -> None:
        s = self.session
        self.counter = (
            ui.button(icon="notifications", on_click=lambda: ui.navigate.to(QUEUE_URL))
            .props("flat no-caps data-test=new-count")
            .tooltip(s.t("nav.new_tip"))
        )
        self.sound = ui.button().props("flat no-caps data-test=sound")
        with self.sound:
            self.sound_tip = ui.tooltip("")
        self.sound.on(
            "click",
            self._sound_clicked,
            js_handler="async () => emit(await citywatchSoundClick())",
        )
        self._show_sound()

    def start(self) -> None:
        s = self.session
        expires = s.expires_at
        with ui.element("div").classes("cw-offline-banner").props('data-test=offline role="alert"'):
            ui.icon("cloud_off").classes("text-3xl")
            ui.label(s.t("offline.banner"))
        with ui.element("div").classes("cw-session-banner").props('data-test=session-ending role="alert"'):
            ui.icon("schedule").classes("text-2xl")
            ui.label(s.t("session.ending", time=s.time(expires) if expires else "–")).classes("grow")
            ui.button(s.t("session.relogin"), icon="login").props(
                "unelevated no-caps color=white text-color=amber-10 data-test=relogin"
            ).on("click", js_handler="() => citywatchRelogin()")
        count, new_ids, complete = self._new_incidents()
        self._show_count(count, complete)
        remaining_s = (expires - datetime.now(expires.tzinfo)).total_seconds() if expires else None
        config = {
            "user": s.caller.actor,
            "lang": s.lang,
            "sound": self.sound_on,
            "mediumS": MEDIUM_BANNER_S,
            "labels": {key: s.t(f"alarm.{key}") for key in ("open", "dismiss", "fewer")}
            | {"more": s.t("alarm.more", count="{count}")},
            "newIds": new_ids if complete else None,
            "session": None
            if remaining_s is None
            else {"expiresInMs": round(remaining_s * 1000), "warnBeforeMs": SESSION_WARNING_S * 1000},
        }
        ui.add_body_html(f"<script>citywatchInit({_script_json(config)});</script>")
        ui.on("citywatch_audio", self._audio_reported)
        listen(self._on_messages, self.context.live, self.context.changes)

    def alarm(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """What the browser shows of a new incident (live hub payload), None when it raises none."""
        severity = _severity(data)
        if severity not in ALARM_SEVERITIES:
            return None
        s = self.session
        type_name = _text(s, f"type.{data['type']}", data["type"])
        camera = self.names.get(data["camera_id"], data["camera_id"])
        started = data.get("started_at") or data.get("time")
        clock = ""
        if started:
            moment = datetime.fromisoformat(started).astimezone(self.context.timezone)
            clock = moment.strftime("%H:%M:%S")
        return {
            "id": data["id"],
            "severity": severity,
            "title": s.t(f"alarm.{severity}"),
            "what": s.t("alarm.what_where", type=type_name, camera=camera),
            "time": clock,
            "url": f"/incidents/{data['id']}",
        }

    def _on_messages(self, messages: list[dict[str, Any]]) -> None:
        """Banners at once (nothing to read for them); the count after, off the event loop, so that
        the page's own updates of the same batch (Live's feed) do not wait for it."""
        incidents = [m["data"] for m in messages if m["event"] == "incident"]
        changed = [m["data"] for m in messages if m["event"] == "incident_changed"]
        if not incidents and not changed:
            return
        update = {
            "alarms": [alarm for alarm in map(self.alarm, incidents) if alarm is not None],
            "handled": [c["id"] for c in changed if c.get("status") != IncidentStatus.NEW.value],
        }
        if update["alarms"] or update["handled"]:
            ui.run_javascript(f"citywatchAlarms({_script_json(update)})")
        self._recount_wanted = True
        if not self._recounting:
            background_tasks.create(self._recount(), name="citywatch-count", context=self.client)

    async def _recount(self) -> None:
        """Count again until no batch asked for it meanwhile (a burst costs one or two counts)."""
        self._recounting = True
        try:
            while self._recount_wanted:
                self._recount_wanted = False
                count, _, complete = await run.io_bound(self._new_incidents)
                self._show_count(count, complete)
        finally:
            self._recounting = False

    def _new_incidents(self) -> tuple[int, list[str], bool]:
        """How many incidents are new (at most COUNT_CAP), their ids, and whether that is all."""
        where = IncidentFilter(statuses=(IncidentStatus.NEW,))
        page = self.context.incidents.search(self.session.caller, where, limit=COUNT_CAP)
        return len(page.items), [i.id for i in page.items], page.next_cursor is None

    def _show_count(self, count: int, complete: bool) -> None:
        if self.counter is None:
            return
        shown = f"{count}" if complete else f"{COUNT_CAP}+"
        self.counter.set_text(self.session.t("nav.new_count", count=shown))
        color = "amber" if count else "white"
        self.counter.props(f"data-count={count if complete else COUNT_CAP + 1} color={color}")

    def _sound_clicked(self, event: Any) -> None:
        state = event.args if isinstance(event.args, dict) else {}
        on, running = bool(state.get("on")), bool(state.get("running"))
        if on != self.sound_on:
            self.context.accounts.set_sound_alerts(self.session.caller, on)
            self.sound_on = on
        self.audio_running = running
        self._show_sound()

    def _audio_reported(self, event: Any) -> None:
        self.audio_running = bool(event.args[0] if isinstance(event.args, list) else event.args)
        self._show_sound()

    def _show_sound(self) -> None:
        if self.sound is None:
            return
        if not self.sound_on:
            state, icon, color = "off", "volume_off", "white"
        elif self.audio_running:
            state, icon, color = "on", "volume_up", "white"
        else:
            state, icon, color = "blocked", "touch_app", "amber"
        label = {"off": "nav.sound_off", "on": "nav.sound_on", "blocked": "nav.sound_blocked"}[state]
        self.sound.set_text(self.session.t(label))
        self.sound.props(f"icon={icon} color={color} data-state={state}")
        if self.sound_tip is not None:
            self.sound_tip.set_text(self.session.t(f"nav.sound_tip_{state}"))


def _severity(data: dict[str, Any]) -> str | None:
    try:
        return severity_of(data["type"])
    except (KeyError, ValueError):  # a type of a plugin, not in the table: what its payload says
        return data.get("severity")


def _text(session: UiSession, key: str, fallback: str) -> str:
    try:
        return session.t(key)
    except KeyError:
        return fallback


def _script_json(value: object) -> str:
    """`value` as JSON that is safe inside a <script> element and a run_javascript string."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
