"""Cameras as admins add, edit, disable and enable them from the dashboard or the API
(`CameraAdmin`, Task.MANAGE_CAMERAS), each change audited.

Changes go into the config file through its one writer (services.config_file: comments and
`${VAR}` references kept, the whole file validated, replaced atomically, then applied to the running
pipeline and the pages by the file's listeners). Only the fields a form changed are written, so a
field the admin left alone keeps its `${VAR}` as written. A camera is checked by the config's own
model (`CameraConfig`) and, for a URL the admin typed, by `url_problem`; every problem names its
field and a code (`FieldProblem`), so a form shows it beside the field in the user's language.
Stream passwords are never given back: a form's URL has its password masked (`***`, as the logs
write it), and a URL that still holds the mask keeps the password the file has.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from citywatch.config import CameraConfig, ConfigError, escape_env, expand_env
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
from citywatch.video.source import redact_url

STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
"""What a camera URL may start with (else it is a local video file, `file://` or a path)."""
MASK = "***"


def _default(name: str) -> Any:
    return CameraConfig.model_fields[name].get_default(call_default_factory=True)


@dataclass(frozen=True, slots=True)
class CameraForm:
    """What an admin edits of a camera; the rest of its entry (zones, thresholds...) is kept."""

    id: str
    name: str = ""
    url: str = ""
    """As written in the file (a `${VAR}` stays one), its password masked when read for a form."""
    lat: float | None = None
    lon: float | None = None
    incident_types: tuple[str, ...] = field(default_factory=lambda: tuple(_default("incident_types")))
    analytics_fps: float = field(default_factory=lambda: float(_default("analytics_fps")))
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    """The CameraForm field at fault (`lat`, `lon` for the location), else the key of the entry."""
    code: str
    """The config model's error type (e.g. `greater_than`, `string_too_short`) or one of this
    module's: `id_pattern`, `id_taken`, `url_scheme`, `url_host`, `url_no_file`, `location_half`."""
    limits: dict[str, Any]
    """The numbers the message names (`gt`, `le`, `min_length`...)."""
    message: str
    """In English, for the API and the log."""


