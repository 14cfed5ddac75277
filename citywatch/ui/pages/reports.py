"""Reports: a period's incidents (today, a calendar week or month, the last 30 days, or days picked)
by day, hour, type and camera; false alarm rates and closing reasons; the time to acknowledge
overall, per type, per camera and per shift, and the time to close; the list as CSV in the user's
language; printable on A4 (the print section of dashboard.css). Days, hours and shifts are the
command centre's (api.timezone); the period and filters are in the address, so a report can be
bookmarked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from nicegui import run, ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.domain.incident_types import IncidentType
from citywatch.services.periods import MAX_DAYS, Period, PeriodError, PeriodName, local_today
from citywatch.services.search import IncidentFilter
from citywatch.services.stats import Durations, IncidentStats
from citywatch.ui.components.layout import page_frame
from citywatch.ui.i18n import EN, format_date, format_day
from citywatch.ui.report_charts import COLUMNS_PX, column_bars, horizontal_bars
from citywatch.ui.report_csv import csv_wording
from citywatch.ui.report_query import CUSTOM, MissingDates, ReportQuery, parse_day
from citywatch.ui.services import services
from citywatch.ui.session import UiSession, session_of, to_login

V = TypeVar("V", int, float)
GRID = "cw-report-grid grid grid-cols-1 lg:grid-cols-2 gap-3 items-start w-full"
"""Charts two abreast on a screen (one on paper: dashboard.css)."""


def reports_page(request: Request) -> RedirectResponse | None:
    session = session_of(request)
    if session is None:
        return to_login(request)
    page_frame(session, "nav.reports")
    cameras = {c.id: c.name or c.id for c in services().context.cameras}
    Reports(session, ReportQuery.parse(request.query_params, cameras), cameras, request.url.netloc)
    return None


class Reports:
    def __init__(self, session: UiSession, query: ReportQuery, names: dict[str, str], site: str) -> None:
        self.session, self.query, self.names, self.site = session, query, names, site
        s = session
        with ui.row().classes("cw-no-print w-full items-start gap-3 px-3 pt-3"):
            periods = {p.value: s.t(f"reports.period_{p.value}") for p in PeriodName}
            ui.select(
                periods | {CUSTOM: s.t("reports.period_custom")},
                value=query.period.value if query.period else CUSTOM,
                label=s.t("reports.period"),
                on_change=lambda e: self._period(e.value),
            ).props("dense outlined data-test=period").classes("w-52")
            with ui.row().classes("items-start gap-2") as self.range:
                self.first = (
                    ui.date_input(s.t("reports.from"), value=_iso(query.first), on_change=self._dates)
                    .props("dense outlined data-test=from")
                    .classes("w-44")
                )
                self.last = (
                    ui.date_input(s.t("reports.to"), value=_iso(query.last), on_change=self._dates)
                    .props("dense outlined data-test=to")
                    .classes("w-44")
                )
            self.range.set_visibility(query.period is None)
            ui.select(
                {t.value: s.t(f"type.{t.value}") for t in IncidentType},
                value=[t.value for t in query.types],
                multiple=True,
                label=s.t("live.filter_type"),
                on_change=lambda e: self._choose(types=tuple(IncidentType(t) for t in e.value or ())),
            ).props("dense outlined clearable use-chips").classes("w-72")
            ui.select(
                names,
                value=list(query.camera_ids),
                multiple=True,
                label=s.t("live.filter_camera"),
                on_change=lambda e: self._choose(camera_ids=tuple(e.value or ())),
            ).props("dense outlined clearable use-chips").classes("w-72")
            ui.space()
            ui.button(s.t("reports.print"), icon="print").props("outline no-caps data-test=print").on(
                "click", js_handler="() => window.print()"
            )
            self.csv_button = ui.button(s.t("reports.csv"), icon="download", on_click=self._csv)
            self.csv_button.props("outline no-caps data-test=csv")
        self.body = ui.column().classes("cw-report w-full p-3 gap-3")
        self.refreshes = 0
        """Refreshes begun: one that ends after a later one began draws nothing."""
        ui.timer(0, self._refresh, once=True)

    def _period(self, value: str) -> None:
        custom = value == CUSTOM
        self.range.set_visibility(custom)
        if not custom:
            self._choose(period=PeriodName(value))
            return
        shown = self._shown_period()  # a range starts from the days shown so far
        self.query = replace(self.query, period=None, first=shown.first, last=shown.last)
        self.first.value, self.last.value = _iso(shown.first), _iso(shown.last)
        self._choose()

    def _dates(self) -> None:
        self._choose(first=parse_day(self.first.value), last=parse_day(self.last.value))

    def _choose(self, **changes: Any) -> None:
        self.query = replace(self.query, **changes)
        ui.navigate.history.replace(self.query.url())
        ui.timer(0, self._refresh, once=True)

    def _shown_period(self) -> Period:
        today = local_today(services().context.timezone)
        try:
            return self.query.period_on(today)
        except (MissingDates, PeriodError):
            return Period(today, today)

    def _where(self, period: Period) -> IncidentFilter:
        since, until = period.span(services().context.timezone)
        return IncidentFilter(
            types=self.query.types, camera_ids=self.query.camera_ids, since=since, until=until
        )

    async def _refresh(self) -> None:
        s, context = self.session, services().context
        self.refreshes += 1
        mine = self.refreshes
        try:
            period = self.query.period_on(local_today(context.timezone))
        except (MissingDates, PeriodError) as exc:
            problem = exc.problem if isinstance(exc, PeriodError) else "missing"
            self.csv_button.disable()
            self.body.clear()
            with self.body:
                ui.label(s.t(f"reports.range_{problem}", days=MAX_DAYS)).classes(
                    "text-red-700 font-medium"
                ).props("data-test=range-error")
            return
        self.csv_button.enable()
        numbers, caller, where = context.stats, s.caller, self._where(period)
        stats = await run.io_bound(numbers.stats, caller, where, context.timezone, context.settings.shifts)
        by_type = await run.io_bound(numbers.false_alarm_rates, caller, where, "type")
        by_camera = await run.io_bound(numbers.false_alarm_rates, caller, where, "camera_id")
        if mine == self.refreshes:  # else chosen again meanwhile: the later refresh draws
            self._draw(period, stats, by_type, by_camera)

    def _draw(
        self, period: Period, stats: IncidentStats, by_type: dict[str, float], by_camera: dict[str, float]
    ) -> None:
        s = self.session
        self.body.clear()
        with self.body:
            self._title(period)
            with self._section("overview"):
                self._cards(stats)
                with ui.element("div").classes(GRID):
                    days = [d.isoformat() for d in period.dates()]
                    self._columns(
                        "reports.by_day",
                        [format_day(d, s.lang) for d in days],
                        [stats.by_day.get(d, 0) for d in days],
                    )
                    self._columns(
                        "reports.by_hour", [f"{h:02d}" for h in stats.by_hour], list(stats.by_hour.values())
                    )
            types = _ranked({t.value: stats.by_type.get(t.value, 0) for t in self._types()})
            with self._section("types"):
                with ui.element("div").classes(GRID):
                    self._bars("reports.by_type", {s.t(f"type.{k}"): v for k, v in types.items()})
                    self._bars(
                        "reports.false_alarm_by_type",
                        {s.t(f"type.{k}"): round(v * 100, 1) for k, v in _ranked(by_type).items()},
                        percent=True,
                    )
                self._times(
                    "reports.ack_by_type",
                    "live.filter_type",
                    stats.time_to_acknowledge_by_type,
                    {s.t(f"type.{k}"): (k, v) for k, v in types.items() if v},
                )
            cameras = _ranked({c: stats.by_camera.get(c, 0) for c in self._camera_ids(stats)})
            with self._section("cameras"):
                with ui.element("div").classes(GRID):
                    self._bars("reports.by_camera", {self._name(c): v for c, v in cameras.items()})
                    self._bars(
                        "reports.false_alarm_by_camera",
                        {self._name(c): round(v * 100, 1) for c, v in _ranked(by_camera).items()},
                        percent=True,
                    )
                self._times(
                    "reports.ack_by_camera",
                    "live.filter_camera",
                    stats.time_to_acknowledge_by_camera,
                    {self._name(c): (c, v) for c, v in cameras.items() if v},
                )
            with self._section("response"):
                self._times(
                    "reports.ack_by_shift",
                    "reports.shift",
                    stats.time_to_acknowledge_by_shift,
                    {self._shift(name): (name, n) for name, n in stats.by_shift.items()},
                )
                self._reasons(stats)

    def _title(self, period: Period) -> None:
        s = self.session
        days = format_date(period.first, s.lang)
        if period.last != period.first:
            days += f" – {format_date(period.last, s.lang)}"
        every = s.t("common.all")
        with ui.column().classes("gap-0"):
            ui.label(s.t("reports.title", period=days)).classes("text-xl font-bold").props(
                "data-test=report-period"
            )
            ui.label(
                s.t(
                    "reports.subtitle",
                    site=self.site,
                    tz=services().context.settings.timezone,
                    time=s.time(datetime.now(UTC)),
                    actor=s.caller.actor,
                )
            ).classes("text-sm text-gray-600")
            ui.label(
                s.t(
                    "reports.filters",
                    types=", ".join(s.t(f"type.{t.value}") for t in self.query.types) or every,
                    cameras=", ".join(self._name(c) for c in self.query.camera_ids) or every,
                )
            ).classes("text-sm text-gray-600").props("data-test=report-filters")

    def _section(self, name: str) -> ui.element:
        section = ui.element("section").classes("cw-report-section w-full flex flex-col gap-3")
        with section:
            ui.label(self.session.t(f"reports.section_{name}")).classes("text-lg font-semibold")
        return section.props(f"data-test=section-{name}")

    def _cards(self, stats: IncidentStats) -> None:
        s = self.session
        rate = f"{stats.false_alarm_rate:.0%}" if stats.false_alarm_rate is not None else s.t("reports.none")
        figures = [
            ("reports.total", str(stats.total)),
            ("reports.false_alarm_rate", rate),
            ("reports.ack_mean", self._duration(stats.mean_time_to_acknowledge_s)),
            ("reports.ack_median", self._duration(stats.median_time_to_acknowledge_s)),
            ("reports.close_mean", self._duration(stats.mean_time_to_close_s)),
            ("reports.close_median", self._duration(stats.median_time_to_close_s)),
        ]
        with ui.element("div").classes(
            "cw-report-cards grid grid-cols-2 md:grid-cols-3 xl:grid-cols-6 gap-3 w-full"
        ):
            for key, value in figures:
                with ui.card().classes("p-3"):
                    ui.label(s.t(key)).classes("text-sm text-gray-600")
                    ui.label(value).classes("text-2xl font-bold").props(
                        f"data-test=figure-{key.split('.')[1]}"
                    )

    def _columns(self, title: str, labels: list[str], values: list[float]) -> None:
        self._chart(title, column_bars(labels, values), COLUMNS_PX)

    def _bars(self, title: str, values: dict[str, float], *, percent: bool = False) -> None:
        nothing = self.session.t("reports.nothing")
        self._chart(title, *horizontal_bars(list(values), list(values.values()), nothing, percent=percent))

    def _chart(self, title: str, options: dict, height: int) -> None:
        """A card with the chart under its title (the i18n key `title`), named by the key's last part."""
        with ui.card().classes("cw-report-card p-3"):
            ui.label(self.session.t(title)).classes("font-semibold")
            ui.echart(options).classes("cw-report-chart w-full").style(f"height: {height}px").props(
                f"data-test=chart data-chart={title.split('.')[1]}"
            )

    def _times(
        self, title: str, first: str, times: dict[str, Durations], rows: dict[str, tuple[str, int]]
    ) -> None:
        """A table of the time to acknowledge of each row: label -> (key in `times`, incidents)."""
        s = self.session
        columns = [
            {"name": "name", "label": s.t(first), "field": "name", "align": "left"},
            {"name": "incidents", "label": s.t("reports.total"), "field": "incidents"},
            {"name": "acknowledged", "label": s.t("reports.acknowledged"), "field": "acknowledged"},
            {"name": "mean", "label": s.t("reports.mean"), "field": "mean"},
            {"name": "median", "label": s.t("reports.median"), "field": "median"},
        ]
        body = []
        for label, (key, incidents) in rows.items():
            timed = times.get(key)
            body.append(
                {
                    "key": key,
                    "name": label,
                    "incidents": incidents,
                    "acknowledged": timed.count if timed else 0,
                    "mean": self._duration(timed.mean_s if timed else None),
                    "median": self._duration(timed.median_s if timed else None),
                }
            )
        self._table(title, columns, body)

    def _reasons(self, stats: IncidentStats) -> None:
        s = self.session
        closed = sum(stats.by_close_reason.values())
        columns = [
            {"name": "name", "label": s.t("reports.reason"), "field": "name", "align": "left"},
            {"name": "count", "label": s.t("reports.total"), "field": "count"},
            {"name": "share", "label": s.t("reports.share"), "field": "share"},
        ]
        rows = [
            {"key": reason, "name": s.t(f"reason.{reason}"), "count": count, "share": f"{count / closed:.0%}"}
            for reason, count in stats.by_close_reason.items()
        ]
        self._table("reports.close_reasons", columns, rows)

    def _table(self, title: str, columns: list[dict], rows: list[dict]) -> None:
        with ui.card().classes("cw-report-card p-3 w-full"):
            ui.label(self.session.t(title)).classes("font-semibold")
            if not rows:
                ui.label(self.session.t("reports.nothing")).classes("text-gray-600")
                return
            ui.table(columns=columns, rows=rows, row_key="key", pagination=0).props(
                f"dense flat wrap-cells hide-bottom data-test=table-{title.split('.')[1]}"
            ).classes("w-full")

    def _types(self) -> list[IncidentType]:
        return list(self.query.types) or list(IncidentType)

    def _camera_ids(self, stats: IncidentStats) -> list[str]:
        chosen = list(self.query.camera_ids) or list(self.names)
        return chosen + [c for c in stats.by_camera if c not in chosen]

    def _name(self, camera_id: str) -> str:
        return self.names.get(camera_id, camera_id)

    def _shift(self, name: str) -> str:
        """A shift's name (the default ones in the user's language, others as the config writes them)
        and its hours, e.g. 'เวรดึก 00:00–08:00'."""
        shifts = sorted(services().context.settings.shifts, key=lambda shift: shift.start)
        index = next(i for i, shift in enumerate(shifts) if shift.name == name)
        hours = f"{shifts[index].start:%H:%M}–{shifts[(index + 1) % len(shifts)].start:%H:%M}"
        label = self.session.t(f"reports.shift_{name}") if f"reports.shift_{name}" in EN else name
        return f"{label} {hours}"

    def _duration(self, seconds: float | None) -> str:
        if seconds is None:
            return self.session.t("reports.none")
        if seconds < 120:
            return self.session.t("reports.seconds", value=f"{seconds:.0f}")
        if seconds < 7200:
            return self.session.t("reports.minutes", value=f"{seconds / 60:.1f}")
        return self.session.t("reports.hours", value=f"{seconds / 3600:.1f}")

    async def _csv(self) -> None:
        context, s = services().context, self.session
        period = self.query.period_on(local_today(context.timezone))
        wording = csv_wording(s.lang, context.timezone, self.names)
        data = await run.io_bound(context.stats.csv, s.caller, self._where(period), wording)
        name = f"citywatch-incidents-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
        ui.download.content(data, name, "text/csv")


def _ranked(values: dict[str, V]) -> dict[str, V]:
    """Largest first; equal values in their given order."""
    return dict(sorted(values.items(), key=lambda item: -item[1]))


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""
