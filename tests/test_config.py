from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from citywatch.analytics.base import relaxed_for_single_frame, thresholds_at_frame_rate
from citywatch.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "cameras.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_and_resolves_shared_videos() -> None:
    config = load_config(EXAMPLE)
    assert [c.id for c in config.cameras] == ["street-01", "lobby-01", "market-01"]
    for camera in config.cameras:
        assert Path(camera.url).is_file(), camera.url
    assert config.cameras[2].zones[0].polygon[2] == (1.0, 1.0)
    assert config.storage.database_url.startswith("sqlite:////")
    assert config.storage.evidence_dir.is_absolute()


def test_example_notifications_block_is_valid_once_uncommented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# notifications:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("# "))
    for name in ("CITYWATCH_LINK_SECRET", "CITYWATCH_WEBHOOK_SECRET", "CITYWATCH_LINE_TOKEN"):
        monkeypatch.setenv(name, f"{name.lower()}-from-the-environment")
    notifications = load_config(write(tmp_path, "\n".join(block))).notifications
    assert notifications.channel_names() == ["mqtt", "line", "command-centre"]
    assert notifications.webhooks[0].secret == "citywatch_webhook_secret-from-the-environment"
    assert notifications.routes[0].channels == ["mqtt"]


def test_unknown_key_names_file_camera_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cameras:\n  - id: cam-a\n    url: a.mp4\n  - id: cam-b\n    url: b.mp4\n    analytic_fps: 2\n",
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    assert "camera 'cam-b' (cameras[1])" in message
    assert "analytic_fps" in message


def test_bad_value_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras:\n  - id: cam-a\n    url: a.mp4\n    analytics_fps: -1\n")
    with pytest.raises(
        ConfigError, match=r"camera 'cam-a' \(cameras\[0\]\), key analytics_fps: .*greater than 0"
    ):
        load_config(path)


