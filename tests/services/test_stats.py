"""Report numbers beyond the API's /stats: calendar periods, the false alarm rate per type and per
camera, the time to acknowledge per type, camera and shift, closing reasons and time to close, and
the CSV in the reader's language."""

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from citywatch.config import Shift, parse_config
from citywatch.config.api import DEFAULT_SHIFTS
from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action, CloseReason
from citywatch.services.periods import MAX_DAYS, Period, PeriodError, PeriodName, named_period
from citywatch.services.search import IncidentFilter
from citywatch.services.stats import Durations, false_alarm_rates, incident_stats, incidents_csv, shift_finder
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.store import IncidentStore
from citywatch.ui.report_csv import csv_wording

BANGKOK = ZoneInfo("Asia/Bangkok")
AddIncident = Callable[[IncidentType, str, float], str]


def bangkok(*args: int) -> float:
    """Epoch seconds of a Bangkok wall-clock time."""
    return datetime(*args, tzinfo=BANGKOK).timestamp()  # type: ignore[misc]


def test_false_alarm_rates_per_type_and_camera(store: IncidentStore, add_incident: AddIncident) -> None:
    lifecycle = IncidentLifecycle(store)
    now = datetime.now(UTC).timestamp()
    fires = [add_incident(IncidentType.FIRE, "cam01", now - i) for i in range(4)]
    fall = add_incident(IncidentType.FALL, "cam02", now - 10)
    add_incident(IncidentType.FALL, "cam02", now - 11)  # still open: not counted
    for incident_id in fires[:3]:
        lifecycle.change_status(
            incident_id, Action.FALSE_ALARM, "somchai", reason=CloseReason.WRONG_DETECTION
        )
    lifecycle.change_status(fires[3], Action.RESOLVE, "somchai", reason=CloseReason.HANDLED)
    lifecycle.change_status(fall, Action.RESOLVE, "somchai", reason=CloseReason.REFERRED)
    everything = IncidentFilter()
    assert false_alarm_rates(store, everything, "type") == {"fall": 0.0, "fire": 0.75}
    assert false_alarm_rates(store, everything, "camera_id") == {"cam01": 0.75, "cam02": 0.0}


def test_calendar_weeks_start_on_monday_and_cross_the_year_end() -> None:
    sunday = date(2027, 1, 3)  # the week of Monday 2026-12-28 runs into 2027
    assert named_period(PeriodName.THIS_WEEK, sunday) == Period(date(2026, 12, 28), sunday)
    assert named_period(PeriodName.LAST_WEEK, sunday) == Period(date(2026, 12, 21), date(2026, 12, 27))
    monday = date(2027, 1, 4)
    assert named_period(PeriodName.LAST_WEEK, monday) == Period(date(2026, 12, 28), sunday)
    assert named_period(PeriodName.THIS_WEEK, monday) == Period(monday, monday)
    assert named_period(PeriodName.TODAY, monday) == Period(monday, monday)
    assert named_period(PeriodName.THIS_MONTH, monday) == Period(date(2027, 1, 1), monday)
    assert named_period(PeriodName.LAST_MONTH, monday) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert named_period(PeriodName.LAST_MONTH, date(2028, 3, 31)) == Period(
        date(2028, 2, 1), date(2028, 2, 29)
    )
    assert named_period(PeriodName.LAST_30_DAYS, monday) == Period(date(2026, 12, 6), monday)


def test_a_week_is_local_midnight_to_midnight_in_the_installation_zone() -> None:
    week = Period(date(2026, 12, 28), date(2027, 1, 3))
    since, until = week.span(BANGKOK)  # no daylight saving time: seven days of 24 h, 7 h behind in UTC
    assert since == datetime(2026, 12, 27, 17, tzinfo=UTC)
    assert until == datetime(2027, 1, 3, 17, tzinfo=UTC)
    berlin = Period(date(2027, 3, 22), date(2027, 3, 28)).span(ZoneInfo("Europe/Berlin"))
    assert berlin[1] - berlin[0] == timedelta(hours=167)  # the clocks go forward on 28 March
    assert week.dates()[0] == date(2026, 12, 28) and len(week.dates()) == 7


def test_a_custom_range_ends_after_it_starts_and_lasts_at_most_a_year() -> None:
    assert Period(date(2026, 12, 6), date(2026, 12, 6)).days == 1
    assert Period(date(2027, 1, 1), date(2027, 12, 31) + timedelta(days=1)).days == MAX_DAYS
    with pytest.raises(PeriodError) as backwards:
        Period(date(2026, 12, 6), date(2026, 11, 30))
    assert backwards.value.problem == "order"
    with pytest.raises(PeriodError) as too_long:
        Period(date(2026, 1, 1), date(2027, 1, 2))
    assert too_long.value.problem == "too_long" and "366" in str(too_long.value)


