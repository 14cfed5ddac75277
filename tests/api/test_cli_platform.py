"""The platform commands as an operator runs them: db upgrade, users add (password on stdin),
serve --no-pipeline (a real uvicorn server), retention run, and the camera states `run` stores."""

import signal
import subprocess
from pathlib import Path

import httpx
from api_support import PASSWORD
from process_support import CITYWATCH, citywatch, free_port, wait_for_health

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.storage.store import IncidentStore


def test_users_add_then_serve_without_pipeline_then_retention(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    assert "newest schema" in citywatch("db", "upgrade", "--db", db).stdout
    added = citywatch("users", "add", "somchai", "--role", "operator", "--db", db, stdin=PASSWORD + "\n")
    assert added.returncode == 0 and "added user somchai (operator)" in added.stdout
    assert citywatch("users", "add", "x", "--role", "operator", "--db", db, stdin="short\n").returncode == 2

    port = free_port()
    server = subprocess.Popen(
        [*CITYWATCH, "serve", "--no-pipeline", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=5)
        assert wait_for_health(client, server)["pipeline"] is None
        login = client.post("/api/auth/login", json={"username": "somchai", "password": PASSWORD})
        token = login.json()["token"]
        client.cookies.clear()
        assert client.get("/api/incidents").status_code == 401
        listed = client.get("/api/incidents", headers={"Authorization": f"Bearer {token}"})
        assert listed.json() == {"items": [], "next_cursor": None}
        assert client.get("/openapi.json").json()["info"]["title"] == "citywatch"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output
    assert "Application shutdown complete" in output
    assert PASSWORD not in output and token not in output

    store = IncidentStore(db)
    store.add(Incident(IncidentType.FIRE, "cam01", 1_000_000.0, 0.9), "cam01/old.jpg")  # decades old
    (tmp_path / "evidence" / "cam01").mkdir(parents=True)
    (tmp_path / "evidence" / "cam01" / "old.jpg").write_bytes(b"x" * 1000)
    store.dispose()
    config = tmp_path / "cameras.yaml"
    config.write_text(f"storage:\n  database_url: {db}\n  evidence_dir: evidence\n")
    report = citywatch("retention", "run", "--config", str(config))
    assert report.returncode == 0, report.stderr
    assert "evidence of 1 incidents deleted: 1 files" in report.stdout
    assert not (tmp_path / "evidence" / "cam01" / "old.jpg").exists()


def test_run_stores_camera_states_for_an_api_on_another_machine(tmp_path: Path) -> None:
    """`citywatch run` writes camera states to the database, where `serve --no-pipeline` reads them."""
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    street = datasets_dir() / "streets" / "one-by-one-person-detection.mp4"
    config = tmp_path / "cameras.yaml"
    config.write_text(
        f"storage:\n  database_url: {db}\n  evidence_dir: evidence\n"
        f"cameras:\n  - id: street-cam\n    url: {street}\n    loop: true\n"
    )
    ran = citywatch("run", "--config", str(config), "--duration", "2")
    assert ran.returncode == 0, ran.stderr
    store = IncidentStore(db)
    states = store.camera_states()
    store.dispose()
    assert {camera: status.state for camera, status in states.items()} == {"street-cam": "stopped"}
