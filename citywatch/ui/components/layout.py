"""The frame of every page after login: a header with the pages, the count of new incidents, the
sound switch, the language switch, who is logged in (and as what) and log out; and the alarm layer
(components.alarms: banners, flash and sound of new incidents, the session's end, the server away)."""

from __future__ import annotations

from nicegui import ui

from citywatch.domain.languages import LANGUAGES, Language
from citywatch.ui.components.alarms import AlarmLayer
from citywatch.ui.services import services
from citywatch.ui.session import UiSession

HEADER_PX = 48
"""Height of the header: pages that fill the screen take the rest."""
PAGES = (
    ("nav.live", "/", "map"),
    ("nav.cameras", "/cameras", "videocam"),
    ("nav.reports", "/reports", "bar_chart"),
)


def page_frame(session: UiSession, active: str) -> None:
    """Header of a page whose nav entry is `active` (e.g. 'nav.live') and the alarm layer; sets the
    tab title."""
    ui.page_title(f"{session.t(active)} · {session.t('app.title')}")
    alarms = AlarmLayer(session)
    ui.context.client.content.classes("p-0 gap-0")  # pages lay themselves out edge to edge
    with (
        ui.header()
        .classes("items-center gap-2 px-4 py-0 bg-slate-900 text-white no-wrap")
        .style(f"height: {HEADER_PX}px")
    ):
        ui.label(session.t("app.title")).classes("text-lg font-bold tracking-wide mr-4")
        for key, path, icon in PAGES:
            button = ui.button(session.t(key), icon=icon, on_click=lambda p=path: ui.navigate.to(p))
            button.props("flat no-caps" + (" color=amber" if key == active else " color=white"))
            button.props(f"data-test=nav-{path.strip('/') or 'live'}")
        ui.space()
        alarms.header()
        other = next(lang for lang in LANGUAGES if lang != session.lang)
        ui.button(
            session.t("nav.language"), icon="translate", on_click=lambda: _switch(session, other)
        ).props("flat no-caps color=white").props("data-test=language")
        ui.label(f"{session.caller.actor} · {session.t(f'role.{session.caller.role.value}')}").classes(
            "text-sm opacity-80 whitespace-nowrap"
        ).props("data-test=whoami")
        ui.button(
            session.t("nav.logout"), icon="logout", on_click=lambda: ui.run_javascript("citywatchLogout()")
        ).props("flat no-caps color=white").props("data-test=logout")
    alarms.start()


def _switch(session: UiSession, language: Language) -> None:
    services().context.accounts.set_language(session.caller, language)
    ui.navigate.reload()
