"""Numbers of the Reports page beyond citywatch.incidents.stats: the false alarm rate per type and
per camera, and the CSV of the filtered incidents."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator

from sqlalchemy import func, select

from citywatch.incidents.model import IncidentStatus
from citywatch.incidents.schema import IncidentRow
from citywatch.incidents.search import IncidentFilter, SortKey, search
from citywatch.incidents.store import IncidentStore, StoredIncident

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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet cell starting with one of these is read as a formula (OWASP "CSV injection")."""


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
