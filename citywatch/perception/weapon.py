"""The weapon detector: a YOLOv8n of our own (citywatch/training/weapon.py) finding guns and knives.

It ships in the bundled pack (perception.bundled_detectors); perception.detectors registers it as
the detector role `weapon`.
"""

from citywatch.config import ModelSettings
from citywatch.perception.bundled_detectors import bundled_model_name, load_bundled_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.yolo import YoloDetector

WEAPON_ROLE = "weapon"
CLASSES: tuple[str, ...] = ("gun", "knife")
MODEL_PREFIX = "weapon-yolov8n"
"""Model names are `weapon-yolov8n-<input size>`; the bundled pack holds exactly one."""
RETRAIN = "python -m citywatch.training.weapon --out citywatch/models/"


def weapon_model_name(pack: ModelPack) -> str:
    """The one weapon model of `pack` (a clear error when there is none or more than one)."""
    return bundled_model_name(pack, MODEL_PREFIX, RETRAIN)


def load_weapon_detector(
    pack: ModelPack, settings: ModelSettings, conf_threshold: float, bundled: ModelPack | None = None
) -> YoloDetector:
    """The bundled weapon detector, sha256-verified; `pack` (the configured one) is not used:
    citywatch ships this model itself."""
    return load_bundled_detector(MODEL_PREFIX, CLASSES, RETRAIN, settings, conf_threshold, bundled)
