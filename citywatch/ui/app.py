"""Mounting the dashboard on the API's FastAPI app: the pages at /, the API stays at /api.

NiceGUI keeps pages in one process-wide app, so this is done once per process, by `citywatch
serve` (not by `create_app`, which tests call many times).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from nicegui import app as nicegui_app
from nicegui import ui

from citywatch.config import UiSettings
from citywatch.services.context import AppContext
from citywatch.ui.guard import install_guard
from citywatch.ui.pages.camera_edit import camera_edit_page, camera_new_page
from citywatch.ui.pages.cameras import cameras_page
from citywatch.ui.pages.incident import incident_page
from citywatch.ui.pages.live import live_page
from citywatch.ui.pages.login import login_page
from citywatch.ui.pages.reports import reports_page
from citywatch.ui.pages.zones import zones_page
from citywatch.ui.services import UiServices, install

STATIC_DIR = Path(__file__).resolve().parent / "static"
_HEAD = (
    '<link rel="stylesheet" href="/ui/static/dashboard.css"><script src="/ui/static/dashboard.js"></script>'
)


def mount_ui(app: FastAPI, context: AppContext, settings: UiSettings) -> None:
    install(UiServices(context, settings))
    install_guard()
    nicegui_app.add_static_files("/ui/static", STATIC_DIR)
    ui.add_head_html(_HEAD, shared=True)
    ui.page("/login")(login_page)
    ui.page("/")(live_page)
    ui.page("/incidents/{incident_id}")(incident_page)
    ui.page("/cameras")(cameras_page)
    ui.page("/cameras/new")(camera_new_page)
    ui.page("/cameras/{camera_id}/edit")(camera_edit_page)
    ui.page("/cameras/{camera_id}/zones")(zones_page)
    ui.page("/reports")(reports_page)
    ui.run_with(
        app,
        mount_path="/",
        title="citywatch",
        favicon="📹",
        language="th" if settings.default_language == "th" else "en-US",
        show_welcome_message=False,
        reconnect_timeout=10,
    )
