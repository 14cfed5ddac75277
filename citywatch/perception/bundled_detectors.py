"""Detectors we train ourselves (citywatch/training/), shipped in the bundled pack (citywatch/models/).

Each is named `<prefix>-<input size>` and the bundled pack holds exactly one per prefix; it is
verified against that pack's manifest like every other model, and its classes must be the ones
the analyzers expect. The configured pack (`models.path`) is not consulted: citywatch ships these.
"""

from citywatch.config import ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.yolo import YoloDetector
from citywatch.perception.yolo_loader import load_yolo


def bundled_model_name(pack: ModelPack, prefix: str, retrain: str) -> str:
    """The one `prefix-<size>` model of `pack` (a clear error naming `retrain`, the command that
    builds it, when there is none or more than one)."""
    names = sorted(name for name in pack.specs if name.startswith(f"{prefix}-"))
    if len(names) != 1:
        raise ModelPackError(
            f"{pack.manifest_path}: expected one {prefix}-<size> model, found {names or 'none'} "
            f"(retrain with: {retrain})"
        )
    return names[0]


def load_bundled_detector(
    prefix: str,
    classes: tuple[str, ...],
    retrain: str,
    settings: ModelSettings,
    conf_threshold: float,
    bundled: ModelPack | None = None,
) -> YoloDetector:
    """The bundled `prefix` detector, sha256-verified, with exactly `classes`."""
    bundled = bundled or ModelPack.open(BUNDLED_MODELS_DIR)
    name = bundled_model_name(bundled, prefix, retrain)
    found = bundled.spec(name).classes
    if found is not None and tuple(found) != classes:
        raise ModelPackError(f"{bundled.manifest_path}: {name} classes {found} != {list(classes)}")
    return load_yolo(bundled, name, settings, conf_threshold)
