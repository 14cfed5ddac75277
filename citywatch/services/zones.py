"""A camera's zones, as admins edit them (`Zones`): saved into the config file by a YAML round trip
(ruamel.yaml) that keeps every other key, the comments and `${VAR}` references as written; the
whole new file is validated with citywatch.config before it replaces the old one, atomically (a
crash leaves the old or the new file, never half of one). The pipeline reads zones when it
starts."""

from __future__ import annotations

import io
import os
import tempfile
import threading
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from citywatch.config import ConfigError, Zone, escape_env, expand_env, parse_config
from citywatch.services.permissions import Authority, Caller, Task, permit
from citywatch.storage.audit import AuditLog

_SAVING = threading.Lock()


class ZoneFileError(ValueError):
    """The zones could not be saved; the message says why (the file is unchanged)."""


class ZonesChanged(ZoneFileError):
    """Someone else saved this camera's zones since the editor read them (the file is unchanged)."""


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _flow(values: list[float]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _zone_node(zone: Zone) -> CommentedMap:
    node = CommentedMap()
    node["name"] = escape_env(zone.name)  # a name with ${...} in it is a name, not a variable
    node["polygon"] = _flow([_flow([round(x, 4), round(y, 4)]) for x, y in zone.polygon])
    if zone.incident_types is not None:
        node["incident_types"] = _flow(list(zone.incident_types))
    return node


def save_zones(config_path: Path, camera_id: str, zones: list[Zone], expected: list[Zone]) -> None:
    """Replace the `zones` of camera `camera_id` in the config file, if they are still `expected`
    (what the editor started from; else ZonesChanged, so that one admin's save never silently drops
    another's). Saves take turns (`_SAVING`: every zone editor of a dashboard runs in its `serve`
    process). Raises ZoneFileError."""
    with _SAVING:
        if zones_of(config_path, camera_id) != expected:
            raise ZonesChanged(f"the zones of {camera_id} were changed by someone else since they were read")
        _replace_zones(config_path, camera_id, zones)


def _replace_zones(config_path: Path, camera_id: str, zones: list[Zone]) -> None:
    yaml = _yaml()
    try:
        document = yaml.load(config_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ZoneFileError(f"cannot read {config_path}: {exc.strerror}") from None
    cameras = document.get("cameras") if isinstance(document, dict) else None
    camera = next((c for c in cameras or [] if isinstance(c, dict) and c.get("id") == camera_id), None)
    if camera is None:
        raise ZoneFileError(f"{config_path} has no camera {camera_id!r}")
    if zones:
        camera["zones"] = [_zone_node(zone) for zone in zones]
    else:
        camera.pop("zones", None)
    out = io.StringIO()
    yaml.dump(document, out)
    text = out.getvalue()
    try:
        parse_config(YAML(typ="safe").load(text), source=str(config_path), base_dir=config_path.parent)
    except ConfigError as exc:
        raise ZoneFileError(str(exc)) from None
    _write_atomically(config_path, text)


def _write_atomically(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def zones_of(config_path: Path, camera_id: str) -> list[Zone]:
    """The camera's zones as the file has them now (the editor starts from these)."""
    document = YAML(typ="safe").load(config_path.read_text(encoding="utf-8")) or {}
    for index, camera in enumerate(document.get("cameras") or []):
        if isinstance(camera, dict) and camera.get("id") == camera_id:
            zones = expand_env(camera.get("zones") or [], str(config_path), f"cameras[{index}].zones")
            return [Zone.model_validate(zone) for zone in zones]
    return []


class Zones:
    """The zone editor's service (Task.EDIT_ZONES): zones read from the config file, saved into it
    with the credential checked as it is then, each save audited."""

    def __init__(self, authority: Authority, audit: AuditLog, config_path: Path | None) -> None:
        """`config_path`: the file the zones are saved into; None when there is none (read-only)."""
        self._authority = authority
        self._audit = audit
        self._path = config_path

    @property
    def file_name(self) -> str | None:
        """The name of the file saves go to; None when zones are read-only."""
        return self._path.name if self._path is not None else None

    def of(self, caller: Caller, camera_id: str, configured: list[Zone]) -> list[Zone]:
        """The camera's zones as the file has them now (`configured`, those the running config
        has, when there is no file)."""
        permit(caller, Task.EDIT_ZONES)
        return zones_of(self._path, camera_id) if self._path is not None else list(configured)

    def save(self, caller: Caller, camera_id: str, zones: list[Zone], expected: list[Zone]) -> None:
        """`save_zones`, if the caller's credential allows it now (else SessionEnded or
        ActionRefused), audited. Raises ZonesChanged or ZoneFileError (the file is unchanged)."""
        if self._path is None:
            raise ZoneFileError("zones are read-only: citywatch serve runs without a config file")
        actor = self._authority.current(caller, Task.EDIT_ZONES).actor
        save_zones(self._path, camera_id, zones, expected)
        details = {"zones": [zone.name for zone in zones], "file": self._path.name}
        self._audit.record(actor, "zones.save", f"camera:{camera_id}", caller.ip, details)
