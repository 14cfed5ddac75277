"""Trains the fall detector (boxes of fallen people) on ../shared/datasets/fall; writes it into a pack.

    python -m citywatch.training.fall_detector --out citywatch/models/ [--epochs 30 --imgsz 416]

Why a detector: on the care-home ceiling views of the fall set the pack's COCO model finds only
about 40 % of the people lying on the floor, so the pose path (MoveNet on person crops, then the
fall-pose classifier) never sees most falls, and MoveNet's own whole-frame people bring junk. A
YOLOv8n fine-tuned on the set's `fall` boxes looks for the fallen posture itself.

Same steps as the weapon detector (training/yolo_finetune.py: the pack's COCO YOLOv8n as the
start, offline Ultralytics, every connection refused and counted, ONNX export without NMS), on:

- `../shared/datasets/fall` (CC BY 4.0), class `fall` (2) only: the other ten classes (bed,
  patient, lie, sit, ...) are dropped, so people in bed, sitting or standing are background.
  Split **by camera**: frames of `evaluation.datasets.FALL_VAL_SOURCES` (the cameras of
  `citywatch eval-data build fall`) are never trained on; they are measured once, at the end.
- Thai street frames of `../shared/datasets/helmet_th` (CC BY 4.0, its training split only) as
  background images, so that the detector learns riders and pedestrians are not falls: it runs on
  street cameras too.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from citywatch.config import ModelSettings
from citywatch.evaluation.boxes import AP_CONF_FLOOR, score_boxes
from citywatch.evaluation.datasets import FALL_CLASS, FALL_VAL_SOURCES, fall_source, helmet_split
from citywatch.paths import datasets_dir
from citywatch.perception.fall_detector import CLASSES, MODEL_PREFIX
from citywatch.perception.yolo_loader import load_yolo
from citywatch.training.yolo_finetune import FinetuneJob, finetune_main, single_model_pack

STREET_BACKGROUND_IMAGES = 80
"""helmet_th training frames added as background (every other one of the split, in name order)."""
ATTRIBUTION = (
    '"hospital_bed" v3 by Roboflow workspace aiapplications, '
    "https://universe.roboflow.com/aiapplications/hospital_bed-qt6yg/dataset/3 (CC BY 4.0), via "
    "github.com/Rvbaghel/Fall_Detection_Computer_Vision; subsampled, re-encoded, classes other than "
    'fall dropped | "helmet-detection" v5 by Roboflow user hi-xnpr5 (CC BY 4.0), via '
    "github.com/punmyidol/motorcycle-helmet-detection-YOLOV8; resized, re-encoded, used as background"
)


def build_dataset(root: Path, args: argparse.Namespace | None = None) -> tuple[Path, dict[str, Any]]:
    """The YOLO dataset in `root` (images symlinked, labels rewritten to the one class) and its
    data.yaml, with the number of images of each part."""
    counts = {"train_fall_frames": 0, "train_other_frames": 0, "train_street_background": 0, "val_frames": 0}
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    fall = datasets_dir() / "fall"
    for image in sorted((fall / "images" / "train").glob("*.jpg")):
        label = fall / "labels" / "train" / f"{image.stem}.txt"
        rows = [line.split() for line in label.read_text().splitlines() if line.strip()]
        kept = ["0 " + " ".join(r[1:]) + "\n" for r in rows if int(r[0]) == FALL_CLASS]
        split = "val" if fall_source(image.name) in FALL_VAL_SOURCES else "train"
        _add(root, split, f"fall_{image.stem}", image, "".join(kept))
        key = "val_frames" if split == "val" else ("train_fall_frames" if kept else "train_other_frames")
        counts[key] += 1
    helmet = datasets_dir() / "helmet_th" / "images" / "train"
    street = [p for p in sorted(helmet.glob("*.jpg")) if helmet_split(p.name) == "train"]
    for image in street[::2][:STREET_BACKGROUND_IMAGES]:
        _add(root, "train", f"street_{image.stem}", image, "")
        counts["train_street_background"] += 1
    data_yaml = root / "data.yaml"
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASSES))
    data_yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data_yaml, counts


def _add(root: Path, split: str, name: str, image: Path, label: str) -> None:
    (root / "images" / split / f"{name}.jpg").symlink_to(image.resolve())
    (root / "labels" / split / f"{name}.txt").write_text(label)


def measure(path: Path, workdir: Path, conf: float) -> dict[str, Any]:
    """AP@0.5 of `fall` boxes on the held-out cameras, through our ONNX Runtime detector."""
    pack = single_model_pack(path, workdir / "measure-pack", list(CLASSES))
    detector = load_yolo(pack, path.stem, ModelSettings(), conf_threshold=AP_CONF_FLOOR)
    report = score_boxes(workdir / "data", "val", detector, conf)
    return {"cameras": sorted(FALL_VAL_SOURCES), "images": report["images"], **report["per_class"]["fall"]}


JOB = FinetuneJob(
    module="fall_detector",
    model_prefix=MODEL_PREFIX,
    classes=CLASSES,
    default_epochs=30,
    trained_on="../shared/datasets/fall (train split minus the cameras of FALL_VAL_SOURCES; fall boxes only) "
    "+ helmet_th training frames as background",
    data_license="CC BY 4.0: " + ATTRIBUTION,
    build_data=build_dataset,
    measure=measure,
)


def main(argv: list[str] | None = None) -> int:
    return finetune_main(JOB, __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    sys.exit(main())
