"""The camera map read at a glance (issue 20, finding 5), in a real browser against a real `citywatch
serve` with 14 cameras on a site plan picture (`ui.map_image`, no tiles): the picture is served to
logged-in users only; names show on hover, and stay once zoomed in; a camera with a new incident is
ringed red with a halo and a count badge that fits, one whose incidents are being handled amber,
the others plainly; a camera that raises an incident pulses at once; the Cameras page counts new apart from
handled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import dashboard_support
import httpx
import numpy as np
import pytest
import yaml
from dashboard_support import Server, browser, free_port, login, start_server, wait_for, wait_text
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.ui.camera_status import RING_COLORS
from citywatch.ui.components.camera_map import FEW_MARKERS, LABEL_ZOOM

SOUTH_WEST, NORTH_EAST = (13.7490, 100.4990), (13.7550, 100.5160)
CAMERAS = [  # a 7 x 2 grid about 250 m apart: more circles than FEW_MARKERS, none clustered
    {
        "id": f"cam-{i:02d}",
        "name": f"อาคาร {i // 7 + 1} ประตู {i % 7 + 1} / Building {i // 7 + 1} gate {i % 7 + 1}",
        "location": {"lat": 13.7508 + (i // 7) * 0.0025, "lon": 100.5006 + (i % 7) * 0.00225},
    }
    for i in range(14)
]


def _floor_plan(path: Path) -> None:
    plan = np.full((600, 900, 3), 245, np.uint8)
    for x in range(0, 900, 150):
        cv2.rectangle(plan, (x + 10, 40), (x + 140, 560), (200, 170, 120), 4)
    cv2.imwrite(str(path), plan)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard's server with its config's `ui.map_image` set: a floor plan beside the config."""
    folder = tmp_path_factory.mktemp("map")
    _floor_plan(folder / "floor.png")
    plain = dashboard_support.write_config

    def with_map_image(folder: Path, cameras: list[dict]) -> Path:
        path = plain(folder, cameras)
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        config["ui"]["map_image"] = {
            "path": "floor.png",
            "south_west": {"lat": SOUTH_WEST[0], "lon": SOUTH_WEST[1]},
            "north_east": {"lat": NORTH_EAST[0], "lon": NORTH_EAST[1]},
        }
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        return path

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dashboard_support, "write_config", with_map_image)
        running = start_server(folder, free_port(), CAMERAS)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def driver(server: Server) -> Iterator[WebDriver]:
    driver = browser(1600, 900)
    login(driver, server, "somchai")
    yield driver
    driver.quit()


_LAYERS_AT = """
const map = getElement(document.querySelector('[data-test=camera-map]')).map;
const found = [];
map.eachLayer((layer) => {
  if (!layer.getLatLng || !layer.getLatLng().equals([arguments[0], arguments[1]])) return;
  const tooltip = layer.getTooltip ? layer.getTooltip() : null;
  found.push({
    kind: layer instanceof L.Tooltip ? "tooltip" : "circle",
    className: layer.options.className || "",
    color: layer.options.color || "",
    label: tooltip && tooltip.isOpen() ? tooltip.getElement().textContent : "",
    path: layer._path || null,
  });
});
return found;
"""
"""What the map draws at a point: Leaflet's own layers (the circles carry no camera id)."""


def _at(driver: WebDriver, camera_id: str) -> list[dict]:
    location = next(c["location"] for c in CAMERAS if c["id"] == camera_id)
    return driver.execute_script(_LAYERS_AT, location["lat"], location["lon"])


def _ring(driver: WebDriver, camera_id: str) -> tuple[str, str]:
    """The ring class and colour of a camera's own circle."""
    circle = next(layer for layer in _at(driver, camera_id) if layer["className"].startswith("cw-ring-"))
    return circle["className"], circle["color"]


