"""Trains the helmet / no-helmet head classifier on helmet_th and writes it into a model pack.

    python -m citywatch.training.helmet --data ../shared/datasets/helmet_th --out citywatch/models/

Heads are the dataset's labelled boxes, cropped exactly as at run time (perception.helmet).
The model trains on the frames that `citywatch.evaluation.datasets.helmet_split` calls `train`
and is measured on those it calls `val` (the end of the main video and one whole video), which
`citywatch eval` also uses, so the incident numbers are never on frames the model has seen.
Within the training frames, grouped cross-validation gives a second measure: all `Without
Helmet` heads come from one video, so folds are that video cut into contiguous blocks of frames
plus each other video whole; frames of a video within `LEAKAGE_GAP` indices of a held-out frame
are left out of that fold's training.
"""

import argparse
import functools
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import supervision as sv
import torch
from torch import nn

from citywatch.config import ModelSettings
from citywatch.evaluation.datasets import helmet_split
from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.helmet import (
    CLASSES,
    INPUT_SIZE,
    MODEL_NAME,
    NO_HELMET,
    crop_boxes,
    crop_square,
    person_head_boxes,
    to_blob,
)
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.yolo import YoloDetector
from citywatch.training.pack_writer import cpu_latency_ms, sha256_of, write_manifest_entry
from citywatch.training.yolo_data import read_yolo_split
from citywatch.training.yolo_finetune import COCO_MODEL, dequantized_weights

DATASET_LABELS = {0: CLASSES.index("helmet"), 1: NO_HELMET}
"""helmet_th class ids (0 With-Helmet, 1 Without Helmet) to our class indices."""
MAIN_VIDEO_BLOCKS = 4
LEAKAGE_GAP = 3
SHIFT = 0.05
"""Largest crop shift, as a fraction of the crop side. Larger shifts (0.15) measured worse on the
validation heads (accuracy 0.76 against 0.90); the person-box samples teach the offsets instead."""
SCALE = (0.85, 1.2)
PERSON_BOX_MIN_IOU = 0.2
"""A person-box head estimate this close to a labelled head is taken as that head."""


@dataclass(frozen=True, slots=True)
class TrainSettings:
    epochs: int = 80
    batch_size: int = 32
    learning_rate: float = 1e-3
    """3e-3 before: with it, retrained on a later install of the same pinned torch, the final model
    called every head `helmet` (docs/MODELS.md)."""
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Heads:
    """Every labelled head: the frame it is in, its box (xyxy pixels), class, video, frame number,
    split ('train', 'val' or 'gap'), and whether the box is the label's or one estimated from a
    COCO person box (the same head seen as the analyzer sees it)."""

    frames: list[np.ndarray]
    frame_of: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    videos: np.ndarray
    frame_numbers: np.ndarray
    splits: np.ndarray
    from_person: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def load_heads(root: Path, max_heads: int | None = None) -> Heads:
    frames, frame_of, boxes, labels, videos, numbers, splits = [], [], [], [], [], [], []
    for item in read_yolo_split(root):
        image = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{item.path}: not a readable image")
        height, width = image.shape[:2]
        frames.append(image)
        for cls, box in zip(item.classes, item.boxes_xyxy(width, height), strict=True):
            frame_of.append(len(frames) - 1)
            boxes.append(box)
            labels.append(DATASET_LABELS[int(cls)])
            videos.append(item.video)
            numbers.append(item.frame)
            splits.append(helmet_split(item.path.name) or "gap")
    keep = slice(None) if max_heads is None else _spread(np.array(labels), max_heads)
    return Heads(
        frames,
        np.array(frame_of)[keep],
        np.array(boxes, dtype=np.float32)[keep],
        np.array(labels)[keep],
        np.array(videos)[keep],
        np.array(numbers)[keep],
        np.array(splits)[keep],
        np.zeros(len(labels), dtype=bool)[keep],
    )


