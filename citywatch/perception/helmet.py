"""The helmet classifier: a small CNN of our own (citywatch/training/helmet.py) judging head crops.

Crop geometry and pixel layout live here, and training imports them, so the model sees at run
time exactly what it was trained on.
"""

from collections.abc import Sequence

import cv2
import numpy as np
import onnxruntime

from citywatch.config import ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.runtime import create_session
from citywatch.perception.second_stage import register_second_stage

MODEL_NAME = "helmet-classifier"
CLASSES = ("helmet", "no_helmet")
NO_HELMET = CLASSES.index("no_helmet")
INPUT_SIZE = 32
"""Crops are resized to INPUT_SIZE x INPUT_SIZE: CCTV heads are mostly 5-25 px wide."""
CROP_MARGIN = 1.5
"""The crop is a square of CROP_MARGIN x the head's longer side, so the helmet's rim and some
background are in view even when the head box is a little off."""
HEAD_CENTRE_Y = 0.10
HEAD_SIDE = 0.20
"""Head centre below the person box top, and head side, as fractions of the person box height.
Measured on helmet_th, labelled heads inside COCO person boxes: median centre 0.095, height 0.21,
width 0.18 of the box height (width is a poor guide: arms and handlebars widen riders' boxes)."""


def person_head_boxes(person_xyxy: np.ndarray) -> np.ndarray:
    """Head boxes (xyxy) estimated at the top of person boxes, as the no_helmet analyzer finds heads."""
    boxes = np.asarray(person_xyxy, dtype=np.float32).reshape(-1, 4)
    height = boxes[:, 3] - boxes[:, 1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = boxes[:, 1] + HEAD_CENTRE_Y * height
    half = HEAD_SIDE * height / 2
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)


def crop_boxes(head_boxes_xyxy: np.ndarray) -> np.ndarray:
    """The square crop regions (xyxy, image pixels) that the classifier looks at for head boxes."""
    boxes = np.asarray(head_boxes_xyxy, dtype=np.float32).reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])[:, None] * CROP_MARGIN / 2
    return np.concatenate([centres - half, centres + half], axis=1)


def crop_square(image: np.ndarray, region_xyxy: Sequence[float]) -> np.ndarray:
    """`region` of a BGR image as an INPUT_SIZE square RGB crop; outside the image is edge-replicated."""
    x1, y1, x2 = (float(v) for v in region_xyxy[:3])
    side = max(x2 - x1, 1.0)
    scale = INPUT_SIZE / side
    # One affine warp does crop, border and resize together, with sub-pixel placement.
    matrix = np.array([[scale, 0, -x1 * scale], [0, scale, -y1 * scale]], dtype=np.float32)
    crop = cv2.warpAffine(
        image, matrix, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)


def to_blob(crops: Sequence[np.ndarray]) -> np.ndarray:
    """RGB uint8 crops (INPUT_SIZE square) to the model input: float32 NCHW, 0..1."""
    return np.ascontiguousarray(np.stack(crops).transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


class HelmetClassifier:
    """Helmet / no helmet for head boxes; the ONNX model outputs softmax probabilities [N, 2].

    Thread-safe (keeps no per-call state), so one instance serves every camera.
    """

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        model_input = session.get_inputs()[0]
        if list(model_input.shape[1:]) != [3, INPUT_SIZE, INPUT_SIZE]:
            raise ModelPackError(
                f"{MODEL_NAME}: input shape {model_input.shape} is not [N, 3, {INPUT_SIZE}, {INPUT_SIZE}]"
            )
        self.session = session
        self.input_name = model_input.name

    @classmethod
    def from_pack(cls, settings: ModelSettings, pack: ModelPack | None = None) -> "HelmetClassifier":
        """The classifier shipped with citywatch (the bundled pack), its sha256 checked first."""
        pack = pack or ModelPack.open(BUNDLED_MODELS_DIR)
        spec = pack.spec(MODEL_NAME)
        if spec.classes is not None and tuple(spec.classes) != CLASSES:
            raise ModelPackError(f"{pack.manifest_path}: {MODEL_NAME} classes {spec.classes} != {CLASSES}")
        return cls(create_session(pack.verified_path(MODEL_NAME), settings))

    def probabilities(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """[N, 2] probabilities (helmet, no_helmet) for RGB INPUT_SIZE crops, in one batch."""
        if not crops:
            return np.empty((0, len(CLASSES)), dtype=np.float32)
        return self.session.run(None, {self.input_name: to_blob(crops)})[0]

    def classify(self, image: np.ndarray, head_boxes_xyxy: np.ndarray) -> tuple[list[str], np.ndarray]:
        """For the head boxes of a BGR image, in one batch: each one's label and the [N, 2]
        probabilities (helmet, no_helmet)."""
        regions = crop_boxes(head_boxes_xyxy)
        probabilities = self.probabilities([crop_square(image, region) for region in regions])
        return [CLASSES[i] for i in probabilities.argmax(axis=1)], probabilities


register_second_stage("helmet", HelmetClassifier.from_pack)
