"""Dashboard responsiveness with a city's worth of data: 50 cameras and 10,000 incidents stored.

    .venv/bin/python benchmarks/ui_render.py [--cameras 50] [--incidents 10000] [--runs 5]

Starts a real `citywatch serve --no-pipeline` over a SQLite file filled beforehand, logs in with
headless Chromium (/usr/bin/chromium) and measures, per run, from the start of navigation
(performance.timeOrigin): the Live page's first feed item visible, and the camera map's markers
(clusters) drawn; then the time from a click on Older to the next page shown (its first item is
another incident than the old page's first), in the browser, for all incidents (newest first, by
the index) and for the New tab (/?status=new: the work queue's order, which sorts the new ones).
Prints a JSON report with medians. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ui"))
from dashboard_support import browser, free_port, login, start_server, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.stored_incident import IncidentStatus
from citywatch.storage.schema import IncidentRow

_SINCE_NAVIGATION = "return performance.now()"
_NEXT_PAGE = """
const first = () => document.querySelector("[data-test=feed-item]")?.dataset.id;
const old = first();
window.cwPageShown = null;
new MutationObserver((_, observer) => {
  if (first() !== undefined && first() !== old) {
    window.cwPageShown = performance.now();
    observer.disconnect();
  }
}).observe(document.querySelector("[data-test=feed]"), { childList: true, subtree: true });
window.cwClicked = performance.now();
document.querySelector("[data-test=feed-older]").click();
"""
"""Click Older; note when the list's first item becomes another incident (the next page, not the old
page's second item, which the old selector matched at once)."""


def _cameras(count: int) -> list[dict]:
    """Cameras on a grid over central Bangkok (about 6 x 6 km), names in Thai and English."""
    side = int(count**0.5) + 1
    return [
        {
            "id": f"cam-{i:03d}",
            "name": f"กล้อง {i:03d} / Camera {i:03d}",
            "location": {"lat": 13.72 + (i // side) * 0.007, "lon": 100.48 + (i % side) * 0.007},
        }
        for i in range(count)
    ]


def _fill(server_folder: Path, cameras: list[dict], incidents: int, store: object) -> None:
    """`incidents` rows over the last 30 days (one bulk insert), with a snapshot per camera."""
    evidence = server_folder / "evidence"
    now = datetime.now(UTC)
    rng = random.Random(7)
    types = [t for t in IncidentType]
    for camera in cameras:
        (evidence / camera["id"]).mkdir(parents=True, exist_ok=True)
        image = np.full((432, 768, 3), rng.randrange(40, 200), np.uint8)
        cv2.putText(image, camera["id"], (40, 220), cv2.FONT_HERSHEY_SIMPLEX, 3, (255, 255, 255), 6)
        cv2.imwrite(str(evidence / camera["id"] / "snap.jpg"), image)
    rows = []
    for _ in range(incidents):
        camera = rng.choice(cameras)["id"]
        started = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
        status = rng.choice(list(IncidentStatus))
        acknowledged = (
            started + timedelta(seconds=rng.uniform(5, 600)) if status is not IncidentStatus.NEW else None
        )
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "type": rng.choice(types),
                "subtype": None,
                "camera_id": camera,
                "status": status,
                "confidence": rng.uniform(0.4, 0.99),
                "started_at": started,
                "ended_at": None,
                "frame_index": None,
                "boxes": [],
                "details": {},
                "snapshot_path": f"{camera}/snap.jpg",
                "clip_path": None,
                "evidence_error": None,
                "created_at": started,
                "locked": False,
                "group_id": None,
                "acknowledged_at": acknowledged,
                "acknowledged_by": "somchai" if acknowledged else None,
            }
        )
    store.write("fill the benchmark database", lambda session: session.execute(insert(IncidentRow), rows))  # type: ignore[attr-defined]


def _next_page_ms(driver: WebDriver) -> float:
    wait_for(driver, "[data-test=feed-older]")
    driver.execute_script(_NEXT_PAGE)
    WebDriverWait(driver, 30, 0.01).until(lambda d: d.execute_script("return window.cwPageShown !== null"))
    return driver.execute_script("return window.cwPageShown - window.cwClicked")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="citywatch-ui-bench-"))
    cameras = _cameras(args.cameras)
    server = start_server(folder, free_port(), cameras)
    driver = None
    try:
        started = time.perf_counter()
        _fill(folder, cameras, args.incidents, server.store)
        fill_s = time.perf_counter() - started
        driver = browser(1920, 1080)
        login(driver, server, "somchai")
        feed_ms, map_ms, page_ms, queue_page_ms, markers = [], [], [], [], 0
        for _ in range(args.runs):
            driver.get(f"{server.url}/")
            wait_for(driver, "[data-test=feed-item]", 30)
            feed_ms.append(driver.execute_script(_SINCE_NAVIGATION))
            wait_for(driver, "[data-test=camera-map] path.leaflet-interactive", 30)
            map_ms.append(driver.execute_script(_SINCE_NAVIGATION))
            markers = len(
                driver.find_elements(By.CSS_SELECTOR, "[data-test=camera-map] path.leaflet-interactive")
            )
            page_ms.append(_next_page_ms(driver))
            driver.get(f"{server.url}/?status=new")
            wait_for(driver, "[data-test=feed-item]", 30)
            queue_page_ms.append(_next_page_ms(driver))
        report = {
            "cameras": args.cameras,
            "incidents": server.store.count(),
            "fill_s": round(fill_s, 2),
            "runs": args.runs,
            "live_first_feed_item_ms": {
                "median": round(statistics.median(feed_ms)),
                "max": round(max(feed_ms)),
            },
            "live_map_markers_ms": {"median": round(statistics.median(map_ms)), "max": round(max(map_ms))},
            "map_markers_drawn": markers,
            "next_feed_page_ms": {"median": round(statistics.median(page_ms)), "max": round(max(page_ms))},
            "next_new_tab_page_ms": {
                "median": round(statistics.median(queue_page_ms)),
                "max": round(max(queue_page_ms)),
            },
        }
        print(json.dumps(report, indent=2))
        return 0
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
