"""What a role cannot do is not offered (a viewer sees no actions, an operator no zone editor),
and an admin draws a zone on a camera's picture and saves it into the config file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from dashboard_support import Server, browser, login, wait_for, wait_text
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    driver = browser(1366, 768)
    yield driver
    driver.quit()


def test_a_viewer_is_offered_no_action(server: Server, driver: WebDriver) -> None:
    incident_id = server.add_incident("street-01")
    login(driver, server, "viewer1", f"/incidents/{incident_id}")  # the login comes back here
    wait_text(driver, "[data-test=fact-status]", "New")
    wait_for(driver, "video[data-test=clip]")
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-test^=action-]")
    driver.get(f"{server.url}/cameras")
    wait_for(driver, "[data-test=camera-card]")
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-test=zones]")
    wait_for(driver, "[data-test=logout]").click()
    wait_for(driver, "input[data-test=username]")
    driver.get(f"{server.url}/cameras")
    wait_for(driver, "input[data-test=username]")  # the session is over


def test_an_admin_draws_a_zone_saved_to_the_config(server: Server, driver: WebDriver) -> None:
    before = server.config_path.read_text(encoding="utf-8")
    login(driver, server, "admin1", "/cameras")
    wait_for(driver, "[data-camera=street-01] [data-test=zones]").click()
    image = wait_for(driver, "[data-test=zone-image] img")
    WebDriverWait(driver, 5).until(lambda d: image.get_attribute("naturalWidth") not in (None, "0"))
    width, height = image.size["width"], image.size["height"]
    for fx, fy in ((0.2, 0.2), (0.8, 0.25), (0.5, 0.8)):
        ActionChains(driver).move_to_element_with_offset(
            image, int((fx - 0.5) * width), int((fy - 0.5) * height)
        ).click().perform()
    wait_for(driver, "input[data-test=zone-name]").send_keys("doorway")
    wait_for(driver, "[data-test=zone-add]").click()
    WebDriverWait(driver, 5).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-test=zone-row]")) == 2
    )
    wait_for(driver, "[data-test=zone-save]").click()
    WebDriverWait(driver, 5).until(lambda _: server.config_path.read_text(encoding="utf-8") != before)
    text = server.config_path.read_text(encoding="utf-8")
    assert text.startswith("# dashboard test config")  # comments and other keys kept
    camera = next(c for c in yaml.safe_load(text)["cameras"] if c["id"] == "street-01")
    assert [z["name"] for z in camera["zones"]] == ["street", "doorway"]
    (x1, y1), (x2, _), (_, y3) = camera["zones"][1]["polygon"]
    assert abs(x1 - 0.2) < 0.03 and abs(y1 - 0.2) < 0.03 and abs(x2 - 0.8) < 0.03 and abs(y3 - 0.8) < 0.03
