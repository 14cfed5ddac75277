"""What every dashboard page shares: the API's context, the dashboard settings, where the config
file is (for the zone editor) and the hub of changes operators make in the dashboard.

NiceGUI keeps its pages in one process-wide app, so there is one dashboard per process: `install`
it once (ui.app.mount_ui does), then pages read it with `services()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from citywatch.api.context import ApiContext
from citywatch.config import UiSettings
from citywatch.notifiers.live import LiveHub


@dataclass(frozen=True)
class UiServices:
    context: ApiContext
    settings: UiSettings
    config_path: Path | None
    """The config file the zone editor writes; None when serve runs without one (zones read-only)."""
    changes: LiveHub
    """{"event": "incident_changed", "data": {"id", "status", "locked"}} for every change made here,
    so every open dashboard shows it at once."""


_installed: list[UiServices] = []


def install(services_: UiServices) -> None:
    _installed[:] = [services_]


def services() -> UiServices:
    if not _installed:
        raise RuntimeError("the dashboard is not mounted (citywatch.ui.app.mount_ui)")
    return _installed[0]
