"""Incident statistics for reports: counts by type, camera, status, hour of day and day, the false
alarm rate (overall, per type and per camera), the time operators take to acknowledge, and the
incidents as CSV (`IncidentStatistics`, for any role).

Hours and days are counted in the command centre's time zone (not UTC: "most fights at 02:00"
must mean local 02:00). The grouping is done here rather than in SQL because SQLite and
PostgreSQL spell time zone conversion differently; only five narrow columns are read per
incident, which keeps a month of a city's incidents well under a second.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from citywatch.domain.stored_incident import IncidentStatus, StoredIncident
from citywatch.services.permissions import Caller, Task, permit
from citywatch.services.search import IncidentFilter, SortKey, search
from citywatch.storage.schema import IncidentRow
from citywatch.storage.store import IncidentStore

CSV_COLUMNS = (
    "id",
    "type",
    "subtype",
    "camera_id",
    "status",
    "confidence",
    "started_at",
    "ended_at",
    "acknowledged_at",
    "acknowledged_by",
    "assigned_user",
    "assigned_unit",
    "locked",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet cell starting with one of these is read as a formula (OWASP "CSV injection")."""


@dataclass(frozen=True, slots=True)
class IncidentStats:
    total: int
    by_type: dict[str, int]
    by_camera: dict[str, int]
    by_status: dict[str, int]
    by_hour: dict[int, int]
    """Local hour of day (0-23) -> incidents started in it; every hour present."""
    by_day: dict[str, int]
    """Local date (YYYY-MM-DD) -> incidents started that day; only days with incidents."""
    false_alarm_rate: float | None
    """False alarms among the incidents operators closed (resolved or false alarm); None if none."""
    acknowledged: int
    mean_time_to_acknowledge_s: float | None
    """Seconds from an incident's start to the first operator action on it."""
    median_time_to_acknowledge_s: float | None


def incident_stats(store: IncidentStore, where: IncidentFilter, tz: ZoneInfo) -> IncidentStats:
    columns = (
        IncidentRow.type,
        IncidentRow.camera_id,
        IncidentRow.status,
        IncidentRow.started_at,
        IncidentRow.acknowledged_at,
    )
    query = where.apply(select(*columns))
    rows = store.read(
        "compute incident stats", lambda session: [tuple(row) for row in session.execute(query)]
    )
    by_type: Counter[str] = Counter()
    by_camera: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_hour: Counter[int] = Counter({hour: 0 for hour in range(24)})
    by_day: Counter[str] = Counter()
    ack_seconds: list[float] = []
    for type_, camera_id, status, started_at, acknowledged_at in rows:
        local = started_at.astimezone(tz)
        by_type[type_.value] += 1
        by_camera[camera_id] += 1
        by_status[status.value] += 1
        by_hour[local.hour] += 1
        by_day[local.date().isoformat()] += 1
        if acknowledged_at is not None:
            ack_seconds.append(max(0.0, (acknowledged_at - started_at).total_seconds()))
    closed = by_status[IncidentStatus.RESOLVED] + by_status[IncidentStatus.FALSE_ALARM]
    return IncidentStats(
        total=len(rows),
        by_type=dict(by_type),
        by_camera=dict(by_camera),
        by_status=dict(by_status),
        by_hour=dict(sorted(by_hour.items())),
        by_day=dict(sorted(by_day.items())),
        false_alarm_rate=by_status[IncidentStatus.FALSE_ALARM] / closed if closed else None,
        acknowledged=len(ack_seconds),
        mean_time_to_acknowledge_s=statistics.fmean(ack_seconds) if ack_seconds else None,
        median_time_to_acknowledge_s=statistics.median(ack_seconds) if ack_seconds else None,
    )


def false_alarm_rates(store: IncidentStore, where: IncidentFilter, column: str) -> dict[str, float]:
    """`column` ('type' or 'camera_id') value -> false alarms among its closed incidents (resolved or
    false alarm); values with no closed incident are left out."""
    key = getattr(IncidentRow, column)
    closed = (IncidentStatus.RESOLVED, IncidentStatus.FALSE_ALARM)
    query = where.apply(
        select(key, IncidentRow.status, func.count()).where(IncidentRow.status.in_(closed))
    ).group_by(key, IncidentRow.status)
    rows = store.read("count false alarms", lambda s: [tuple(r) for r in s.execute(query)])
    totals: Counter[str] = Counter()
    false: Counter[str] = Counter()
    for value, status, count in rows:
        name = getattr(value, "value", value)
        totals[name] += count
        if status == IncidentStatus.FALSE_ALARM:
            false[name] += count
    return {name: false[name] / total for name, total in sorted(totals.items())}


def _all(store: IncidentStore, where: IncidentFilter) -> Iterator[StoredIncident]:
    cursor = None
    while True:
        page = search(store, where, SortKey.NEWEST, limit=500, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading `'`, so it shows as typed."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def incidents_csv(store: IncidentStore, where: IncidentFilter) -> bytes:
    """Every incident matching `where`, newest first, as UTF-8 CSV (with a BOM so that spreadsheet
    programs read Thai camera names right); times in ISO 8601 UTC. Text typed by users (a unit, a
    user name) cannot become a formula (`spreadsheet_safe`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for incident in _all(store, where):
        row = incident.to_json()
        writer.writerow([spreadsheet_safe("" if row[c] is None else row[c]) for c in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


class IncidentStatistics:
    """The numbers of reports, for any role (Task.VIEW)."""

    def __init__(self, store: IncidentStore) -> None:
        self._store = store

    def stats(self, caller: Caller, where: IncidentFilter, tz: ZoneInfo) -> IncidentStats:
        permit(caller, Task.VIEW)
        return incident_stats(self._store, where, tz)

    def false_alarm_rates(self, caller: Caller, where: IncidentFilter, column: str) -> dict[str, float]:
        permit(caller, Task.VIEW)
        return false_alarm_rates(self._store, where, column)

    def csv(self, caller: Caller, where: IncidentFilter) -> bytes:
        permit(caller, Task.VIEW)
        return incidents_csv(self._store, where)
