"""A running pipeline takes a new camera list (the config file saved from the dashboard) without a
restart: a new camera starts, a disabled one stops, one whose zones changed takes them without
reopening its stream, one changed otherwise restarts, the others are not touched; a camera that
needs a detector the pipeline did not load waits for the next start."""

import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from runtime_support import FIRE_CLIP, PEOPLE_CLIP, STREET_CLIP, camera, make_config

sys.path.insert(0, str(Path(__file__).parent.parent / "api"))

from api_support import PASSWORD
from process_support import CITYWATCH, citywatch, free_port, wait_for_health

from citywatch.config import CameraConfig, CitywatchConfig
from citywatch.domain.incident_types import IncidentType
from citywatch.domain.stored_incident import StoredIncident
from citywatch.runtime.supervisor import CameraChanges, Supervisor
from citywatch.storage.store import IncidentStore
from citywatch.video.state import CameraState, StateChange

CORNER = [{"name": "corner", "polygon": [[0, 0], [0.04, 0], [0, 0.04]]}]
"""A zone where the fire clip has no fire: fire is not counted on the camera while it has only this."""


def fire_incidents(config: CitywatchConfig) -> list[StoredIncident]:
    store = IncidentStore(config.storage.database_url)
    try:
        return [i for i in store.list(limit=100) if i.type is IncidentType.FIRE]
    finally:
        store.dispose()


def fires(config: CitywatchConfig) -> list[str]:
    return [incident.camera_id for incident in fire_incidents(config)]


def cameras(config: CitywatchConfig, **changes: dict) -> list[CameraConfig]:
    """The config's cameras with `changes[id]` applied to each (and any new ones given as a whole)."""
    known = [c.model_copy(update=changes.pop(c.id, {})) for c in config.cameras]
    return known + [CameraConfig.model_validate(raw) for raw in changes.values()]


@pytest.mark.slow
def test_a_new_camera_list_changes_only_the_cameras_that_changed(tmp_path: Path, wait_until) -> None:
    config = make_config(
        tmp_path,
        [
            camera("fire-cam", FIRE_CLIP, zones=CORNER),
            camera("street-cam", STREET_CLIP, incident_types=[]),  # decoded, not analysed: the
            camera("going-cam", PEOPLE_CLIP, incident_types=[]),  # machine is the fire camera's
        ],
        # no frame shed as late on a loaded test machine: this is about which cameras run
        models={"intra_op_threads": 1, "latency_budget_s": None},
        evidence={"pre_roll_s": 2, "post_roll_s": 15, "clip_fps": 10},
    )
    supervisor = Supervisor(config)
    changes_seen: list[StateChange] = []
    supervisor.state_listeners.append(changes_seen.append)
    supervisor.start()
    try:

        def decoded(camera_id: str) -> int:
            return supervisor.stats().cameras[camera_id].source.frames_decoded

        def analysed(camera_id: str) -> int:
            return supervisor.stats().cameras[camera_id].counters.frames_analysed

        wait_until(lambda: analysed("fire-cam") >= 10, 60, "the fire camera analysed 10 frames")
        assert fires(config) == [], "no fire counted outside the fire camera's only zone"
        before = {camera_id: decoded(camera_id) for camera_id in ("fire-cam", "street-cam")}

        applied = supervisor.apply(
            cameras(
                config,
                **{
                    "fire-cam": {"zones": []},
                    "going-cam": {"enabled": False},
                    "new-cam": camera("new-cam", PEOPLE_CLIP, incident_types=[], timezone="Asia/Tokyo"),
                    "fall-cam": camera("fall-cam", PEOPLE_CLIP, incident_types=["fall"]),
                },
            )
        )
        assert (applied.started, applied.stopped, applied.restarted, applied.rezoned) == (
            ["new-cam"],
            ["going-cam"],
            [],
            ["fire-cam"],
        )
        assert list(applied.pending) == ["fall-cam"] and "fall_detector" in applied.pending["fall-cam"]
        assert sorted(supervisor.stats().cameras) == ["fire-cam", "new-cam", "street-cam"]
        assert supervisor.evidence.time_zone_of("new-cam") == ZoneInfo("Asia/Tokyo"), "its snapshots' header"
        with pytest.raises(KeyError):
            supervisor.latest_frame("going-cam")
        wait_until(lambda: supervisor.latest_frame("new-cam") is not None, 20, "a picture of the new camera")
        wait_until(lambda: decoded("new-cam") >= 10, 20, "the new camera decoding")
        wait_until(lambda: fires(config) == ["fire-cam"], 120, "the fire counted in the whole picture now")
        for camera_id, count in before.items():  # neither stream was reopened: decoding went on
            assert decoded(camera_id) > count, camera_id
        stopped = [c.camera_id for c in changes_seen if c.current is CameraState.STOPPED]
        assert stopped == ["going-cam"], "only the disabled camera's stream was closed"

        # disabled within its fire's post-roll: the fire ends, its clip is still written
        off = supervisor.apply(cameras(supervisor.config, **{"fire-cam": {"enabled": False}}))
        assert off.stopped == ["fire-cam"] and "fire-cam" not in supervisor.stats().cameras
        wait_until(
            lambda: all(i.ended_at and i.clip_path for i in fire_incidents(config)), 45, "the fire's clip"
        )
        (fire,) = fire_incidents(config)
        assert fire.clip_path is not None and (config.storage.evidence_dir / fire.clip_path).is_file()

        street_before = decoded("street-cam")
        slower = supervisor.apply(cameras(supervisor.config, **{"street-cam": {"analytics_fps": 1}}))
        assert slower == CameraChanges(restarted=["street-cam"], pending=applied.pending)
        wait_until(lambda: supervisor.latest_frame("street-cam") is not None, 20, "the restarted camera")
        assert decoded("street-cam") < street_before, "a new stream, counted from its first frame"
        assert supervisor.running and supervisor.fatal is None, "the watchdog saw nothing die"
    finally:
        supervisor.stop()
    assert [c.camera_id for c in changes_seen if c.current is CameraState.STOPPED].count("street-cam") == 2


