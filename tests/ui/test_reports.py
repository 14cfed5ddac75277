"""The Reports page makes a weekly report, in a real browser against a real `citywatch serve` with 50
cameras: last calendar week's incidents (kept in the address), every type and camera named on the
charts at 1366x768 and 1920x1080, the CSV in Thai with local times, and printing on A4."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dashboard_support import (
    Server,
    browser,
    click,
    free_port,
    login,
    set_viewport,
    start_server,
    wait_for,
    wait_text,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from starlette.datastructures import QueryParams

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action, CloseReason
from citywatch.services.periods import PeriodName, local_today, named_period
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.ui.i18n import EN, TH, format_date
from citywatch.ui.report_query import MissingDates, ReportQuery

BANGKOK = ZoneInfo("Asia/Bangkok")  # the config's api.timezone (the default)
CAMERAS = [
    {"id": f"cam-{n:02d}", "name": f"แยกถนนสายที่ {n} / Junction {n}", "location": {"lat": 13.75, "lon": 100.5}}
    for n in range(50)
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("reports"), free_port(), CAMERAS)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def somchai(server: Server) -> Iterator[WebDriver]:
    driver = browser()
    login(driver, server, "somchai", "/reports")
    yield driver
    driver.quit()


_LABELS = """
const chart = getElement(document.querySelector(`[data-chart=${arguments[0]}]`)).chart;
return {
  option: chart.getOption().yAxis[0].data,
  drawn: chart.getZr().storage.getDisplayList(true)
    .filter((e) => e.type === "tspan" && !e.ignore && !e.invisible)
    .map((e) => {
      const r = e.getBoundingRect().clone();
      r.applyTransform(e.getComputedTransform());
      return {text: e.style.text, x: r.x, y: r.y, w: r.width, h: r.height};
    }),
  size: [chart.getWidth(), chart.getHeight()],
};
"""


def _assert_every_label_drawn(driver: WebDriver, chart: str, expected: set[str]) -> None:
    """Every name is an axis label ECharts drew (not thinned out), inside the chart, none over another,
    and the chart's title is above the bars."""
    found = driver.execute_script(_LABELS, chart)
    assert set(found["option"]) == expected
    drawn = [label for label in found["drawn"] if label["text"] in expected]
    assert sorted(label["text"] for label in drawn) == sorted(expected), f"{chart}: a label was dropped"
    width, height = found["size"]
    for label in drawn:
        assert label["x"] >= 0 and label["x"] + label["w"] <= width, f"{label} is cut off"
        assert label["y"] >= 0 and label["y"] + label["h"] <= height, f"{label} is cut off"
    by_top = sorted(drawn, key=lambda label: label["y"])
    for upper, lower in itertools.pairwise(by_top):
        assert upper["y"] + upper["h"] <= lower["y"], f"{upper['text']} overlaps {lower['text']}"
    title_bottom, chart_top = driver.execute_script(
        "const chart = document.querySelector(`[data-chart=${arguments[0]}]`);"
        "return [chart.previousElementSibling.getBoundingClientRect().bottom,"
        " chart.getBoundingClientRect().top]",
        chart,
    )
    assert title_bottom <= chart_top


def _choose(driver: WebDriver, option: str) -> None:
    """Click the option of the open select's menu that reads `option`."""
    WebDriverWait(driver, 5).until(
        lambda d: next(
            (item for item in d.find_elements(By.CSS_SELECTOR, ".q-menu .q-item") if item.text == option),
            False,
        ),
        f"no option {option!r}",
    ).click()


def _total(driver: WebDriver, expected: int) -> None:
    wait_text(driver, "[data-test=figure-total]", str(expected))


