"""Loading `cameras.yaml`: environment variables expanded, every mistake a ConfigError naming the
file, the camera and the key, relative paths resolved against the config's folder."""

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from citywatch.config.base import ConfigError
from citywatch.config.settings import CitywatchConfig

_ENV_PATTERN = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
"""`${VAR}`, `${VAR:-default}`; `$${...}` is the literal text `${...}` (how the zone editor writes a
name that holds one)."""


def escape_env(text: str) -> str:
    """`text` written so that loading the config gives it back as it is (no variable expanded)."""
    return text.replace("${", "$${")


def _expand_env(value: Any, where: str, unset: list[str]) -> Any:
    """`value` with every `${VAR}` replaced; a variable without a default that is not set is added
    to `unset` (with the key it is in) instead of silently becoming empty."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            escaped, name, default = match.groups()
            if escaped:
                return match.group(0)[1:]
            if name in os.environ:
                return os.environ[name]
            if default is None:
                hint = f"${{{name}:-default}}"
                unset.append(f"{where}: environment variable {name} is not set (or write {hint})")
                return ""
            return default

        return _ENV_PATTERN.sub(replace, value)
    if isinstance(value, list):
        return [_expand_env(v, f"{where}[{i}]", unset) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{where}.{k}" if where else str(k), unset) for k, v in value.items()}
    return value


def expand_env(raw: Any, source: str, where: str = "") -> Any:
    """`raw` (parsed YAML) with its environment variables expanded as a config is; ConfigError
    naming each variable that is not set."""
    unset: list[str] = []
    expanded = _expand_env(raw, where, unset)
    if unset:
        raise ConfigError("\n".join(f"{source}: key {line}" for line in unset))
    return expanded


def _location_of(error: dict[str, Any], raw: dict[str, Any]) -> str:
    """'camera 'cam02' (cameras[1]) key analytics_fps' from a pydantic error location."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "cameras" and isinstance(loc[1], int):
        index = loc[1]
        cameras = raw.get("cameras") or []
        camera_id = (
            cameras[index].get("id") if index < len(cameras) and isinstance(cameras[index], dict) else None
        )
        rest = ".".join(str(p) for p in loc[2:]) or "(the camera entry)"
        return f"camera {camera_id!r} (cameras[{index}]), key {rest}"
    return "key " + (".".join(str(p) for p in loc) or "(top level)")


def parse_config(raw: Any, source: str = "<config>", base_dir: Path | None = None) -> CitywatchConfig:
    """Validate an already-parsed YAML document; `source` names it in errors."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, not {type(raw).__name__}")
    raw = expand_env(raw, source)
    try:
        config = CitywatchConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{source}: {_location_of(err, raw)}: {err['msg']}" for err in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
    config = _resolve_paths(config, base_dir or Path.cwd())
    picture = config.ui.map_image.path if config.ui.map_image is not None else None
    if picture is not None and not picture.is_file():
        raise ConfigError(f"{source}: key ui.map_image.path: no picture at {picture}")
    return config


def load_config(path: str | Path) -> CitywatchConfig:
    """Read and validate a cameras.yaml; every problem is a ConfigError naming file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: line {line} is not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    return parse_config(raw, source=str(path), base_dir=path.resolve().parent)


def _is_local_path(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _resolve_paths(config: CitywatchConfig, base: Path) -> CitywatchConfig:
    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else (base / p).resolve()

    cameras = []
    for camera in config.cameras:
        url = camera.url.removeprefix("file://") if camera.url.startswith("file://") else camera.url
        if _is_local_path(camera.url):
            url = str(resolve(Path(url)))
        cameras.append(camera.model_copy(update={"url": url}))
    db_url = config.storage.database_url
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        relative = db_url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            db_url = f"sqlite:///{resolve(Path(relative))}"
    storage = config.storage.model_copy(
        update={"database_url": db_url, "evidence_dir": resolve(config.storage.evidence_dir)}
    )
    models = config.models
    if models.path is not None:
        models = models.model_copy(update={"path": resolve(models.path)})
    ui, picture = config.ui, config.ui.map_image
    if picture is not None:
        ui = ui.model_copy(update={"map_image": picture.model_copy(update={"path": resolve(picture.path)})})
    return config.model_copy(update={"cameras": cameras, "storage": storage, "models": models, "ui": ui})
