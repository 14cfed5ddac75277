"""Which channels get an incident: routing rules (by type and severity, domain.incident_types) and
quiet hours."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from citywatch.config import NotificationSettings, QuietHours
from citywatch.domain.incident_types import SEVERITY_RANK, IncidentType, severity_of


def in_window(quiet: QuietHours, now: time) -> bool:
    """Whether `now` (local) is inside [start, end); a window whose end is before its start wraps midnight."""
    if quiet.start <= quiet.end:
        return quiet.start <= now < quiet.end
    return now >= quiet.start or now < quiet.end


class Router:
    """Applies `routes` (first match wins, all channels when none matches) and each channel's quiet hours."""

    def __init__(self, settings: NotificationSettings, quiet_hours: dict[str, QuietHours | None]) -> None:
        self._routes = settings.routes
        self._zone = ZoneInfo(settings.timezone)
        self._quiet = quiet_hours
        self._channels = list(quiet_hours)

    def channels_for(self, incident_type: IncidentType | str, camera_id: str, at: float) -> list[str]:
        """The channels that get an incident of this type on this camera when sent at epoch `at`."""
        chosen = self._channels
        for rule in self._routes:
            if (rule.incident_types is None or str(incident_type) in rule.incident_types) and (
                rule.cameras is None or camera_id in rule.cameras
            ):
                chosen = rule.channels
                break
        local = datetime.fromtimestamp(at, self._zone).time()
        rank = SEVERITY_RANK[severity_of(incident_type)]

        def silenced(quiet: QuietHours | None) -> bool:
            return quiet is not None and in_window(quiet, local) and rank < SEVERITY_RANK[quiet.min_severity]

        return [name for name in chosen if name in self._quiet and not silenced(self._quiet[name])]
