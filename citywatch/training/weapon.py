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
import random
import sys
from pathlib import Path
from typing import Any

import cv2

from citywatch.config import ModelSettings
from citywatch.evaluation.boxes import AP_CONF_FLOOR, score_boxes
from citywatch.evaluation.datasets import (
    WEAPON_CCTV_TRAIN_SOURCES,
    WEAPON_CCTV_WEAPON_CLASS,
    weapon_cctv_sources,
    weapon_cctv_split,
)
from citywatch.paths import datasets_dir
from citywatch.perception.weapon import CLASSES, MODEL_PREFIX
from citywatch.perception.yolo_loader import load_yolo
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
CCTV_WEAPON_REPEATS = 0
"""Each weapon_cctv training frame with a weapon is listed this many times (29 weapons), its
weapon-free frames once; 0 leaves weapon_cctv out (the recipe of the shipped model; the trial with
it, --cctv-repeats 3, is in docs/MODELS.md)."""
ATTRIBUTION = {
    "gun": '"Gun detection" v1 by Roboflow workspace gun-detection-1lttj, '
    "https://universe.roboflow.com/gun-detection-1lttj/gun-detection-1fbbu/dataset/1 (CC BY 4.0), "
    "via github.com/yatinmanuel/stars-vthacks; subsampled, one augmented copy per source image, re-encoded",
    "knife": '"cctvfootage" v1 by Roboflow workspace people-with-knife, '
    "https://universe.roboflow.com/people-with-knife/cctvfootage-rhnqa/dataset/1 (CC BY 4.0), "
    "via github.com/Yvonne530/YOLOv11-KnifePerson-Detection; one augmented copy per source image, "
    "re-encoded",
    "weapon_cctv": '"weapon detection cctv v3 dataset" v1 by Roboflow workspace weapon-detection-cctv, '
    "https://universe.roboflow.com/weapon-detection-cctv/weapon-detection-cctv-v3-dataset/dataset/1 "
    "(CC BY 4.0), via github.com/madeelworks/Weapon-Detection; CCTV subset, one image per original, "
    "re-encoded (used only with --cctv-repeats above 0)",
}


# ---------------------------------------------------------------------------------------------
# Data


def build_dataset(
    root: Path,
    repeats: dict[str, int] | None = None,
    cctv_repeats: int = CCTV_WEAPON_REPEATS,
    replay: int = 0,
    gray_share: float = 0.0,
    seed: int = 0,
) -> tuple[Path, dict[str, Any]]:
    """A YOLO dataset in `root` (images symlinked, labels remapped) and its data.yaml, with counts.

    train: the gun and knife_cctv train splits, each image listed `repeats[set]` times (TRAIN_REPEATS
    by default), or only a seeded sample of `replay` images of each (a further fine-tune that should
    not forget them); a seeded `gray_share` of them as grayscale copies (written into `root`: CCTV
    at night and every weapon_cctv frame is grey); and, when `cctv_repeats` is not 0, weapon_cctv's
    training camera groups (`evaluation.datasets.weapon_cctv_split`), frames with a weapon listed
    `cctv_repeats` times.
    val: the gun and knife_cctv val splits (weapon_cctv's held-out groups are scored as incidents by
    `citywatch eval`, docs/ACCURACY.md)."""
    repeats = repeats or TRAIN_REPEATS
    rng = random.Random(seed)
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    counts: dict[str, Any] = {"train_repeats": repeats, "replay": replay, "gray_share": gray_share}
    for prefix, (folder, mapping) in SOURCES.items():
        dataset = datasets_dir() / folder
        for split in ("train", "val"):
            images = sorted((dataset / "images" / split).glob("*.jpg"))
            if split == "train" and replay:
                images = sorted(rng.sample(images, min(replay, len(images))))
            gray = set(rng.sample(images, round(gray_share * len(images)))) if split == "train" else set()
            copies = 1 if split == "val" or replay else repeats[prefix]
            for image in images:
                rows = _remapped_rows(dataset / "labels" / split / f"{image.stem}.txt", mapping)
                for copy in range(copies):
                    name = f"{prefix}{'_gray' if image in gray else ''}{copy or ''}_{image.stem}"
                    _add_image(root, split, name, image, rows, grayscale=image in gray)
            counts[f"{prefix}_{split}_images"] = len(images) * copies
            if split == "train":
                counts[f"{prefix}_train_gray_images"] = len(gray)
    dataset = datasets_dir() / "weapon_cctv"
    sources = weapon_cctv_sources()
    with_weapon = without = 0
    for image in sorted((dataset / "images" / "all").glob("*.jpg")) if cctv_repeats else []:
        if weapon_cctv_split(sources, image.name) != "train":
            continue
        label = dataset / "labels" / "all" / f"{image.stem}.txt"
        weapon = _cctv_weapon_class(image.name)
        rows = _remapped_rows(label, {WEAPON_CCTV_WEAPON_CLASS: weapon})
        with_weapon, without = with_weapon + bool(rows), without + (not rows)
        for copy in range(cctv_repeats if rows else 1):
            _add_image(root, "train", f"cctv{copy or ''}_{image.stem}", image, rows, grayscale=False)
    counts.update(
        weapon_cctv_train_weapon_frames=with_weapon,
        weapon_cctv_train_weapon_free_frames=without,
        weapon_cctv_repeats=cctv_repeats,
        weapon_cctv_train_sources=sorted(WEAPON_CCTV_TRAIN_SOURCES),
    )
    data_yaml = root / "data.yaml"
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASSES))
    data_yaml.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data_yaml, counts


