"""The rider head detector: a YOLOv8n of our own (citywatch/training/rider_heads.py) boxing heads
with and without a helmet on street CCTV.

The no_helmet analyzer used to guess the head from the top of a COCO person box; on small, distant
riders that guess lands beside the head. This detector finds the head itself. It ships in the bundled
pack (perception.bundled_detectors); perception.detectors registers it as the detector role
`rider_heads`, run only on frames where the COCO model saw a two-wheeler.
"""

from citywatch.config import ModelSettings
from citywatch.perception.bundled_detectors import load_bundled_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.yolo import YoloDetector

RIDER_HEADS_ROLE = "rider_heads"
CLASSES: tuple[str, ...] = ("with_helmet", "without_helmet")
"""Named so that evaluation.boxes matches them to helmet_th's and helmet_idn's `With-Helmet` and
`Without Helmet`."""
BOX_FLOOR = 0.1
"""Boxes below this never leave the detector. Lower than other detectors' 0.25: a small model scores
tiny bare heads low, and the no_helmet analyzer's `min_head_confidence` (its operating point on the
precision-recall curve, docs/ACCURACY.md) is what decides; `sensitivity: high` may go below 0.25."""
MODEL_PREFIX = "rider-heads-yolov8n"
RETRAIN = "python -m citywatch.training.rider_heads --out citywatch/models/"


def load_rider_head_detector(
    pack: ModelPack, settings: ModelSettings, conf_threshold: float, bundled: ModelPack | None = None
) -> YoloDetector:
    """The bundled rider head detector, sha256-verified (`pack`, the configured one, is not used)."""
    return load_bundled_detector(MODEL_PREFIX, CLASSES, RETRAIN, settings, conf_threshold, bundled)
