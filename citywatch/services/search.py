"""Finding and reading incidents: filters, sorting and keyset (cursor) pagination, one incident
and its history, and what the dashboard shows per camera (`IncidentSearch`, for any role).

A cursor names the last row of a page by its sort values and id, so the next page is a range scan
on an index (`started_at, id`) however deep it is, and rows stored meanwhile neither repeat nor
shift a page, as OFFSET pagination would (the work queue's order, by severity, sorts the rows that
match its filter instead: see `SortKey.URGENT`). The per-camera reads are one indexed query each,
whatever the number of incidents stored.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from citywatch.domain.incident_types import INCIDENT_TYPES, SEVERITY_RANK, IncidentType, severity_of
from citywatch.domain.lifecycle import OPEN_STATUSES, IncidentEvent
from citywatch.domain.stored_incident import IncidentStatus, StoredIncident
from citywatch.services.permissions import Caller, Task, permit
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.schema import IncidentRow
from citywatch.storage.store import IncidentStore, stored_incident

RELATED_LIMIT = 100
"""At most this many incidents of a group are named as related to one of them."""


class SortKey(StrEnum):
    NEWEST = "-started_at"
    OLDEST = "started_at"
    MOST_CONFIDENT = "-confidence"
    LEAST_CONFIDENT = "confidence"
    URGENT = "-severity"
    """The work queue's order: highest severity first (domain.incident_types), the oldest first
    within a severity (who has waited longest is handled first)."""


class CursorError(ValueError):
    """A cursor that was not made by this module for this sort order."""


def as_utc(value: datetime) -> datetime:
    """`value` in UTC (UTC assumed without an offset); ValueError when UTC has no such time (a year
    beyond 9999 or before 1, e.g. 9999-12-31T23:59:59-14:00), which no database column can hold."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{value.isoformat()} is out of range once in UTC") from exc


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    types: Sequence[IncidentType] = ()
    camera_ids: Sequence[str] = ()
    statuses: Sequence[IncidentStatus] = ()
    since: datetime | None = None
    """Started at or after this time."""
    until: datetime | None = None
    """Started before this time."""
    group_id: str | None = None
    assigned_user: str | None = None
    """Assigned to this user (by name; the dashboard's "assigned to me" is the caller's actor)."""

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.types:
            query = query.where(IncidentRow.type.in_(list(self.types)))
        if self.camera_ids:
            query = query.where(IncidentRow.camera_id.in_(list(self.camera_ids)))
        if self.statuses:
            query = query.where(IncidentRow.status.in_(list(self.statuses)))
        if self.since is not None:
            query = query.where(IncidentRow.started_at >= self.since)
        if self.until is not None:
            query = query.where(IncidentRow.started_at < self.until)
        if self.group_id is not None:
            query = query.where(IncidentRow.group_id == self.group_id)
        if self.assigned_user is not None:
            query = query.where(IncidentRow.assigned_user == self.assigned_user)
        return query


@dataclass(frozen=True, slots=True)
class Page:
    items: list[StoredIncident]
    next_cursor: str | None
    """Pass it back for the next page; None on the last page."""


def search(
    store: IncidentStore,
    where: IncidentFilter,
    sort: SortKey = SortKey.NEWEST,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    keys = _keys(sort)
    order = [key.column.desc() if key.descending else key.column.asc() for key in keys]
    query = where.apply(select(IncidentRow)).order_by(*order).limit(limit + 1)
    if cursor is not None:
        query = query.where(_after(keys, _decode(cursor, sort, keys)))

    def run(session: Session) -> list[StoredIncident]:
        return [stored_incident(row) for row in session.scalars(query)]

    rows = store.read("search incidents", run)
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, _encode(sort, keys, rows[-1]))


@dataclass(frozen=True, slots=True)
class _Key:
    """One column of a sort order, and how an incident's value of it goes into a cursor and back."""

    column: ColumnElement[Any]
    descending: bool
    value_of: Callable[[StoredIncident], Any]
    """The incident's value, as JSON."""
    parse: Callable[[Any], Any]
    """A cursor's JSON value back; ValueError or TypeError when it cannot be one."""


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a cursor's time has an offset")
    return as_utc(parsed)


def _confidence(value: Any) -> float:
    confidence = float(value)
    if not 0.0 <= confidence <= 1.0:
        raise ValueError("a confidence is between 0 and 1")
    return confidence


_SEVERITY = case(
    {t: SEVERITY_RANK[info.severity] for t, info in INCIDENT_TYPES.items()}, value=IncidentRow.type, else_=0
)
"""The row's severity rank, from the incident-type table: no column to index, so this order sorts
the rows that match the filter (the work queue's few hundred open ones, not the whole history)."""


def _rank(value: Any) -> int:
    if type(value) is not int or value not in SEVERITY_RANK.values():
        raise ValueError("not a severity rank")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not an id")
    return value


def _started(descending: bool) -> _Key:
    return _Key(IncidentRow.started_at, descending, lambda i: i.started_at.isoformat(), _time)


def _confident(descending: bool) -> _Key:
    return _Key(IncidentRow.confidence, descending, lambda i: i.confidence, _confidence)


