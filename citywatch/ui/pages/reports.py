"""Reports: incidents of a period by type, day, hour of day and camera; the false alarm rate per
type and per camera; the time operators take to acknowledge; the filtered list as CSV. Hours and
days are the command centre's (api.timezone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from nicegui import run, ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from citywatch.domain.incident_types import IncidentType
from citywatch.services.search import IncidentFilter
from citywatch.services.stats import IncidentStats
from citywatch.ui.components.layout import page_frame
from citywatch.ui.i18n import format_day
from citywatch.ui.services import services
from citywatch.ui.session import UiSession, session_of, to_login

PERIODS = (1, 7, 30, 90, 365)


def reports_page(request: Request) -> RedirectResponse | None:
    session = session_of(request)
    if session is None:
        return to_login(request)
    page_frame(session, "nav.reports")
    Reports(session)
    return None


def _bar(
    title: str, labels: list[str], values: list[float], *, percent: bool = False, horizontal: bool = False
) -> dict:
    category = {"type": "category", "data": labels, "axisLabel": {"interval": 0, "hideOverlap": True}}
    value: dict[str, Any] = {"type": "value", "minInterval": 1}
    if percent:
        value = {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}}
    return {
        "title": {"text": title, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": value if horizontal else category,
        "yAxis": category if horizontal else value,
        "series": [{"type": "bar", "data": values, "barMaxWidth": 40, "itemStyle": {"color": "#2563eb"}}],
    }


class Reports:
    def __init__(self, session: UiSession) -> None:
        self.session = session
        s = session
        context = services().context
        self.names = {c.id: c.name or c.id for c in context.cameras}
        self.days = 30
        self.types: list[str] = []
        self.camera_ids: list[str] = []
        with ui.row().classes("w-full items-center gap-3 px-3 pt-3"):
            ui.select(
                {d: s.t("reports.days", days=d) for d in PERIODS},
                value=self.days,
                label=s.t("reports.period"),
                on_change=lambda e: self._set("days", e.value),
            ).props("dense outlined data-test=period").classes("w-48")
            ui.select(
                {t.value: s.t(f"type.{t.value}") for t in IncidentType},
                multiple=True,
                label=s.t("live.filter_type"),
                on_change=lambda e: self._set("types", list(e.value or [])),
            ).props("dense outlined clearable use-chips").classes("w-72")
            ui.select(
                self.names,
                multiple=True,
                label=s.t("live.filter_camera"),
                on_change=lambda e: self._set("camera_ids", list(e.value or [])),
            ).props("dense outlined clearable use-chips").classes("w-72")
            ui.space()
            ui.button(s.t("reports.csv"), icon="download", on_click=self._csv).props(
                "outline no-caps data-test=csv"
            )
        self.body = ui.column().classes("w-full p-3 gap-3")
        ui.timer(0, self.refresh, once=True)

    def where(self) -> IncidentFilter:
        return IncidentFilter(
            types=[IncidentType(t) for t in self.types],
            camera_ids=self.camera_ids,
            since=datetime.now(UTC) - timedelta(days=self.days),
        )

    def _set(self, name: str, value: Any) -> None:
        setattr(self, name, value)
        ui.timer(0, self.refresh, once=True)

    async def refresh(self) -> None:
        numbers, caller, where = services().context.stats, self.session.caller, self.where()
        stats = await run.io_bound(numbers.stats, caller, where, services().context.timezone)
        by_type = await run.io_bound(numbers.false_alarm_rates, caller, where, "type")
        by_camera = await run.io_bound(numbers.false_alarm_rates, caller, where, "camera_id")
        self.body.clear()
        with self.body:
            self._cards(stats)
            s = self.session
            with ui.element("div").classes("w-full grid grid-cols-3 gap-3"):
                charts = [
                    _bar(
                        s.t("reports.by_type"),
                        [s.t(f"type.{k}") for k in stats.by_type],
                        list(stats.by_type.values()),
                    ),
                    _bar(
                        s.t("reports.by_day"),
                        [format_day(d, s.lang) for d in stats.by_day],
                        list(stats.by_day.values()),
                    ),
                    _bar(
                        s.t("reports.by_hour"),
                        [f"{h:02d}" for h in stats.by_hour],
                        list(stats.by_hour.values()),
                    ),
                    _bar(
                        s.t("reports.by_camera"),
                        [self.names.get(k, k) for k in stats.by_camera],
                        list(stats.by_camera.values()),
                        horizontal=True,
                    ),
                    _bar(
                        s.t("reports.false_alarm_by_type"),
                        [s.t(f"type.{k}") for k in by_type],
                        [round(v * 100, 1) for v in by_type.values()],
                        percent=True,
                    ),
                    _bar(
                        s.t("reports.false_alarm_by_camera"),
                        [self.names.get(k, k) for k in by_camera],
                        [round(v * 100, 1) for v in by_camera.values()],
                        percent=True,
                        horizontal=True,
                    ),
                ]
                for options in charts:
                    with ui.card().classes("p-2"):
                        ui.echart(options).classes("w-full").style(
                            "height: calc((100vh - 300px) / 2); min-height: 220px"
                        ).props("data-test=chart")

    def _cards(self, stats: IncidentStats) -> None:
        s = self.session
        rate = f"{stats.false_alarm_rate:.0%}" if stats.false_alarm_rate is not None else s.t("reports.none")
        figures = [
            ("reports.total", str(stats.total)),
            ("reports.false_alarm_rate", rate),
            ("reports.ack_mean", self._duration(stats.mean_time_to_acknowledge_s)),
            ("reports.ack_median", self._duration(stats.median_time_to_acknowledge_s)),
        ]
        with ui.row().classes("w-full gap-3"):
            for key, value in figures:
                with ui.card().classes("p-3 min-w-[220px] grow"):
                    ui.label(s.t(key)).classes("text-sm text-gray-600")
                    ui.label(value).classes("text-3xl font-bold").props(
                        f"data-test=figure-{key.split('.')[1]}"
                    )

    def _duration(self, seconds: float | None) -> str:
        if seconds is None:
            return self.session.t("reports.none")
        if seconds < 120:
            return self.session.t("reports.seconds", value=f"{seconds:.0f}")
        return self.session.t("reports.minutes", value=f"{seconds / 60:.1f}")

    async def _csv(self) -> None:
        data = await run.io_bound(services().context.stats.csv, self.session.caller, self.where())
        stamp = datetime.now(services().context.timezone).strftime("%Y%m%d-%H%M")
        ui.download.content(data, f"citywatch-incidents-{stamp}.csv", "text/csv")
