"""Trains the weapon detector (gun, knife) on the shared gun and knife_cctv sets; writes it into a pack.

    python -m citywatch.training.weapon --out citywatch/models/ [--epochs 20 --imgsz 416]

Needs the `[train-yolo]` extra (torch, torchvision, ultralytics: AGPL-3.0, used here at training
time only; nothing at run time imports them). Steps:

1. Pretrained start: the pack's COCO YOLOv8n (`coco-yolov8n-int8-640.onnx`, weights dynamically
   quantized to uint8 by ONNX Runtime) is dequantized (`w = (q - zero_point) * scale`) into an
   Ultralytics YOLOv8n built from its yaml. The ONNX holds the *fused* model (batch norm folded
   into each convolution, the fused bias named `<layer>.conv.bias`), so each Conv's batch norm is
   re-created from data: one pass over training images records every convolution's per-channel
   mean and variance, and the BN gets those as running statistics with weight sqrt(var + eps) and
   bias mean + fused bias. In eval mode that BN adds exactly the fused bias, and in train mode it
   still reproduces the fused layer (batch statistics match the recorded ones), so fine-tuning
   starts from the COCO features instead of from a scale-reset network. The transfer is checked
   before training: the converted model must find the same persons and cars on a street frame as
   the ONNX model (`check_transfer`).
2. Data: a YOLO dataset in a temporary folder, images symlinked from ../shared/datasets (never
   copied), labels rewritten to our classes: gun 0 -> `gun`, knife_cctv 0 -> `knife`. knife_cctv's
   `person` boxes are dropped: the gun images have unlabelled people in most frames, so a person
   class would be trained against contradicting negatives, and people come from the COCO model.
   `blunt` has no labelled data in ../shared/datasets; the weapon analyzer takes it from COCO
   `baseball bat` detections.
3. Training (on the CPU; `--device 0` on a local GPU; or `--stage`, then `training.yolo_train` on a
   GPU machine without citywatch, see training/yolo_finetune.py) with the datasets' own train
   splits, validation on their val splits (the given ones; CCTV frames of the same gun cameras
   Cam1/Cam5/Cam7 are on both sides, see the model card), seeds fixed, `deterministic=True`, no
   plots (plots would fetch a font).
4. Export to ONNX (opset 17, fixed input, no NMS inside: [1, 4 + 2, anchors], the layout
   perception/yolo.py decodes), then AP@0.5 per class measured on the val splits through our own
   ONNX Runtime detector (`citywatch.evaluation.boxes`), and the manifest entry.

Nothing is downloaded: the model is built from a yaml, Ultralytics runs offline, and every socket
connection attempted during the run is refused and counted (`NetworkGuard`); the count is printed
and must be 0.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from citywatch.config import ModelSettings
from citywatch.evaluation.boxes import AP_CONF_FLOOR, score_boxes
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_yolo
from citywatch.perception.weapon import CLASSES, MODEL_PREFIX
from citywatch.training.yolo_finetune import (
    FinetuneJob,
    finetune_main,
    single_model_pack,
    val_subset,
)

SOURCES = {"gun": ("gun", {0: CLASSES.index("gun")}), "knife": ("knife_cctv", {0: CLASSES.index("knife")})}
"""dataset prefix -> (folder in ../shared/datasets, its class id -> our class id; others dropped)."""
TRAIN_REPEATS = {"gun": 1, "knife": 2}
"""Each training image of a set is listed this many times (knife_cctv has 228 images to gun's 530)."""
ATTRIBUTION = {
    "gun": '"Gun detection" v1 by Roboflow workspace gun-detection-1lttj, '
    "https://universe.roboflow.com/gun-detection-1lttj/gun-detection-1fbbu/dataset/1 (CC BY 4.0), "
    "via github.com/yatinmanuel/stars-vthacks; subsampled, one augmented copy per source image, re-encoded",
    "knife": '"cctvfootage" v1 by Roboflow workspace people-with-knife, '
    "https://universe.roboflow.com/people-with-knife/cctvfootage-rhnqa/dataset/1 (CC BY 4.0), "
    "via github.com/Yvonne530/YOLOv11-KnifePerson-Detection; one augmented copy per source image, "
    "re-encoded",
}


# ---------------------------------------------------------------------------------------------
# Data


def build_dataset(
    root: Path, splits: dict[str, list[str]] | None = None, repeats: dict[str, int] | None = None
) -> Path:
    """A YOLO dataset in `root` (images symlinked, labels remapped) and its data.yaml.

    `splits` maps our split name to the source splits it takes ({"train": ["train"], "val": ["val"]}
    by default); `repeats` how often each set's training images are listed (TRAIN_REPEATS by default)."""
    splits = splits or {"train": ["train"], "val": ["val"]}
    repeats = repeats or TRAIN_REPEATS
    for split, sources in splits.items():
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for prefix, (folder, mapping) in SOURCES.items():
            dataset = datasets_dir() / folder
            for source in sources:
                copies = repeats[prefix] if split == "train" else 1
                for image in sorted((dataset / "images" / source).glob("*.jpg")):
                    label = dataset / "labels" / source / f"{image.stem}.txt"
                    rows = [line.split() for line in label.read_text().splitlines() if line.strip()]
                    kept = [[str(mapping[int(r[0])]), *r[1:]] for r in rows if int(r[0]) in mapping]
                    for copy in range(copies):
                        name = f"{prefix}{copy or ''}_{image.stem}"
                        (root / "images" / split / f"{name}.jpg").symlink_to(image.resolve())
                        (root / "labels" / split / f"{name}.txt").write_text(
                            "".join(" ".join(r) + "\n" for r in kept)
                        )
    data_yaml = root / "data.yaml"
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASSES))
    data_yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data_yaml