_ORDERS: dict[SortKey, tuple[_Key, ...]] = {
    SortKey.NEWEST: (_started(True),),
    SortKey.OLDEST: (_started(False),),
    SortKey.MOST_CONFIDENT: (_confident(True),),
    SortKey.LEAST_CONFIDENT: (_confident(False),),
    SortKey.URGENT: (
        _Key(_SEVERITY, True, lambda i: SEVERITY_RANK[severity_of(i.type)], _rank),
        _started(False),
    ),
}


def _keys(sort: SortKey) -> tuple[_Key, ...]:
    """The columns of `sort`, then the id (in the direction of the last column) to break ties."""
    columns = _ORDERS[sort]
    return (*columns, _Key(IncidentRow.id, columns[-1].descending, lambda i: i.id, _text))


def _after(keys: tuple[_Key, ...], values: list[Any]) -> ColumnElement[bool]:
    """Rows after `values` in the order of `keys`: the first key past its value, or equal to it and
    the second past its value, and so on."""
    clauses, same = [], []
    for key, value in zip(keys, values, strict=True):
        clauses.append(and_(*same, key.column < value if key.descending else key.column > value))
        same.append(key.column == value)
    return or_(*clauses)


def _encode(sort: SortKey, keys: tuple[_Key, ...], last: StoredIncident) -> str:
    raw = [sort.value, *(key.value_of(last) for key in keys)]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _decode(cursor: str, sort: SortKey, keys: tuple[_Key, ...]) -> list[Any]:
    try:
        made_for, *values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if made_for != sort.value or len(values) != len(keys):
            raise CursorError("the cursor belongs to another sort order")
        return [key.parse(value) for key, value in zip(keys, values, strict=True)]
    except CursorError:
        raise
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise CursorError("invalid cursor") from exc


@dataclass(frozen=True, slots=True)
class OpenIncidents:
    """A camera's incidents not yet resolved nor called a false alarm: those nobody has taken up
    (`new`) apart from those being handled (acknowledged or assigned), and their types."""

    new: int
    handling: int
    types: frozenset[str]


class IncidentSearch:
    """Reading incidents, for any role (Task.VIEW)."""

    def __init__(self, store: IncidentStore, lifecycle: IncidentLifecycle) -> None:
        self._store = store
        self._lifecycle = lifecycle

    def search(
        self,
        caller: Caller,
        where: IncidentFilter,
        sort: SortKey = SortKey.NEWEST,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """A page of the incidents matching `where`; CursorError for a cursor not made for `sort`."""
        permit(caller, Task.VIEW)
        return search(self._store, where, sort, limit, cursor)

    def get(self, caller: Caller, incident_id: str) -> StoredIncident | None:
        permit(caller, Task.VIEW)
        return self._store.get(incident_id)

    def history(self, caller: Caller, incident_id: str) -> list[IncidentEvent]:
        """The incident's events, oldest first."""
        permit(caller, Task.VIEW)
        return self._lifecycle.history(incident_id)

    def related(self, caller: Caller, incident: StoredIncident) -> list[str]:
        """The ids of the other incidents of `incident`'s group (at most RELATED_LIMIT)."""
        permit(caller, Task.VIEW)
        if incident.group_id is None:
            return []
        group = search(self._store, IncidentFilter(group_id=incident.group_id), limit=RELATED_LIMIT)
        return [other.id for other in group.items if other.id != incident.id]

    def open_by_camera(self, caller: Caller) -> dict[str, OpenIncidents]:
        """Camera id -> its open incidents (only cameras that have some)."""
        permit(caller, Task.VIEW)
        query = (
            select(IncidentRow.camera_id, IncidentRow.type, IncidentRow.status, func.count())
            .where(IncidentRow.status.in_(list(OPEN_STATUSES)))
            .group_by(IncidentRow.camera_id, IncidentRow.type, IncidentRow.status)
        )
        rows = self._store.read("count open incidents", lambda s: [tuple(r) for r in s.execute(query)])
        new: dict[str, int] = {}
        handling: dict[str, int] = {}
        types: dict[str, set[str]] = {}
        for camera_id, type_, status, count in rows:
            counts = new if status is IncidentStatus.NEW else handling
            counts[camera_id] = counts.get(camera_id, 0) + count
            types.setdefault(camera_id, set()).add(type_.value)
        return {c: OpenIncidents(new.get(c, 0), handling.get(c, 0), frozenset(t)) for c, t in types.items()}

    def recent_by_camera(
        self, caller: Caller, camera_ids: list[str], per_camera: int
    ) -> dict[str, list[StoredIncident]]:
        """The newest `per_camera` incidents of each camera (a window function: one query for all)."""
        permit(caller, Task.VIEW)
        rank = (
            func.row_number()
            .over(
                partition_by=IncidentRow.camera_id, order_by=(IncidentRow.started_at.desc(), IncidentRow.id)
            )
            .label("rank")
        )
        ranked = select(IncidentRow.id, rank).where(IncidentRow.camera_id.in_(camera_ids)).subquery()
        query = (
            select(IncidentRow)
            .join(ranked, ranked.c.id == IncidentRow.id)
            .where(ranked.c.rank <= per_camera)
            .order_by(IncidentRow.camera_id, IncidentRow.started_at.desc())
        )

        def run(session: Session) -> dict[str, list[StoredIncident]]:
            found: dict[str, list[StoredIncident]] = {camera_id: [] for camera_id in camera_ids}
            for row in session.scalars(query):
                found[row.camera_id].append(stored_incident(row))
            return found

        return self._store.read("read recent incidents per camera", run)
