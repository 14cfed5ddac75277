"""The camera admin's service: cameras added, edited, disabled and enabled in the config file
(comments and `${VAR}` kept, the password never given back), refused with the field named, checked
as the session is then, audited, a concurrent edit refused; the file's listeners get each save."""

from pathlib import Path

import httpx
import pytest
from api_support import FAST_HASHER
from fastapi.testclient import TestClient

from citywatch.api.app import create_app
from citywatch.config import CitywatchConfig, load_config
from citywatch.services.camera_config import (
    CameraAdmin,
    CameraChanged,
    CameraForm,
    CameraInvalid,
    unmask,
)
from citywatch.services.config_file import ConfigFile
from citywatch.services.context import AppContext
from citywatch.services.permissions import ActionRefused, Authority, Caller, SessionEnded
from citywatch.storage.audit import AuditLog
from citywatch.storage.store import IncidentStore
from citywatch.storage.users import Role, UserDirectory

CONFIG = """\
# the command centre's cameras
storage:
  database_url: sqlite:///${CITYWATCH_DATA:-var}/citywatch.db   # kept as written
cameras:
  # Silom, the junction by the BTS
  - id: cam01
    name: ถนนสีลม
    url: rtsp://admin:${CAM01_PASSWORD}@10.0.0.1/sub   # password from the environment
    location: {lat: 13.7290, lon: 100.5340}
    incident_types: [fire, fight]
    zones:
      - name: crossing
        polygon: [[0, 0], [1, 0], [1, 1]]
  - id: cam02
    url: rtsp://viewer:s3cret@10.0.0.2/sub
"""


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAM01_PASSWORD", "from-the-environment")
    folder = tmp_path / "config"  # the store's database is in tmp_path
    folder.mkdir()
    path = folder / "cameras.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def admin_of(store: IncidentStore, role: Role = Role.ADMIN) -> tuple[UserDirectory, Authority, Caller, str]:
    users = UserDirectory(store)
    user = users.add_user("malee", role, "password-1")
    token, _ = users.start_session(user)
    authority = Authority(store, users)
    caller = authority.caller(token, "dashboard", "10.1.1.1")
    assert caller is not None
    return users, authority, caller, token


def test_add_edit_disable_keep_the_comments_the_variables_and_the_passwords(
    config_path: Path, store: IncidentStore
) -> None:
    _, authority, caller, _ = admin_of(store)
    config_file = ConfigFile(config_path)
    heard: list[CitywatchConfig] = []
    config_file.listen(lambda config: heard.append(config) or ())
    admin = CameraAdmin(authority, AuditLog(store), config_file)

    form = admin.form(caller, "cam01")
    assert form.url == "rtsp://admin:***@10.0.0.1/sub"  # the variable is not shown either
    assert (form.lat, form.lon, form.incident_types) == (13.729, 100.534, ("fire", "fight"))
    admin.edit(caller, CameraForm(**{**_fields(form), "name": "สีลม (BTS)", "analytics_fps": 4.0}), form)
    text = config_path.read_text(encoding="utf-8")
    assert text.startswith("# the command centre's cameras")
    assert "  # Silom, the junction by the BTS\n" in text
    assert "url: rtsp://admin:${CAM01_PASSWORD}@10.0.0.1/sub   # password from the environment" in text
    assert "${CITYWATCH_DATA:-var}/citywatch.db   # kept as written" in text
    camera = load_config(config_path).cameras[0]
    assert (camera.name, camera.analytics_fps, camera.url) == (
        "สีลม (BTS)",
        4.0,
        "rtsp://admin:from-the-environment@10.0.0.1/sub",
    )
    assert [z.name for z in camera.zones] == ["crossing"]  # what the form has not is kept

    second = admin.form(caller, "cam02")
    assert second.url == "rtsp://viewer:***@10.0.0.2/sub"
    moved = CameraForm(**{**_fields(second), "url": "rtsp://viewer:***@10.0.0.22/main"})
    admin.edit(caller, moved, second)  # a new address, the password left masked: the old one kept
    assert load_config(config_path).cameras[1].url == "rtsp://viewer:s3cret@10.0.0.22/main"

    clip = config_path.parent / "demo.mp4"
    clip.write_bytes(b"")
    new = CameraForm(id="market-01", name="ตลาด", url="demo.mp4", lat=13.75, lon=100.49)
    saved = admin.add(caller, new)
    assert saved.config.cameras[-1].url == str(clip)  # resolved against the config's folder, like a load
    assert "url: demo.mp4" in config_path.read_text(encoding="utf-8")
    admin.set_enabled(caller, "cam02", False)
    assert [c.enabled for c in load_config(config_path).cameras] == [True, False, True]
    assert [[c.id for c in config.cameras if c.enabled] for config in heard] == [
        ["cam01", "cam02"],
        ["cam01", "cam02"],
        ["cam01", "cam02", "market-01"],
        ["cam01", "market-01"],
    ]

    entries = AuditLog(store).entries()  # newest first
    assert [(e.action, e.target, e.actor, e.ip) for e in entries] == [
        ("camera.disable", "camera:cam02", "malee", "10.1.1.1"),
        ("camera.add", "camera:market-01", "malee", "10.1.1.1"),
        ("camera.edit", "camera:cam02", "malee", "10.1.1.1"),
        ("camera.edit", "camera:cam01", "malee", "10.1.1.1"),
    ]
    assert entries[2].details == {"url": "rtsp://viewer:***@10.0.0.22/main", "file": "cameras.yaml"}
    assert entries[3].details == {"name": "สีลม (BTS)", "analytics_fps": 4.0, "file": "cameras.yaml"}
    assert "s3cret" not in str([e.details for e in entries])


