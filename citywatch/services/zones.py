"""A camera's zones, as admins edit them (`Zones`): saved into the config file through its one
writer (services.config_file: comments and `${VAR}` kept, the whole file validated, replaced
atomically, then applied to the running pipeline and the pages by the file's listeners), each save
audited."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from citywatch.config import ConfigError, Zone, escape_env, expand_env
from citywatch.services.config_file import (
    ConfigChanged,
    ConfigFile,
    ConfigFileError,
    Saved,
    camera_entry,
    flow,
)
from citywatch.services.permissions import Authority, Caller, Task, permit
from citywatch.storage.audit import AuditLog

ZoneFileError = ConfigFileError
"""The zones could not be saved (the name the zone editor catches)."""


class ZonesChanged(ConfigChanged):
    """Someone else saved this camera's zones since the editor read them (the file is unchanged)."""


def _zone_node(zone: Zone) -> CommentedMap:
    node = CommentedMap()
    node["name"] = escape_env(zone.name)  # a name with ${...} in it is a name, not a variable
    node["polygon"] = flow([flow([round(x, 4), round(y, 4)]) for x, y in zone.polygon])
    if zone.incident_types is not None:
        node["incident_types"] = flow(list(zone.incident_types))
    return node


def _zones_in(document: Any, camera_id: str, source: str) -> list[Zone]:
    camera = camera_entry(document, camera_id)
    if camera is None:
        return []
    try:
        zones = expand_env(list(camera.get("zones") or []), source, f"camera {camera_id!r} zones")
    except ConfigError as exc:
        raise ConfigFileError(str(exc)) from None
    return [Zone.model_validate(zone) for zone in zones]


def zones_of(config_file: ConfigFile, camera_id: str) -> list[Zone]:
    """The camera's zones as the file has them now (the editor starts from these)."""
    return _zones_in(config_file.document(), camera_id, str(config_file.path))


def save_zones(config_file: ConfigFile, camera_id: str, zones: list[Zone], expected: list[Zone]) -> Saved:
    """Replace the `zones` of camera `camera_id` in the config file, if they are still `expected`
    (what the editor started from; else ZonesChanged, so that one admin's save never silently drops
    another's). Raises ConfigFileError."""

    def change(document: CommentedMap) -> None:
        camera = camera_entry(document, camera_id)
        if camera is None:
            raise ConfigFileError(f"{config_file.path} has no camera {camera_id!r}")
        if _zones_in(document, camera_id, str(config_file.path)) != expected:
            raise ZonesChanged(f"the zones of {camera_id} were changed by someone else since they were read")
        if zones:
            camera["zones"] = [_zone_node(zone) for zone in zones]
        else:
            camera.pop("zones", None)

    return config_file.edit(change)


class Zones:
    """The zone editor's service (Task.EDIT_ZONES): zones read from the config file, saved into it
    with the credential checked as it is then, each save audited."""

    def __init__(self, authority: Authority, audit: AuditLog, config_file: ConfigFile | None) -> None:
        """`config_file`: the file the zones are saved into; None when there is none (read-only)."""
        self._authority = authority
        self._audit = audit
        self._file = config_file

    @property
    def file_name(self) -> str | None:
        """The name of the file saves go to; None when zones are read-only."""
        return self._file.name if self._file is not None else None

    def of(self, caller: Caller, camera_id: str, configured: list[Zone]) -> list[Zone]:
        """The camera's zones as the file has them now (`configured`, those the running config
        has, when there is no file)."""
        permit(caller, Task.EDIT_ZONES)
        return zones_of(self._file, camera_id) if self._file is not None else list(configured)

    def save(self, caller: Caller, camera_id: str, zones: list[Zone], expected: list[Zone]) -> Saved:
        """`save_zones`, if the caller's credential allows it now (else SessionEnded or
        ActionRefused), audited. Raises ZonesChanged or ConfigFileError (the file is unchanged)."""
        if self._file is None:
            raise ConfigFileError("zones are read-only: citywatch serve runs without a config file")
        actor = self._authority.current(caller, Task.EDIT_ZONES).actor
        saved = save_zones(self._file, camera_id, zones, expected)
        details = {"zones": [zone.name for zone in zones], "file": self._file.name}
        self._audit.record(actor, "zones.save", f"camera:{camera_id}", caller.ip, details)
        return saved
