"""Detector boxes against YOLO labels: precision, recall and AP at IoU 0.5 per class.

The metrics are supervision's (`Precision`, `Recall`, `MeanAveragePrecision`, COCO-style), not
our own. AP uses every box the detector gives above a very low confidence; precision and recall
are at `conf` (the operating point). Dataset classes are matched to model classes by name
(case and `-`/`_`/space ignored); a dataset class the model lacks is listed and not scored.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import supervision as sv
import yaml

from citywatch.perception.yolo import YoloDetector

AP_CONF_FLOOR = 0.001
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class BoxDatasetError(ValueError):
    """A YOLO dataset folder that cannot be read; the message names the file."""


@dataclass(frozen=True, slots=True, eq=False)
class YoloImage:
    image: Path
    boxes: np.ndarray
    """(n, 5): class, cx, cy, w, h normalised, as in the label file."""


def _key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name.lower())


def dataset_class_names(folder: Path) -> list[str]:
    path = folder / "data.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BoxDatasetError(f"{path}: not found (--boxes needs a YOLO dataset folder)") from None
    names = document.get("names") if isinstance(document, dict) else None
    if isinstance(names, dict):
        return [str(names[i]) for i in sorted(names)]
    if isinstance(names, list):
        return [str(n) for n in names]
    raise BoxDatasetError(f"{path}: no 'names' list or mapping")


def read_split(folder: Path, split: str) -> list[YoloImage]:
    images_dir = folder / "images" / split
    if not images_dir.is_dir():
        raise BoxDatasetError(f"{images_dir}: no such split folder")
    items = []
    for image in sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        label = folder / "labels" / split / f"{image.stem}.txt"
        text = label.read_text(encoding="utf-8") if label.is_file() else ""
        rows = [line.split() for line in text.splitlines() if line.strip()]
        if any(len(r) != 5 for r in rows):
            raise BoxDatasetError(f"{label}: every line must be 'class cx cy w h'")
        items.append(YoloImage(image, np.array(rows, dtype=np.float64).reshape(-1, 5)))
    if not items:
        raise BoxDatasetError(f"{images_dir}: no images")
    return items


def class_mapping(dataset_names: list[str], model_names: list[str]) -> dict[int, int]:
    """Dataset class id -> model class id, for the classes both name."""
    model_ids = {_key(n): i for i, n in enumerate(model_names)}
    return {i: model_ids[_key(n)] for i, n in enumerate(dataset_names) if _key(n) in model_ids}


def targets_of(item: YoloImage, width: int, height: int, mapping: dict[int, int]) -> sv.Detections:
    keep = [row for row in item.boxes if int(row[0]) in mapping]
    if not keep:
        return sv.Detections.empty()
    rows = np.array(keep)
    cx, cy, w, h = (rows[:, 1] * width, rows[:, 2] * height, rows[:, 3] * width, rows[:, 4] * height)
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return sv.Detections(xyxy=xyxy, class_id=np.array([mapping[int(c)] for c in rows[:, 0]]))


def score_boxes(folder: Path, split: str, detector: YoloDetector, conf: float) -> dict[str, Any]:
    """Per dataset class: targets, predictions at `conf`, precision, recall, AP@0.5.

    Load `detector` with `conf_threshold=AP_CONF_FLOOR` so that AP sees the whole ranking.
    """
    names = dataset_class_names(folder)
    mapping = class_mapping(names, detector.class_names)
    if not mapping:
        raise BoxDatasetError(
            f"{folder}: no class of {names} is a class of model {detector.name!r} ({detector.class_names})"
        )
    predictions, operating, targets = [], [], []
    for item in read_split(folder, split):
        image = cv2.imread(str(item.image), cv2.IMREAD_COLOR)
        if image is None:
            raise BoxDatasetError(f"{item.image}: not a readable image")
        found = detector.detect(image)
        found = found[np.isin(found.class_id, list(mapping.values()))]
        predictions.append(found)
        operating.append(found[found.confidence >= conf])
        targets.append(targets_of(item, image.shape[1], image.shape[0], mapping))
    ap = sv.metrics.MeanAveragePrecision().update(predictions, targets).compute()
    precision = sv.metrics.Precision().update(operating, targets).compute()
    recall = sv.metrics.Recall().update(operating, targets).compute()
    per_class: dict[str, Any] = {}
    for dataset_id, name in enumerate(names):
        model_id = mapping.get(dataset_id)
        per_class[name] = {
            "model_class": None if model_id is None else detector.class_names[model_id],
            "targets": int(sum(int(np.sum(t.class_id == model_id)) for t in targets if len(t))),
            "predictions": int(sum(int(np.sum(p.class_id == model_id)) for p in operating if len(p))),
            "precision": _at_50(precision.precision_per_class, precision.matched_classes, model_id),
            "recall": _at_50(recall.recall_per_class, recall.matched_classes, model_id),
            "ap50": _at_50(ap.ap_per_class, ap.matched_classes, model_id),
        }
    return {
        "dataset": str(folder),
        "split": split,
        "images": len(targets),
        "model": detector.name,
        "conf": conf,
        "per_class": per_class,
    }


def _at_50(table: np.ndarray, classes: np.ndarray, model_id: int | None) -> float | None:
    """The IoU-0.5 column of a per-class table, for one class (None: class not scored or absent)."""
    if model_id is None:
        return None
    rows = np.flatnonzero(np.asarray(classes) == model_id)
    if not len(rows) or not len(table):
        return None
    value = float(table[rows[0], 0])
    return None if value < 0 else round(value, 4)


def boxes_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"boxes: {report['model']} on {report['dataset']} ({report['split']}, {report['images']} images), "
        f"precision/recall at confidence {report['conf']}",
        "",
        "| class | model class | targets | predictions | precision@0.5 | recall@0.5 | AP@0.5 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in report["per_class"].items():
        cells = ["-" if s[k] is None else f"{s[k]:.3f}" for k in ("precision", "recall", "ap50")]
        lines.append(
            f"| {name} | {s['model_class'] or '(none)'} | {s['targets']} | {s['predictions']} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)