def test_last_calendar_week_shows_its_incidents_and_stays_in_the_address(
    server: Server, somchai: WebDriver
) -> None:
    week = named_period(PeriodName.LAST_WEEK, local_today(BANGKOK))
    since, until = week.span(BANGKOK)
    one_second = timedelta(seconds=1)
    for type_, at in (
        (IncidentType.FIGHT, since),  # Monday 00:00:00
        (IncidentType.FIRE, until - one_second),  # Sunday 23:59:59
        (IncidentType.FALL, since - one_second),  # the Sunday before: not in it
        (IncidentType.FALL, until),  # this Monday 00:00: not in it
    ):
        server.add_incident("cam-03", type_, at.timestamp(), evidence=False)
    driver = somchai
    set_viewport(driver, 1920, 1080)
    driver.get(f"{server.url}/reports")
    wait_for(driver, "[data-test=figure-total]")
    click(driver, "[data-test=period]")
    _choose(driver, EN["reports.period_last_week"])
    WebDriverWait(driver, 5).until(lambda d: d.current_url.endswith("/reports?period=last_week"))
    _total(driver, 2)
    days = f"{format_date(week.first, 'en')} – {format_date(week.last, 'en')}"
    wait_text(driver, "[data-test=report-period]", EN["reports.title"].format(period=days))
    labels = driver.execute_script(
        "return getElement(document.querySelector('[data-chart=by_day]')).chart.getOption().xAxis[0].data"
    )
    assert len(labels) == 7 and labels[0].startswith(str(week.first.day))  # Monday first, every day

    driver.get(f"{server.url}/reports?period=last_week&type=fire")  # a bookmark, opened again
    _total(driver, 1)
    assert "Last week" in wait_for(driver, "[data-test=period]").text
    driver.get(f"{server.url}/reports?from={week.first}&to={week.first}")  # a range of one day
    _total(driver, 1)
    assert wait_for(driver, "input[data-test=from]").get_attribute("value") == week.first.isoformat()
    driver.get(f"{server.url}/reports?from={week.last}&to={week.first}")
    wait_text(driver, "[data-test=range-error]", EN["reports.range_order"])
    assert not wait_for(driver, "[data-test=csv]").is_enabled()
    wait_for(driver, "input[data-test=from]").send_keys("\b" * 10 + week.first.isoformat())
    _total(driver, 1)  # fixed in the page: the report and its address follow
    wait_for(driver, "input[data-test=to]").send_keys("\b" * 10 + week.last.isoformat())
    _total(driver, 2)
    assert f"from={week.first}&to={week.last}" in driver.current_url


def test_every_type_and_camera_is_named_at_1366x768_and_1920x1080(
    server: Server, somchai: WebDriver, screenshots: Path
) -> None:
    now = time.time()
    for n, camera in enumerate(CAMERAS):
        server.add_incident(camera["id"], list(IncidentType)[n % len(IncidentType)], now - n, evidence=False)
    types = {EN[f"type.{t.value}"] for t in IncidentType}
    cameras = {camera["name"] for camera in CAMERAS}
    driver = somchai
    for width, height in ((1366, 768), (1920, 1080)):
        set_viewport(driver, width, height)
        driver.get(f"{server.url}/reports?period=last_30_days")
        wait_for(driver, "[data-chart=by_camera] canvas")
        _assert_every_label_drawn(driver, "by_type", types)
        _assert_every_label_drawn(driver, "by_camera", cameras)
        driver.save_screenshot(str(screenshots / f"reports-{width}x{height}.png"))
        full = driver.execute_script("return document.documentElement.scrollHeight")
        set_viewport(driver, width, full)
        driver.save_screenshot(str(screenshots / f"reports-{width}-whole-page.png"))


