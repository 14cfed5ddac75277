"""Finding 14 of the security probe (issue 14): bad config and CLI input is a clear one-line error,
never a traceback, a silent guess or a user who can never log in."""

from pathlib import Path

import pytest

from citywatch.cli import main
from citywatch.config import ConfigError, Zone, load_config
from citywatch.services.config_file import ConfigFile
from citywatch.services.zones import save_zones, zones_of

CAMERA = "cameras:\n  - {id: cam01, url: rtsp://10.0.0.1/sub}\n"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_a_config_that_is_not_utf8_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_bytes(CAMERA.encode() + b"  - {id: cam02, name: \xff\xfe, url: rtsp://10.0.0.2/sub}\n")
    code, err = _run(capsys, "users", "list", "--config", str(config))
    assert code == 2 and "line 3 is not UTF-8" in err and "Traceback" not in err


@pytest.mark.parametrize("url", ["bogus://x", "not a url", "mysql://u@h/db"])
def test_an_unknown_database_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, err = _run(capsys, "users", "list", "--db", url)
    assert code == 2 and "--db" in err and "Traceback" not in err
    config = tmp_path / "cameras.yaml"
    config.write_text(CAMERA + f"storage: {{database_url: '{url}'}}\n")
    code, err = _run(capsys, "users", "list", "--config", str(config))
    assert code == 2 and "storage.database_url" in err


def test_a_database_folder_that_does_not_exist_is_not_invented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    code, err = _run(capsys, "users", "list", "--db", f"sqlite:///{missing / 'x.db'}")
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "no").exists()
    fresh = tmp_path / "var"  # only the file's own folder missing (a fresh var/): made
    assert _run(capsys, "users", "list", "--db", f"sqlite:///{fresh / 'x.db'}")[0] == 0
    assert (fresh / "x.db").is_file()


def test_users_add_refuses_what_the_login_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    for name in ("somchai dee", "ผู้ใช้", "a" * 65, ""):
        code, err = _run(
            capsys, "users", "add", name, "--role", "viewer", "--password", "long enough", "--db", db
        )
        assert code == 2 and "is not a user name" in err, name
    assert (
        _run(capsys, "users", "add", "admin", "--role", "admin", "--password", "long enough", "--db", db)[0]
        == 0
    )
    code, err = _run(
        capsys, "users", "add", "ADMIN", "--role", "viewer", "--password", "long enough", "--db", db
    )
    assert code == 2 and "already exists as 'admin'" in err


def test_an_unset_variable_is_an_error_not_an_empty_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CITYWATCH_TEST_UNSET", raising=False)
    config = tmp_path / "cameras.yaml"
    config.write_text(
        CAMERA + "storage: {database_url: 'postgresql+psycopg://u:${CITYWATCH_TEST_UNSET}@db/x'}\n"
    )
    with pytest.raises(
        ConfigError, match=r"storage\.database_url: environment variable CITYWATCH_TEST_UNSET is not set"
    ):
        load_config(config)
    config.write_text(CAMERA + "storage: {database_url: 'sqlite:///${CITYWATCH_TEST_UNSET:-var}/x.db'}\n")
    assert load_config(config).storage.database_url.endswith("/var/x.db")


def test_a_zone_named_like_a_variable_keeps_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/root")
    config = tmp_path / "cameras.yaml"
    config.write_text(CAMERA)
    zone = Zone(name="${HOME}", polygon=[(0.1, 0.1), (0.9, 0.1), (0.5, 0.9)])
    save_zones(ConfigFile(config), "cam01", [zone], [])
    assert load_config(config).cameras[0].zones[0].name == "${HOME}"
    assert zones_of(ConfigFile(config), "cam01") == [zone]