def with_person_boxes(heads: Heads, detector: YoloDetector) -> Heads:
    """`heads` plus, for each head that a detected person box holds, the same head boxed from that
    person box (perception.helmet.person_head_boxes): the crops the analyzer will classify, which
    sit off the labelled head by varying amounts."""
    extra: list[tuple[int, np.ndarray]] = []
    for frame_index in np.unique(heads.frame_of):
        mine = np.flatnonzero((heads.frame_of == frame_index) & ~heads.from_person)
        found = detector.detect(heads.frames[frame_index])
        persons = found.xyxy[found.data["class_name"] == "person"]
        if len(persons) == 0:
            continue
        estimated = person_head_boxes(persons)
        iou = sv.box_iou_batch(heads.boxes[mine], estimated)
        for row, head in enumerate(mine):
            best = int(iou[row].argmax())
            if iou[row, best] >= PERSON_BOX_MIN_IOU and iou[:, best].argmax() == row:
                extra.append((head, estimated[best]))
    if not extra:
        return heads
    source = np.array([head for head, _ in extra])
    return Heads(
        heads.frames,
        np.concatenate([heads.frame_of, heads.frame_of[source]]),
        np.concatenate([heads.boxes, np.array([box for _, box in extra], dtype=np.float32)]),
        np.concatenate([heads.labels, heads.labels[source]]),
        np.concatenate([heads.videos, heads.videos[source]]),
        np.concatenate([heads.frame_numbers, heads.frame_numbers[source]]),
        np.concatenate([heads.splits, heads.splits[source]]),
        np.concatenate([heads.from_person, np.ones(len(source), dtype=bool)]),
    )


def _spread(labels: np.ndarray, count: int) -> np.ndarray:
    """`count` indices taken evenly from each class in turn, so a small subset has both classes."""
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    order = [i for group in zip(*by_class, strict=False) for i in group]
    return np.sort(np.array(order[:count]))


def fold_groups(heads: Heads, pool: np.ndarray) -> np.ndarray:
    """A validation group per head of `pool`: the main video in contiguous frame blocks, other
    videos whole."""
    videos, numbers = heads.videos[pool], heads.frame_numbers[pool]
    names, counts = np.unique(videos, return_counts=True)
    main = names[counts.argmax()]
    groups = videos.astype(object).copy()
    in_main = videos == main
    edges = np.quantile(numbers[in_main], np.linspace(0, 1, MAIN_VIDEO_BLOCKS + 1)[1:-1])
    block = np.searchsorted(edges, numbers[in_main], side="right")
    groups[in_main] = [f"{main} block {b + 1}/{MAIN_VIDEO_BLOCKS}" for b in block]
    return groups.astype(str)


