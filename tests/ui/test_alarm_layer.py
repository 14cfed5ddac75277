"""The alarm layer of every logged-in page (issue 20, findings 1, 2 and 4), in a real browser
against a real `citywatch serve`: an incident stored while the operator is on an incident page or
on Cameras shows a banner and counts; a click on the banner opens it; a burst of five keeps all
five reachable; medium severity has banners and its own sound; the sound switch says its state,
follows the user across pages, reloads and server restarts; the page says so, in Thai for a Thai
user, when the server is away; it warns before the session ends and signs in again on the same
page and query."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dashboard_support import (
    PASSWORD,
    Server,
    browser,
    click,
    free_port,
    login,
    start_server,
    wait_for,
    wait_serving,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select, update

from citywatch.domain.incident_types import IncidentType
from citywatch.storage.schema import SessionRow, UserRow
from citywatch.storage.users import UserDirectory
from citywatch.ui.i18n import EN, TH

ALARM_WITHIN_S = 3.0
"""The benchmark's target is 2 s (docs/BENCHMARKS.md); the test leaves room for a busy CI machine."""


@pytest.fixture
def operator(server: Server) -> Iterator[WebDriver]:
    """A fresh browser (its own tab storage: no banners from another test) of somchai on Cameras."""
    driver = browser(1600, 900)
    login(driver, server, "somchai", "/cameras")
    yield driver
    driver.quit()


def _banner(driver: WebDriver, incident_id: str, timeout: float = ALARM_WITHIN_S) -> str:
    return wait_for(driver, f"[data-test=alarm][data-id='{incident_id}']", timeout).text


def _count(driver: WebDriver) -> int:
    return int(wait_for(driver, "[data-test=new-count]").get_attribute("data-count"))


def _wait_count(driver: WebDriver, expected: int) -> None:
    WebDriverWait(driver, ALARM_WITHIN_S, 0.05).until(
        lambda d: _count(d) == expected, f"the counter never read {expected}"
    )


def _sound_label(driver: WebDriver) -> str:
    return wait_for(driver, "[data-test=sound] .block").text.strip()  # the words, not the icon


def _sound_state(driver: WebDriver) -> str | None:
    return driver.find_element(By.CSS_SELECTOR, "[data-test=sound]").get_attribute("data-state")


def _wait_sound(driver: WebDriver, state: str, timeout: float = 5) -> None:
    WebDriverWait(driver, timeout, 0.05).until(
        lambda d: _sound_state(d) == state, f"the sound switch never said {state}"
    )


def _user_id(server: Server, name: str) -> int:
    return server.store.read("", lambda s: s.scalar(select(UserRow.id).where(UserRow.name == name)))


def _move_sessions_end(server: Server, name: str, ends_at: datetime) -> None:
    user_id = _user_id(server, name)
    statement = update(SessionRow).where(SessionRow.user_id == user_id).values(expires_at=ends_at)
    server.store.write("move the test user's sessions' end", lambda s: s.execute(statement))


def test_an_incident_stored_on_an_incident_page_or_on_cameras_alarms_and_counts(
    server: Server, operator: WebDriver, screenshots: Path
) -> None:
    wait_for(operator, "[data-test=camera-card]")
    before = _count(operator)
    fight = server.add_incident("street-01", IncidentType.FIGHT, evidence=False)
    text = _banner(operator, fight)
    assert "Fight" in text and "Main road" in text and EN["alarm.high"] in text, text
    assert (
        operator.find_element(By.CSS_SELECTOR, f"[data-id='{fight}']").get_attribute("data-severity")
        == "high"
    )
    assert "cw-flash" in operator.find_element(By.TAG_NAME, "body").get_attribute("class")
    assert operator.execute_script("return window.citywatchAlerts") == 1
    _wait_count(operator, before + 1)
    assert EN["nav.new_count"].format(count=before + 1) in wait_for(operator, "[data-test=new-count]").text
    operator.save_screenshot(str(screenshots / "alarm-on-cameras-1600x900.png"))

    older = server.add_incident("lobby-01", IncidentType.NO_HELMET, started_at=time.time() - 600)
    operator.get(f"{server.url}/incidents/{older}")
    wait_for(operator, "[data-test=fact-status]")
    assert _banner(operator, fight), "the unhandled alarm did not follow the operator to the next page"
    fire = server.add_incident("market-01", IncidentType.FIRE)
    assert "Market" in _banner(operator, fire)
    _wait_count(operator, before + 3)
    operator.save_screenshot(str(screenshots / "alarm-on-incident-1600x900.png"))

    click(operator, f"[data-test=alarm][data-id='{fire}']")  # the banner opens its incident
    WebDriverWait(operator, 10).until(lambda d: d.current_url.endswith(f"/incidents/{fire}"))
    wait_for(operator, "[data-test=fact-status]")
    assert not operator.find_elements(By.CSS_SELECTOR, f"[data-test=alarm][data-id='{fire}']")
    assert _banner(operator, fight)

    click(operator, "[data-test=action-acknowledge]")  # acted on (by anyone): the alarm is done
    click(operator, "[data-test=confirm-yes]")
    _wait_count(operator, before + 2)
    click(operator, "[data-test=new-count]")  # the counter opens Live's queue of new incidents
    WebDriverWait(operator, 10).until(lambda d: d.current_url.endswith("/?status=new"))