def test_a_refused_camera_names_each_field_and_leaves_the_file_as_it_was(
    config_path: Path, store: IncidentStore
) -> None:
    _, authority, caller, _ = admin_of(store)
    admin = CameraAdmin(authority, AuditLog(store), ConfigFile(config_path))
    before = config_path.read_text(encoding="utf-8")

    def problems(form: CameraForm) -> dict[str, str]:
        with pytest.raises(CameraInvalid) as refused:
            admin.add(caller, form)
        return {p.field: p.code for p in refused.value.problems}

    assert problems(CameraForm(id="../x", url="ftp://10.0.0.9/a", analytics_fps=0, lat=91, lon=100)) == {
        "id": "id_pattern",
        "url": "url_scheme",
        "analytics_fps": "greater_than",
        "lat": "less_than_equal",
    }
    assert problems(CameraForm(id="cam01", url="rtsp://10.0.0.9/a")) == {"id": "id_taken"}
    assert problems(CameraForm(id="cam09", url="")) == {"url": "string_too_short"}
    assert problems(CameraForm(id="cam09", url="rtsp:///stream", lat=13.7)) == {
        "url": "url_host",
        "lon": "location_half",
    }
    assert problems(CameraForm(id="cam09", url="no-such-clip.mp4")) == {"url": "url_no_file"}
    assert problems(CameraForm(id="cam09", url="rtsp://u:${CAM09_UNSET}@10.0.0.9/")) == {"url": "env_unset"}
    with pytest.raises(CameraInvalid) as refused:
        admin.add(caller, CameraForm(id="cam09", url="rtsp://10.0.0.9/a", analytics_fps=31))
    (problem,) = refused.value.problems
    assert (problem.field, problem.code, problem.limits) == ("analytics_fps", "less_than_equal", {"le": 30.0})
    assert config_path.read_text(encoding="utf-8") == before
    assert [p.name for p in config_path.parent.iterdir()] == ["cameras.yaml"]  # no temporary file left
    assert AuditLog(store).entries() == []


def test_only_an_admin_with_a_live_session_changes_cameras(config_path: Path, store: IncidentStore) -> None:
    users, authority, caller, token = admin_of(store)
    admin = CameraAdmin(authority, AuditLog(store), ConfigFile(config_path))
    users.update_user("malee", role=Role.SUPERVISOR)
    with pytest.raises(ActionRefused):
        admin.set_enabled(caller, "cam01", False)
    operator = authority.caller(token, "dashboard")
    assert operator is not None
    with pytest.raises(ActionRefused):
        admin.form(operator, "cam01")
    users.update_user("malee", role=Role.ADMIN)
    users.end_session(token)
    with pytest.raises(SessionEnded):
        admin.add(caller, CameraForm(id="cam09", url="rtsp://10.0.0.9/a"))
    assert config_path.read_text(encoding="utf-8") == CONFIG and AuditLog(store).entries() == []


