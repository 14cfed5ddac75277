"""The stored incident's lifecycle status (the incident value itself is citywatch.domain.incident)."""

from enum import StrEnum


class IncidentStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"
