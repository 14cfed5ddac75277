"""Thai everywhere (issue 20, findings 8 and 9): a Thai user sees the detection labels and the zone
editor's type options in Thai and gets the incident report in the camera's time zone; the zone
editor of a camera never seen says so and allows no drawing or saving until its picture arrives;
the Cameras page does not ask every 5 s for pictures that do not exist."""

from __future__ import annotations

import ast
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from dashboard_support import (
    CAMERAS,
    CLIP,
    Server,
    browser,
    click,
    free_port,
    login,
    start_server,
    wait_for,
    wait_text,
)
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from citywatch import analytics
from citywatch.analytics import accident, fire, no_helmet, weapon
from citywatch.config import DetectionType, load_config
from citywatch.domain.incident import EvidenceBox, Incident
from citywatch.domain.incident_types import IncidentType, name_of
from citywatch.perception.model_pack import ModelPack
from citywatch.storage.evidence import EvidenceWriter
from citywatch.ui import i18n

TOKYO_CAMERA = {**CAMERAS[0], "id": "tokyo-01", "timezone": "Asia/Tokyo"}
"""A camera in another time zone than the installation's (Asia/Bangkok, the default)."""
NEVER_SEEN = [{"id": f"dark-{i:02d}", "name": f"กล้องมืด {i}"} for i in range(2)]
LATE = {"id": "late-01", "name": "กล้องมาช้า"}
"""A camera whose first picture arrives while its zone editor is open."""
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC: 15 Nov 2023 (2566 BE) 07:13:20 in Tokyo, 05:13:20 in Bangkok


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("thai"), free_port(), [TOKYO_CAMERA, *NEVER_SEEN, LATE])
    yield running
    running.stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads: Path) -> Iterator[WebDriver]:
    driver = browser(1366, 768)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    yield driver
    driver.quit()


def _emitted_labels() -> set[str]:
    """Every label an analyzer of citywatch/analytics can put on an evidence box: the literal ones
    of its EvidenceBox(...) and EvidenceBox.of(...) calls, and for a label taken from what a
    detector found, the classes that analyzer keeps."""
    from_detections = {
        "accident": set(accident.VEHICLES),
        "no_helmet": set(no_helmet.RIDDEN_CLASSES),
        "weapon": set(weapon.SUBTYPE_OF.values()),
        "fire": set(ModelPack.open().spec("fire-smoke-yolov8-416").classes or ()),
    }
    assert fire.FIRE_ROLE == "fire_smoke"  # the role whose model is fire-smoke-yolov8-416
    labels: set[str] = set()
    for path in sorted(Path(analytics.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call) and ast.unparse(node.func) in ("EvidenceBox", "EvidenceBox.of")
            ):
                continue
            label = (
                node.args[1]
                if len(node.args) > 1
                else next(k.value for k in node.keywords if k.arg == "label")
            )
            if isinstance(label, ast.Constant):
                labels.add(label.value)
            else:
                assert path.stem in from_detections, (
                    f"{path.name}: a label from {ast.unparse(label)}; add its classes"
                )
                labels |= from_detections[path.stem]
    return labels


def test_every_label_an_analyzer_can_emit_is_translated() -> None:
    labels = _emitted_labels()
    assert {"person", "knife", "gun", "fire", "smoke", "motorcycle", "head (no helmet)"} <= labels
    missing = sorted(
        label for label in labels if f"label.{label}" not in i18n.EN or f"label.{label}" not in i18n.TH
    )
    assert not missing, missing
    assert not {key for key in i18n.EN if key.startswith("label.")} - {f"label.{label}" for label in labels}


def _weapon_incident(server: Server, camera_id: str) -> str:
    """A knife incident of `camera_id` stored as the pipeline stores it: the snapshot by the evidence
    writer (its header in the camera's time zone), a clip, the row."""
    incident = Incident(
        IncidentType.WEAPON,
        camera_id,
        T0,
        0.62,
        subtype="knife",
        boxes=[
            EvidenceBox((100, 40, 300, 400), "armed person", 0.91),
            EvidenceBox((240, 200, 290, 260), "knife", 0.62),
        ],
        id=uuid.uuid4().hex,
    )
    config = load_config(server.config_path)
    writer = EvidenceWriter(
        server.evidence_dir, config.evidence, {c.id: config.timezone_for(c) for c in config.cameras}
    )
    capture = cv2.VideoCapture(str(CLIP))
    ok, incident.frame = capture.read()
    capture.release()
    assert ok
    snapshot = writer.snapshot(incident)
    clip = snapshot.with_suffix(".mp4")
    shutil.copyfile(CLIP, clip)
    assert server.store.add(incident, writer.relative(snapshot), writer.relative(clip))
    return incident.id


