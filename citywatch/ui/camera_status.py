"""How a camera's health shows on the map and the camera wall: one display state and its colour.

The pipeline's connection states (citywatch.video.state) plus `tampered`, which is not a
connection state but an open `camera_tampered` incident: the picture comes, but is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from citywatch.services.search import OpenIncidents
from citywatch.ui.session import UiSession

Ring = Literal["new", "handling", "none"]

COLORS = {
    "streaming": "#16a34a",
    "connecting": "#f59e0b",
    "reconnecting": "#f59e0b",
    "stalled": "#f59e0b",
    "tampered": "#9333ea",
    "offline": "#dc2626",
    "stopped": "#6b7280",
    "unknown": "#6b7280",
}
BADGE_COLORS = {
    "streaming": "green-7",
    "connecting": "amber-9",
    "reconnecting": "amber-9",
    "stalled": "amber-9",
    "tampered": "purple-7",
    "offline": "red-7",
    "stopped": "grey-7",
    "unknown": "grey-7",
}
"""The same colours among Quasar's (badges take only those)."""
RING_COLORS = {"new": "#dc2626", "handling": "#f59e0b", "none": "#1f2937"}
"""The ring of a camera on the map: red while an incident waits for someone to take it up, amber
while its incidents are being handled (acknowledged, assigned), dark when it has none open."""


def display_state(state: str | None, open_incidents: OpenIncidents | None) -> str:
    """'tampered' while a camera_tampered incident is open; else the connection state ('unknown'
    before the first one)."""
    if open_incidents is not None and "camera_tampered" in open_incidents.types:
        return "tampered"
    return state if state in COLORS else "unknown"


def failing_types(failing_analyzers: Mapping[str, str], camera_id: str) -> list[str]:
    """The incident types of `camera_id` whose analyzer keeps failing, from the pipeline's
    'camera/type' -> last error (`Supervisor.failing_analyzers`, also on /api/health)."""
    return sorted(key.rsplit("/", 1)[1] for key in failing_analyzers if key.rsplit("/", 1)[0] == camera_id)


def ring_of(open_incidents: OpenIncidents | None) -> Ring:
    if open_incidents is None:
        return "none"
    return "new" if open_incidents.new else "handling" if open_incidents.handling else "none"


def open_text(session: UiSession, new: int, handling: int) -> str:
    """'2 new · 1 being handled' (the parts that are not zero)."""
    counts = (("map.open_new", new), ("map.open_handling", handling))
    return " · ".join(session.t(key, count=count) for key, count in counts if count)