def _halo(driver: WebDriver, camera_id: str) -> str | None:
    """The count on the camera's red halo; None without a halo."""
    return next((layer["label"] for layer in _at(driver, camera_id) if layer["className"] == "cw-halo"), None)


_MAP = "getElement(document.querySelector('[data-test=camera-map]')).map"
"""The page's Leaflet map."""


def _names_shown(driver: WebDriver) -> set[str]:
    return {
        e.text for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-tooltip.cw-name") if e.is_displayed()
    }


def test_the_map_is_read_at_a_glance(server: Server, driver: WebDriver, screenshots: Path) -> None:
    lifecycle = IncidentLifecycle(server.store)
    for _ in range(2):
        server.add_incident("cam-03", IncidentType.FIGHT, evidence=False)
    handled = server.add_incident("cam-10", IncidentType.FALL, evidence=False)
    lifecycle.change_status(handled, Action.ACKNOWLEDGE, "somchai")
    driver.refresh()

    picture = wait_for(driver, "[data-test=camera-map] img.leaflet-image-layer")
    WebDriverWait(driver, 10).until(lambda _: int(picture.get_attribute("naturalWidth") or 0) == 900)
    assert picture.get_attribute("src").endswith("/ui/map-image.png")
    assert httpx.get(f"{server.url}/ui/map-image.png").status_code == 401  # not for everyone

    WebDriverWait(driver, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-test=camera-map] path[class*=cw-ring-]")) == 14
    )
    assert FEW_MARKERS < 14 and driver.execute_script(f"return {_MAP}.getZoom()") < LABEL_ZOOM
    assert not _names_shown(driver)
    camera_05 = next(layer["path"] for layer in _at(driver, "cam-05") if layer["path"] is not None)
    ActionChains(driver).move_to_element(camera_05).perform()
    wait_text(driver, ".leaflet-tooltip.cw-name", CAMERAS[5]["name"])

    assert _ring(driver, "cam-03") == ("cw-ring-new", RING_COLORS["new"])
    assert (_halo(driver, "cam-03"), _halo(driver, "cam-10"), _halo(driver, "cam-00")) == ("2", None, None)
    assert _ring(driver, "cam-10") == ("cw-ring-handling", RING_COLORS["handling"])
    assert _ring(driver, "cam-00") == ("cw-ring-none", RING_COLORS["none"])
    badges = [
        e for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-tooltip.cw-count") if e.is_displayed()
    ]
    assert [b.text for b in badges] == ["2"]  # only new incidents are counted on the map
    fits = driver.execute_script(
        "const b = arguments[0]; return b.scrollWidth <= b.clientWidth && b.clientWidth >= 16", badges[0]
    )
    assert fits, "the count is wider than its badge"
    driver.save_screenshot(str(screenshots / "map-floor-plan-1600x900.png"))

    server.add_incident("cam-00", IncidentType.FIRE, evidence=False)
    stored = time.monotonic()
    WebDriverWait(driver, 3, 0.05).until(
        lambda d: any(x["className"] == "cw-raised" for x in _at(d, "cam-00"))
    )
    assert time.monotonic() - stored < 3
    assert wait_for(driver, ".leaflet-tooltip.cw-raised").is_displayed()  # drawn, not only a layer
    assert _ring(driver, "cam-00")[0] == "cw-ring-new" and _halo(driver, "cam-00") == "1"

    driver.execute_script(f"{_MAP}.setZoom(arguments[0])", LABEL_ZOOM)
    WebDriverWait(driver, 10).until(lambda d: len(_names_shown(d)) >= 2)  # those in view, all named
    assert _names_shown(driver) <= {c["name"] for c in CAMERAS}
    driver.save_screenshot(str(screenshots / "map-zoomed-1600x900.png"))

    driver.get(f"{server.url}/cameras")
    wait_text(driver, "[data-camera=cam-03] [data-test=camera-state]", "2 new", exact=False)
    wait_text(driver, "[data-camera=cam-10] [data-test=camera-state]", "1 being handled", exact=False)
