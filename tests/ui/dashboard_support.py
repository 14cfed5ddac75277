"""Helpers of the dashboard tests: a real `citywatch serve --no-pipeline` in a subprocess over a
SQLite file, incidents stored as the pipeline stores them (snapshot drawn by the evidence code,
H.264 clip of the fire video), and headless Chromium sessions driven by Selenium."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import httpx
import numpy as np
import yaml
from argon2 import PasswordHasher
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from citywatch.domain.incident import EvidenceBox, Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.storage.annotate import annotate
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role, UserDirectory

CLIP = datasets_dir() / "fire_smoke" / "videos" / "furg_house6.mp4"
PASSWORD = "correct horse battery staple"
CHROMIUM = "/usr/bin/chromium"
BANGKOK = ZoneInfo("Asia/Bangkok")
"""The test servers' time zone (api.timezone's default): the snapshots' headers are drawn in it."""
CHROMEDRIVER = "/usr/bin/chromedriver"
CAMERAS = [
    {"id": "market-01", "name": "ตลาด / Market", "location": {"lat": 13.7551, "lon": 100.4990}},
    {"id": "street-01", "name": "ถนนสายหลัก / Main road", "location": {"lat": 13.7563, "lon": 100.5018}},
    {
        "id": "lobby-01",
        "name": "ทางเข้าอาคาร / Building entrance",
        "location": {"lat": 13.7570, "lon": 100.5030},
    },
]


def write_config(folder: Path, cameras: list[dict]) -> Path:
    config = {
        "cameras": [
            {**camera, "url": str(CLIP), "zones": [{"name": "street", "polygon": [[0, 0], [1, 0], [1, 1]]}]}
            for camera in cameras
        ],
        "storage": {
            "database_url": f"sqlite:///{folder / 'citywatch.db'}",
            "evidence_dir": str(folder / "evidence"),
        },
        "ui": {"default_language": "en"},
    }
    path = folder / "cameras.yaml"
    path.write_text(
        "# dashboard test config\n" + yaml.safe_dump(config, allow_unicode=True), encoding="utf-8"
    )
    return path


@dataclass
class Server:
    url: str
    store: IncidentStore
    evidence_dir: Path
    config_path: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the server process and close this side's database connections."""
        self.process.terminate()
        self.process.wait(15)
        self.store.dispose()

    def add_incident(
        self,
        camera_id: str = "market-01",
        type: IncidentType = IncidentType.FIRE,
        started_at: float | None = None,
        confidence: float = 0.87,
        evidence: bool = True,
    ) -> str:
        """Store an incident as the pipeline's event sink does: snapshot, clip, row. Returns its id."""
        incident = Incident(
            type,
            camera_id,
            time.time() if started_at is None else started_at,
            confidence,
            subtype="fire" if type is IncidentType.FIRE else None,
            boxes=[EvidenceBox((120, 60, 260, 200), "fire", confidence)],
            id=uuid.uuid4().hex,
        )
        snapshot = clip = None
        if evidence:
            folder = self.evidence_dir / camera_id / "test"
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{incident.id}.jpg"), annotate(incident, _frame(), BANGKOK))
            shutil.copyfile(CLIP, folder / f"{incident.id}.mp4")
            snapshot, clip = f"{camera_id}/test/{incident.id}.jpg", f"{camera_id}/test/{incident.id}.mp4"
        assert self.store.add(incident, snapshot, clip)
        return incident.id


_FRAMES: list[np.ndarray] = []


def _frame() -> np.ndarray:
    if not _FRAMES:
        capture = cv2.VideoCapture(str(CLIP))
        capture.set(cv2.CAP_PROP_POS_FRAMES, 150)
        ok, image = capture.read()
        capture.release()
        assert ok
        _FRAMES.append(image)
    return _FRAMES[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(folder: Path, port: int, cameras: list[dict] = CAMERAS) -> Server:
    config_path = write_config(folder, cameras)
    url = f"sqlite:///{folder / 'citywatch.db'}"
    store = IncidentStore(url)
    store.upgrade()
    users = UserDirectory(store, password_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name, role in (
        ("somchai", Role.OPERATOR),
        ("malee", Role.OPERATOR),
        ("viewer1", Role.VIEWER),
        ("admin1", Role.ADMIN),
    ):
        users.add_user(name, role, PASSWORD)
    command = [sys.executable, "-m", "citywatch.cli", "serve", "--config", str(config_path), "--no-pipeline"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        stdout=(folder / "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_serving(base, process, folder / "serve.log")
    return Server(base, store, folder / "evidence", config_path, process)


def wait_serving(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the `citywatch serve` at `base` answers its health check; AssertionError with its log
    when it exits or has not answered within 30 s."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("citywatch serve did not start:\n" + log.read_text())
        time.sleep(0.2)


def browser(width: int = 1920, height: int = 1080) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=en-US",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    set_viewport(driver, width, height)
    return driver


def wait_for(driver: WebDriver, css: str, timeout: float = 10) -> WebElement:
    """The first visible element at `css`, once there is one (pages redraw: stale ones are skipped)."""
    wait = WebDriverWait(driver, timeout, 0.05, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(
        lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), False),
        f"nothing visible at {css}",
    )


def click(driver: WebDriver, css: str, timeout: float = 10) -> None:
    """Click the first visible element at `css`, found again when the page redrew it between being
    found and being clicked (a stale element)."""

    def clicked(d: WebDriver) -> bool:
        try:
            wait_for(d, css, timeout).click()
        except StaleElementReferenceException:
            return False
        return True

    WebDriverWait(driver, timeout, 0.05).until(clicked, f"could not click {css}")


def wait_text(driver: WebDriver, css: str, expected: str, timeout: float = 10, exact: bool = True) -> None:
    """Wait until the element at `css` (found again each time: pages redraw) shows `expected` (or,
    not `exact`, a text that contains it)."""

    def shows(d: WebDriver) -> bool:
        try:
            texts = [e.text for e in d.find_elements(By.CSS_SELECTOR, css)]
            return any(t == expected if exact else expected in t for t in texts)
        except StaleElementReferenceException:
            return False

    WebDriverWait(driver, timeout, poll_frequency=0.05).until(shows, f"{css} never showed {expected!r}")


def login(driver: WebDriver, server: Server, user: str, path: str = "/") -> None:
    driver.get(f"{server.url}{path}")
    wait_for(driver, "input[data-test=username]").send_keys(user)
    wait_for(driver, "input[data-test=password]").send_keys(PASSWORD)
    wait_for(driver, "[data-test=login]").click()
    wait_for(driver, "[data-test=whoami]", 15)


def set_viewport(driver: WebDriver, width: int, height: int) -> None:
    """Resize so the page itself (not the window with its frame) is width x height."""
    driver.set_window_size(width, height)
    inner_w, inner_h = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner_w, 2 * height - inner_h)
