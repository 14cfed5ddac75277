"""Trains the rider head detector (heads with and without a helmet) on helmet_th; writes it into a pack.

    python -m citywatch.training.head_detector --out citywatch/models/ [--epochs 30 --imgsz 640]

Why: the no_helmet analyzer boxes a rider's head as the top fifth of the COCO person box, and on
the helmet validation frames that estimate misses the real head (IoU 0.1-0.4) or there is no COCO
person at all for small riders (scripts/eval/no_helmet_misses.py). A YOLOv8n fine-tuned on the
head boxes of helmet_th finds the heads themselves, and says helmet or not.

Same steps as the weapon detector (training/yolo_finetune.py). Data: helmet_th (CC BY 4.0), split
by `evaluation.datasets.helmet_split` (the frames `citywatch eval-data build helmet` uses are never
trained on; frames in the gap before them are left out).
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from citywatch.config import ModelSettings
from citywatch.evaluation.boxes import AP_CONF_FLOOR, score_boxes
from citywatch.evaluation.datasets import helmet_split
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_yolo
from citywatch.training.yolo_finetune import FinetuneJob, finetune_main, single_model_pack

CLASSES: tuple[str, ...] = ("helmet", "no_helmet")
"""helmet_th's classes 0 With-Helmet, 1 Without Helmet, in the same order."""
MODEL_PREFIX = "head-yolov8n"
ATTRIBUTION = (
    '"helmet-detection" v5 by Roboflow user hi-xnpr5 '
    "(https://universe.roboflow.com/hi-xnpr5/helmet-detection-zrrim/dataset/5, CC BY 4.0), via "
    "github.com/punmyidol/motorcycle-helmet-detection-YOLOV8; resized, re-encoded"
)


def build_dataset(root: Path, args: argparse.Namespace | None = None) -> tuple[Path, dict[str, Any]]:
    """The YOLO dataset in `root` (images symlinked, labels as they are) and its data.yaml."""
    counts = {"train_frames": 0, "val_frames": 0, "gap_frames_left_out": 0}
    helmet = datasets_dir() / "helmet_th"
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    for image in sorted((helmet / "images" / "train").glob("*.jpg")):
        split = helmet_split(image.name)
        if split is None:
            counts["gap_frames_left_out"] += 1
            continue
        (root / "images" / split / image.name).symlink_to(image.resolve())
        label = helmet / "labels" / "train" / f"{image.stem}.txt"
        (root / "labels" / split / label.name).write_text(label.read_text())
        counts[f"{split}_frames"] += 1
    data_yaml = root / "data.yaml"
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASSES))
    data_yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data_yaml, counts


def measure(path: Path, workdir: Path, conf: float) -> dict[str, Any]:
    """AP@0.5 of head boxes per class on the validation frames, through our ONNX Runtime detector."""
    pack = single_model_pack(path, workdir / "measure-pack", list(CLASSES))
    detector = load_yolo(pack, path.stem, ModelSettings(), conf_threshold=AP_CONF_FLOOR)
    report = score_boxes(workdir / "data", "val", detector, conf)
    return {"images": report["images"], **report["per_class"]}


JOB = FinetuneJob(
    module="head_detector",
    model_prefix=MODEL_PREFIX,
    classes=CLASSES,
    default_epochs=30,
    trained_on="../shared/datasets/helmet_th (frames helmet_split calls train)",
    data_license="CC BY 4.0: " + ATTRIBUTION,
    build_data=build_dataset,
    measure=measure,
)


def main(argv: list[str] | None = None) -> int:
    return finetune_main(JOB, __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    sys.exit(main())