def test_an_edit_of_a_camera_changed_since_it_was_read_is_refused(
    config_path: Path, store: IncidentStore
) -> None:
    _, authority, caller, _ = admin_of(store)
    admin = CameraAdmin(authority, AuditLog(store), ConfigFile(config_path))
    mine = admin.form(caller, "cam01")
    theirs = admin.form(caller, "cam01")
    admin.edit(caller, CameraForm(**{**_fields(theirs), "incident_types": ("fire",)}), theirs)
    with pytest.raises(CameraChanged):
        admin.edit(caller, CameraForm(**{**_fields(mine), "name": "mine"}), mine)
    camera = load_config(config_path).cameras[0]
    assert (camera.name, camera.incident_types) == ("ถนนสีลม", ["fire"])  # theirs, not lost
    assert [e.action for e in AuditLog(store).entries()] == ["camera.edit"]


def test_a_masked_password_is_put_back_and_a_typed_one_kept() -> None:
    written = "rtsp://admin:${CAM01_PASSWORD}@10.0.0.1/sub"
    assert unmask("rtsp://admin:***@10.0.0.7/sub", written) == "rtsp://admin:${CAM01_PASSWORD}@10.0.0.7/sub"
    assert unmask("rtsp://admin:new@10.0.0.7/sub", written) == "rtsp://admin:new@10.0.0.7/sub"
    assert unmask("rtsp://admin:***@10.0.0.7/sub", None) == "rtsp://admin:***@10.0.0.7/sub"
    assert unmask("rtsp://admin:***@10.0.0.7/sub", "rtsp://10.0.0.1/sub") == "rtsp://admin:***@10.0.0.7/sub"


def _fields(form: CameraForm) -> dict:
    return {name: getattr(form, name) for name in CameraForm.__dataclass_fields__}


def test_the_api_adds_and_edits_cameras_for_admins_only(config_path: Path, store: IncidentStore) -> None:
    config = load_config(config_path)
    context = AppContext.build(config, store, password_hasher=FAST_HASHER, config_path=config_path)
    tokens = {}
    for role in (Role.ADMIN, Role.OPERATOR):
        user = context.users.add_user(f"{role.value}1", role, "password-1")
        tokens[role], _ = context.users.start_session(user)
    with TestClient(create_app(context)) as client:

        def call(method: str, path: str, role: Role, body: dict) -> httpx.Response:
            headers = {"Authorization": f"Bearer {tokens[role]}"}
            return client.request(method, f"/api/cameras{path}", json=body, headers=headers)

        new = {"id": "pier-01", "name": "ท่าเรือ", "url": "rtsp://10.0.0.9/sub", "incident_types": ["fire"]}
        assert call("POST", "", Role.OPERATOR, new).status_code == 403
        created = call("POST", "", Role.ADMIN, new)
        assert created.status_code == 201 and created.json()["name"] == "ท่าเรือ"
        assert [
            c["id"]
            for c in client.get(
                "/api/cameras", headers={"Authorization": f"Bearer {tokens[Role.OPERATOR]}"}
            ).json()
        ] == [
            "cam01",
            "cam02",
            "pier-01",
        ]  # the context follows the file: no restart
        refused = call("PUT", "/pier-01", Role.ADMIN, {**new, "url": "ftp://10.0.0.9/", "analytics_fps": 0})
        assert refused.status_code == 422
        assert {p["field"]: p["code"] for p in refused.json()["detail"]} == {
            "url": "url_scheme",
            "analytics_fps": "greater_than",
        }
        disabled = call("PUT", "/pier-01", Role.ADMIN, {**new, "enabled": False})
        assert disabled.status_code == 200 and disabled.json()["enabled"] is False
        assert call("PUT", "/nope", Role.ADMIN, new).status_code == 404
    assert load_config(config_path).cameras[-1].enabled is False
    assert [e.action for e in context.audit.entries()] == ["camera.edit", "camera.add"]
