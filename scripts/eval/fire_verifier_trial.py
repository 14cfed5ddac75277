"""Trial (not shipped): would a crop classifier behind the smoke/fire detector let smoke through
earlier without false alarms?

    .venv/bin/python scripts/eval/fire_verifier_trial.py --work /tmp/cw-tune [--size 96] [--seed 0]

The verifier is layers 0-6 of the pack's COCO YOLOv8n (citywatch.training.coco_stem) on crops of
detector boxes (10 % margin, resized to --size). It trains on the tuning side of
`tune_fire.py` only: fire_smoke train boxes and the detections that overlap them are positive;
detections (confidence >= 0.1) on fire_smoke train background, on `car-detection.mp4`, on the
fight clips of the tuning source videos and on train frames of gun, knife_cctv, fall and
helmet_th (CC BY 4.0 CCTV, no fire) are negative. Then the real FireAnalyzer is replayed with
smoke boxes kept only when the verifier agrees, for a grid of verifier and smoke thresholds
(fire boxes as shipped), on the tuning and the held-out sets of `tune_fire.py`.
Results and the conclusion are in docs/ACCURACY.md (fire).
"""

import argparse
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np
import supervision as sv
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
import tune_fire

from citywatch.config import FireThresholds, ModelSettings, Thresholds
from citywatch.evaluation.boxes import read_split, targets_of
from citywatch.evaluation.datasets import build
from citywatch.evaluation.labels import read_labels
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.runtime.media_analysis import IMAGE_SUFFIXES, FrameReport, MediaAnalyzer
from citywatch.training.coco_stem import coco_stem

NEGATIVE_SETS = ("gun", "knife_cctv", "fall", "helmet_th")
NEGATIVE_FRAMES_PER_SET = 150
EPOCHS = 20
BATCH = 32


