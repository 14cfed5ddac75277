"""The zone editor's service: the config file round trip (other keys, comments and `${VAR}` kept;
an invalid result leaves the file unchanged), and a save checked as the session is then, audited."""

from pathlib import Path

import pytest

from citywatch.config import Zone, load_config
from citywatch.services.config_file import ConfigFile
from citywatch.services.permissions import ActionRefused, Authority, SessionEnded
from citywatch.services.zones import ZoneFileError, Zones, save_zones, zones_of
from citywatch.storage.audit import AuditLog
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role, UserDirectory

CONFIG = """\
# the command centre's cameras
storage:
  database_url: sqlite:///${CITYWATCH_DATA:-var}/citywatch.db   # kept as written
cameras:
  - id: cam01
    name: ถนนสีลม
    url: rtsp://10.0.0.1/sub
    zones:
      - name: old
        polygon: [[0, 0], [1, 0], [1, 1]]
  - id: cam02
    url: rtsp://10.0.0.2/sub
"""


def test_zones_are_saved_into_the_config_keeping_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    file = ConfigFile(path)
    zone = Zone(name="crossing", polygon=[(0.1, 0.2), (0.9, 0.2), (0.5, 0.95)], incident_types=["fall"])
    old = zones_of(file, "cam01")
    saved = save_zones(file, "cam01", [zone], old)
    assert saved.config.cameras[0].zones == [zone]  # what the file's listeners are given
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# the command centre's cameras")
    assert "${CITYWATCH_DATA:-var}/citywatch.db   # kept as written" in text
    assert "ถนนสีลม" in text
    assert zones_of(file, "cam01") == [zone]
    assert load_config(path).cameras[0].zones == [zone]
    save_zones(file, "cam01", [], [zone])
    assert zones_of(file, "cam01") == []


def test_an_invalid_result_leaves_the_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(
        CONFIG.replace("url: rtsp://10.0.0.2/sub", "url: rtsp://10.0.0.2/sub\n    fps: 3"), "utf-8"
    )
    before = path.read_text(encoding="utf-8")
    file = ConfigFile(path)
    with pytest.raises(ZoneFileError, match="fps"):
        save_zones(file, "cam01", [], zones_of(file, "cam01"))
    with pytest.raises(ZoneFileError, match="no camera 'nope'"):
        save_zones(file, "nope", [], [])
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["cameras.yaml"]  # no temporary file left


def test_a_save_is_checked_as_the_session_is_then_and_audited(tmp_path: Path, store: IncidentStore) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    users = UserDirectory(store)
    user = users.add_user("malee", Role.ADMIN, "password-1")
    token, _ = users.start_session(user)
    authority, audit = Authority(store, users), AuditLog(store)
    caller = authority.caller(token, "dashboard")
    assert caller is not None
    zones = Zones(authority, audit, ConfigFile(path))
    old = zones.of(caller, "cam01", [])
    crossing = Zone(name="crossing", polygon=[(0.1, 0.2), (0.9, 0.2), (0.5, 0.95)])
    zones.save(caller, "cam01", [crossing], old)
    assert zones_of(ConfigFile(path), "cam01") == [crossing]
    entry = audit.entries(action="zones.save")[0]
    assert (entry.actor, entry.target, entry.details) == (
        "malee",
        "camera:cam01",
        {"zones": ["crossing"], "file": "cameras.yaml"},
    )
    users.update_user("malee", role=Role.SUPERVISOR)
    with pytest.raises(ActionRefused):
        zones.save(caller, "cam01", [], [crossing])
    users.end_session(token)
    with pytest.raises(SessionEnded):
        zones.save(caller, "cam01", [], [crossing])
    assert zones_of(ConfigFile(path), "cam01") == [crossing] and len(audit.entries(action="zones.save")) == 1
