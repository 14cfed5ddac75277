"""An operator's shift, in a real browser against a real `citywatch serve`: log in, see an
incident appear in the Live feed within 2 s of being stored, with a flash; open it, play and seek
the clip, acknowledge it (with a confirmation), and a second operator sees the new status."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_support import Server, browser, login, set_viewport, wait_for, wait_text
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from citywatch.ui.camera_status import COLORS
from citywatch.ui.i18n import EN


@pytest.fixture(scope="module")
def first(server: Server) -> Iterator[WebDriver]:
    driver = browser()
    login(driver, server, "somchai")
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def second(server: Server) -> Iterator[WebDriver]:
    driver = browser(1366, 768)
    login(driver, server, "malee")
    yield driver
    driver.quit()


_BURST_SHOWN = """
const thumbnails = [...document.querySelectorAll("[data-test=feed-item] img")];
return thumbnails.length === 12 && thumbnails.every((img) => img.complete && img.naturalWidth > 0);
"""
_NOTE_NEW_ITEMS = """
window.itemSeen = {};
new MutationObserver(() => document.querySelectorAll("[data-test=feed-item]").forEach((item) => {
  window.itemSeen[item.dataset.id] ??= Date.now();
})).observe(document.body, {subtree: true, childList: true});
"""


_KEY = re.compile(r"\b(?:" + "|".join(sorted({k.split(".")[0] for k in EN})) + r")\.[a-z_]+\b")


def _assert_translated(driver: WebDriver) -> None:
    """No i18n key on the page instead of its text."""
    text = driver.find_element(By.TAG_NAME, "body").text
    assert not _KEY.findall(text), _KEY.findall(text)


def _item(driver: WebDriver, incident_id: str, timeout: float) -> None:
    wait_for(driver, f"[data-test=feed-item][data-id='{incident_id}']", timeout)


def test_a_new_incident_appears_in_the_live_feed_within_two_seconds(
    server: Server, first: WebDriver, second: WebDriver, screenshots: Path
) -> None:
    wait_for(first, "[data-test=camera-map] .leaflet-interactive")  # the map drew its markers
    now = time.time()
    for camera_id, state in (("market-01", "streaming"), ("street-01", "stalled"), ("lobby-01", "offline")):
        server.store.set_camera_state(camera_id, state, "test", now)
    wait_for(first, f"[data-test=camera-map] path[fill='{COLORS['offline']}']", 3)  # pushed, not reloaded
    for older in range(14):  # a feed with a history, and a second page
        server.add_incident("street-01", started_at=time.time() - 3600 * (older + 1), confidence=0.6)
    for driver in (first, second):  # the burst is shown, thumbnails and all, before the timed one
        WebDriverWait(driver, 10).until(lambda d: d.execute_script(_BURST_SHOWN))
    assert first.find_element(By.CSS_SELECTOR, "[data-test=feed-older]").is_enabled()  # a second page
    for driver in (first, second):  # note when each feed item enters the page, in the browser
        driver.execute_script(_NOTE_NEW_ITEMS)
    incident_id = server.add_incident("market-01")
    stored_at = time.time()
    for driver in (first, second):
        _item(driver, incident_id, 5)
        seen_after = (
            driver.execute_script("return window.itemSeen[arguments[0]]", incident_id) / 1000 - stored_at
        )
        assert seen_after < 2.0, f"shown {seen_after:.2f} s after it was stored"
    assert first.execute_script("return window.citywatchAlerts || 0") >= 1, "no flash for a fire"
    assert "cw-flash" in first.find_element(By.TAG_NAME, "body").get_attribute("class")
    text = first.find_element(By.CSS_SELECTOR, f"[data-id='{incident_id}']").text
    assert "Fire / smoke" in text and "Market" in text and "87%" in text
    thumbnail = first.find_element(By.CSS_SELECTOR, f"[data-id='{incident_id}'] img.cw-thumb")
    WebDriverWait(first, 5).until(lambda _: thumbnail.get_attribute("naturalWidth") not in (None, "0"))
    time.sleep(3.5)  # let the flash fade for the screenshots
    first.save_screenshot(str(screenshots / "live-1920x1080.png"))
    second.save_screenshot(str(screenshots / "live-1366x768.png"))


def test_open_play_seek_and_acknowledge_seen_by_a_second_operator(
    server: Server, first: WebDriver, second: WebDriver, screenshots: Path
) -> None:
    incident_id = server.add_incident("lobby-01", confidence=0.91)
    _item(first, incident_id, 3)
    _item(second, incident_id, 3)
    first.find_element(By.CSS_SELECTOR, f"[data-id='{incident_id}']").click()
    video = wait_for(first, "video[data-test=clip]")
    first.execute_script("arguments[0].muted = true; arguments[0].play();", video)
    WebDriverWait(first, 10).until(
        lambda d: d.execute_script(
            "return arguments[0].currentTime > 0.5 && arguments[0].readyState >= 2", video
        )
    )
    first.execute_script("arguments[0].pause(); arguments[0].currentTime = 20;", video)  # a Range request
    WebDriverWait(first, 10).until(
        lambda d: d.execute_script("return !arguments[0].seeking && arguments[0].currentTime >= 19.9", video)
    )
    wait_text(first, "[data-test=fact-status]", "New")
    wait_for(first, "[data-test=action-acknowledge]").click()
    wait_for(first, "[data-test=confirm-yes]").click()
    wait_text(first, "[data-test=fact-status]", "Acknowledged")
    wait_text(first, "[data-test=history]", "somchai", exact=False)  # found again: the page redraws
    assert not first.find_elements(By.CSS_SELECTOR, "[data-test=action-acknowledge]"), "offered twice"
    item = f"[data-test=feed-item][data-id='{incident_id}'][data-status=acknowledged]"
    wait_for(second, item, 2.0)
    first.save_screenshot(str(screenshots / "incident-1920x1080.png"))


def test_thai_is_chosen_per_user_with_buddhist_dates(
    server: Server, second: WebDriver, screenshots: Path
) -> None:
    wait_for(second, "[data-test=language]").click()
    wait_for(second, "[data-test=nav-cameras]")
    WebDriverWait(second, 5).until(
        lambda d: "กล้อง" in d.find_element(By.CSS_SELECTOR, "[data-test=nav-cameras]").text
    )
    feed = wait_for(second, "[data-test=feed-item]").text
    this_year_be = str(time.localtime().tm_year + 543)
    assert this_year_be in feed, feed
    second.refresh()  # kept for the user, not only the page
    WebDriverWait(second, 10).until(lambda d: "ออกจากระบบ" in d.find_element(By.TAG_NAME, "body").text)
    time.sleep(0.5)
    _assert_translated(second)
    second.save_screenshot(str(screenshots / "live-th-1366x768.png"))
    wait_for(second, "[data-test=language]").click()  # back to English for the other tests
    WebDriverWait(second, 5).until(lambda d: "Log out" in d.find_element(By.TAG_NAME, "body").text)


def test_cameras_and_reports_pages(server: Server, first: WebDriver, screenshots: Path) -> None:
    set_viewport(first, 1920, 1080)
    first.get(f"{server.url}/cameras")
    cards = WebDriverWait(first, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[data-test=camera-card]")
    )
    assert len(cards) == 3
    WebDriverWait(first, 10).until(
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('img[data-frame]')].every(i => i.naturalWidth > 0)"
        )
    )
    assert not first.find_elements(By.CSS_SELECTOR, "[data-test=zones]"), "zone editing is for admins"
    first.save_screenshot(str(screenshots / "cameras-1920x1080.png"))
    first.get(f"{server.url}/reports")
    WebDriverWait(first, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-test=chart] canvas")) == 6
    )
    assert int(wait_for(first, "[data-test=figure-total]").text) >= 16
    time.sleep(1)  # chart animations
    _assert_translated(first)
    first.save_screenshot(str(screenshots / "reports-1920x1080.png"))