def training_indices(heads: Heads, pool: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    """Heads of `pool` not held out and not within LEAKAGE_GAP frames of a held-out frame of their
    video."""
    videos, numbers = heads.videos[pool], heads.frame_numbers[pool]
    near = np.zeros(len(pool), dtype=bool)
    for video in np.unique(videos[held_out]):
        held_frames = numbers[held_out & (videos == video)]
        distance = np.abs(numbers[:, None] - held_frames[None, :]).min(axis=1)
        near |= (videos == video) & (distance <= LEAKAGE_GAP)
    return pool[~held_out & ~near]


def crops(heads: Heads, indices: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """RGB crops of the heads; with `rng`, augmented (shift, scale, flip, brightness, contrast)."""
    regions = crop_boxes(heads.boxes[indices])
    out = []
    for region, frame_index in zip(regions, heads.frame_of[indices], strict=True):
        if rng is not None:
            side = region[2] - region[0]
            centre = (region[:2] + region[2:]) / 2 + rng.uniform(-SHIFT, SHIFT, 2) * side
            half = side * rng.uniform(*SCALE) / 2
            region = np.concatenate([centre - half, centre + half])
        crop = crop_square(heads.frames[frame_index], region)
        if rng is not None:
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            gain, offset = rng.uniform(0.7, 1.3), rng.uniform(-25, 25)
            crop = np.clip(crop.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)
        out.append(crop)
    return np.stack(out) if out else np.empty((0, INPUT_SIZE, INPUT_SIZE, 3), np.uint8)


UPSAMPLE = 2
"""Crops (INPUT_SIZE px) are upsampled this much inside the model, so a 10 px head spans more than
one cell of the stride-16 features."""


class _Conv(nn.Module):
    """YOLOv8's Conv (convolution, batch norm, SiLU) with the batch norm folded into the convolution,
    as the pack's ONNX model holds it."""

    def __init__(self, weights: dict[str, np.ndarray], name: str, stride: int = 1) -> None:
        super().__init__()
        weight = torch.from_numpy(weights[f"{name}.conv.weight"])
        out_channels, in_channels, kernel = weight.shape[:3]
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2)
        with torch.no_grad():
            self.conv.weight.copy_(weight)
            self.conv.bias.copy_(torch.from_numpy(weights[f"{name}.conv.bias"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.silu(self.conv(x))


class _C2f(nn.Module):
    """YOLOv8's C2f block (split, `n` residual bottlenecks, concatenate, fuse)."""

    def __init__(self, weights: dict[str, np.ndarray], name: str, n: int) -> None:
        super().__init__()
        self.cv1, self.cv2 = _Conv(weights, f"{name}.cv1"), _Conv(weights, f"{name}.cv2")
        self.m = nn.ModuleList(
            nn.Sequential(_Conv(weights, f"{name}.m.{i}.cv1"), _Conv(weights, f"{name}.m.{i}.cv2"))
            for i in range(n)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = list(self.cv1(x).chunk(2, 1))
        for bottleneck in self.m:
            parts.append(parts[-1] + bottleneck(parts[-1]))
        return self.cv2(torch.cat(parts, 1))


@functools.cache
def coco_stem_weights() -> dict[str, np.ndarray]:
    """The float weights of the pack's COCO YOLOv8n (dequantized, batch norms fused)."""
    return dequantized_weights(ModelPack.open().verified_path(COCO_MODEL))


def coco_stem() -> nn.Sequential:
    """Layers 0-6 of the pack's COCO YOLOv8n with its weights: stride 16, 128 channels out."""
    weights = coco_stem_weights()
    return nn.Sequential(
        _Conv(weights, "model.0", 2), _Conv(weights, "model.1", 2), _C2f(weights, "model.2", 1),
        _Conv(weights, "model.3", 2), _C2f(weights, "model.4", 2),
        _Conv(weights, "model.5", 2), _C2f(weights, "model.6", 2),
    )  # fmt: skip


class HeadNet(nn.Module):
    """Layers 0-6 of the pack's COCO YOLOv8n (down to stride 16, 128 channels; written out here:
    Ultralytics, AGPL-3.0 and not in the training venv, is not needed for seven layers), all
    fine-tuned, then mean and max pooling and a linear layer. Softmax is inside, so the ONNX file
    outputs probabilities.

    Chosen by the grouped cross-validation (labelled heads, seeds 0-2): 0.918 mean accuracy, against
    0.882 for the 47 k-weight CNN trained from scratch that this replaced; layers 0-4 frozen with a
    linear head: 0.69; layers 0-4 fine-tuned: 0.913, and 0.851 with the crops upsampled 3x."""

    def __init__(self) -> None:
        super().__init__()
        self.features = coco_stem()
        channels = coco_stem_weights()["model.6.cv2.conv.weight"].shape[0]
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(2 * channels, len(CLASSES)))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, scale_factor=UPSAMPLE, mode="bilinear", align_corners=False)
        features = self.features(x)
        return self.head(torch.cat([features.mean((2, 3)), features.amax((2, 3))], 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities averaged over the crop and its mirror image: steadier on tiny heads."""
        return (torch.softmax(self.logits(x), dim=1) + torch.softmax(self.logits(x.flip(3)), dim=1)) / 2


def train(heads: Heads, indices: np.ndarray, settings: TrainSettings) -> HeadNet:
    """A model trained on `heads[indices]`; classes weighted by inverse frequency (no-helmet is rare)."""
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    model = HeadNet()
    labels = heads.labels[indices]
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(np.float32)
    weights = torch.tensor(counts.sum() / np.maximum(counts, 1) / len(CLASSES))
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=1e-3)
    steps = settings.epochs * -(-len(indices) // settings.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, settings.learning_rate, total_steps=steps)
    model.train()
    for _ in range(settings.epochs):
        order = rng.permutation(len(indices))
        for start in range(0, len(order), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            x = torch.from_numpy(to_blob(crops(heads, indices[batch], rng)))
            loss = loss_fn(model.logits(x), torch.from_numpy(labels[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def predict(model: HeadNet, heads: Heads, indices: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(to_blob(crops(heads, indices)))).numpy()


def metrics(labels: np.ndarray, no_helmet_probability: np.ndarray) -> dict[str, float | int]:
    """Per-head accuracy, and precision / recall of no_helmet, at probability 0.5."""
    positive = labels == NO_HELMET
    said = no_helmet_probability >= 0.5
    tp, fp, fn = int((said & positive).sum()), int((said & ~positive).sum()), int((~said & positive).sum())
    return {
        "heads": len(labels),
        "no_helmet_heads": int(positive.sum()),
        "accuracy": round(float((said == positive).mean()), 4),
        "no_helmet_precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "no_helmet_recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
    }


MIN_TRAINING_RECALL = 0.5
"""A model that recalls less than this of either class on the heads it was trained on has not
learnt them (it calls nearly everything `helmet`, say) and is not written out."""


def training_fit_problem(labels: np.ndarray, no_helmet_probability: np.ndarray) -> str | None:
    """Why a model is unusable, judged on its own training heads, or None when it fits them."""
    said = no_helmet_probability >= 0.5
    for index, name in enumerate(CLASSES):
        mine = labels == index
        recall = float((said[mine] == (index == NO_HELMET)).mean()) if mine.any() else 1.0
        if recall < MIN_TRAINING_RECALL:
            return f"the trained model recalls {recall:.2f} of its {int(mine.sum())} {name} training heads"
    return None


def by_box_source(heads: Heads, indices: np.ndarray, no_helmet_probability: np.ndarray) -> dict[str, object]:
    """Metrics on the labelled head boxes and, apart, on the heads boxed from person boxes."""
    labelled = ~heads.from_person[indices]
    return {
        "labelled_boxes": metrics(heads.labels[indices][labelled], no_helmet_probability[labelled]),
        "person_boxes": metrics(heads.labels[indices][~labelled], no_helmet_probability[~labelled]),
    }


def cross_validate(heads: Heads, pool: np.ndarray, settings: TrainSettings) -> dict[str, object]:
    """Grouped cross-validation within `pool`: metrics of the out-of-fold predictions, overall and
    (labelled boxes) per fold."""
    groups = fold_groups(heads, pool)
    out_of_fold = np.zeros(len(pool), dtype=np.float32)
    per_fold = {}
    for group in np.unique(groups):
        held_out = groups == group
        model = train(heads, training_indices(heads, pool, held_out), settings)
        out_of_fold[held_out] = predict(model, heads, pool[held_out])[:, NO_HELMET]
        per_fold[str(group)] = by_box_source(heads, pool[held_out], out_of_fold[held_out])["labelled_boxes"]
    return {**by_box_source(heads, pool, out_of_fold), "folds": per_fold}


def export_onnx(model: HeadNet, path: Path) -> None:
    """ONNX with a dynamic batch: input `crops` [N, 3, 32, 32], output `probabilities` [N, 2].

    The TorchScript exporter (deprecated, still in the pinned torch) writes one self-contained
    file in well under a second; the torch.export one needs onnxscript, splits the weights into a
    second file unless told otherwise, and takes seconds.
    """
    sample = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the exporter's own notices of its future
        torch.onnx.export(
            model,
            (sample,),
            str(path),
            input_names=["crops"],
            output_names=["probabilities"],
            dynamic_axes={"crops": {0: "N"}, "probabilities": {0: "N"}},
            opset_version=17,
            dynamo=False,
        )


def manifest_entry(
    path: Path, data: Path, settings: TrainSettings, validation: dict[str, object], latency_ms: float
) -> dict:
    return {
        "name": MODEL_NAME,
        "file": path.name,
        "sha256": sha256_of(path),
        "task": "classify",
        "architecture": f"citywatch HeadNet: crops upsampled {UPSAMPLE}x, layers 0-6 of "
        "the pack's COCO YOLOv8n (fine-tuned), mean+max pooling, linear; softmax averaged with the "
        "mirrored crop inside (PyTorch -> ONNX opset 17)",
        "trained_on": f"helmet_th head boxes ({data.name}: Thai street CCTV, dev videos)",
        "license": "weights: derived from the Ultralytics YOLOv8n COCO weights (AGPL-3.0), so AGPL-3.0; "
        "trained on helmet_th, CC BY 4.0: 'helmet-detection' "
        "v5 by Roboflow user hi-xnpr5 "
        "(https://universe.roboflow.com/hi-xnpr5/helmet-detection-zrrim/dataset/5), "
        "via github.com/punmyidol/motorcycle-helmet-detection-YOLOV8, resized and re-encoded",
        "source": f"python -m citywatch.training.helmet --data ../shared/datasets/helmet_th "
        f"--out citywatch/models/ --epochs {settings.epochs} --seed {settings.seed}",
        "input": {
            "name": "crops",
            "shape": ["N", 3, INPUT_SIZE, INPUT_SIZE],
            "dtype": "float32",
            "layout": "NCHW",
            "color": "RGB",
            "scale": "0..1",
            "resize": "square of 1.5x the head box's longer side around its centre, edge-replicated, "
            "bilinear (citywatch.perception.helmet.crop_square)",
        },
        "output": {"name": "probabilities", "shape": ["N", 2], "meaning": "softmax over the classes"},
        "classes": list(CLASSES),
        "validation": validation,
        "cpu_latency_ms_per_head": round(latency_ms, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citywatch.training.helmet", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=datasets_dir() / "helmet_th", help="helmet_th folder")
    parser.add_argument(
        "--out", type=Path, default=BUNDLED_MODELS_DIR, help="model pack folder to write into"
    )
    defaults = TrainSettings()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--max-heads", type=int, default=None, help="train on a subset (quick checks)")
    parser.add_argument("--no-validation", action="store_true", help="skip the cross-validation")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the same numbers on every machine, and no fight with other jobs
    settings = TrainSettings(epochs=args.epochs, seed=args.seed)
    coco = load_detector(ModelPack.open(), "coco", ModelSettings())
    heads = with_person_boxes(load_heads(args.data, args.max_heads), coco)
    pool = np.flatnonzero(heads.splits == "train")
    validation: dict[str, object] = {}
    if not args.no_validation:
        validation["cross_validation"] = {
            "method": f"training frames; main video in {MAIN_VIDEO_BLOCKS} contiguous frame blocks, other "
            f"videos whole; +-{LEAKAGE_GAP} frames of a held-out frame left out of training",
            **cross_validate(heads, pool, settings),
        }
    model = train(heads, pool, settings)
    problem = training_fit_problem(heads.labels[pool], predict(model, heads, pool)[:, NO_HELMET])
    if problem:
        print(f"training failed, no model written: {problem}; try another --seed", file=sys.stderr)
        return 1
    held_out = np.flatnonzero(heads.splits == "val")
    if len(held_out):
        validation["val_split"] = by_box_source(
            heads, held_out, predict(model, heads, held_out)[:, NO_HELMET]
        )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{MODEL_NAME}.onnx"
    export_onnx(model, path)
    latency = cpu_latency_ms(path, to_blob(crops(heads, np.arange(1))))
    entry = manifest_entry(path, args.data, settings, validation, latency)
    write_manifest_entry(args.out, entry)
    json.dump(
        {k: entry[k] for k in ("file", "sha256", "validation", "cpu_latency_ms_per_head")},
        sys.stdout,
        indent=2,
    )
    print(f"\n{path}: {path.stat().st_size / 1024:.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
