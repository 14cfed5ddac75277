"""What operators do to an incident, stored: acknowledge, assign, resolve, call it a false alarm
(each closing with its reason), reopen, add notes, lock its evidence. Every change is one
transaction that updates the incident and appends an `incident_events` row naming who and when, so
the history is complete or the change did not happen. The rules (which action leads where, what a
closing needs) are citywatch.domain.lifecycle's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citywatch.domain.lifecycle import (
    CLOSING_ACTIONS,
    Action,
    CloseReason,
    IncidentEvent,
    IncidentNotFound,
    LifecycleError,
    Problem,
    TransitionError,
    can_act,
    check_assignee,
    check_closing,
    check_note,
    status_after,
)
from citywatch.domain.stored_incident import IncidentStatus, StoredIncident
from citywatch.storage.schema import IncidentEventRow, IncidentRow, UserRow
from citywatch.storage.store import IncidentStore, stored_incident


class IncidentLifecycle:
    """Changes to incidents in `store`, each recorded with its actor; `clock` gives epoch seconds."""

    def __init__(self, store: IncidentStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def change_status(
        self,
        incident_id: str,
        action: Action,
        actor: str,
        *,
        note: str | None = None,
        user: str | None = None,
        unit: str | None = None,
        reason: CloseReason | None = None,
    ) -> StoredIncident:
        """Apply a status action (acknowledge, assign, resolve, false_alarm, reopen): `user`/`unit`
        for assign, `reason` for resolve and false_alarm, `note` required to reopen."""
        return self._store.write(
            f"{action.value} incident {incident_id}",
            lambda session: self.change_status_in(
                session, incident_id, action, actor, note=note, user=user, unit=unit, reason=reason
            ),
        )

    def change_status_in(
        self,
        session: Session,
        incident_id: str,
        action: Action,
        actor: str,
        *,
        note: str | None = None,
        user: str | None = None,
        unit: str | None = None,
        reason: CloseReason | None = None,
    ) -> StoredIncident:
        """`change_status` inside the caller's transaction (with its audit row: services.incident_actions).

        A closing stores when, by whom and why (`closed_at`, `closed_by`, `close_reason`, the
        reason also in the event's details); reopening clears them (the closing event keeps them)."""
        if action is Action.ASSIGN:
            check_assignee(user, unit)
        if action is Action.REOPEN:
            check_note(note, f"reopening incident {incident_id} needs a note saying why")
        row = _locked_row(session, incident_id)
        if not can_act(action, row.status):
            raise TransitionError(f"cannot {action.value} incident {incident_id}: it is {row.status.value}")
        if user is not None and not _active_user_exists(session, user):
            raise LifecycleError(
                f"cannot assign incident {incident_id}: no active user {user!r}", Problem.NO_SUCH_USER
            )
        target = status_after(action, assigned=row.assigned_user is not None or row.assigned_unit is not None)
        closing = check_closing(target, reason, note) if action in CLOSING_ACTIONS else None
        now = self._now()
        previous = row.status
        row.status = target
        if row.acknowledged_at is None:
            row.acknowledged_at, row.acknowledged_by = now, actor
        details: dict[str, Any] = {}
        if action is Action.ASSIGN:
            row.assigned_user, row.assigned_unit = user, unit
            details = {"user": user} if user is not None else {"unit": unit}
        elif closing is not None:
            row.closed_at, row.closed_by, row.close_reason = now, actor, closing.value
            details = {"reason": closing.value}
        elif action is Action.REOPEN:
            row.closed_at = row.closed_by = row.close_reason = None
        session.add(_event(incident_id, now, actor, action, previous, target, note, details))
        session.flush()
        return stored_incident(row)

    def add_note(self, incident_id: str, actor: str, note: str) -> IncidentEvent:
        return self._store.write(
            f"add a note to incident {incident_id}",
            lambda session: self.add_note_in(session, incident_id, actor, note),
        )

    def add_note_in(self, session: Session, incident_id: str, actor: str, note: str) -> IncidentEvent:
        _locked_row(session, incident_id)  # raises IncidentNotFound
        event = _event(incident_id, self._now(), actor, Action.NOTE, None, None, note, {})
        session.add(event)
        session.flush()
        return _event_value(event)

    def set_locked(
        self, incident_id: str, actor: str, locked: bool, note: str | None = None
    ) -> StoredIncident:
        """Lock (or unlock) the incident's evidence against retention."""
        action = Action.LOCK if locked else Action.UNLOCK
        return self._store.write(
            f"{action.value} incident {incident_id}",
            lambda session: self.set_locked_in(session, incident_id, actor, locked, note),
        )

    def set_locked_in(
        self, session: Session, incident_id: str, actor: str, locked: bool, note: str | None = None
    ) -> StoredIncident:
        action = Action.LOCK if locked else Action.UNLOCK
        row = _locked_row(session, incident_id)
        if row.locked != locked:
            row.locked = locked
            session.add(_event(incident_id, self._now(), actor, action, None, None, note, {}))
            session.flush()
        return stored_incident(row)

    def history(self, incident_id: str) -> list[IncidentEvent]:
        """The incident's events, oldest first."""
        query = (
            select(IncidentEventRow)
            .where(IncidentEventRow.incident_id == incident_id)
            .order_by(IncidentEventRow.id)
        )
        return self._store.read(
            f"read history of incident {incident_id}",
            lambda session: [_event_value(row) for row in session.scalars(query)],
        )

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


def _locked_row(session: Session, incident_id: str) -> IncidentRow:
    """The incident row, locked for update on PostgreSQL (SQLite serialises writers anyway)."""
    row = session.scalars(select(IncidentRow).where(IncidentRow.id == incident_id).with_for_update()).first()
    if row is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    return row


def _active_user_exists(session: Session, name: str) -> bool:
    query = select(UserRow.id).where(UserRow.name == name, UserRow.disabled.is_(False))
    return session.execute(query).first() is not None


def _event(
    incident_id: str,
    at: datetime,
    actor: str,
    action: Action,
    from_status: IncidentStatus | None,
    to_status: IncidentStatus | None,
    note: str | None,
    details: dict[str, Any],
) -> IncidentEventRow:
    return IncidentEventRow(
        incident_id=incident_id,
        at=at,
        actor=actor,
        action=action.value,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        note=note,
        details=details,
    )


def _event_value(row: IncidentEventRow) -> IncidentEvent:
    return IncidentEvent(
        id=row.id,
        incident_id=row.incident_id,
        at=row.at,
        actor=row.actor,
        action=Action(row.action),
        from_status=IncidentStatus(row.from_status) if row.from_status else None,
        to_status=IncidentStatus(row.to_status) if row.to_status else None,
        note=row.note,
        details=row.details,
    )
