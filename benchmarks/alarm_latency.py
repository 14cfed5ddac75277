"""Stored incident to alarm on screen, on pages other than Live (issue 20, finding 1).

    .venv/bin/python benchmarks/alarm_latency.py [--cameras 50] [--incidents 10000] [--alarms 20]

Starts a real `citywatch serve --no-pipeline` over a SQLite file filled beforehand (the helpers of
benchmarks/ui_render.py), logs in with headless Chromium and, on an incident page and then on the
Cameras page, stores `--alarms` high-severity incidents through the store, one at a time (a random
0-1 s apart, so that they fall anywhere in the live feed's poll of the store), and measures from the
moment the store's write returned to the moment the page drew the incident's banner
(`window.citywatchAlarmShownAt`, kept by dashboard.js; both clocks are this machine's). Prints a
JSON report with the median and the maximum per page. Not a test: the numbers depend on the machine.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # ui_render
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ui"))  # dashboard_support
from dashboard_support import Server, browser, free_port, login, start_server, wait_for
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from ui_render import _cameras, _fill

from citywatch.domain.incident_types import IncidentType

_SHOWN_AT = "return (window.citywatchAlarmShownAt || {})[arguments[0]] || null"
HIGH = [IncidentType.FIRE, IncidentType.FIGHT, IncidentType.WEAPON, IncidentType.ACCIDENT]


def measure(
    server: Server, driver: WebDriver, cameras: list[dict], count: int, rng: random.Random
) -> list[float]:
    """Seconds from each stored incident to its banner on the page the driver shows."""
    latencies = []
    for _ in range(count):
        time.sleep(rng.uniform(0, 1.0))
        incident_id = server.add_incident(rng.choice(cameras)["id"], rng.choice(HIGH), evidence=False)
        stored_at = time.time()
        shown_ms = WebDriverWait(driver, 30, 0.02).until(
            lambda d, incident_id=incident_id: d.execute_script(_SHOWN_AT, incident_id)
        )
        latencies.append(shown_ms / 1000 - stored_at)
    return latencies


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "median_ms": round(statistics.median(ordered) * 1000),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000),
        "max_ms": round(ordered[-1] * 1000),
        "under_2s": sum(1 for x in ordered if x < 2.0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--incidents", type=int, default=10_000, help="stored before the run")
    parser.add_argument("--alarms", type=int, default=20, help="measured per page")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="citywatch-alarm-bench-"))
    cameras = _cameras(args.cameras)
    server = start_server(folder, free_port(), cameras)
    driver = None
    rng = random.Random(11)
    try:
        _fill(folder, cameras, args.incidents, server.store)
        driver = browser(1920, 1080)
        login(driver, server, "somchai", "/cameras")
        pages = {}
        for name, path in (
            ("incident page", f"/incidents/{server.add_incident(cameras[0]['id'], evidence=False)}"),
            ("cameras page", "/cameras"),
        ):
            driver.get(f"{server.url}{path}")
            wait_for(driver, "[data-test=new-count]", 30)
            time.sleep(2)  # the page's pictures and first updates are in
            pages[name] = _summary(measure(server, driver, cameras, args.alarms, rng))
        report = {
            "cameras": args.cameras,
            "incidents_stored_before": args.incidents,
            "alarms_per_page": args.alarms,
            "live_feed": "serve --no-pipeline: the store is polled every 1 s (StoreFeed)",
            **pages,
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
