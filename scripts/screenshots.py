"""The dashboard's screenshots in docs/screenshots/: every page at 1920x1080 and 1366x768, in English
and Thai, over a real `citywatch serve --no-pipeline` with a night shift's incidents.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Uses the dashboard tests' helpers (tests/ui/dashboard_support.py): the same server, evidence and
headless Chromium. Look at every picture it writes: cut-off text, overlaps, missing Thai glyphs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ui"))
from dashboard_support import Server, browser, free_port, login, set_viewport, start_server, wait_for

from citywatch.domain.incident_types import IncidentType
from citywatch.domain.lifecycle import Action, CloseReason
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.users import UserDirectory

SIZES = ((1920, 1080), (1366, 768))
INCIDENTS = (  # (camera, type, minutes ago, what an operator did)
    ("market-01", IncidentType.FIGHT, 2, None),
    ("street-01", IncidentType.NO_HELMET, 5, None),
    ("lobby-01", IncidentType.FALL, 9, Action.ACKNOWLEDGE),
    ("market-01", IncidentType.WEAPON, 14, Action.ASSIGN),
    ("street-01", IncidentType.ACCIDENT, 31, Action.RESOLVE),
    ("market-01", IncidentType.FIRE, 47, Action.FALSE_ALARM),
    ("lobby-01", IncidentType.FIRE, 70, None),
)


def _fill(server: Server) -> str:
    """Store the night's incidents with what the operators did; returns the newest incident's id."""
    lifecycle = IncidentLifecycle(server.store)
    ids = []
    for camera, kind, minutes, action in INCIDENTS:
        incident_id = server.add_incident(camera, kind, time.time() - minutes * 60)
        ids.append(incident_id)
        if action is Action.ACKNOWLEDGE:
            lifecycle.change_status(incident_id, action, "somchai")
        elif action is Action.ASSIGN:
            lifecycle.change_status(incident_id, action, "somchai", unit="สายตรวจ 1 / Patrol 1")
        elif action is Action.RESOLVE:
            lifecycle.change_status(
                incident_id, action, "somchai", reason=CloseReason.HANDLED, note="รถพยาบาลมาถึงแล้ว"
            )
        elif action is Action.FALSE_ALARM:
            lifecycle.change_status(incident_id, action, "somchai", reason=CloseReason.WRONG_DETECTION)
    return ids[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="citywatch-screenshots-"))
    server = start_server(folder, free_port())
    users = UserDirectory(server.store)
    thai = next(u for u in users.users() if u.name == "admin1")
    users.set_language(thai.id, "th")
    newest = _fill(server)
    pages = {
        "live": "/",
        "incident": f"/incidents/{newest}",
        "cameras": "/cameras",
        "reports": "/reports?period=this_week",
        "camera-edit": "/cameras/market-01/edit",
    }
    try:
        for user, lang in (("somchai", "en"), ("admin1", "th")):
            suffix = "" if lang == "en" else "-th"
            driver = browser(*SIZES[0])
            try:
                login(driver, server, user)
                for width, height in SIZES:
                    set_viewport(driver, width, height)
                    for name, path in pages.items():
                        if name == "camera-edit" and user != "admin1":
                            continue
                        driver.get(f"{server.url}{path}")
                        wait_for(driver, "[data-test=whoami]", 20)
                        time.sleep(3)  # charts, map tiles and pictures settle
                        driver.save_screenshot(str(args.out / f"{name}{suffix}-{width}x{height}.png"))
                driver.get(f"{server.url}/cameras")  # an alarm arriving on a page other than Live
                wait_for(driver, "[data-test=whoami]", 20)
                time.sleep(2)
                server.add_incident("lobby-01", IncidentType.WEAPON)
                server.add_incident("street-01", IncidentType.FALL)
                time.sleep(4)
                driver.save_screenshot(
                    str(args.out / f"alarm{'' if lang == 'en' else '-th'}-{width}x{height}.png")
                )
            finally:
                driver.quit()
        print(f"screenshots in {args.out}")
        return 0
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