class CameraInvalid(ConfigFileError):
    """The camera was not saved: `problems` says which field and why (the file is unchanged)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class CameraChanged(ConfigChanged):
    """Someone else changed this camera since the form read it (the file is unchanged)."""


class CameraNotFound(ConfigFileError):
    """The file has no camera with this id."""


def unmask(url: str, written: str | None) -> str:
    """`url` from a form, with the password `written` has put back where the form shows the mask."""
    if written is None or f":{MASK}@" not in url:
        return url
    rest = written.partition("://")[2]
    userinfo = rest.partition("/")[0].rpartition("@")[0]
    password = userinfo.partition(":")[2]
    return url.replace(f":{MASK}@", f":{password}@", 1) if password else url


def url_problem(url: str, base_dir: Path) -> FieldProblem | None:
    """What is wrong with a camera URL an admin typed (expanded), None when nothing: a stream needs a
    known scheme and a host; a local video file (a path, relative to the config's folder, or
    `file://`) must exist on this machine."""
    scheme, separator, rest = url.partition("://")
    if separator and scheme.lower() != "file":
        if scheme.lower() not in STREAM_SCHEMES:
            known = ", ".join(f"{s}://" for s in STREAM_SCHEMES)
            return FieldProblem("url", "url_scheme", {"schemes": known}, f"use {known} or a video file path")
        if not urlsplit(url).hostname:
            return FieldProblem("url", "url_host", {}, "the URL names no host")
        return None
    path = Path(rest if separator else url).expanduser()
    if not (path if path.is_absolute() else base_dir / path).is_file():
        return FieldProblem("url", "url_no_file", {}, f"no video file {path} on this machine")
    return None


def _problems(error: ValidationError) -> list[FieldProblem]:
    problems = []
    for detail in error.errors():
        loc = [str(part) for part in detail["loc"]]
        name = loc[1] if loc[0] == "location" and len(loc) > 1 else loc[0]
        code = "id_pattern" if (name, detail["type"]) == ("id", "value_error") else detail["type"]
        limits = {k: v for k, v in (detail.get("ctx") or {}).items() if isinstance(v, int | float | str)}
        problems.append(FieldProblem(name, code, limits, detail["msg"]))
    return problems


def _form_of(entry: Any, source: str) -> CameraForm:
    """The form of a camera entry of the file: its values as the pipeline reads them, its URL as
    written with the password masked."""
    try:
        camera = CameraConfig.model_validate(expand_env(dict(entry), source, f"camera {entry.get('id')!r}"))
    except (ConfigError, ValidationError) as exc:
        raise ConfigFileError(str(exc)) from None
    location = camera.location
    return CameraForm(
        id=camera.id,
        name=camera.name,
        url=redact_url(str(entry.get("url", ""))),
        lat=location.lat if location else None,
        lon=location.lon if location else None,
        incident_types=tuple(camera.incident_types),
        analytics_fps=camera.analytics_fps,
        enabled=camera.enabled,
    )


def _write(entry: CommentedMap, form: CameraForm, current: CameraForm | None) -> list[str]:
    """Write into `entry` each field of `form` that differs from `current` (all, for a new one);
    returns their names."""
    changed = [
        f.name
        for f in fields(CameraForm)
        if current is None or getattr(form, f.name) != getattr(current, f.name)
    ]
    for name in changed:
        if name == "id":
            _put(entry, "id", form.id)
        elif name == "name":
            _put(entry, "name", escape_env(form.name))  # a name with ${...} in it is a name, not a variable
        elif name == "url":
            _put(entry, "url", unmask(form.url, entry.get("url")))  # a ${VAR} typed here is one
        elif name in ("lat", "lon"):
            _write_location(entry, form)
        elif name == "incident_types":
            _put(entry, "incident_types", flow(list(form.incident_types)))
        elif name == "analytics_fps":
            fps = form.analytics_fps  # a form's empty number is None: the model says what it needs
            whole = isinstance(fps, int | float) and float(fps).is_integer()
            _put(entry, "analytics_fps", int(fps) if whole else fps)
        elif name == "enabled":
            _put(entry, "enabled", form.enabled)
    return changed


_KEY_ORDER = ("id", "name", "url", "location", "incident_types", "analytics_fps", "enabled")
"""Where a key the entry has not yet goes: after the last of those before it here."""


def _put(entry: CommentedMap, key: str, value: Any) -> None:
    if key not in entry:
        keys = list(entry)
        before = _KEY_ORDER[: _KEY_ORDER.index(key)]
        entry.insert(max((keys.index(k) + 1 for k in before if k in entry), default=0), key, value)
    else:
        entry[key] = value


def _write_location(entry: CommentedMap, form: CameraForm) -> None:
    if form.lat is None and form.lon is None:
        entry.pop("location", None)
        return
    location = entry.get("location")
    if not isinstance(location, CommentedMap):
        location = CommentedMap()
        location.fa.set_flow_style()
        _put(entry, "location", location)
    location["lat"], location["lon"] = form.lat, form.lon


def _check(entry: CommentedMap, form: CameraForm, url_changed: bool, config_file: ConfigFile) -> None:
    """CameraInvalid naming each field at fault in the written entry."""
    problems = []
    if (form.lat is None) != (form.lon is None):
        missing = "lat" if form.lat is None else "lon"
        problems.append(FieldProblem(missing, "location_half", {}, "give both latitude and longitude"))
    try:
        expanded = expand_env(dict(entry), str(config_file.path), f"camera {form.id!r}")
    except ConfigError as exc:
        problems.append(FieldProblem("url", "env_unset", {}, str(exc)))
        raise CameraInvalid(problems) from None
    try:
        CameraConfig.model_validate(expanded)
    except ValidationError as exc:
        problems += [p for p in _problems(exc) if p.field not in {q.field for q in problems}]
    if url_changed and not any(p.field == "url" for p in problems):
        problem = url_problem(str(expanded.get("url", "")), config_file.path.resolve().parent)
        problems += [problem] if problem else []
    if problems:
        raise CameraInvalid(problems)


class CameraAdmin:
    """Adds, edits, disables and enables the cameras of the config file (Task.MANAGE_CAMERAS):
    each change with the credential checked as it is then, audited."""

    def __init__(self, authority: Authority, audit: AuditLog, config_file: ConfigFile | None) -> None:
        """`config_file`: the file cameras are saved into; None when there is none (read-only)."""
        self._authority = authority
        self._audit = audit
        self._file = config_file

    @property
    def file_name(self) -> str | None:
        """The name of the file changes go to; None when cameras are read-only."""
        return self._file.name if self._file is not None else None

    def form(self, caller: Caller, camera_id: str) -> CameraForm:
        """The camera as the file has it now (an edit starts from this); CameraNotFound."""
        permit(caller, Task.MANAGE_CAMERAS)
        config_file = self._writable()
        entry = camera_entry(config_file.document(), camera_id)
        if entry is None:
            raise CameraNotFound(f"{config_file.name} has no camera {camera_id!r}")
        return _form_of(entry, str(config_file.path))

    def add(self, caller: Caller, form: CameraForm) -> Saved:
        """Append a camera to the file. Raises CameraInvalid (`id_taken` for an id in use)."""
        config_file = self._writable()
        actor = self._authority.current(caller, Task.MANAGE_CAMERAS).actor

        def change(document: CommentedMap) -> None:
            if camera_entry(document, form.id) is not None:
                raise CameraInvalid([FieldProblem("id", "id_taken", {}, f"camera id {form.id!r} is in use")])
            entry = CommentedMap()
            _write(entry, form, None)
            _check(entry, form, True, config_file)
            if not isinstance(document.get("cameras"), list):
                document["cameras"] = CommentedSeq()
            document["cameras"].append(entry)

        saved = config_file.edit(change)
        self._record(caller, actor, "camera.add", form.id, _details(form, None))
        return saved

    def edit(self, caller: Caller, form: CameraForm, expected: CameraForm) -> Saved:
        """Write the fields of `form` that differ from `expected` (the form as read), if the file
        still has the camera as `expected` (else CameraChanged). Raises CameraInvalid."""
        config_file = self._writable()
        actor = self._authority.current(caller, Task.MANAGE_CAMERAS).actor
        changed: list[str] = []

        def change(document: CommentedMap) -> None:
            entry = camera_entry(document, expected.id)
            if entry is None:
                raise CameraNotFound(f"{config_file.name} has no camera {expected.id!r}")
            current = _form_of(entry, str(config_file.path))
            if current != expected:
                raise CameraChanged(f"camera {expected.id} was changed by someone else since it was read")
            changed[:] = _write(entry, CameraForm(**{**_values(form), "id": expected.id}), current)
            _check(entry, form, "url" in changed, config_file)

        saved = config_file.edit(change)
        self._record(caller, actor, "camera.edit", expected.id, _details(form, changed))
        return saved

    def set_enabled(self, caller: Caller, camera_id: str, enabled: bool) -> Saved:
        """Enable or disable the camera (`enabled` in the file; a disabled camera is not opened)."""
        config_file = self._writable()
        actor = self._authority.current(caller, Task.MANAGE_CAMERAS).actor

        def change(document: CommentedMap) -> None:
            entry = camera_entry(document, camera_id)
            if entry is None:
                raise CameraNotFound(f"{config_file.name} has no camera {camera_id!r}")
            entry["enabled"] = enabled

        saved = config_file.edit(change)
        self._record(caller, actor, "camera.enable" if enabled else "camera.disable", camera_id, {})
        return saved

    def _writable(self) -> ConfigFile:
        if self._file is None:
            raise ConfigFileError("cameras are read-only: citywatch serve runs without a config file")
        return self._file

    def _record(
        self, caller: Caller, actor: str, action: str, camera_id: str, details: dict[str, Any]
    ) -> None:
        assert self._file is not None
        self._audit.record(
            actor, action, f"camera:{camera_id}", caller.ip, details | {"file": self._file.name}
        )


def _values(form: CameraForm) -> dict[str, Any]:
    return {f.name: getattr(form, f.name) for f in fields(CameraForm)}


def _details(form: CameraForm, changed: list[str] | None) -> dict[str, Any]:
    """The audit entry's details: the fields written (all for a new camera), the URL's password masked."""
    values = _values(form) | {"url": redact_url(form.url), "incident_types": list(form.incident_types)}
    return {name: values[name] for name in (changed if changed is not None else values)}
