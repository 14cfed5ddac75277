"""How a camera's health shows on the map and the camera wall: one display state and its colour.

The pipeline's connection states (citywatch.video.state) plus `tampered`, which is not a
connection state but an open `camera_tampered` incident: the picture comes, but is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping

from citywatch.services.search import OpenIncidents

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
OPEN_INCIDENT_COLOR = "#b91c1c"


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
