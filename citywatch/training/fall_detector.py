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
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from citywatch.config import ModelSettings
from citywatch.evaluation.boxes import AP_CONF_FLOOR, score_boxes
from citywatch.evaluation.datasets import FALL_CLASS, FALL_VAL_SOURCES, fall_source, helmet_split
from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.perception.detectors import load_yolo
from citywatch.perception.fall_detector import CLASSES, MODEL_PREFIX
from citywatch.training.pack_writer import cpu_latency_ms, write_manifest_entry
from citywatch.training.yolo_finetune import (
    CALIBRATION_IMAGES,
    NetworkGuard,
    calibration_images,
    check_transfer,
    coco_yolov8n_from_pack,
    detector_manifest_entry,
    export_onnx,
    offline_ultralytics,
    save_start_checkpoint,
    seed_everything,
    single_model_pack,
    train,
    workdir_for,
)

STREET_BACKGROUND_IMAGES = 80
"""helmet_th training frames added as background (every other one of the split, in name order)."""
ATTRIBUTION = (
    '"hospital_bed" v3 by Roboflow workspace aiapplications, '
    "https://universe.roboflow.com/aiapplications/hospital_bed-qt6yg/dataset/3 (CC BY 4.0), via "
    "github.com/Rvbaghel/Fall_Detection_Computer_Vision; subsampled, re-encoded, classes other than "
    'fall dropped | "helmet-detection" v5 by Roboflow user hi-xnpr5 (CC BY 4.0), via '
    "github.com/punmyidol/motorcycle-helmet-detection-YOLOV8; resized, re-encoded, used as background"
)


def build_dataset(root: Path) -> tuple[Path, dict[str, int]]:
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


def measure(path: Path, data: Path, workdir: Path, conf: float) -> dict[str, Any]:
    """AP@0.5 of `fall` boxes on the held-out cameras, through our ONNX Runtime detector."""
    pack = single_model_pack(path, workdir / "measure-pack", list(CLASSES))
    detector = load_yolo(pack, path.stem, ModelSettings(), conf_threshold=AP_CONF_FLOOR)
    report = score_boxes(data, "val", detector, conf)
    return {"cameras": sorted(FALL_VAL_SOURCES), "images": report["images"], **report["per_class"]["fall"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citywatch.training.fall_detector", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, default=BUNDLED_MODELS_DIR, help="model pack folder to write into"
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--imgsz", type=int, default=416, help="square input size (a multiple of 32)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conf", type=float, default=0.4, help="operating point of precision/recall")
    parser.add_argument("--workdir", type=Path, help="keep the dataset and training runs here")
    args = parser.parse_args(argv)
    if args.imgsz % 32:
        parser.error("--imgsz must be a multiple of 32")
    started = time.monotonic()
    with workdir_for("fall", args.workdir) as workdir, NetworkGuard() as guard:
        offline_ultralytics(workdir)
        seed_everything(args.seed)
        data_yaml, counts = build_dataset(workdir / "data")
        print(f"data: {counts}", file=sys.stderr)
        converted = coco_yolov8n_from_pack(
            calibration_images(workdir / "data", CALIBRATION_IMAGES, args.seed), args.imgsz
        )
        transfer = check_transfer(converted)
        print(f"COCO transfer check: {transfer}", file=sys.stderr)
        start = workdir / "coco-yolov8n-from-pack.pt"
        save_start_checkpoint(converted, start)
        last = train(start, data_yaml, workdir, args.epochs, args.imgsz, args.seed, args.batch, freeze=0)
        args.out.mkdir(parents=True, exist_ok=True)
        path = export_onnx(last, args.imgsz, args.out / f"{MODEL_PREFIX}-{args.imgsz}.onnx")
        metrics = {**measure(path, workdir / "data", workdir, args.conf), "conf": args.conf, "data": counts}
        command = (
            f"python -m citywatch.training.fall_detector --out citywatch/models/ --epochs {args.epochs} "
            f"--imgsz {args.imgsz} --batch {args.batch} --seed {args.seed}"
        )
        entry = detector_manifest_entry(
            path,
            args.imgsz,
            list(CLASSES),
            command=command,
            trained_on="../shared/datasets/fall (train split minus the cameras of FALL_VAL_SOURCES; "
            "fall boxes only) + helmet_th training frames as background",
            data_license="CC BY 4.0: " + ATTRIBUTION,
            metrics=metrics,
            transfer=transfer,
        )
        latency = cpu_latency_ms(path, np.zeros((1, 3, args.imgsz, args.imgsz), np.float32), runs=50)
        entry["cpu_latency_ms"] = round(latency, 1)
        entry["training_minutes"] = round((time.monotonic() - started) / 60, 1)
        write_manifest_entry(args.out, entry)
    json.dump({k: entry[k] for k in ("file", "sha256", "validation", "cpu_latency_ms")}, sys.stdout, indent=2)
    print(f"\nnetwork connections attempted (refused): {len(guard.attempts)} {guard.attempts[:5]}")
    return 0 if not guard.attempts else 1


if __name__ == "__main__":
    sys.exit(main())