@pytest.mark.slow
def test_serve_runs_a_camera_added_over_the_api_and_stops_it_when_disabled(
    tmp_path: Path, wait_until
) -> None:
    """`citywatch serve` with the pipeline, as the dashboard's admin changes its cameras: the
    composition root hands each saved camera list to the running Supervisor."""
    config = tmp_path / "cameras.yaml"
    config.write_text(
        "# the command centre\n"
        + yaml.safe_dump(
            {
                "storage": {"database_url": f"sqlite:///{tmp_path / 'cw.db'}", "evidence_dir": "evidence"},
                "models": {"intra_op_threads": 1},
                "cameras": [camera("fire-cam", FIRE_CLIP)],
            }
        )
    )
    added = citywatch("users", "add", "admin", "--role", "admin", "--config", str(config), stdin=PASSWORD)
    assert added.returncode == 0, added.stderr
    port = free_port()
    server = subprocess.Popen(
        [*CITYWATCH, "serve", "--config", str(config), "--port", str(port)],
        stdout=(tmp_path / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=30)
        wait_for_health(client, server, timeout_s=90)
        token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()[
            "token"
        ]
        client.cookies.clear()
        admin = {"Authorization": f"Bearer {token}"}

        def state(camera_id: str) -> str | None:
            return client.get(f"/api/cameras/{camera_id}", headers=admin).json()["state"]

        new = {"id": "street-cam", "url": str(STREET_CLIP), "incident_types": [], "location": None}
        assert client.post("/api/cameras", json=new, headers=admin).status_code == 201
        wait_until(lambda: state("street-cam") == "streaming", 30, "the added camera streaming")
        frame = client.get("/ui/cameras/street-cam/frame.jpg", headers=admin)  # Supervisor.latest_frame
        assert (frame.status_code, frame.headers["content-type"]) == (200, "image/jpeg")
        disabled = client.put("/api/cameras/street-cam", json={**new, "enabled": False}, headers=admin)
        assert disabled.status_code == 200
        wait_until(lambda: state("street-cam") == "stopped", 30, "the disabled camera stopped")
        assert state("fire-cam") == "streaming", "the other camera was not touched"
        assert client.get("/api/health").json()["pipeline"] is True
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    assert server.returncode == 0, (tmp_path / "serve.log").read_text()
    assert config.read_text().startswith("# the command centre")
