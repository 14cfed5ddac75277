"""The command line as a person uses it: exit codes, what it prints, the errors it names."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from citywatch.analytics.base import ANALYZERS
from citywatch.analytics.catalog import available_types
from citywatch.cli import main
from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir, models_dir
from citywatch.storage.store import IncidentStore

FIRE_IMAGE = sorted((datasets_dir() / "fire_smoke" / "cair_image_level" / "fire").glob("*.jpg"))[0]
STREET_CLIP = datasets_dir() / "streets" / "car-detection.mp4"


def test_malformed_yaml_exits_2_naming_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text("cameras:\n  - id: a\n    url: [oops\n")
    assert main(["run", "--config", str(config), "--duration", "1"]) == 2
    err = capsys.readouterr().err
    assert "config error" in err and str(config) in err and "line" in err


def test_incident_type_without_analyzer_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that lacks an analyzer (here: fire, taken out of the registry) refuses the config."""
    assert IncidentType.FIRE in available_types()  # built in, until taken out here
    monkeypatch.delitem(ANALYZERS._entries, IncidentType.FIRE)
    config = tmp_path / "cameras.yaml"
    config.write_text(f"cameras:\n  - id: cam-a\n    url: {STREET_CLIP}\n    incident_types: [fire]\n")
    assert main(["run", "--config", str(config), "--duration", "1"]) == 2
    err = capsys.readouterr().err
    assert "camera 'cam-a'" in err and "'fire' has no analyzer" in err


def test_detect_json_finds_fire_in_a_fire_photo(capsys: pytest.CaptureFixture) -> None:
    assert main(["detect", str(FIRE_IMAGE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (frame,) = report["frames"]
    names = {d["class"] for d in frame["detections"]["fire_smoke"]}
    assert names & {"fire", "smoke"}
    assert report["incidents"] and report["incidents"][0]["type"] == "fire"


def test_detect_writes_an_annotated_image(tmp_path: Path) -> None:
    out = tmp_path / "annotated.jpg"
    assert main(["detect", str(FIRE_IMAGE), "--out", str(out)]) == 0
    assert out.stat().st_size > 1000


def test_detect_on_a_missing_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["detect", str(tmp_path / "nope.mp4")]) == 2
    assert "nope.mp4: file not found" in capsys.readouterr().err


def test_models_verify_ok_and_altered(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "verify"]) == 0
    assert capsys.readouterr().out.count("ok ") == 3

    (tmp_path / "manifest.json").write_text((models_dir() / "manifest.json").read_text())
    for model in models_dir().glob("*.onnx"):
        (tmp_path / model.name).symlink_to(model)
    (tmp_path / "coco-yolov8n-int8-640.onnx").unlink()
    (tmp_path / "coco-yolov8n-int8-640.onnx").write_bytes(b"tampered")
    assert main(["models", "verify", "--path", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL coco-yolov8n-int8-640" in out and out.count("ok ") == 2


def test_incidents_list_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    store = IncidentStore(url)
    store.upgrade()
    store.add(
        Incident(IncidentType.FIRE, "cam-a", 1_700_000_000.0, 0.8, subtype="smoke"), snapshot_path="a.jpg"
    )
    store.add(Incident(IncidentType.CAMERA_OFFLINE, "cam-b", 1_700_000_100.0, 1.0), snapshot_path=None)
    store.dispose()
    assert main(["incidents", "list", "--db", url, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["camera_id"], r["type"]) for r in rows] == [("cam-b", "camera_offline"), ("cam-a", "fire")]
    assert main(["incidents", "list", "--db", url, "--type", "fire"]) == 0
    out = capsys.readouterr().out
    assert "cam-a" in out and "cam-b" not in out


def test_installed_entry_point_runs() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "citywatch"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("citywatch ")
