"""The words of an incident's life and its rules, which every layer shares: the actions operators
take, which status each leads to and from which, the errors an action can meet and one entry of an
incident's history. Where they are stored is citywatch.storage.lifecycle.

    new ──► acknowledged ──► assigned ──► resolved
     │            │          ▲   │  ╰──► false_alarm
     ╰────────────┴──────────╯   ╰─ (re)assigned
    new / acknowledged / assigned ──► resolved | false_alarm

`resolved` and `false_alarm` are final. Notes and the lock are allowed in every status: a court
case may need a closed incident's evidence kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from citywatch.domain.stored_incident import IncidentStatus


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    FALSE_ALARM = "false_alarm"
    NOTE = "note"
    LOCK = "lock"
    UNLOCK = "unlock"


STATUS_ACTIONS: dict[Action, IncidentStatus] = {
    Action.ACKNOWLEDGE: IncidentStatus.ACKNOWLEDGED,
    Action.ASSIGN: IncidentStatus.ASSIGNED,
    Action.RESOLVE: IncidentStatus.RESOLVED,
    Action.FALSE_ALARM: IncidentStatus.FALSE_ALARM,
}

OPEN_STATUSES = frozenset({IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.ASSIGNED})


class CloseReason(StrEnum):
    """Why an incident was closed, asked when it is resolved or called a false alarm (with a note);
    reports count them, so a month of false alarms says what to tune."""

    HANDLED = "handled"
    """Resolved: officers or a unit dealt with it."""
    REFERRED = "referred"
    """Resolved: handed to another agency (fire brigade, ambulance, highway police)."""
    NO_ACTION_NEEDED = "no_action_needed"
    """Resolved: real, but over or harmless when seen."""
    WRONG_DETECTION = "wrong_detection"
    """False alarm: the model saw something that is not there (a shadow, a phone, a reflection)."""
    DUPLICATE = "duplicate"
    """False alarm: another incident already covers it."""
    TEST = "test"
    """False alarm: a drill or a test of the system."""
    OTHER = "other"
    """Either: the note says why."""


CLOSE_REASONS: dict[IncidentStatus, tuple[CloseReason, ...]] = {
    IncidentStatus.RESOLVED: (
        CloseReason.HANDLED,
        CloseReason.REFERRED,
        CloseReason.NO_ACTION_NEEDED,
        CloseReason.OTHER,
    ),
    IncidentStatus.FALSE_ALARM: (
        CloseReason.WRONG_DETECTION,
        CloseReason.DUPLICATE,
        CloseReason.TEST,
        CloseReason.OTHER,
    ),
}
"""The reasons offered for each closing status, in the order shown."""

_ALLOWED_FROM: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.ACKNOWLEDGED: frozenset({IncidentStatus.NEW}),
    IncidentStatus.ASSIGNED: OPEN_STATUSES,
    IncidentStatus.RESOLVED: OPEN_STATUSES,
    IncidentStatus.FALSE_ALARM: OPEN_STATUSES,
}


class LifecycleError(ValueError):
    """A change that cannot be made; the message says why and is fit for the operator."""


class IncidentNotFound(LifecycleError):
    pass


class TransitionError(LifecycleError):
    """The incident's status does not allow this action (e.g. acknowledging a resolved one)."""


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One entry of an incident's history."""

    id: int
    incident_id: str
    at: datetime
    actor: str
    action: Action
    from_status: IncidentStatus | None
    to_status: IncidentStatus | None
    note: str | None
    details: dict[str, Any]


def can_transition(current: IncidentStatus, target: IncidentStatus) -> bool:
    return current in _ALLOWED_FROM[target]