def _remapped_rows(label: Path, mapping: dict[int, int]) -> list[list[str]]:
    """The YOLO rows of `label` whose class `mapping` keeps, with our class id."""
    if not label.is_file():
        return []
    rows = [line.split() for line in label.read_text().splitlines() if line.strip()]
    return [[str(mapping[int(r[0])]), *r[1:]] for r in rows if int(r[0]) in mapping]


def _cctv_weapon_class(file_name: str) -> int:
    """weapon_cctv has one `weapon` class: a name saying pistol or gun is a gun; everything else is a
    knife (its control-room, hall and parking files say `_Knife`; the staged room is the
    people-with-knife source that knife_cctv comes from, and the detector trained before scored each
    of the 18 staged-room weapons it boxed at all, from 0.02, higher as a knife than as a gun)."""
    lowered = file_name.lower()
    return CLASSES.index("gun" if "pistol" in lowered or "gun" in lowered else "knife")


def _add_image(
    root: Path, split: str, name: str, image: Path, rows: list[list[str]], grayscale: bool
) -> None:
    target = root / "images" / split / f"{name}.jpg"
    if grayscale:
        grey = cv2.cvtColor(cv2.imread(str(image), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)
        cv2.imwrite(str(target), grey, [cv2.IMWRITE_JPEG_QUALITY, 90])
    else:
        target.symlink_to(image.resolve())
    (root / "labels" / split / f"{name}.txt").write_text("".join(" ".join(r) + "\n" for r in rows))


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
    parser.add_argument(
        "--cctv-repeats",
        type=int,
        default=CCTV_WEAPON_REPEATS,
        help="times each weapon_cctv training frame with a weapon is listed per epoch",
    )
    parser.add_argument(
        "--replay",
        type=int,
        default=0,
        help="train on a seeded sample of this many gun and this many knife_cctv images (0: all)",
    )
    parser.add_argument(
        "--gray-share", type=float, default=0.0, help="share of gun/knife training images made grayscale"
    )


def _build_data(root: Path, args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    repeats = {**TRAIN_REPEATS, "knife": args.knife_repeats}
    return build_dataset(root, repeats, args.cctv_repeats, args.replay, args.gray_share, args.seed)


JOB = FinetuneJob(
    module="weapon",
    model_prefix=MODEL_PREFIX,
    classes=CLASSES,
    default_epochs=20,
    trained_on="../shared/datasets/gun (train) + ../shared/datasets/knife_cctv (train, knife boxes); with "
    "--cctv-repeats above 0 also ../shared/datasets/weapon_cctv's training camera groups (validation.data)",
    data_license="CC BY 4.0: " + " | ".join(ATTRIBUTION.values()),
    build_data=_build_data,
    measure=measure,
    add_arguments=_add_arguments,
    extra_flags=lambda args: (
        f" --knife-repeats {args.knife_repeats} --cctv-repeats {args.cctv_repeats}"
        f" --replay {args.replay} --gray-share {args.gray_share:g}"
    ),
)


def main(argv: list[str] | None = None) -> int:
    return finetune_main(JOB, __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    sys.exit(main())