def test_unknown_incident_type_and_zone_outside_frame(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cameras:\n  - id: cam-a\n    url: a.mp4\n    incident_types: [fire, riot]\n"
        "    zones: [{name: z, polygon: [[0, 0], [1.5, 0], [1, 1]]}]\n",
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "key incident_types.1" in message
    assert "zones.0.polygon.1.0" in message


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras:\n  - id: cam-a\n    url: [unclosed\n")
    with pytest.raises(ConfigError, match=r"cameras\.yaml: malformed YAML at line \d+"):
        load_config(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_duplicate_camera_ids_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras:\n  - {id: a, url: x.mp4}\n  - {id: a, url: y.mp4}\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_config(path)


def test_env_expansion_and_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_VIDEOS", "/videos")
    path = write(
        tmp_path,
        "storage: {database_url: 'sqlite:///data/cw.db', evidence_dir: ev}\n"
        "cameras:\n  - {id: a, url: '${CW_VIDEOS}/a.mp4'}\n  - {id: b, url: 'rel/b.mp4'}\n"
        "  - {id: c, url: 'rtsp://${CW_HOST:-10.0.0.5}:554/live'}\n",
    )
    config = load_config(path)
    assert config.cameras[0].url == "/videos/a.mp4"
    assert config.cameras[1].url == str(tmp_path / "rel" / "b.mp4")
    assert config.cameras[2].url == "rtsp://10.0.0.5:554/live"
    assert config.storage.database_url == f"sqlite:///{tmp_path / 'data' / 'cw.db'}"
    assert config.storage.evidence_dir == tmp_path / "ev"


def test_fire_persistence_must_fit_window(tmp_path: Path) -> None:
    path = write(tmp_path, "thresholds: {fire: {persist_frames: 6, window_frames: 5}}\n")
    with pytest.raises(ConfigError, match=r"key thresholds\.fire: .*persist_frames must not exceed"):
        load_config(path)


def test_type_priority_names_each_detection_type_at_most_once(tmp_path: Path) -> None:
    path = write(tmp_path, "models: {type_priority: [fire, weapon, fire]}\ncameras: []\n")
    with pytest.raises(ConfigError, match=r"key models\.type_priority: .*listed more than once"):
        load_config(path)
    path = write(tmp_path, "models: {type_priority: [fire, camera_offline]}\ncameras: []\n")
    with pytest.raises(ConfigError, match=r"key models\.type_priority\.1: "):
        load_config(path)


def test_persistence_counts_are_scaled_to_a_cameras_frame_rate(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "thresholds: {weapon: {persist_frames: 3, window_frames: 5, counted_at_fps: 1}}\n"
        "cameras: [{id: cam, url: x.mp4, analytics_fps: 5, incident_types: [fire, weapon, fight]}]\n",
    )
    config = load_config(path)
    scaled = thresholds_at_frame_rate(config.thresholds_for(config.cameras[0]), 5)
    assert (scaled.fire.persist_frames, scaled.fire.window_frames) == (10, 15)  # 4 of 6 at 2 fps
    assert (scaled.weapon.persist_frames, scaled.weapon.window_frames) == (15, 25)  # as configured, at 1 fps
    assert (scaled.fight.persist_frames, scaled.fight.window_frames) == (2, 3)  # counted at 5 fps already
    slow = thresholds_at_frame_rate(config.thresholds, 0.5)
    assert (slow.fire.persist_frames, slow.fire.window_frames) == (1, 2)  # one frame would be a still image
    still = thresholds_at_frame_rate(relaxed_for_single_frame(config.thresholds), 5)
    assert (still.fire.persist_frames, still.fire.window_frames) == (1, 1)  # a still image stays one


def test_camera_sensitivity_picks_the_measured_points_and_keeps_explicit_values(tmp_path: Path) -> None:
    from citywatch.config import NoHelmetThresholds, WeaponThresholds

    config = load_config(
        write(
            tmp_path,
            """
cameras:
  - {id: quiet, url: a.mp4, incident_types: [weapon, no_helmet], sensitivity: low}
  - {id: busy, url: b.mp4, incident_types: [weapon, no_helmet], sensitivity: high}
  - {id: plain, url: c.mp4, incident_types: [weapon]}
  - id: tuned
    url: d.mp4
    sensitivity: high
    thresholds: {weapon: {min_confidence: 0.77}}
""",
        )
    )
    quiet, busy, plain, tuned = (config.thresholds_for(c) for c in config.cameras)
    for kind, model in (("weapon", WeaponThresholds), ("no_helmet", NoHelmetThresholds)):
        field = "min_confidence" if kind == "weapon" else "min_head_confidence"
        low, high = model.SENSITIVITY["low"][field], model.SENSITIVITY["high"][field]
        normal = model.model_fields[field].default
        assert high < normal < low
        assert getattr(getattr(quiet, kind), field) == low
        assert getattr(getattr(busy, kind), field) == high
        assert getattr(getattr(plain, kind), field) == normal
    assert tuned.weapon.min_confidence == 0.77  # set by the camera: kept
    assert (
        tuned.no_helmet.min_head_confidence == NoHelmetThresholds.SENSITIVITY["high"]["min_head_confidence"]
    )
    with pytest.raises(ConfigError, match="sensitivity"):
        load_config(write(tmp_path, "cameras:\n  - {id: x, url: a.mp4, sensitivity: max}\n"))


def test_a_camera_time_zone_defaults_to_the_installations_and_must_be_known(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            "api: {timezone: Asia/Tokyo}\n"
            "cameras:\n  - {id: hq, url: a.mp4}\n  - {id: phuket, url: b.mp4, timezone: Asia/Bangkok}\n",
        )
    )
    hq, phuket = config.cameras
    assert hq.timezone is None and config.timezone_for(hq) == ZoneInfo("Asia/Tokyo")
    assert config.timezone_for(phuket) == ZoneInfo("Asia/Bangkok")
    plain = load_config(write(tmp_path, "cameras: [{id: a, url: a.mp4}]\n"))
    assert plain.timezone_for(plain.cameras[0]) == ZoneInfo("Asia/Bangkok")  # api.timezone's default
    path = write(tmp_path, "cameras:\n  - {id: cam-a, url: a.mp4, timezone: Asia/Bankok}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f"{path}: camera 'cam-a' (cameras[0]), key timezone: Value error, unknown time zone 'Asia/Bankok'"
    )


def test_an_unquoted_quiet_hour_is_refused_not_read_as_minutes(tmp_path: Path) -> None:
    """YAML 1.1 reads `start: 16:00` as the number 960, which pydantic took as 00:16: quiet hours
    that silently began at a quarter past midnight. Times of day must be quoted, as shifts' are."""
    path = tmp_path / "c.yaml"
    route = "notifications:\n  line:\n    channel_access_token: t\n    to: [U1]\n    quiet_hours:\n"
    path.write_text(route + "      start: 16:00\n      end: '06:00'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"quiet_hours.start.*write the time in quotes"):
        load_config(path)
    path.write_text(route + "      start: '16:00'\n      end: '06:00'\n", encoding="utf-8")
    assert str(load_config(path).notifications.line.quiet_hours.start) == "16:00:00"
