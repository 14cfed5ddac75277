"""The Live page's work queue (issue 20, finding 3), in a real browser against a real `citywatch
serve`: tabs by status in queue order (the oldest of the highest severity first), "assigned to me",
closed (resolved and false alarms); the view is the URL, so a link opens it and Back from an
incident returns to the same filtered page; incidents stored since the user last looked are marked;
new incidents the view does not show are counted in a bar whose button shows them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from dashboard_support import Server, browser, click, login, wait_for, wait_text
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action, CloseReason
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.ui.i18n import EN

MINUTE = 60.0


@pytest.fixture(scope="module")
def queue(server: Server) -> dict[str, list[str]]:
    """Incidents of market-01 in every status, and 14 new no-helmet ones at lobby-01 (two pages)."""
    now, lifecycle = time.time(), IncidentLifecycle(server.store)

    def add(type_: IncidentType, minutes_ago: float, camera: str = "market-01") -> str:
        return server.add_incident(camera, type_, now - minutes_ago * MINUTE, evidence=False)

    new = {  # minutes ago -> type; fire, fight and weapon are high, fall and no helmet medium
        60: IncidentType.FALL,
        50: IncidentType.FIRE,
        30: IncidentType.FIGHT,
        10: IncidentType.NO_HELMET,
        5: IncidentType.WEAPON,
    }
    ids = {minutes: add(type_, minutes) for minutes, type_ in new.items()}
    acknowledged = add(IncidentType.ACCIDENT, 20)
    lifecycle.change_status(acknowledged, Action.ACKNOWLEDGE, "malee")
    mine, theirs = add(IncidentType.FALL, 40), add(IncidentType.FIRE, 15)
    lifecycle.change_status(mine, Action.ASSIGN, "malee", user="somchai")
    lifecycle.change_status(theirs, Action.ASSIGN, "somchai", user="malee")
    resolved, false_alarm = add(IncidentType.FIRE, 70), add(IncidentType.FALL, 80)
    lifecycle.change_status(resolved, Action.RESOLVE, "somchai", reason=CloseReason.HANDLED)
    lifecycle.change_status(false_alarm, Action.FALSE_ALARM, "somchai", reason=CloseReason.WRONG_DETECTION)
    lobby = [add(IncidentType.NO_HELMET, 200 - i, "lobby-01") for i in range(14)]  # oldest first
    return {
        "new": [ids[50], ids[30], ids[5], ids[60], ids[10]],  # high oldest first, then medium
        "acknowledged": [acknowledged],
        "mine": [mine],
        "closed": [resolved, false_alarm],  # newest first
        "lobby": lobby,
    }


@pytest.fixture(scope="module")
def driver(server: Server) -> Iterator[WebDriver]:
    driver = browser(1920, 1080)
    yield driver
    driver.quit()


_LAST_LOOKED = "return localStorage.getItem('citywatch.queue.lookedAt.somchai')"


def _shown(driver: WebDriver, having: str = "") -> list[str]:
    """The ids of the items of the list, in order (`having`: those with such an element)."""
    items = driver.find_elements(By.CSS_SELECTOR, "[data-test=feed-item]")
    return [
        e.get_attribute("data-id") for e in items if not having or e.find_elements(By.CSS_SELECTOR, having)
    ]


def _shows(driver: WebDriver, ids: list[str], timeout: float = 10) -> None:
    wait = WebDriverWait(driver, timeout, 0.05, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: _shown(d) == ids, f"the list never showed {ids}")


def _query(driver: WebDriver) -> dict[str, list[str]]:
    parts = urlsplit(driver.current_url)
    assert parts.path == "/"
    return parse_qs(parts.query)


def test_tabs_in_queue_order_kept_in_the_url_and_back_from_an_incident(
    server: Server, driver: WebDriver, queue: dict[str, list[str]], screenshots: Path
) -> None:
    login(driver, server, "somchai", "/?status=new&camera=market-01")  # as the header's counter links
    _shows(driver, queue["new"])
    assert wait_for(driver, "[data-test=queue-new]").get_attribute("aria-selected") == "true"
    wait_text(driver, "[data-test=queue-order]", EN["queue.order.urgent"])
    driver.save_screenshot(str(screenshots / "queue-new-1920x1080.png"))

    for tab in ("mine", "acknowledged", "closed"):
        click(driver, f"[data-test=queue-{tab}]")
        _shows(driver, queue[tab])
        WebDriverWait(driver, 5).until(
            lambda d, tab=tab: _query(d) == {"status": [tab], "camera": ["market-01"]}
        )
    wait_text(driver, "[data-test=queue-order]", EN["queue.order.newest"])

    driver.get(f"{server.url}/?status=new&type=no_helmet&camera=lobby-01")
    _shows(driver, queue["lobby"][:12])
    click(driver, "[data-test=feed-older]")
    _shows(driver, queue["lobby"][12:])
    WebDriverWait(driver, 5).until(lambda d: _query(d).get("page") == ["2"])
    click(driver, f"[data-test=feed-item][data-id='{queue['lobby'][12]}']")
    WebDriverWait(driver, 10).until(lambda d: urlsplit(d.current_url).path.startswith("/incidents/"))
    driver.back()
    _shows(driver, queue["lobby"][12:])  # the same filtered page, not page 1 of everything
    wait_text(driver, "[data-test=feed-page]", "Page 2")
    wait_text(driver, "[data-test=filter-type]", "No helmet", exact=False)
    wait_text(driver, "[data-test=filter-camera]", "Building entrance", exact=False)
    assert _query(driver) == {"status": ["new"], "type": ["no_helmet"], "camera": ["lobby-01"], "page": ["2"]}


def test_just_in_marks_and_the_bar_of_new_incidents_the_view_hides(
    server: Server, driver: WebDriver, queue: dict[str, list[str]], screenshots: Path
) -> None:
    before = server.add_incident("street-01", IncidentType.FALL, evidence=False)
    looked = driver.execute_script(_LAST_LOOKED)
    driver.get(f"{server.url}/?camera=street-01")  # a look at the list
    wait_for(driver, f"[data-test=feed-item][data-id='{before}']")
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script(_LAST_LOOKED) != looked, "the look was not kept"
    )
    driver.get(f"{server.url}/cameras")
    since = [
        server.add_incident("street-01", t, evidence=False) for t in (IncidentType.FALL, IncidentType.FIRE)
    ]
    driver.get(f"{server.url}/?camera=street-01")
    _shows(driver, [*since[::-1], before])
    wait = WebDriverWait(driver, 5, 0.05, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: _shown(d, "[data-test=feed-unseen]") == since[::-1], "not marked just in")

    for path in ("/?page=2", "/?status=closed"):  # a later page; a tab that hides new incidents
        driver.get(f"{server.url}{path}")
        wait_for(driver, "[data-test=feed-item]")
        assert not driver.find_element(By.CSS_SELECTOR, "[data-test=feed-arrivals]").is_displayed()
        arrived = server.add_incident("market-01", IncidentType.WEAPON, evidence=False)
        wait_text(driver, "[data-test=feed-arrivals]", EN["queue.arrived"].format(count=1), 3, exact=False)
        assert arrived not in _shown(driver)
        if path == "/?page=2":
            driver.save_screenshot(str(screenshots / "queue-arrivals-1920x1080.png"))
        click(driver, "[data-test=feed-arrivals-show]")
        wait_for(driver, f"[data-test=feed-item][data-id='{arrived}'].cw-new", 3)
        assert _shown(driver)[0] == arrived
        WebDriverWait(driver, 5).until(lambda d: urlsplit(d.current_url).query == "")
        assert not driver.find_element(By.CSS_SELECTOR, "[data-test=feed-arrivals]").is_displayed()
