"""Trains the rider head detector (heads with and without a helmet) on helmet_th and helmet_idn.

    python -m citywatch.training.rider_heads --out citywatch/models/ [--epochs 30 --imgsz 640]

Why a detector: the no_helmet analyzer guessed a rider's head from the top fifth of a COCO person
box, and on distant riders (heads 8-12 px wide at 640x360) the guess sits beside the head, or the
COCO model finds no person at all (docs/ACCURACY.md, no_helmet). A YOLOv8n fine-tuned on the labelled
head boxes finds the head and says helmet or not in one pass.

Why its own model and not two more classes of the weapon detector: the two sets label different
things in different pictures (the weapon images have unlabelled heads, the street frames unlabelled
weapons), so one model trained on both learns each set's objects as the other's background; and
the weapon detector's recipe is a GPU run while this one trains on two CPU cores in under an hour.
It runs only on frames where the COCO model sees a two-wheeler, and the weapon detector only where
it sees a person, so on a street camera the two rarely both run (docs/BENCHMARKS.md).

Same steps as the weapon detector (training/yolo_finetune.py), on:

- `../shared/datasets/helmet_th` (CC BY 4.0): training frames of `evaluation.datasets.helmet_split`
  (the validation stretch and the gap are never trained on);
- `../shared/datasets/helmet_idn` (CC BY 4.0): the camera positions not in
  `evaluation.datasets.HELMET_IDN_VAL_SOURCES` (split by camera, as its README asks);

classes `With-Helmet` -> `with_helmet`, `Without Helmet` -> `without_helmet`; helmet_idn's
`motorcycle` boxes are dropped (helmet_th does not label motorcycles, and COCO finds them).
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from citywatch.config import ModelSettings
from citywatch.evaluation.boxes import AP_CONF_FLOOR, score_boxes
from citywatch.evaluation.datasets import helmet_idn_sources, helmet_idn_split, helmet_split
from citywatch.paths import datasets_dir
from citywatch.perception.rider_heads import CLASSES, MODEL_PREFIX
from citywatch.perception.yolo_loader import load_yolo
from citywatch.training.yolo_finetune import (
    FinetuneJob,
    finetune_main,
    label_file,
    single_model_pack,
    val_subset,
)

KEPT_CLASSES = {0: 0, 1: 1}
"""Source class -> our class (the same order in both sets); helmet_idn's 2 (motorcycle) is dropped."""
SOURCE_CLASSES = ("With-Helmet", "Without Helmet")
"""The two head classes as both sets' data.yaml name them."""
TRAIN_REPEATS = {"helmet_th": 1, "helmet_idn": 1}
ATTRIBUTION = (
    '"helmet-detection" v5 by Roboflow user hi-xnpr5 (CC BY 4.0), via '
    "github.com/punmyidol/motorcycle-helmet-detection-YOLOV8; resized, re-encoded | "
    '"helmonzy" v5 by Roboflow user ta-zwiyos, https://universe.roboflow.com/ta-zwiyos/helmonzy '
    "(CC BY 4.0), via github.com/baiq99/LAI25-SM028; subset, re-encoded, labels converted from VOC"
)


def split_images() -> dict[str, dict[str, list[Path]]]:
    """{dataset: {'train': [...], 'val': [...]}} by the split rules of evaluation.datasets."""
    th = sorted((datasets_dir() / "helmet_th" / "images" / "train").glob("*.jpg"))
    idn = sorted((datasets_dir() / "helmet_idn" / "images" / "all").glob("*.jpg"))
    sources = helmet_idn_sources()
    splits: dict[str, dict[str, list[Path]]] = {"helmet_th": {}, "helmet_idn": {}}
    for image in th:
        split = helmet_split(image.name)
        if split is not None:
            splits["helmet_th"].setdefault(split, []).append(image)
    for image in idn:
        splits["helmet_idn"].setdefault(helmet_idn_split(sources, image.name), []).append(image)
    return splits


def build_dataset(root: Path, args: argparse.Namespace | None = None) -> tuple[Path, dict[str, Any]]:
    """The YOLO dataset in `root` (images symlinked, labels remapped) and its data.yaml, with counts."""
    counts: dict[str, int] = {}
    for dataset, splits in split_images().items():
        for split, images in splits.items():
            (root / "images" / split).mkdir(parents=True, exist_ok=True)
            (root / "labels" / split).mkdir(parents=True, exist_ok=True)
            copies = TRAIN_REPEATS[dataset] if split == "train" else 1
            for image in images:
                label = label_file(image)
                rows = [line.split() for line in label.read_text().splitlines() if line.strip()]
                kept = [[str(KEPT_CLASSES[int(r[0])]), *r[1:]] for r in rows if int(r[0]) in KEPT_CLASSES]
                for copy in range(copies):
                    name = f"{dataset}{copy or ''}_{image.stem}"
                    (root / "images" / split / f"{name}.jpg").symlink_to(image.resolve())
                    (root / "labels" / split / f"{name}.txt").write_text(
                        "".join(" ".join(r) + "\n" for r in kept)
                    )
                for cls in (0, 1):
                    key = f"{dataset}_{split}_{CLASSES[cls]}_boxes"
                    counts[key] = counts.get(key, 0) + sum(1 for r in kept if r[0] == str(cls))
            counts[f"{dataset}_{split}_images"] = len(images)
    data_yaml = root / "data.yaml"
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASSES))
    data_yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data_yaml, counts


def measure(path: Path, workdir: Path, conf: float) -> dict[str, Any]:
    """AP@0.5 per class on each set's held-out frames, through our ONNX Runtime detector."""
    pack = single_model_pack(path, workdir / "measure-pack", list(CLASSES))
    detector = load_yolo(pack, path.stem, ModelSettings(), conf_threshold=AP_CONF_FLOOR)
    results: dict[str, Any] = {}
    for dataset, splits in split_images().items():
        subset = workdir / f"val-{dataset}"
        val_subset(datasets_dir() / dataset, splits["val"], subset)
        report = score_boxes(subset, "val", detector, conf)
        per_class = {name: report["per_class"][name] for name in SOURCE_CLASSES}
        results[dataset] = {"images": report["images"], **per_class}
    return results


JOB = FinetuneJob(
    module="rider_heads",
    model_prefix=MODEL_PREFIX,
    classes=CLASSES,
    default_epochs=30,
    trained_on="../shared/datasets/helmet_th (training frames of evaluation.datasets.helmet_split) + "
    "../shared/datasets/helmet_idn (camera positions outside HELMET_IDN_VAL_SOURCES); head boxes",
    data_license="CC BY 4.0: " + ATTRIBUTION,
    build_data=build_dataset,
    measure=measure,
)


def main(argv: list[str] | None = None) -> int:
    return finetune_main(JOB, __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    sys.exit(main())
