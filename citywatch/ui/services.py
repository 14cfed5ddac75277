"""What every dashboard page shares: the API's context (whose services the pages call) and the
dashboard settings.

NiceGUI keeps its pages in one process-wide app, so there is one dashboard per process: `install`
it once (ui.app.mount_ui does), then pages read it with `services()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from citywatch.config import UiSettings
from citywatch.services.context import AppContext
from citywatch.services.zones import Zones


@dataclass(frozen=True)
class UiServices:
    context: AppContext
    settings: UiSettings

    @property
    def zones(self) -> Zones:
        """The zone editor's service (the context's)."""
        return self.context.zones


_installed: list[UiServices] = []


def install(services_: UiServices) -> None:
    _installed[:] = [services_]


def services() -> UiServices:
    if not _installed:
        raise RuntimeError("the dashboard is not mounted (citywatch.ui.app.mount_ui)")
    return _installed[0]
