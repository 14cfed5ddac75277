"""The weapon detector: a YOLOv8n of our own (citywatch/training/weapon.py) finding guns and knives.

It ships in the bundled pack (citywatch/models/, `BUNDLED_MODELS_DIR`), not in the configured one,
and is verified against that pack's manifest like every other model. perception.detectors
registers it as the detector role `weapon`.
"""

from citywatch.config import ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR
from citywatch.perception.detectors import load_yolo
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.yolo import YoloDetector

WEAPON_ROLE = "weapon"
CLASSES: tuple[str, ...] = ("gun", "knife")
MODEL_PREFIX = "weapon-yolov8n"
"""Model names are `weapon-yolov8n-<input size>`; the bundled pack holds exactly one."""


def weapon_model_name(pack: ModelPack) -> str:
    """The one weapon model of `pack` (a clear error when there is none or more than one)."""
    names = sorted(name for name in pack.specs if name.startswith(MODEL_PREFIX))
    if len(names) != 1:
        raise ModelPackError(
            f"{pack.manifest_path}: expected one {MODEL_PREFIX}-<size> model, found {names or 'none'} "
            "(retrain with: python -m citywatch.training.weapon --out citywatch/models/)"
        )
    return names[0]


def load_weapon_detector(
    pack: ModelPack, settings: ModelSettings, conf_threshold: float, bundled: ModelPack | None = None
) -> YoloDetector:
    """The bundled weapon detector, sha256-verified; `pack` (the configured one) is not used:
    citywatch ships this model itself."""
    bundled = bundled or ModelPack.open(BUNDLED_MODELS_DIR)
    name = weapon_model_name(bundled)
    classes = bundled.spec(name).classes
    if classes is not None and tuple(classes) != CLASSES:
        raise ModelPackError(f"{bundled.manifest_path}: {name} classes {classes} != {list(CLASSES)}")
    return load_yolo(bundled, name, settings, conf_threshold)
