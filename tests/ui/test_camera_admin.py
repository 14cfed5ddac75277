"""Cameras managed from the dashboard (issue 20, finding 9): an admin adds a camera, which appears on
the Cameras page and in the config file (comments kept, its password never shown back), disables and
enables it; an operator is offered none of it; a refused field says why beside it, in Thai for a
Thai admin, and leaves the file as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dashboard_support import Server, browser, click, login, wait_for, wait_text
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from citywatch.domain.incident_types import name_of


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    driver = browser(1366, 900)
    yield driver
    driver.quit()


def fill(driver: WebDriver, css: str, text: str) -> None:
    field = wait_for(driver, css)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    field.send_keys(text)


def logout(driver: WebDriver) -> None:
    click(driver, "[data-test=logout]")
    wait_for(driver, "input[data-test=username]")


def field_error(driver: WebDriver, name: str) -> str:
    """The error Quasar shows under the field whose input is `data-test=name`."""
    field = driver.find_element(By.XPATH, f"//input[@data-test='{name}']/ancestor::label[1]")
    return " ".join(e.text for e in field.find_elements(By.CSS_SELECTOR, ".q-field__messages"))


def camera_in_file(server: Server, camera_id: str) -> dict | None:
    cameras = yaml.safe_load(server.config_path.read_text(encoding="utf-8"))["cameras"]
    return next((c for c in cameras if c["id"] == camera_id), None)


def test_an_admin_adds_a_camera_that_appears_on_the_page_and_in_the_file(
    server: Server, driver: WebDriver, screenshots: Path
) -> None:
    login(driver, server, "admin1", "/cameras")
    click(driver, "[data-test=camera-add]")
    fill(driver, "input[data-test=camera-id]", "canal-01")
    fill(driver, "input[data-test=camera-name]", "คลองแสนแสบ / Canal")
    fill(driver, "input[data-test=camera-url]", "rtsp://admin:hunter2@10.0.0.5/stream1")
    fill(driver, "input[data-test=camera-lat]", "13.7466")
    fill(driver, "input[data-test=camera-lon]", "100.5393")
    fill(driver, "input[data-test=camera-fps]", "3")
    click(driver, "[data-test=camera-types]")  # fire is the default; add falls
    fall = name_of("fall", "en")
    wait_for(driver, ".q-menu .q-item")
    driver.find_element(By.XPATH, f"//div[contains(@class,'q-menu')]//*[text()='{fall}']").click()
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    driver.save_screenshot(str(screenshots / "camera-new-1366x900.png"))
    click(driver, "[data-test=camera-save]")
    wait_text(driver, "[data-test=camera-status]", "Saved to cameras.yaml", exact=False)

    text = server.config_path.read_text(encoding="utf-8")
    assert text.startswith("# dashboard test config")  # the comment is kept
    assert camera_in_file(server, "canal-01") == {
        "id": "canal-01",
        "name": "คลองแสนแสบ / Canal",
        "url": "rtsp://admin:hunter2@10.0.0.5/stream1",
        "location": {"lat": 13.7466, "lon": 100.5393},
        "incident_types": ["fire", "fall"],
        "analytics_fps": 3,
        "enabled": True,
    }
    click(driver, "[data-test=camera-back]")
    wait_text(driver, "[data-camera=canal-01]", "คลองแสนแสบ / Canal", exact=False)  # no restart

    click(driver, "[data-camera=canal-01] [data-test=camera-edit]")
    url = wait_for(driver, "input[data-test=camera-url]")
    assert url.get_attribute("value") == "rtsp://admin:***@10.0.0.5/stream1"
    assert "hunter2" not in driver.page_source  # the password never comes back to a browser
    fill(driver, "input[data-test=camera-name]", "Canal pier")
    click(driver, "[data-test=camera-save]")
    wait_text(driver, "[data-test=camera-status]", "Saved to cameras.yaml", exact=False)
    edited = camera_in_file(server, "canal-01")
    assert edited is not None and (edited["name"], edited["url"]) == (
        "Canal pier",
        "rtsp://admin:hunter2@10.0.0.5/stream1",  # the masked password kept
    )

    click(driver, "[data-test=camera-back]")
    click(driver, "[data-camera=canal-01] [data-test=camera-toggle]")
    click(driver, "[data-test=confirm-yes]")  # disabling stops detection: asked first
    wait_for(driver, "[data-camera=canal-01] [data-test=camera-disabled]")
    WebDriverWait(driver, 5).until(lambda _: camera_in_file(server, "canal-01")["enabled"] is False)
    wait_text(driver, "[data-camera=canal-01] [data-test=camera-toggle]", "Enable", exact=False)
    driver.save_screenshot(str(screenshots / "cameras-admin-1366x900.png"))
    click(driver, "[data-camera=canal-01] [data-test=camera-toggle]")
    WebDriverWait(driver, 5).until(lambda _: camera_in_file(server, "canal-01")["enabled"] is True)
    logout(driver)


def test_an_operator_is_offered_no_camera_changes(server: Server, driver: WebDriver) -> None:
    login(driver, server, "somchai", "/cameras")
    wait_for(driver, "[data-test=camera-card]")
    for control in ("camera-add", "camera-edit", "camera-toggle"):
        assert not driver.find_elements(By.CSS_SELECTOR, f"[data-test={control}]"), control
    driver.get(f"{server.url}/cameras/market-01/edit")
    wait_text(driver, "body", "Your role may not do this", exact=False)
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-test=camera-save]")
    logout(driver)


def test_a_refused_field_says_why_in_thai_for_a_thai_admin(
    server: Server, driver: WebDriver, screenshots: Path
) -> None:
    before = server.config_path.read_text(encoding="utf-8")
    login(driver, server, "admin1", "/cameras/street-01/edit")
    click(driver, "[data-test=language]")
    WebDriverWait(driver, 10).until(
        lambda d: "กล้อง" in d.find_element(By.CSS_SELECTOR, "[data-test=nav-cameras]").text
    )
    try:
        fill(driver, "input[data-test=camera-url]", "ftp://10.0.0.9/stream")
        fill(driver, "input[data-test=camera-fps]", "0")
        click(driver, "[data-test=camera-save]")
        url_error = "รูปแบบที่อยู่ไม่ถูกต้อง: ใช้ rtsp://, rtsps://, http://, https:// หรือไฟล์วิดีโอ"
        WebDriverWait(driver, 10).until(lambda d: field_error(d, "camera-url") == url_error)
        WebDriverWait(driver, 10).until(lambda d: field_error(d, "camera-fps") == "ต้องมากกว่า 0")
        driver.save_screenshot(str(screenshots / "camera-refused-th-1366x900.png"))
        assert server.config_path.read_text(encoding="utf-8") == before
    finally:
        click(driver, "[data-test=language]")  # back to English for the other tests
        WebDriverWait(driver, 10).until(lambda d: "Log out" in d.find_element(By.TAG_NAME, "body").text)
        logout(driver)