# ---------------------------------------------------------------------------------------------
# Training, export, measurement


def measure(path: Path, workdir: Path, conf: float) -> dict[str, Any]:
    """AP@0.5 per class on each dataset's val split through our ONNX Runtime detector, overall and by
    content (CCTV camera frames vs. other images)."""
    pack = single_model_pack(path, workdir / "measure-pack", list(CLASSES))
    detector = load_yolo(pack, path.stem, ModelSettings(), conf_threshold=AP_CONF_FLOOR)
    results: dict[str, Any] = {}
    for prefix, (folder, _) in SOURCES.items():
        dataset = datasets_dir() / folder
        report = score_boxes(dataset, "val", detector, conf)
        results[prefix] = {"images": report["images"], **report["per_class"][CLASSES[SOURCES[prefix][1][0]]]}
        for group, images in _val_groups(prefix, dataset).items():
            subset = workdir / f"subset-{prefix}-{group}"
            val_subset(dataset, images, subset)
            sub = score_boxes(subset, "val", detector, conf)
            results[prefix][f"by_content:{group}"] = {
                "images": sub["images"],
                **{k: sub["per_class"][CLASSES[SOURCES[prefix][1][0]]][k] for k in ("targets", "ap50")},
            }
    return results


def _val_groups(prefix: str, dataset: Path) -> dict[str, list[Path]]:
    """Val images by content: gun CCTV frames per camera (Cam1/Cam5/Cam7, whose other frames are in
    train) vs web photos; knife office CCTV frames vs training-video frames vs web photos."""
    groups: dict[str, list[Path]] = {}
    for image in sorted((dataset / "images" / "val").glob("*.jpg")):
        name = image.name
        if prefix == "gun":
            group = name.split("-", 1)[0] if name.startswith("Cam") else "web_photos"
        elif name.startswith(("Krav", "Defense", "KnifeDefense", "Reality", "sharpen", "frame")):
            group = "training_videos"
        elif name.startswith(("knife", "DSC")):
            group = "web_photos"
        else:
            group = "office_cctv"
        groups.setdefault(group, []).append(image)
    return groups


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--knife-repeats",
        type=int,
        default=TRAIN_REPEATS["knife"],
        help="times each knife_cctv training image is listed per epoch",
    )


def _build_data(root: Path, args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    repeats = {**TRAIN_REPEATS, "knife": args.knife_repeats}
    return build_dataset(root, repeats=repeats), {"train_repeats": repeats}


JOB = FinetuneJob(
    module="weapon",
    model_prefix=MODEL_PREFIX,
    classes=CLASSES,
    default_epochs=20,
    trained_on="../shared/datasets/gun (train) + ../shared/datasets/knife_cctv (train, knife boxes)",
    data_license="CC BY 4.0: " + " | ".join(ATTRIBUTION.values()),
    build_data=_build_data,
    measure=measure,
    add_arguments=_add_arguments,
    extra_flags=lambda args: f" --knife-repeats {args.knife_repeats}",
)


def main(argv: list[str] | None = None) -> int:
    return finetune_main(JOB, __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    sys.exit(main())
