"""Ultralytics-style YOLOv8 ONNX detectors: letterbox in, `sv.Detections` in image pixels out."""

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime
import supervision as sv

PAD_VALUE = 114
MAX_DETECTIONS = 300


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image was placed on the model's canvas, to map boxes back to the image."""

    scale: float
    pad_x: int
    pad_y: int
    width: int
    height: int


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """`image` resized to fit `size` (height, width) keeping its aspect, centred on grey 114."""
    height, width = image.shape[:2]
    target_h, target_w = size
    scale = min(target_h / height, target_w / width)
    new_w, new_h = round(width * scale), round(height * scale)
    # The same rounding as Ultralytics, so boxes match what the model saw in training.
    pad_x, pad_y = round((target_w - new_w) / 2 - 0.1), round((target_h - new_h) / 2 - 0.1)
    resized = (
        image
        if (new_w, new_h) == (width, height)
        else cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    )
    canvas = cv2.copyMakeBorder(
        resized,
        pad_y,
        target_h - new_h - pad_y,
        pad_x,
        target_w - new_w - pad_x,
        cv2.BORDER_CONSTANT,
        value=(PAD_VALUE, PAD_VALUE, PAD_VALUE),
    )
    return canvas, Letterbox(scale, pad_x, pad_y, width, height)


def empty_detections() -> sv.Detections:
    """No detections, with the same fields as a non-empty result."""
    return sv.Detections(
        xyxy=np.empty((0, 4), dtype=np.float32),
        confidence=np.empty(0, dtype=np.float32),
        class_id=np.empty(0, dtype=int),
        data={"class_name": np.empty(0, dtype=str)},
    )


class YoloDetector:
    """One YOLOv8 detection model (outputs [N, 4 + classes, anchors], no NMS inside).

    Thread-safe: ONNX Runtime sessions may be run from several threads, and the detector keeps no
    per-call state.
    """

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        class_names: list[str],
        conf_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        name: str = "",
    ) -> None:
        model_input = session.get_inputs()[0]
        batch, _, height, width = model_input.shape
        if not isinstance(height, int) or not isinstance(width, int):
            raise ValueError(f"model {name!r}: input shape {model_input.shape} has no fixed height and width")
        outputs = session.get_outputs()[0].shape
        if isinstance(outputs[1], int) and outputs[1] != 4 + len(class_names):
            raise ValueError(
                f"model {name!r}: output has {outputs[1] - 4} classes but {len(class_names)} names were given"
            )
        self.session = session
        self.class_names = list(class_names)
        self.conf_threshold = conf_threshold
        self.iou_threshold = iou_threshold
        self.name = name
        self.input_name = model_input.name
        self.input_size = (height, width)
        # Exports with a fixed batch (1 in the pack) run one image per call; dynamic ones batch.
        self.fixed_batch = batch if isinstance(batch, int) else None
        self._names = np.asarray(self.class_names, dtype=str)

    def detect(self, image: np.ndarray) -> sv.Detections:
        """Detections in one BGR image, in its own pixel coordinates."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[sv.Detections]:
        """Detections for each BGR image, in order."""
        if not images:
            return []
        placed = [letterbox(image, self.input_size) for image in images]
        blob = cv2.dnn.blobFromImages([canvas for canvas, _ in placed], scalefactor=1 / 255.0, swapRB=True)
        if self.fixed_batch is None:
            outputs = self.session.run(None, {self.input_name: blob})[0]
        else:
            step = self.fixed_batch
            outputs = np.concatenate(
                [
                    self.session.run(None, {self.input_name: blob[i : i + step]})[0]
                    for i in range(0, len(blob), step)
                ]
            )
        return [self._decode(output, box) for output, (_, box) in zip(outputs, placed, strict=True)]

    def _decode(self, output: np.ndarray, box: Letterbox) -> sv.Detections:
        """One image's raw output [4 + classes, anchors] to thresholded, NMS'd detections."""
        scores = output[4:]
        # The best score per anchor by a max over the class rows (contiguous), and the argmax only
        # for the few anchors kept: argmax along axis 0 of all 8400 anchors measured 7x slower
        # (0.83 vs 0.12 ms for 80 classes), most of the decode.
        confidence = scores.max(axis=0)
        keep = confidence >= self.conf_threshold
        if not keep.any():
            return empty_detections()
        cx, cy, w, h = output[:4, keep]
        confidence, class_id = confidence[keep], scores[:, keep].argmax(axis=0)
        # Class-aware NMS on (x, y, w, h) in canvas pixels. cv2.dnn.NMSBoxesBatched keeps the same
        # boxes as supervision's box_non_max_suppression but measured 5-10x faster on a 2-core CPU
        # (50 candidates: 0.07 vs 0.39 ms; 1000: 6 vs 58 ms), since supervision builds a full
        # IoU matrix in numpy.
        xywh = np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
        kept = cv2.dnn.NMSBoxesBatched(
            xywh, confidence, class_id, self.conf_threshold, self.iou_threshold, top_k=MAX_DETECTIONS
        )
        kept = np.asarray(kept, dtype=int).reshape(-1)
        xyxy = xywh[kept].copy()
        xyxy[:, 2:] += xyxy[:, :2]
        xyxy[:, [0, 2]] = ((xyxy[:, [0, 2]] - box.pad_x) / box.scale).clip(0, box.width)
        xyxy[:, [1, 3]] = ((xyxy[:, [1, 3]] - box.pad_y) / box.scale).clip(0, box.height)
        class_id = class_id[kept].astype(int)
        return sv.Detections(
            xyxy=xyxy.astype(np.float32),
            confidence=confidence[kept].astype(np.float32),
            class_id=class_id,
            data={"class_name": self._names[class_id]},
        )
