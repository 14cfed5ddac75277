"""Incident statistics for reports: counts by type, camera, status, hour of day, day and shift, the
false alarm rate (overall, per type and per camera), the closing reasons, the time operators take to
acknowledge (overall, per type, per camera, per shift) and to close, and the incidents as CSV in the
reader's language (`IncidentStatistics`, for any role).

Hours, days and shifts are counted in the command centre's time zone (not UTC: "most fights at
02:00" must mean local 02:00). The grouping is done here rather than in SQL because SQLite and
PostgreSQL spell time zone conversion differently; only eight narrow columns are read per incident,
which keeps a month of a city's incidents well under a second.
"""

from __future__ import annotations

import csv
import io
import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from citywatch.config import Shift
from citywatch.domain.stored_incident import IncidentStatus, StoredIncident
from citywatch.services.permissions import Caller, Task, permit
from citywatch.services.search import IncidentFilter, SortKey, search
from citywatch.storage.schema import IncidentEventRow, IncidentRow
from citywatch.storage.store import IncidentStore

CSV_COLUMNS = (
    "id",
    "type",
    "subtype",
    "camera_id",
    "camera_name",
    "status",
    "confidence",
    "started_at",
    "ended_at",
    "acknowledged_at",
    "acknowledged_by",
    "assigned_user",
    "assigned_unit",
    "closed_at",
    "closed_by",
    "close_reason",
    "notes",
    "locked",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet cell starting with one of these is read as a formula (OWASP "CSV injection")."""


@dataclass(frozen=True, slots=True)
class Durations:
    """How long something took over some incidents, in seconds."""

    count: int
    mean_s: float
    median_s: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        return cls(len(seconds), statistics.fmean(seconds), statistics.median(seconds))


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
    by_shift: dict[str, int]
    """Shift name (api.shifts, in their order) -> incidents started in it; every shift present."""
    false_alarm_rate: float | None
    """False alarms among the incidents operators closed (resolved or false alarm); None if none."""
    by_close_reason: dict[str, int]
    """Closing reason -> incidents closed with it (those closed before reasons were asked are left out)."""
    acknowledged: int
    mean_time_to_acknowledge_s: float | None
    """Seconds from an incident's start to the first operator action on it."""
    median_time_to_acknowledge_s: float | None
    time_to_acknowledge_by_type: dict[str, Durations]
    """Type -> time to acknowledge its incidents; only types with an acknowledged incident."""
    time_to_acknowledge_by_camera: dict[str, Durations]
    time_to_acknowledge_by_shift: dict[str, Durations]
    """Shift an incident started in -> time to acknowledge; only shifts with an acknowledged incident."""
    closed: int
    """Incidents closed (resolved or false alarm) with their closing time kept."""
    mean_time_to_close_s: float | None
    """Seconds from an incident's start to its closing."""
    median_time_to_close_s: float | None


def shift_finder(shifts: Sequence[Shift]) -> Callable[[time], str]:
    """The name of the shift a local time of day falls in: the last to start at or before it; before
    the day's first start, the latest of the day (it runs past midnight)."""
    ordered = sorted(shifts, key=lambda shift: shift.start)
    starts = [shift.start for shift in ordered]
    return lambda moment: ordered[bisect_right(starts, moment) - 1].name


def incident_stats(
    store: IncidentStore, where: IncidentFilter, tz: ZoneInfo, shifts: Sequence[Shift]
) -> IncidentStats:
    columns = (
        IncidentRow.type,
        IncidentRow.camera_id,
        IncidentRow.status,
        IncidentRow.started_at,
        IncidentRow.acknowledged_at,
        IncidentRow.closed_at,
        IncidentRow.close_reason,
    )
    query = where.apply(select(*columns))
    rows = store.read(
        "compute incident stats", lambda session: [tuple(row) for row in session.execute(query)]
    )
    shift_of = shift_finder(shifts)
    by_type: Counter[str] = Counter()
    by_camera: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_hour: Counter[int] = Counter({hour: 0 for hour in range(24)})
    by_day: Counter[str] = Counter()
    by_shift: Counter[str] = Counter({shift.name: 0 for shift in shifts})
    by_reason: Counter[str] = Counter()
    ack: dict[str, defaultdict[str, list[float]]] = {
        g: defaultdict(list) for g in ("type", "camera", "shift")
    }
    ack_seconds: list[float] = []
    close_seconds: list[float] = []
    for type_, camera_id, status, started_at, acknowledged_at, closed_at, close_reason in rows:
        local = started_at.astimezone(tz)
        shift = shift_of(local.time())
        by_type[type_.value] += 1
        by_camera[camera_id] += 1
        by_status[status.value] += 1
        by_hour[local.hour] += 1
        by_day[local.date().isoformat()] += 1
        by_shift[shift] += 1
        if close_reason is not None:
            by_reason[close_reason] += 1
        if acknowledged_at is not None:
            seconds = max(0.0, (acknowledged_at - started_at).total_seconds())
            ack_seconds.append(seconds)
            for group, key in (("type", type_.value), ("camera", camera_id), ("shift", shift)):
                ack[group][key].append(seconds)
        if closed_at is not None:
            close_seconds.append(max(0.0, (closed_at - started_at).total_seconds()))
    closed = by_status[IncidentStatus.RESOLVED] + by_status[IncidentStatus.FALSE_ALARM]
    ack_all = Durations.of(ack_seconds) if ack_seconds else None
    close_all = Durations.of(close_seconds) if close_seconds else None
    return IncidentStats(
        total=len(rows),
        by_type=dict(by_type),
        by_camera=dict(by_camera),
        by_status=dict(by_status),
        by_hour=dict(sorted(by_hour.items())),
        by_day=dict(sorted(by_day.items())),
        by_shift=dict(by_shift),
        false_alarm_rate=by_status[IncidentStatus.FALSE_ALARM] / closed if closed else None,
        by_close_reason=dict(by_reason.most_common()),
        acknowledged=len(ack_seconds),
        mean_time_to_acknowledge_s=ack_all.mean_s if ack_all else None,
        median_time_to_acknowledge_s=ack_all.median_s if ack_all else None,
        time_to_acknowledge_by_type=_durations(ack["type"]),
        time_to_acknowledge_by_camera=_durations(ack["camera"]),
        time_to_acknowledge_by_shift={
            name: Durations.of(ack["shift"][name]) for name in by_shift if name in ack["shift"]
        },
        closed=len(close_seconds),
        mean_time_to_close_s=close_all.mean_s if close_all else None,
        median_time_to_close_s=close_all.median_s if close_all else None,
    )


def _durations(seconds: Mapping[str, list[float]]) -> dict[str, Durations]:
    return {key: Durations.of(values) for key, values in sorted(seconds.items())}


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


def _pages(store: IncidentStore, where: IncidentFilter) -> Iterator[list[StoredIncident]]:
    cursor = None
    while True:
        page = search(store, where, SortKey.NEWEST, limit=500, cursor=cursor)
        yield page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading `'`, so it shows as typed."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _code(code: str) -> str:
    return code


@dataclass(frozen=True)
class CsvWording:
    """The CSV in its reader's words: column headings (one per CSV_COLUMNS entry) and coded values
    (types, statuses, closing reasons, yes and no) in their language, the camera names, times in the
    installation's time zone."""

    heading: Callable[[str], str] = _code
    type_name: Callable[[str], str] = _code
    status_name: Callable[[str], str] = _code
    reason_name: Callable[[str], str] = _code
    yes: str = "true"
    no: str = "false"
    camera_names: Mapping[str, str] = field(default_factory=dict)
    tz: tzinfo = UTC

    def time(self, moment: datetime | None) -> str:
        """Local time with its offset, e.g. '2026-12-01 14:05:09+07:00'; '' for none."""
        return "" if moment is None else moment.astimezone(self.tz).isoformat(sep=" ", timespec="seconds")


CODES = CsvWording()
"""The CSV for machines: the codes themselves, UTC times, no camera names."""


def incidents_csv(store: IncidentStore, where: IncidentFilter, wording: CsvWording = CODES) -> bytes:
    """Every incident matching `where`, newest first, as UTF-8 CSV with a BOM (so that spreadsheet
    programs read Thai right), worded by `wording`; the notes of its history in one cell, oldest
    first. No cell can become a formula (`spreadsheet_safe`): names, units and notes are typed by users."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(wording.heading(column)) for column in CSV_COLUMNS])
    for page in _pages(store, where):
        notes = _notes(store, [incident.id for incident in page], wording)
        for incident in page:
            row = _csv_row(incident, notes.get(incident.id, []), wording)
            writer.writerow([spreadsheet_safe(row[column]) for column in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_row(incident: StoredIncident, notes: list[str], wording: CsvWording) -> dict[str, str]:
    reason = incident.close_reason
    return {
        "id": incident.id,
        "type": wording.type_name(incident.type.value),
        "subtype": incident.subtype or "",
        "camera_id": incident.camera_id,
        "camera_name": wording.camera_names.get(incident.camera_id, ""),
        "status": wording.status_name(incident.status.value),
        "confidence": f"{incident.confidence:.2f}",
        "started_at": wording.time(incident.started_at),
        "ended_at": wording.time(incident.ended_at),
        "acknowledged_at": wording.time(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by or "",
        "assigned_user": incident.assigned_user or "",
        "assigned_unit": incident.assigned_unit or "",
        "closed_at": wording.time(incident.closed_at),
        "closed_by": incident.closed_by or "",
        "close_reason": wording.reason_name(reason) if reason else "",
        "notes": "\n".join(notes),
        "locked": wording.yes if incident.locked else wording.no,
    }


def _notes(store: IncidentStore, incident_ids: list[str], wording: CsvWording) -> dict[str, list[str]]:
    """Incident id -> its notes as '<local time> <who>: <note>', oldest first (one query a page)."""
    query = (
        select(
            IncidentEventRow.incident_id, IncidentEventRow.at, IncidentEventRow.actor, IncidentEventRow.note
        )
        .where(IncidentEventRow.incident_id.in_(incident_ids), IncidentEventRow.note.is_not(None))
        .order_by(IncidentEventRow.id)
    )
    rows = store.read("read incident notes", lambda s: [tuple(r) for r in s.execute(query)])
    notes: dict[str, list[str]] = defaultdict(list)
    for incident_id, at, actor, note in rows:
        notes[incident_id].append(f"{wording.time(at)} {actor}: {note}")
    return notes


class IncidentStatistics:
    """The numbers of reports, for any role (Task.VIEW)."""

    def __init__(self, store: IncidentStore) -> None:
        self._store = store

    def stats(
        self, caller: Caller, where: IncidentFilter, tz: ZoneInfo, shifts: Sequence[Shift]
    ) -> IncidentStats:
        permit(caller, Task.VIEW)
        return incident_stats(self._store, where, tz, shifts)

    def false_alarm_rates(self, caller: Caller, where: IncidentFilter, column: str) -> dict[str, float]:
        permit(caller, Task.VIEW)
        return false_alarm_rates(self._store, where, column)

    def csv(self, caller: Caller, where: IncidentFilter, wording: CsvWording = CODES) -> bytes:
        permit(caller, Task.VIEW)
        return incidents_csv(self._store, where, wording)
