"""The model pack: a folder of ONNX files described by `manifest.json`.

Every file is checked against the sha256 in the manifest before it is used, so a missing or
altered model is a clear error naming the file instead of silently wrong detections.
"""

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from citywatch.paths import models_dir

MANIFEST_NAME = "manifest.json"
_REQUIRED_KEYS = ("name", "file", "sha256", "task")
_HASH_CHUNK = 1 << 20


class ModelPackError(RuntimeError):
    """A model pack that cannot be used; the message names the manifest or model file."""


@dataclass(frozen=True)
class ModelSpec:
    """One model as the manifest describes it.

    `classes` is None when the manifest gives no list but a description instead (for Ultralytics
    exports: "the full list is in the model's own metadata key 'names'"); the detector loader then
    reads them from the model (see `runtime.metadata_class_names`).
    """

    name: str
    file: str
    sha256: str
    task: str
    license: str = ""
    source: str = ""
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    classes: list[str] | None = None


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks (model files are megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _spec_from_entry(entry: Any, manifest: Path, index: int) -> ModelSpec:
    if not isinstance(entry, dict):
        raise ModelPackError(f"{manifest}: models[{index}] must be an object")
    missing = [key for key in _REQUIRED_KEYS if not isinstance(entry.get(key), str) or not entry[key]]
    if missing:
        raise ModelPackError(f"{manifest}: models[{index}] lacks {', '.join(missing)}")
    classes = entry.get("classes")
    return ModelSpec(
        name=entry["name"],
        file=entry["file"],
        sha256=entry["sha256"].lower(),
        task=entry["task"],
        license=str(entry.get("license", "")),
        source=str(entry.get("source", "")),
        input=dict(entry.get("input") or {}),
        output=dict(entry.get("output") or {}),
        # A prose description of the classes (not a list) means "read them from the model".
        classes=[str(c) for c in classes] if isinstance(classes, list) else None,
    )


# (resolved file, sha256) pairs already checked in this process: each file is hashed once, however
# many packs, detectors or cameras use it.
_VERIFIED: set[tuple[Path, str]] = set()
_VERIFIED_LOCK = threading.Lock()


class ModelPack:
    """One model pack folder as its manifest describes it; open it with `ModelPack.open`."""

    def __init__(self, root: Path, specs: dict[str, ModelSpec]) -> None:
        self.root = root
        self.specs = specs

    @classmethod
    def open(cls, path: Path | None = None) -> Self:
        """Read `manifest.json` in `path` (the configured pack when None)."""
        root = Path(path).resolve() if path is not None else models_dir()
        manifest = root / MANIFEST_NAME
        try:
            document = json.loads(manifest.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelPackError(f"{manifest}: model pack manifest not found") from None
        except OSError as exc:
            raise ModelPackError(f"{manifest}: cannot read manifest: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise ModelPackError(f"{manifest}: malformed JSON at line {exc.lineno}: {exc.msg}") from None
        models = document.get("models") if isinstance(document, dict) else None
        if not isinstance(models, list):
            raise ModelPackError(f"{manifest}: expected an object with a 'models' list")
        specs: dict[str, ModelSpec] = {}
        for index, entry in enumerate(models):
            spec = _spec_from_entry(entry, manifest, index)
            if spec.name in specs:
                raise ModelPackError(f"{manifest}: model {spec.name!r} is listed twice")
            specs[spec.name] = spec
        return cls(root, specs)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    def spec(self, name: str) -> ModelSpec:
        try:
            return self.specs[name]
        except KeyError:
            known = ", ".join(sorted(self.specs)) or "none"
            raise ModelPackError(f"{self.manifest_path}: unknown model {name!r} (known: {known})") from None

    def verified_path(self, name: str) -> Path:
        """The model file, after checking it exists and matches the manifest's sha256."""
        spec = self.spec(name)
        path = self.root / spec.file
        key = (path.resolve(), spec.sha256)
        with _VERIFIED_LOCK:
            if key in _VERIFIED:
                return path
        if not path.is_file():
            raise ModelPackError(f"model {name!r}: file {path} is missing (expected sha256 {spec.sha256})")
        actual = sha256_of(path)
        if actual != spec.sha256:
            raise ModelPackError(
                f"model {name!r}: file {path} is altered: sha256 expected {spec.sha256}, actual {actual}"
            )
        with _VERIFIED_LOCK:
            _VERIFIED.add(key)
        return path

    def verify_all(self) -> list[tuple[str, bool, str]]:
        """(name, ok, message) for every model, for `citywatch models verify`."""
        results: list[tuple[str, bool, str]] = []
        for name in self.specs:
            try:
                path = self.verified_path(name)
            except ModelPackError as exc:
                results.append((name, False, str(exc)))
            else:
                results.append((name, True, f"{path}: sha256 OK"))
        return results