def crop(image: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = 0.1 * (x2 - x1), 0.1 * (y2 - y1)
    left, top = min(int(max(0, x1 - mx)), width - 2), min(int(max(0, y1 - my)), height - 2)
    right, bottom = max(int(min(width, x2 + mx)), left + 2), max(int(min(height, y2 + my)), top + 2)
    region = cv2.resize(image[top:bottom, left:right], (size, size), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(region, cv2.COLOR_BGR2RGB)


def analysed(work: Path) -> dict[str, list[tune_fire.Cached]]:
    """tune_fire's sets with their decoded frames kept (the crops need the pixels)."""
    detector = load_detector(ModelPack.open(), "fire_smoke", ModelSettings(), conf_threshold=0.1)
    every_frame = Thresholds(fire=FireThresholds(check_every_s=0))  # the replay needs every frame's boxes
    analyzer = MediaAnalyzer({"fire_smoke": detector}, {tune_fire.FIRE}, every_frame, analytics_fps=2.0)
    data = {}
    for name in tune_fire.SETS:
        folder = work / name
        if not folder.exists():
            build(name, folder)
        sources = tune_fire._sources(folder)
        data[name] = [
            tune_fire.Cached(
                item, sources[item.file], item.file.lower().endswith(tuple(IMAGE_SUFFIXES)),
                analyzer.analyse(folder / item.file, keep_frames=True).frames,
            )
            for item in read_labels(folder)
        ]  # fmt: skip
    return data


def split(data: dict[str, list[tune_fire.Cached]]) -> tuple[list, list]:
    """(tuning negatives, held-out negatives), as tune_fire.py splits them."""
    tune_sources = set(sorted({c.source for c in data["fight"]})[::2])
    street = [c for c in data["streets"] if c.item.file == tune_fire.TUNE_STREET]
    held_street = [c for c in data["streets"] if c.item.file != tune_fire.TUNE_STREET]
    return (
        street + [c for c in data["fight"] if c.source in tune_sources],
        held_street + [c for c in data["fight"] if c.source not in tune_sources],
    )


def training_crops(data: dict, tune_negatives: list, size: int) -> tuple[np.ndarray, np.ndarray]:
    crops, labels = [], []
    truth = {item.image.name: item for item in read_split(datasets_dir() / "fire_smoke", "train")}
    both_classes = {0: 0, 1: 1}  # fire, smoke
    for cached in data["fire_tune"]:
        report = cached.frames[0]
        image = report.frame.image
        height, width = image.shape[:2]
        # The eval folder's links keep the dataset's file names.
        truth_xyxy = targets_of(truth[Path(cached.item.file).name], width, height, both_classes).xyxy
        for box in truth_xyxy:
            crops.append(crop(image, box, size))
            labels.append(1)
        for box in report.detections["fire_smoke"].xyxy:
            on_truth = len(truth_xyxy) > 0 and sv.box_iou_batch(box[None], truth_xyxy).max() >= 0.2
            crops.append(crop(image, box, size))
            labels.append(int(on_truth))
    for cached in tune_negatives:
        for report in cached.frames:
            for box in report.detections["fire_smoke"].xyxy:
                crops.append(crop(report.frame.image, box, size))
                labels.append(0)
    detector = load_detector(ModelPack.open(), "fire_smoke", ModelSettings(), conf_threshold=0.1)
    for name in NEGATIVE_SETS:
        paths = sorted((datasets_dir() / name / "images" / "train").glob("*.jpg"))
        for path in paths[:: max(1, len(paths) // NEGATIVE_FRAMES_PER_SET)]:
            image = cv2.imread(str(path))
            for box in detector.detect(image).xyxy:
                crops.append(crop(image, box, size))
                labels.append(0)
    return np.stack(crops), np.array(labels)


class Verifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = coco_stem()
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(256, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], 1))


def blob(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0)


def augmented(crops: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = []
    for c in crops:
        c = c[:, ::-1] if rng.random() < 0.5 else c
        out.append(np.clip(c.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25), 0, 255))
    return np.stack(out).astype(np.uint8)


def train(crops: np.ndarray, labels: np.ndarray, seed: int) -> Verifier:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Verifier()
    counts = np.bincount(labels, minlength=2)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(counts.sum() / counts / 2, dtype=torch.float32))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, 3e-3, total_steps=EPOCHS * -(-len(labels) // BATCH)
    )
    model.train()
    for _ in range(EPOCHS):
        order = rng.permutation(len(labels))
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            loss = loss_fn(model(blob(augmented(crops[batch], rng))), torch.from_numpy(labels[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def gated(items: list[tune_fire.Cached], scores: dict, verifier_min: float) -> list[tune_fire.Cached]:
    """The items with smoke boxes the verifier scores below `verifier_min` removed."""
    out = []
    for cached in items:
        frames = []
        for report in cached.frames:
            found = report.detections["fire_smoke"]
            keep = (found.data["class_name"] != "smoke") | (scores[id(report)] >= verifier_min)
            frames.append(FrameReport(report.frame, {"fire_smoke": found[keep]}))
        out.append(tune_fire.Cached(cached.item, cached.source, cached.is_image, frames))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True, help="folder for the built sets")
    parser.add_argument("--size", type=int, default=96, help="crop side in pixels")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(2)
    args.work.mkdir(parents=True, exist_ok=True)
    data = analysed(args.work)
    tune_negatives, held_negatives = split(data)
    crops, labels = training_crops(data, tune_negatives, args.size)
    print(f"training crops: {len(labels)} ({labels.sum()} positive)", flush=True)
    model = train(crops, labels, args.seed)
    scores = {}
    with torch.no_grad():
        for cached in (c for items in data.values() for c in items):
            for report in cached.frames:
                boxes = report.detections["fire_smoke"].xyxy
                if len(boxes) == 0:
                    scores[id(report)] = np.zeros(0)
                    continue
                batch = np.stack([crop(report.frame.image, b, args.size) for b in boxes])
                scores[id(report)] = torch.softmax(model(blob(batch)), 1)[:, 1].numpy()
    print("verifier min | smoke min | alarms on tuning / held-out negatives | fire_tune | fire_val")
    for verifier_min, smoke_min in itertools.product((0.0, 0.3, 0.5, 0.7, 0.9), (0.3, 0.4, 0.5, 0.6)):
        fire = FireThresholds(smoke_min_confidence=smoke_min)
        thresholds = Thresholds(fire=fire)
        alarms = [
            sum(tune_fire.raises_fire(c, thresholds) for c in gated(items, scores, verifier_min))
            for items in (tune_negatives, held_negatives)
        ]
        tune = tune_fire.score(gated(data["fire_tune"], scores, verifier_min), thresholds)
        val = tune_fire.score(gated(data["fire_val"], scores, verifier_min), thresholds)
        print(
            f"{verifier_min} | {smoke_min} | {alarms[0]} / {alarms[1]} | "
            f"{tune_fire._fmt(tune)} | {tune_fire._fmt(val)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