def _to_thai(driver: WebDriver) -> None:
    wait_for(driver, "[data-test=language]").click()
    WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "ออกจากระบบ" in d.find_element(By.TAG_NAME, "body").text  # the page reloads in Thai
    )


def test_a_thai_user_sees_thai_labels_and_a_report_in_the_cameras_time(
    server: Server, driver: WebDriver, downloads: Path, screenshots: Path
) -> None:
    incident_id = _weapon_incident(server, "tokyo-01")
    login(driver, server, "admin1", f"/incidents/{incident_id}")
    _to_thai(driver)
    wait_text(driver, "[data-test=box]", "ผู้ถืออาวุธ 91% · [100, 40, 300, 400]")
    wait_text(driver, "[data-test=box]", "มีด 62% · [240, 200, 290, 260]")
    driver.save_screenshot(str(screenshots / "incident-th-labels-1366x768.png"))
    click(driver, "[data-test=export]")
    report = downloads / f"citywatch-incident-{incident_id}.html"
    WebDriverWait(driver, 10).until(lambda _: report.is_file())
    html = report.read_text(encoding="utf-8")
    assert "15 พฤศจิกายน 2566 07:13:20" in html  # Tokyo's time, not Bangkok's 05:13:20
    assert "05:13:20" not in html
    assert "<th>เขตเวลา</th><td>Asia/Tokyo (UTC+0900)</td>" in html
    assert "<td>มีด 62%</td>" in html and "<td>ผู้ถืออาวุธ 91%</td>" in html


def test_zone_type_options_are_in_thai(server: Server, driver: WebDriver) -> None:
    driver.get(f"{server.url}/cameras/tokyo-01/zones")
    wait_for(driver, "[data-test=zone-image] img")
    click(driver, "[data-test=zone-types]")
    options = WebDriverWait(driver, 5).until(
        lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".q-menu .q-item") if e.text]
    )
    assert options == [name_of(t, "th") for t in DetectionType.__args__]


def test_the_zone_editor_of_a_camera_never_seen_allows_nothing_until_its_picture_arrives(
    server: Server, driver: WebDriver, screenshots: Path
) -> None:
    driver.get(f"{server.url}/cameras/late-01/zones")
    wait_text(driver, "[data-test=zone-no-picture]", i18n.TH["zones.no_picture"])
    assert not wait_for(driver, "[data-test=zone-save]").is_enabled()
    assert not wait_for(driver, "[data-test=zone-add]").is_enabled()
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-test=zone-image]")
    driver.save_screenshot(str(screenshots / "zones-no-picture-th-1366x768.png"))
    server.add_incident("late-01")  # its first evidence clip: the camera has been seen
    image = wait_for(driver, "[data-test=zone-image] img", 15)
    WebDriverWait(driver, 5).until(lambda _: image.get_attribute("naturalWidth") not in (None, "0"))
    assert wait_for(driver, "[data-test=zone-save]").is_enabled()
    assert not driver.find_element(By.CSS_SELECTOR, "[data-test=zone-no-picture]").is_displayed()


def test_the_camera_wall_asks_for_a_missing_picture_once_a_minute(server: Server, driver: WebDriver) -> None:
    driver.get(f"{server.url}/cameras")
    wait_for(driver, "[data-camera=tokyo-01] img[data-frame]")
    time.sleep(12)  # two refreshes of the wall
    requests = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('/frame.jpg'))"
    )
    per_camera = {
        c: sum(f"/cameras/{c}/frame.jpg" in n for n in requests) for c in ("tokyo-01", "dark-00", "dark-01")
    }
    assert per_camera["tokyo-01"] >= 3, per_camera  # a camera with a picture: every 5 s
    assert per_camera["dark-00"] == per_camera["dark-01"] == 1, per_camera  # none: asked once, not 3 times
    retry_in = driver.execute_script(
        "return Number(document.querySelector('[data-camera=dark-00] img').dataset.retryAt) - Date.now()"
    )
    assert 40_000 < retry_in <= 60_000  # and asked again in a minute
