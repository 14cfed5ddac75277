"""Incident lifecycle, grouping, users, sessions and API tokens over a real store (SQLite and
PostgreSQL)."""

import pytest
from argon2 import PasswordHasher

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action, CloseReason, LifecycleError, Problem, TransitionError
from citywatch.domain.stored_incident import IncidentStatus
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role, UserDirectory, UserError

T0 = 1_700_000_000.0
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def add(store: IncidentStore, started_at: float = T0, camera: str = "cam01", type=IncidentType.FIGHT) -> str:
    incident = Incident(type, camera, started_at, 0.9)
    store.add(incident, None)
    return incident.id


def test_status_changes_are_checked_and_recorded(store: IncidentStore) -> None:
    lifecycle = IncidentLifecycle(store, clock=lambda: T0 + 42)
    incident = add(store)
    acknowledged = lifecycle.change_status(incident, Action.ACKNOWLEDGE, "somchai")
    assert (acknowledged.status, acknowledged.acknowledged_by) == (IncidentStatus.ACKNOWLEDGED, "somchai")
    assert acknowledged.acknowledged_at.timestamp() == T0 + 42
    with pytest.raises(TransitionError, match="it is acknowledged"):
        lifecycle.change_status(incident, Action.ACKNOWLEDGE, "somchai")
    with pytest.raises(LifecycleError, match="exactly one"):
        lifecycle.change_status(incident, Action.ASSIGN, "somchai", user="a", unit="b")
    lifecycle.change_status(incident, Action.ASSIGN, "somchai", unit="Patrol 3")
    lifecycle.change_status(
        incident, Action.FALSE_ALARM, "supervisor", note="a shadow", reason=CloseReason.WRONG_DETECTION
    )
    with pytest.raises(TransitionError):
        lifecycle.change_status(incident, Action.RESOLVE, "somchai", reason=CloseReason.HANDLED)
    assert store.get(incident).status is IncidentStatus.FALSE_ALARM
    events = lifecycle.history(incident)
    assert [(e.action, e.to_status, e.actor) for e in events] == [
        (Action.ACKNOWLEDGE, IncidentStatus.ACKNOWLEDGED, "somchai"),
        (Action.ASSIGN, IncidentStatus.ASSIGNED, "somchai"),
        (Action.FALSE_ALARM, IncidentStatus.FALSE_ALARM, "supervisor"),
    ]
    assert events[2].note == "a shadow"


def _problem(lifecycle: IncidentLifecycle, incident: str, action: Action, **values: object) -> Problem | None:
    with pytest.raises(LifecycleError) as raised:
        lifecycle.change_status(incident, action, "somchai", **values)
    return raised.value.problem


def test_closing_needs_a_reason_of_its_status_and_stores_it(store: IncidentStore) -> None:
    """Finding 6 (issue 20): when, by whom and why, on the incident and in its history."""
    lifecycle = IncidentLifecycle(store, clock=lambda: T0 + 42)
    incident = add(store)
    assert _problem(lifecycle, incident, Action.RESOLVE) is Problem.REASON_MISSING
    duplicate = CloseReason.DUPLICATE  # a false alarm's reason
    assert _problem(lifecycle, incident, Action.RESOLVE, reason=duplicate) is Problem.REASON_NOT_OFFERED
    assert _problem(lifecycle, incident, Action.FALSE_ALARM, reason=CloseReason.OTHER, note=" ") is (
        Problem.NOTE_MISSING
    )
    with pytest.raises(LifecycleError, match="one of handled, referred, no_action_needed, other"):
        lifecycle.change_status(incident, Action.RESOLVE, "somchai", reason=duplicate)
    untouched = store.get(incident)
    assert (untouched.status, untouched.closed_at, lifecycle.history(incident)) == (
        IncidentStatus.NEW,
        None,
        [],
    )

    closed = lifecycle.change_status(
        incident, Action.RESOLVE, "somchai", reason=CloseReason.REFERRED, note="fire brigade took it"
    )
    assert (closed.status, closed.closed_by, closed.close_reason) == (
        IncidentStatus.RESOLVED,
        "somchai",
        "referred",
    )
    assert closed.closed_at.timestamp() == T0 + 42 and store.get(incident) == closed
    [event] = lifecycle.history(incident)
    assert (event.action, event.details, event.note) == (
        Action.RESOLVE,
        {"reason": "referred"},
        "fire brigade took it",
    )


