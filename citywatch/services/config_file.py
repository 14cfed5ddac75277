"""The config file as the dashboard changes it (`ConfigFile`): the one writer of `cameras.yaml` for
every service that edits it (the zone editor, the camera admin).

An edit is a YAML round trip (ruamel.yaml) that keeps every other key, the comments and `${VAR}`
references as written; the whole new file is validated with citywatch.config before it replaces the
old one, atomically (a crash leaves the old or the new file, never half of one). Edits take turns
(`_SAVING`: every editor of a dashboard runs in its `serve` process). After a save the file's
listeners get the new config, still in turn, so that the running pipeline and the pages apply it
without a restart; the composition root (citywatch/app.py) wires them, the services know no runtime.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from citywatch.config import CitywatchConfig, ConfigError, parse_config

log = logging.getLogger(__name__)

_SAVING = threading.Lock()

Listener = Callable[[CitywatchConfig], Collection[str]]
"""Applies a saved config; returns the ids of the cameras whose change it could not apply now
(they take it when citywatch next starts)."""


class ConfigFileError(ValueError):
    """The change could not be saved; the message says why (the file is unchanged)."""


class ConfigChanged(ConfigFileError):
    """Someone else saved what the editor started from since it was read (the file is unchanged)."""


@dataclass(frozen=True, slots=True)
class Saved:
    config: CitywatchConfig
    """The config as the file has it now."""
    pending: frozenset[str] = frozenset()
    """Cameras whose change applies only when citywatch next starts (a listener said so)."""


def _yaml(text: str) -> YAML:
    """A round-trip YAML that writes `text`'s document back with its own indentation."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(**_indentation(text))
    return yaml


def _indentation(text: str) -> dict[str, int]:
    """How `text` indents a mapping in a mapping (`mapping`) and a list's dash under its key
    (`offset`; its items' keys are two further in: `sequence`), from the first of each; for one it
    has not, the style of examples/cameras.yaml (2, dashes indented 2)."""
    mapping = offset = None
    parent: int | None = None  # the indent of the line before, when it was a key with nothing after it
    for line in text.splitlines():
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        indent = len(line) - len(content)
        if parent is not None and content.startswith("- ") and offset is None and indent >= parent:
            offset = indent - parent
        elif parent is not None and not content.startswith("- ") and mapping is None and indent > parent:
            mapping = indent - parent
        parent = indent if content.rstrip().endswith(":") and not content.startswith("- ") else None
    offset = 2 if offset is None else offset
    return {"mapping": mapping or 2, "sequence": offset + 2, "offset": offset}


def flow(values: list[Any]) -> CommentedSeq:
    """A YAML list written on one line (`[a, b]`), as people write corners and types."""
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def camera_entry(document: Any, camera_id: str) -> CommentedMap | None:
    """The entry of camera `camera_id` in a loaded config document, None when it has none."""
    cameras = document.get("cameras") if isinstance(document, dict) else None
    return next((c for c in cameras or [] if isinstance(c, dict) and c.get("id") == camera_id), None)


class ConfigFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._listeners: list[Listener] = []

    @property
    def name(self) -> str:
        return self.path.name

    def listen(self, listener: Listener) -> None:
        """Call `listener` with the new config after each save (in the saving thread, in turn)."""
        self._listeners.append(listener)

    def document(self) -> Any:
        """The file as plain YAML data, variables not expanded."""
        try:
            return YAML(typ="safe").load(self.path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigFileError(f"cannot read {self.path}: {exc.strerror}") from None

    def edit(self, change: Callable[[CommentedMap], None]) -> Saved:
        """Load the file keeping its comments, let `change` edit the document in place (it may
        raise a ConfigFileError, e.g. ConfigChanged, to leave the file as it is), validate the whole
        result, replace the file with it and tell the listeners. Raises ConfigFileError."""
        with _SAVING:
            try:
                original = self.path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigFileError(f"cannot read {self.path}: {exc.strerror}") from None
            yaml = _yaml(original)
            document = yaml.load(original)
            if document is None:
                document = CommentedMap()
            change(document)
            out = io.StringIO()
            yaml.dump(document, out)
            text = out.getvalue()
            try:
                config = parse_config(
                    YAML(typ="safe").load(text), source=str(self.path), base_dir=self.path.resolve().parent
                )
            except ConfigError as exc:
                raise ConfigFileError(str(exc)) from None
            _write_atomically(self.path, text)
            return Saved(config, frozenset(self._tell(config)))

    def _tell(self, config: CitywatchConfig) -> set[str]:
        pending: set[str] = set()
        for listener in self._listeners:
            try:
                pending |= set(listener(config))
            except Exception:  # the file is saved; one listener failing must not keep it from the others
                log.exception("applying the saved %s failed in %r", self.name, listener)
                pending |= {camera.id for camera in config.cameras}
        return pending


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
