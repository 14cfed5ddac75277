"""`citywatch serve --config FILE` with the pipeline, as an operator runs it: a real process on a
real port watching the fire clip and a street clip, used over HTTP and the WebSocket as the
dashboard and Prometheus do, then stopped by a signal."""

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import cv2
import httpx
import numpy as np
import pytest
from api_support import PASSWORD
from process_support import CITYWATCH, citywatch, free_port, wait_for_health
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from citywatch.paths import datasets_dir
from citywatch.storage.store import IncidentStore

FIRE_CAM, STREET_CAM = "fire-cam", "street-cam"
T = TypeVar("T")


def write_config(folder: Path) -> Path:
    config = {
        "storage": {
            "database_url": f"sqlite:///{folder / 'cw.db'}",
            "evidence_dir": str(folder / "evidence"),
        },
        "evidence": {"pre_roll_s": 1, "post_roll_s": 2, "clip_fps": 10},
        "models": {"intra_op_threads": 1},
        # as in tests/runtime/test_supervisor.py: the clip's early smoke raises within seconds
        "thresholds": {"fire": {"smoke_min_confidence": 0.4}},
        "cameras": [
            {
                "id": cam,
                "url": str(datasets_dir() / clip),
                "loop": True,
                "analytics_fps": 2,
                "incident_types": ["fire"],
            }
            for cam, clip in [
                (FIRE_CAM, "fire_smoke/videos/furg_house6.mp4"),
                (STREET_CAM, "streets/one-by-one-person-detection.mp4"),
            ]
        ],
    }
    path = folder / "cameras.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def wait_for(what: str, check: Callable[[], T | None], timeout_s: float = 30) -> T:
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        assert time.monotonic() < deadline, f"no {what} after {timeout_s} s"
        time.sleep(0.2)
    return value


def camera_states_on_socket(url: str, token: str, cameras: set[str]) -> dict[str, str]:
    """The camera states /api/live pushes, until every camera of `cameras` is streaming."""
    states: dict[str, str] = {}
    with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=5) as socket:
        deadline = time.monotonic() + 20
        while {c for c, s in states.items() if s == "streaming"} != cameras:
            message = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message["event"] == "camera_state":
                states[message["data"]["camera_id"]] = message["data"]["state"]
    return states


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.slow
def test_serve_with_the_pipeline_end_to_end(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    added = citywatch("users", "add", "admin", "--role", "admin", "--config", str(config), stdin=PASSWORD)
    assert added.returncode == 0, added.stderr

    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [*CITYWATCH, "serve", "--config", str(config), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10)
        health = wait_for_health(client, server, timeout_s=60)
        assert health | {"version": None, "stages": {}} == {
            "status": "ok",
            "database": True,
            "pipeline": True,
            "version": None,
            "stages": {},
            "failing_analyzers": {},
        }
        assert {"dispatcher", "inference-scheduler", "event-sink", "notifier"} <= set(health["stages"])
        assert all(health["stages"].values())
        login = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        token = login.json()["token"]
        client.cookies.clear()
        admin = {"Authorization": f"Bearer {token}"}

        states = camera_states_on_socket(f"ws://127.0.0.1:{port}/api/live", token, {FIRE_CAM, STREET_CAM})
        assert states == {FIRE_CAM: "streaming", STREET_CAM: "streaming"}

        def fire_with_clip() -> dict | None:
            page = client.get("/api/incidents", params={"type": "fire"}, headers=admin).json()
            return next((i for i in page["items"] if i["clip_url"]), None)

        incident = wait_for("fire incident with its clip", fire_with_clip)
        assert incident["camera_id"] == FIRE_CAM and incident["status"] == "new"

        snapshot = client.get(incident["snapshot_url"], headers=admin)
        assert snapshot.headers["content-type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 426
        live = client.get(f"/ui/cameras/{FIRE_CAM}/frame.jpg", headers=admin)  # Supervisor.latest_frame
        assert (live.status_code, live.headers["content-type"]) == (200, "image/jpeg")
        picture = cv2.imdecode(np.frombuffer(live.content, np.uint8), cv2.IMREAD_COLOR)
        assert picture is not None and picture.shape == (240, 426, 3)
        part = client.get(incident["clip_url"], headers=admin | {"Range": "bytes=0-1023"})
        assert (part.status_code, len(part.content), part.headers["content-type"]) == (206, 1024, "video/mp4")
        assert part.content[4:8] == b"ftyp"

        acknowledged = client.post(
            f"/api/incidents/{incident['id']}/acknowledge", json={"note": "brigade called"}, headers=admin
        )
        assert acknowledged.status_code == 200
        detail = client.get(f"/api/incidents/{incident['id']}", headers=admin).json()
        assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "admin")
        assert [(e["action"], e["actor"], e["note"]) for e in detail["history"]] == [
            ("acknowledge", "admin", "brigade called")
        ]

        created = client.post("/api/tokens", json={"name": "prometheus", "role": "viewer"}, headers=admin)
        scrape = client.get("/metrics", headers={"Authorization": f"Bearer {created.json()['token']}"})
        samples = metric_samples(scrape.text)
        for camera in (FIRE_CAM, STREET_CAM):
            assert samples[("citywatch_frames_total", (("camera", camera), ("stage", "decoded")))] > 0
            assert samples[("citywatch_frames_total", (("camera", camera), ("stage", "analysed")))] > 0
            assert samples[("citywatch_camera_state", (("camera", camera), ("state", "streaming")))] == 1
        assert samples[("citywatch_incidents", (("status", "acknowledged"), ("type", "fire")))] >= 1
        detector_frames = "citywatch_detector_frames_total"
        assert samples[(detector_frames, (("outcome", "run"), ("role", "fire_smoke")))] > 0
        assert (detector_frames, (("outcome", "gated"), ("role", "fire_smoke"))) not in samples  # no trigger
    finally:
        stopped_at = time.monotonic()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        finally:
            server.kill()
            log.seek(0)
            output = log.read()
            print(output)  # shown when the test fails
    assert server.returncode == 0, output
    assert time.monotonic() - stopped_at < 20
    assert "citywatch stopped" in output and "Application shutdown complete" in output
    assert PASSWORD not in output and token not in output

    store = IncidentStore(f"sqlite:///{tmp_path / 'cw.db'}")
    incidents = store.list()
    store.dispose()
    assert incidents and all(i.clip_path is not None and i.evidence_error is None for i in incidents), [
        (i.type, i.clip_path, i.evidence_error) for i in incidents
    ]