def test_a_thai_user_downloads_the_csv_in_thai_with_local_times(
    server: Server, screenshots: Path, tmp_path: Path
) -> None:
    started = float(int(time.time()) - 600)
    incident_id = server.add_incident("cam-07", IncidentType.FIRE, started, evidence=False)
    lifecycle = IncidentLifecycle(server.store)
    lifecycle.add_note(incident_id, "malee", "ควันจากร้านปิ้งย่าง")
    lifecycle.change_status(
        incident_id, Action.FALSE_ALARM, "malee", reason=CloseReason.WRONG_DETECTION, note="ไม่ใช่ไฟไหม้"
    )
    driver = browser(1366, 768)
    try:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
        )
        login(driver, server, "malee", "/reports")
        click(driver, "[data-test=language]")
        WebDriverWait(driver, 10).until(
            lambda d: TH["nav.logout"] in d.find_element(By.TAG_NAME, "body").text
        )
        driver.get(f"{server.url}/reports?period=today&camera=cam-07")
        today = format_date(local_today(BANGKOK), "th")
        wait_text(driver, "[data-test=report-period]", TH["reports.title"].format(period=today))
        assert str(local_today(BANGKOK).year + 543) in today
        driver.save_screenshot(str(screenshots / "reports-th-1366x768.png"))
        click(driver, "[data-test=csv]")
        WebDriverWait(driver, 10).until(lambda _: list(tmp_path.glob("*.csv")))
    finally:
        driver.quit()
    (download,) = tmp_path.glob("*.csv")
    data = download.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0])[:5] == [
        TH[f"csv.{c}"] for c in ("id", "type", "subtype", "camera_id", "camera_name")
    ]
    (row,) = (r for r in rows if r[TH["csv.id"]] == incident_id)
    assert row[TH["csv.type"]] == TH["type.fire"] and row[TH["csv.status"]] == TH["status.false_alarm"]
    assert row[TH["csv.camera_name"]] == "แยกถนนสายที่ 7 / Junction 7"
    local = datetime.fromtimestamp(started, UTC).astimezone(BANGKOK)
    assert row[TH["csv.started_at"]] == local.isoformat(sep=" ") and local.isoformat().endswith("+07:00")
    assert row[TH["csv.close_reason"]] == TH["reason.wrong_detection"] and row[TH["csv.closed_by"]] == "malee"
    assert row[TH["csv.closed_at"]].endswith("+07:00")
    notes = row[TH["csv.notes"]].splitlines()
    assert [note.split(" ", 2)[2] for note in notes] == ["malee: ควันจากร้านปิ้งย่าง", "malee: ไม่ใช่ไฟไหม้"]


def test_the_print_button_prints_a4_without_the_header_or_the_filters(
    server: Server, somchai: WebDriver, screenshots: Path
) -> None:
    driver = somchai
    set_viewport(driver, 1366, 768)
    driver.get(f"{server.url}/reports?period=last_30_days")
    wait_for(driver, "[data-chart=by_camera] canvas")
    driver.execute_script("window.printed = 0; window.print = () => { window.printed += 1; };")
    click(driver, "[data-test=print]")
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return window.printed") == 1)

    def shown(css: str) -> bool:
        return driver.execute_script(
            "return getComputedStyle(document.querySelector(arguments[0])).display !== 'none'", css
        )

    assert shown(".q-header") and shown("[data-test=period]")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not shown(".q-header") and not shown("[data-test=csv]")
        assert not driver.find_element(By.CSS_SELECTOR, "[data-test=period]").is_displayed()  # the filters
        assert shown("[data-test=report-period]") and shown("[data-test=report-filters]")
        breaks = driver.execute_script(
            "return [...document.querySelectorAll('.cw-report-section')]"
            ".map((section) => getComputedStyle(section).breakBefore)"
        )
        assert breaks == ["auto", "page", "page", "page"]  # one section a page
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
    (screenshots / "reports.pdf").write_bytes(pdf)
    sizes = {
        tuple(float(v) for v in box.split()) for box in re.findall(rb"/MediaBox \[0 0 ([\d.]+ [\d.]+)\]", pdf)
    }
    assert len(sizes) == 1 and all(
        abs(a - b) < 2 for a, b in zip(sizes.pop(), (595.28, 841.89), strict=True)
    )  # A4
    assert pdf.count(b"/Type /Page\n") >= 4


def test_the_address_keeps_the_period_and_filters_and_forgives_old_bookmarks() -> None:
    cameras = {"cam-01", "cam-02"}
    for url in (
        "/reports?period=last_week",
        "/reports?from=2026-11-30&to=2026-12-06&type=fight&type=fire&camera=cam-02",
        "/reports?period=custom",  # a range being picked: no dates yet
    ):
        query = ReportQuery.parse(QueryParams(url.split("?")[1]), cameras)
        assert query.url() == url
    old = ReportQuery.parse(QueryParams("period=last_year&type=riot&camera=gone&from=2026-13-01"), cameras)
    assert (old.period, old.first, old.types, old.camera_ids) == (None, None, (), ())
    with pytest.raises(MissingDates):
        old.period_on(local_today(BANGKOK))
    assert ReportQuery.parse(QueryParams(""), cameras).period is PeriodName.LAST_30_DAYS