def test_reopening_needs_a_note_and_goes_back_to_where_it_stood(store: IncidentStore) -> None:
    lifecycle = IncidentLifecycle(store)
    plain, assigned = add(store), add(store, camera="cam02")
    lifecycle.change_status(assigned, Action.ASSIGN, "somchai", unit="Patrol 3")
    with pytest.raises(TransitionError, match="it is new"):
        lifecycle.change_status(plain, Action.REOPEN, "chief", note="open anyway")
    for incident, action, reason in (
        (plain, Action.RESOLVE, CloseReason.HANDLED),
        (assigned, Action.FALSE_ALARM, CloseReason.TEST),
    ):
        lifecycle.change_status(incident, action, "somchai", reason=reason)
    assert _problem(lifecycle, plain, Action.REOPEN) is Problem.NOTE_MISSING
    assert store.get(plain).status is IncidentStatus.RESOLVED

    reopened = lifecycle.change_status(plain, Action.REOPEN, "chief", note="the fire started again")
    assert (reopened.status, reopened.closed_at, reopened.closed_by, reopened.close_reason) == (
        IncidentStatus.ACKNOWLEDGED,
        None,
        None,
        None,
    )
    back = lifecycle.change_status(assigned, Action.REOPEN, "chief", note="it was no test")
    assert (back.status, back.assigned_unit, back.close_reason) == (IncidentStatus.ASSIGNED, "Patrol 3", None)
    events = lifecycle.history(plain)
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in events] == [
        (Action.RESOLVE, IncidentStatus.NEW, IncidentStatus.RESOLVED, "somchai"),
        (Action.REOPEN, IncidentStatus.RESOLVED, IncidentStatus.ACKNOWLEDGED, "chief"),
    ]
    assert (events[0].details, events[1].note) == ({"reason": "handled"}, "the fire started again")


def test_lock_is_recorded_once_and_survives_reads(store: IncidentStore) -> None:
    lifecycle = IncidentLifecycle(store)
    incident = add(store)
    assert lifecycle.set_locked(incident, "chief", True).locked
    assert lifecycle.set_locked(incident, "chief", True).locked  # already locked: no second event
    assert store.get(incident).locked
    assert [e.action for e in lifecycle.history(incident)] == [Action.LOCK]
    assert not lifecycle.set_locked(incident, "chief", False).locked


def test_incidents_group_within_the_window_of_the_previous_one(db_url: str) -> None:
    store = IncidentStore(db_url, group_window_s=60)
    store.upgrade()
    chain = [add(store, T0 + offset) for offset in (0, 50, 100)]  # each within 60 s of the last
    late = add(store, T0 + 200)
    assert [store.get(i).group_id for i in chain] == [chain[0]] * 3
    assert store.get(late).group_id == late
    assert store.get(add(store, T0 + 10, camera="cam02")).group_id != chain[0]
    store.dispose()


def test_users_passwords_sessions_and_tokens(store: IncidentStore) -> None:
    now = [T0]
    users = UserDirectory(store, session_ttl_s=3600, clock=lambda: now[0], password_hasher=FAST)
    alice = users.add_user("alice", Role.OPERATOR, "s3cret-password")
    with pytest.raises(UserError, match="already exists"):
        users.add_user("alice", Role.ADMIN, "another-password")
    with pytest.raises(UserError, match="at least 8"):
        users.add_user("bob", Role.VIEWER, "short")
    assert users.authenticate("alice", "wrong-password") is None
    assert users.authenticate("nobody", "s3cret-password") is None
    assert users.authenticate("alice", "s3cret-password") == alice

    token, expires = users.start_session(alice)
    assert token.startswith("cws_") and expires.timestamp() == T0 + 3600
    assert users.principal(token).actor == "alice"
    now[0] += 3601
    assert users.principal(token) is None  # expired

    record, secret = users.create_token("nvr-1", Role.VIEWER, "alice")
    assert users.principal(secret).actor == "token:nvr-1"
    with store.engine.connect() as connection:  # only hashes are stored
        stored = connection.exec_driver_sql("SELECT token_hash FROM api_tokens").scalar()
        passwords = connection.exec_driver_sql("SELECT password_hash FROM users").scalar()
    assert secret not in stored and "s3cret" not in passwords and passwords.startswith("$argon2id$")
    users.revoke_token(record.id)
    assert users.principal(secret) is None

    fresh, _ = users.start_session(alice)
    users.update_user("alice", password="new-password-1")
    assert users.principal(fresh) is None  # a new password ends the sessions
    assert users.authenticate("alice", "new-password-1") is not None
    assert Role.ADMIN.allows(Role.SUPERVISOR) and not Role.OPERATOR.allows(Role.SUPERVISOR)
