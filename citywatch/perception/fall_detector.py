"""The fall detector: a YOLOv8n of our own (citywatch/training/fall_detector.py) boxing people who
lie fallen, on the floor, in care-home ceiling views.

The COCO model finds few people lying on a floor seen from above, so MoveNet on their crops never
runs; this detector looks for the fallen posture itself. It ships in the bundled pack
(perception.bundled_detectors); perception.detectors registers it as the detector role `fall_detector`.
"""

from citywatch.config import ModelSettings
from citywatch.perception.bundled_detectors import load_bundled_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.yolo import YoloDetector

FALL_ROLE = "fall_detector"
CLASSES: tuple[str, ...] = ("fall",)
MODEL_PREFIX = "fall-yolov8n"
RETRAIN = "python -m citywatch.training.fall_detector --out citywatch/models/"


def load_fall_detector(
    pack: ModelPack, settings: ModelSettings, conf_threshold: float, bundled: ModelPack | None = None
) -> YoloDetector:
    """The bundled fall detector, sha256-verified (`pack`, the configured one, is not used)."""
    return load_bundled_detector(MODEL_PREFIX, CLASSES, RETRAIN, settings, conf_threshold, bundled)