def test_a_burst_of_five_keeps_every_alarm_reachable(server: Server, operator: WebDriver) -> None:
    operator.get(f"{server.url}/reports")
    wait_for(operator, "[data-test=new-count]")
    types = [
        IncidentType.FIRE,
        IncidentType.WEAPON,
        IncidentType.FIGHT,
        IncidentType.ACCIDENT,
        IncidentType.FIRE,
    ]
    cameras = ["market-01", "street-01", "lobby-01", "market-01", "street-01"]
    burst = [server.add_incident(c, t, evidence=False) for c, t in zip(cameras, types, strict=True)]
    WebDriverWait(operator, ALARM_WITHIN_S + 2, 0.05).until(
        lambda d: d.execute_script("return window.citywatchAlerts") == 5, "not all five were shown"
    )
    shown = operator.find_elements(By.CSS_SELECTOR, "[data-test=alarm]")
    assert len(shown) == 3, "the stack shows the newest three"
    assert shown[0].get_attribute("data-id") == burst[-1], "the newest first"
    more = wait_for(operator, "[data-test=alarm-more]")
    assert more.text == EN["alarm.more"].format(count=2)
    more.click()
    ids = {e.get_attribute("data-id") for e in operator.find_elements(By.CSS_SELECTOR, "[data-test=alarm]")}
    assert ids == set(burst)
    click(operator, f"[data-test=alarm][data-id='{burst[0]}'] [data-test=alarm-dismiss]")
    WebDriverWait(operator, 3).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-test=alarm]")) == 4, "dismissed, still there"
    )
    operator.get(f"{server.url}/cameras")  # the four left follow the operator
    WebDriverWait(operator, 10).until(
        lambda d: d.execute_script("return document.getElementById('cw-alarms')?.dataset.count") == "4"
    )


def test_medium_severity_has_banners_and_a_quieter_sound_of_its_own(
    server: Server, operator: WebDriver
) -> None:
    assert _sound_label(operator) == EN["nav.sound_off"]
    click(operator, "[data-test=sound]")  # a click: the browser may play sound from now on
    _wait_sound(operator, "on")
    assert _sound_label(operator) == EN["nav.sound_on"]
    for type_ in (IncidentType.FALL, IncidentType.NO_HELMET, IncidentType.CAMERA_OFFLINE):
        incident = server.add_incident("lobby-01", type_, evidence=False)
        text = _banner(operator, incident)
        assert EN["alarm.medium"] in text and EN[f"type.{type_.value}"] in text, text
        banner = operator.find_element(By.CSS_SELECTOR, f"[data-test=alarm][data-id='{incident}']")
        assert banner.get_attribute("data-severity") == "medium"
    assert "cw-flash" not in operator.find_element(By.TAG_NAME, "body").get_attribute("class")
    weapon = server.add_incident("street-01", IncidentType.WEAPON, evidence=False)
    _banner(operator, weapon)
    played = operator.execute_script("return window.citywatchSoundsPlayed")
    # the switch's own "it works" tone, one per medium alarm, then the loud one
    assert played == ["medium", "medium", "medium", "medium", "high"], played
    click(operator, "[data-test=sound]")  # and off again, for the other tests
    _wait_sound(operator, "off")
    # a medium banner goes by itself after a while (MEDIUM_BANNER_S: moved to now here), a high one stays
    operator.execute_script("citywatch.alarms.forEach((a) => { if (a.expiresAt) a.expiresAt = Date.now(); })")
    WebDriverWait(operator, 3).until(
        lambda d: d.execute_script("return document.getElementById('cw-alarms').dataset.count") == "1"
    )
    assert wait_for(operator, "[data-test=alarm]").get_attribute("data-id") == weapon


