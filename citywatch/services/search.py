"""Finding and reading incidents: filters, sorting and keyset (cursor) pagination, one incident
and its history, and what the dashboard shows per camera (`IncidentSearch`, for any role).

A cursor names the last row of a page by its sort value and id, so the next page is a range scan
on an index (`started_at, id`) however deep it is, and rows stored meanwhile neither repeat nor
shift a page, as OFFSET pagination would. The per-camera reads are one indexed query each,
whatever the number of incidents stored.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from citywatch.domain.incident_types import IncidentType
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
    column, descending = _sort_column(sort)
    order = (column.desc(), IncidentRow.id.desc()) if descending else (column.asc(), IncidentRow.id.asc())
    query = where.apply(select(IncidentRow)).order_by(*order).limit(limit + 1)
    if cursor is not None:
        value, last_id = _decode(cursor, sort)
        after = (column < value) if descending else (column > value)
        same = and_(column == value, (IncidentRow.id < last_id) if descending else (IncidentRow.id > last_id))
        query = query.where(or_(after, same))

    def run(session: Session) -> list[StoredIncident]:
        return [stored_incident(row) for row in session.scalars(query)]

    rows = store.read("search incidents", run)
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, _encode(sort, rows[-1]))


def _sort_column(sort: SortKey) -> tuple[InstrumentedAttribute[Any], bool]:
    column = IncidentRow.confidence if sort.removeprefix("-") == "confidence" else IncidentRow.started_at
    return column, sort.startswith("-")


def _encode(sort: SortKey, last: StoredIncident) -> str:
    value: Any = last.confidence if _sort_column(sort)[0] is IncidentRow.confidence else last.started_at
    raw = [sort.value, value.isoformat() if isinstance(value, datetime) else value, last.id]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _decode(cursor: str, sort: SortKey) -> tuple[Any, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        made_for, value, last_id = raw
        if made_for != sort.value or not isinstance(last_id, str):
            raise CursorError("the cursor belongs to another sort order")
        if _sort_column(sort)[0] is IncidentRow.confidence:
            confidence = float(value)
            if not 0.0 <= confidence <= 1.0:
                raise CursorError("invalid cursor")
            return confidence, last_id
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise CursorError("invalid cursor")
        return as_utc(parsed), last_id
    except CursorError:
        raise
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise CursorError("invalid cursor") from exc


@dataclass(frozen=True, slots=True)
class OpenIncidents:
    """A camera's incidents not yet resolved nor called a false alarm."""

    count: int
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
            select(IncidentRow.camera_id, IncidentRow.type, func.count())
            .where(IncidentRow.status.in_(list(OPEN_STATUSES)))
            .group_by(IncidentRow.camera_id, IncidentRow.type)
        )
        rows = self._store.read("count open incidents", lambda s: [tuple(r) for r in s.execute(query)])
        counts: dict[str, int] = {}
        types: dict[str, set[str]] = {}
        for camera_id, type_, count in rows:
            counts[camera_id] = counts.get(camera_id, 0) + count
            types.setdefault(camera_id, set()).add(type_.value)
        return {c: OpenIncidents(counts[c], frozenset(types[c])) for c in counts}

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
