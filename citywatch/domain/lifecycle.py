"""The words of an incident's life and its rules, which every layer shares: the actions operators
take, which status each leads to and from which, why an incident was closed, the errors an action
can meet and one entry of an incident's history. Where they are stored is citywatch.storage.lifecycle.

    new ──► acknowledged ──► assigned ──► resolved
     │            │          ▲   │  ╰──► false_alarm
     ╰────────────┴──────────╯   ╰─ (re)assigned
    new / acknowledged / assigned ──► resolved | false_alarm   (with a reason: CLOSE_REASONS)
    resolved / false_alarm ──reopen──► assigned if it has an assignee, else acknowledged

Closing asks a reason (and a note when the reason is `other`), so a month of closings says what
to tune. Reopening (a supervisor's, services.permissions) needs a note saying why; the incident
goes back to where it stood before it was closed, assigned to whom it was assigned, so whoever was
on it sees it again (closing had acknowledged it already). Notes and the lock are allowed in every
status: a court case may need a closed incident's evidence kept.
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
    REOPEN = "reopen"
    NOTE = "note"
    LOCK = "lock"
    UNLOCK = "unlock"


OPEN_STATUSES = frozenset({IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.ASSIGNED})
CLOSED_STATUSES = frozenset({IncidentStatus.RESOLVED, IncidentStatus.FALSE_ALARM})

CLOSING_ACTIONS: dict[Action, IncidentStatus] = {
    Action.RESOLVE: IncidentStatus.RESOLVED,
    Action.FALSE_ALARM: IncidentStatus.FALSE_ALARM,
}
"""The actions that close an incident, and the status each closes it as."""

_ALLOWED_FROM: dict[Action, frozenset[IncidentStatus]] = {
    Action.ACKNOWLEDGE: frozenset({IncidentStatus.NEW}),
    Action.ASSIGN: OPEN_STATUSES,
    Action.RESOLVE: OPEN_STATUSES,
    Action.FALSE_ALARM: OPEN_STATUSES,
    Action.REOPEN: CLOSED_STATUSES,
}

STATUS_ACTIONS = frozenset(_ALLOWED_FROM)
"""The actions that change an incident's status (the others: notes and the lock)."""


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


class Problem(StrEnum):
    """What stood in an action's way, named so that the dashboard says it in the user's language
    (its text is `error.<value>`); the error's message says it in English for the API and the log."""

    NOT_FOUND = "not_found"
    WRONG_STATUS = "wrong_status"
    """Not allowed in the incident's status (e.g. someone else closed it meanwhile)."""
    ONE_ASSIGNEE = "one_assignee"
    """An assignment names both a user and a unit, or neither."""
    NO_SUCH_USER = "no_such_user"
    """The user assigned to is unknown or disabled."""
    REASON_MISSING = "reason_missing"
    REASON_NOT_OFFERED = "reason_not_offered"
    """A reason of the other closing status (e.g. `duplicate` for a resolved incident)."""
    NOTE_MISSING = "note_missing"
    """Closing for the reason `other`, and reopening, need a note saying why."""


class LifecycleError(ValueError):
    """A change that cannot be made; the message says why, in English, and `problem` names it (None
    for a problem with no name: the dashboard shows the message)."""

    problem: Problem | None = None

    def __init__(self, message: str, problem: Problem | None = None) -> None:
        super().__init__(message)
        if problem is not None:
            self.problem = problem


class IncidentNotFound(LifecycleError):
    problem = Problem.NOT_FOUND


class TransitionError(LifecycleError):
    """The incident's status does not allow this action (e.g. acknowledging a resolved one)."""

    problem = Problem.WRONG_STATUS


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


def can_act(action: Action, current: IncidentStatus) -> bool:
    """Whether status action `action` may be taken on an incident that is `current`."""
    return current in _ALLOWED_FROM[action]


def status_after(action: Action, assigned: bool) -> IncidentStatus:
    """The status `action` (one of STATUS_ACTIONS) leads to; `assigned`: the incident has an assignee."""
    if action is Action.REOPEN:
        return IncidentStatus.ASSIGNED if assigned else IncidentStatus.ACKNOWLEDGED
    if action is Action.ACKNOWLEDGE:
        return IncidentStatus.ACKNOWLEDGED
    if action is Action.ASSIGN:
        return IncidentStatus.ASSIGNED
    return CLOSING_ACTIONS[action]


def check_assignee(user: str | None, unit: str | None) -> None:
    """An assignment names exactly one of a user or a unit; else LifecycleError (ONE_ASSIGNEE)."""
    if (user is None) == (unit is None):
        raise LifecycleError("assign needs exactly one of a user or a unit", Problem.ONE_ASSIGNEE)


def check_closing(status: IncidentStatus, reason: CloseReason | None, note: str | None) -> CloseReason:
    """The reason for closing as `status` when it is one offered for it (with a note when it is
    `other`); else LifecycleError naming the reasons offered."""
    offered = CLOSE_REASONS[status]
    choices = ", ".join(r.value for r in offered)
    if reason is None:
        raise LifecycleError(
            f"closing as {status.value} needs a reason: one of {choices}", Problem.REASON_MISSING
        )
    if reason not in offered:
        raise LifecycleError(
            f"{reason.value!r} is not a reason for {status.value}: one of {choices}",
            Problem.REASON_NOT_OFFERED,
        )
    if reason is CloseReason.OTHER:
        check_note(note, "the reason 'other' needs a note saying why")
    return reason


def check_note(note: str | None, message: str) -> None:
    """A note with more than white space in it; else LifecycleError (NOTE_MISSING) with `message`."""
    if not (note and note.strip()):
        raise LifecycleError(message, Problem.NOTE_MISSING)