def test_an_incident_belongs_to_the_shift_it_started_in_and_the_last_one_runs_past_midnight() -> None:
    default = shift_finder(DEFAULT_SHIFTS)
    assert [default(time(h, m)) for h, m in ((0, 0), (7, 59), (8, 0), (15, 59), (16, 0), (23, 59))] == [
        "night",
        "night",
        "day",
        "day",
        "evening",
        "evening",
    ]
    two = shift_finder([Shift(name="เวรกลางวัน", start=time(7)), Shift(name="เวรกลางคืน", start=time(19))])
    assert [two(time(h)) for h in (2, 6, 7, 18, 19, 23)] == ["เวรกลางคืน"] * 2 + ["เวรกลางวัน"] * 2 + [
        "เวรกลางคืน"
    ] * 2


def test_shifts_in_the_config_are_quoted_local_times_with_distinct_names() -> None:
    config = parse_config(
        {"api": {"shifts": [{"name": "day", "start": "07:00"}, {"name": "night", "start": "19:00"}]}}
    )
    assert [(s.name, s.start) for s in config.api.shifts] == [("day", time(7)), ("night", time(19))]
    assert parse_config({}).api.shifts == DEFAULT_SHIFTS
    for shifts, message in (
        ([{"name": "day", "start": 960}], "write the time in quotes, e.g. '16:00'"),
        (
            [{"name": "day", "start": "07:00"}, {"name": "day", "start": "19:00"}],
            "two shifts have the same name: day",
        ),
        ([{"name": "a", "start": "07:00"}, {"name": "b", "start": "07:00"}], "same start: 07:00:00"),
        ([], "at least 1 item"),
        ([{"name": "day", "start": "25:00"}], "key api.shifts.0.start"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_config({"api": {"shifts": shifts}})


def test_time_to_acknowledge_per_type_camera_and_shift_reasons_and_time_to_close(
    store: IncidentStore, add_incident: AddIncident
) -> None:
    clock = [0.0]
    lifecycle = IncidentLifecycle(store, clock=lambda: clock[0])
    day, night = Shift(name="day", start=time(7)), Shift(name="night", start=time(19))

    def handled(
        type_: IncidentType, camera: str, start: float, ack_after: float, close_after: float | None
    ) -> None:
        incident_id = add_incident(type_, camera, start)
        clock[0] = start + ack_after
        lifecycle.change_status(incident_id, Action.ACKNOWLEDGE, "somchai")
        if close_after is not None:
            clock[0] = start + close_after
            action, reason = (
                (Action.FALSE_ALARM, CloseReason.WRONG_DETECTION)
                if type_ is IncidentType.FIRE
                else (Action.RESOLVE, CloseReason.HANDLED)
            )
            lifecycle.change_status(incident_id, action, "malee", reason=reason)

    handled(IncidentType.FIRE, "cam01", bangkok(2026, 12, 1, 2, 0), 60, 600)  # night, across midnight
    handled(IncidentType.FIRE, "cam01", bangkok(2026, 12, 1, 8, 0), 120, 1200)  # day
    handled(IncidentType.FIGHT, "cam02", bangkok(2026, 12, 1, 20, 0), 300, 3600)  # night
    handled(IncidentType.FIGHT, "cam02", bangkok(2026, 12, 1, 23, 0), 30, None)  # night, still open
    add_incident(IncidentType.FALL, "cam02", bangkok(2026, 12, 1, 12, 0))  # day, nobody acted
    week = Period(date(2026, 11, 30), date(2026, 12, 6))
    since, until = week.span(BANGKOK)
    add_incident(IncidentType.FALL, "cam02", (until - timedelta(seconds=1)).timestamp())  # Sunday 23:59:59
    add_incident(IncidentType.FALL, "cam02", until.timestamp())  # the next Monday 00:00: not this week
    add_incident(IncidentType.FALL, "cam02", (since - timedelta(seconds=1)).timestamp())  # the Sunday before

    stats = incident_stats(store, IncidentFilter(since=since, until=until), BANGKOK, [day, night])
    assert stats.total == 6
    assert stats.by_day == {"2026-12-01": 5, "2026-12-06": 1}
    assert stats.by_shift == {"day": 2, "night": 4}
    assert stats.time_to_acknowledge_by_shift == {
        "day": Durations(1, 120, 120),
        "night": Durations(3, 130, 60),
    }
    assert stats.time_to_acknowledge_by_type == {
        "fight": Durations(2, 165, 165),
        "fire": Durations(2, 90, 90),
    }
    assert stats.time_to_acknowledge_by_camera == {
        "cam01": Durations(2, 90, 90),
        "cam02": Durations(2, 165, 165),
    }
    assert (stats.acknowledged, stats.mean_time_to_acknowledge_s, stats.median_time_to_acknowledge_s) == (
        4,
        127.5,
        90,
    )
    assert stats.by_close_reason == {"wrong_detection": 2, "handled": 1}
    assert (stats.closed, stats.mean_time_to_close_s, stats.median_time_to_close_s) == (3, 1800, 1200)
    assert stats.false_alarm_rate == 2 / 3


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())  # the BOM: Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_csv_speaks_the_readers_language_with_local_times_names_reasons_and_notes(
    store: IncidentStore, add_incident: AddIncident
) -> None:
    clock = [bangkok(2026, 12, 1, 21, 14, 5)]
    lifecycle = IncidentLifecycle(store, clock=lambda: clock[0])
    fire = add_incident(IncidentType.FIRE, "soi5", bangkok(2026, 12, 1, 21, 14, 5))
    lifecycle.add_note(fire, "somchai", '=HYPERLINK("http://evil.example","x")')
    clock[0] += 60
    lifecycle.change_status(fire, Action.ASSIGN, "somchai", unit="สายตรวจ 3")
    clock[0] += 600
    lifecycle.change_status(
        fire, Action.FALSE_ALARM, "malee", reason=CloseReason.WRONG_DETECTION, note="แสงไฟหน้าร้าน"
    )
    add_incident(IncidentType.FIGHT, "cam02", bangkok(2026, 12, 1, 22, 0))
    names = {"soi5": "ตลาดซอย 5 / Soi 5 market"}
    where = IncidentFilter(types=[IncidentType.FIRE])

    thai = _rows(incidents_csv(store, where, csv_wording("th", BANGKOK, names)))
    assert list(thai[0])[:6] == ["รหัสเหตุการณ์", "ประเภท", "ประเภทย่อย", "รหัสกล้อง", "ชื่อกล้อง", "สถานะ"]
    (row,) = thai
    assert row["ประเภท"] == "ไฟไหม้ / ควัน" and row["สถานะ"] == "แจ้งเตือนผิดพลาด"
    assert (row["รหัสกล้อง"], row["ชื่อกล้อง"]) == ("soi5", "ตลาดซอย 5 / Soi 5 market")
    assert row["เวลาเริ่ม"] == "2026-12-01 21:14:05+07:00"
    assert row["เวลารับทราบ"] == "2026-12-01 21:15:05+07:00"
    assert (row["เวลาปิดเหตุการณ์"], row["ผู้ปิดเหตุการณ์"]) == ("2026-12-01 21:25:05+07:00", "malee")
    assert row["เหตุผลการปิด"] == "ระบบตรวจจับผิด" and row["ล็อกหลักฐาน"] == "ไม่ใช่"
    assert row["มอบหมายให้ (หน่วย)"] == "สายตรวจ 3"
    assert row["บันทึก"].splitlines() == [
        '2026-12-01 21:14:05+07:00 somchai: =HYPERLINK("http://evil.example","x")',
        "2026-12-01 21:25:05+07:00 malee: แสงไฟหน้าร้าน",
    ]

    english = _rows(incidents_csv(store, IncidentFilter(), csv_wording("en", BANGKOK, names)))
    assert [r["Type"] for r in english] == ["Fight", "Fire / smoke"]
    assert english[1]["Reason for closing"] == "Wrong detection" and english[1]["Status"] == "False alarm"
    assert english[0]["Camera"] == "" and english[0]["Closed at"] == ""  # a camera no longer configured

    machine = _rows(incidents_csv(store, where))  # no wording: codes and UTC
    assert machine[0]["type"] == "fire" and machine[0]["close_reason"] == "wrong_detection"
    assert machine[0]["started_at"] == "2026-12-01 14:14:05+00:00"


def test_no_csv_cell_can_become_a_formula(store: IncidentStore, add_incident: AddIncident) -> None:
    lifecycle = IncidentLifecycle(store)
    incident_id = add_incident(IncidentType.FIRE, "cam01", datetime.now(UTC).timestamp())
    lifecycle.change_status(incident_id, Action.ASSIGN, "somchai", unit="-2+3")
    names = {"cam01": "@SUM(A1:A9)"}
    (row,) = _rows(incidents_csv(store, IncidentFilter(), csv_wording("en", BANGKOK, names)))
    assert (row["Assigned unit"], row["Camera"]) == ("'-2+3", "'@SUM(A1:A9)")