def test_the_sound_switch_says_its_state_and_is_kept_per_user(
    server: Server, operator: WebDriver, screenshots: Path
) -> None:
    users = UserDirectory(server.store)
    somchai = _user_id(server, "somchai")
    assert users.sound_alerts(somchai) is False
    assert _sound_label(operator) == EN["nav.sound_off"]
    click(operator, "[data-test=sound]")
    _wait_sound(operator, "on")
    WebDriverWait(operator, 5).until(lambda _: users.sound_alerts(somchai), "not stored")
    assert users.sound_alerts(_user_id(server, "malee")) is False, "stored for everyone"

    click(operator, "[data-test=nav-reports]")  # another page: the switch stays on
    wait_for(operator, "[data-test=new-count]")
    WebDriverWait(operator, 5).until(lambda d: _sound_state(d) in ("on", "blocked"), "turned off")
    # (Chrome lets a page reached by a click on the same site play at once; a page loaded anew
    # needs a click or key press of its own, and says so)
    for load in (operator.refresh, lambda: operator.get(f"{server.url}/cameras")):
        load()
        wait_for(operator, "[data-test=new-count]")
        _wait_sound(operator, "blocked")
        assert _sound_label(operator) == EN["nav.sound_blocked"]
        operator.find_element(By.CSS_SELECTOR, ".q-page-container").click()  # any click allows it
        _wait_sound(operator, "on")

    other = browser(1366, 768)  # another browser of the same user, in Thai
    try:
        users.set_language(somchai, "th")
        login(other, server, "somchai")
        other.get(f"{server.url}/reports")
        _wait_sound(other, "blocked")
        assert _sound_label(other) == TH["nav.sound_blocked"]
        other.save_screenshot(str(screenshots / "sound-th-click-to-allow-1366x768.png"))
        other.find_element(By.CSS_SELECTOR, ".q-page-container").click()
        _wait_sound(other, "on")
        assert _sound_label(other) == TH["nav.sound_on"] == "เสียงเตือน: เปิด"
        click(other, "[data-test=sound]")
        _wait_sound(other, "off")
        assert _sound_label(other) == TH["nav.sound_off"] == "เสียงเตือน: ปิด"
        assert "ปิดเสียง" not in other.find_element(By.TAG_NAME, "header").text  # reads as "mute"
    finally:
        other.quit()
        users.set_language(somchai, "en")
    assert users.sound_alerts(somchai) is False


def test_the_session_end_is_warned_and_a_new_sign_in_comes_back_to_the_page(
    server: Server, screenshots: Path
) -> None:
    driver = browser(1600, 900)
    try:
        login(driver, server, "malee")
        _move_sessions_end(server, "malee", datetime.now(UTC) + timedelta(minutes=5))
        page = f"{server.url}/cameras?camera=street-01"
        driver.get(page)
        warning = wait_for(driver, "[data-test=session-ending]")
        assert EN["session.ending"].split("{time}")[0] in warning.text
        driver.save_screenshot(str(screenshots / "session-ending-1600x900.png"))
        click(driver, "[data-test=relogin]")
        assert EN["login.again"] in wait_for(driver, "[data-test=login-note]").text
        assert wait_for(driver, "input[data-test=username]").get_attribute("value") == "malee"
        wait_for(driver, "input[data-test=password]").send_keys(PASSWORD)
        click(driver, "[data-test=login]")
        WebDriverWait(driver, 10).until(lambda d: d.current_url == page, "not back on the page")
        wait_for(driver, "[data-test=camera-card]")
        assert not driver.find_element(By.CSS_SELECTOR, "[data-test=session-ending]").is_displayed()

        _move_sessions_end(server, "malee", datetime.now(UTC) - timedelta(seconds=1))  # ended
        WebDriverWait(driver, 10).until(lambda d: "/login" in d.current_url, "the ended page stayed")
        assert EN["login.ended"] in wait_for(driver, "[data-test=login-note]").text
        wait_for(driver, "input[data-test=username]").send_keys("malee")
        wait_for(driver, "input[data-test=password]").send_keys(PASSWORD)
        click(driver, "[data-test=login]")
        WebDriverWait(driver, 10).until(lambda d: d.current_url == page, "not back on the page")
    finally:
        driver.quit()


def _restart(server: Server, folder: Path) -> None:
    """The same `citywatch serve` again, on the same port and database."""
    log = folder / "serve-2.log"
    server.process = subprocess.Popen(server.process.args, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_serving(server.url, server.process, log)


def test_a_stopped_server_is_said_in_thai_and_the_sound_stays_on_after_its_restart(
    tmp_path: Path, screenshots: Path
) -> None:
    server = start_server(tmp_path, free_port())
    driver = browser(1600, 900)
    try:
        users = UserDirectory(server.store)
        users.set_language(_user_id(server, "somchai"), "th")
        login(driver, server, "somchai", "/cameras")
        click(driver, "[data-test=sound]")
        _wait_sound(driver, "on")
        banner = driver.find_element(By.CSS_SELECTOR, "[data-test=offline]")
        assert not banner.is_displayed()

        server.process.terminate()
        server.process.wait(15)
        banner = wait_for(driver, "[data-test=offline]", 15)
        assert TH["offline.banner"] in banner.text, banner.text
        assert banner.size["width"] >= 1500, "not full width"
        assert not driver.find_element(By.ID, "popup").is_displayed(), "NiceGUI's own box too"
        driver.save_screenshot(str(screenshots / "offline-th-1600x900.png"))

        _restart(server, tmp_path)
        WebDriverWait(driver, 30, 0.2).until(
            lambda d: not d.find_elements(By.CSS_SELECTOR, "body.cw-offline"), "still offline"
        )
        wait_for(driver, "[data-test=camera-card]", 15)
        driver.refresh()  # a new page from the new process: the switch is read from the database
        wait_for(driver, "[data-test=camera-card]", 15)
        _wait_sound(driver, "blocked")  # on; this new page needs its click to play
        assert _sound_label(driver) == TH["nav.sound_blocked"]
    finally:
        driver.quit()
        server.stop()
