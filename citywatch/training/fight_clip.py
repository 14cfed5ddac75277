"""Train the fight clip model (perception.fight_clip) on ../shared/datasets/fight.

    python -m citywatch.training.fight_clip [--data DIR] [--out DIR] [--cache DIR] [--head spatial]

1. The frame encoder is not trained: layers 0-6 of the pack's COCO YOLOv8n (`training.coco_stem`),
   exported to ONNX. The frames `citywatch detect` would sample at EXTRACT_FPS are encoded as they
   are and in augmented copies (COPIES: mirrored, brighter, darker, two crops), both the picture and
   its motion picture (the difference from the frame CLIP_STEP_S before), and cached as [128, 12, 20]
   maps (keyed by the encoder's bytes); the COCO people in view are cached beside them (a second
   decode, once, so either cache can be refilled alone).
2. The scorer reads WINDOW consecutive maps at CLIP_FPS. `spatial` (shipped): a 1x1 convolution per
   frame over each place's features and their change, a 3x3x3 convolution over time and space, max
   and mean over both. `pooled` and `grid` pool each map first (the first trials; docs/ACCURACY.md).
   Training windows: every run of WINDOW frames of every clip at CLIP_FPS, slowed (0.5x) and sped up
   (1.5x), from every copy, with Gaussian noise; every window of a fight clip is a positive (labels
   are per clip).
3. Grouped cross-validation by source video (FOLDS folds, `clip_sources.csv`): each fold's scorer is
   replayed on its held-out clips at CLIP_FPS through the analyzer's rule: a frame is fighting when
   its score reaches the threshold while at least `min_people` COCO people are in view in the window
   (the analyzer runs only then), and a clip raises when `persist_frames` of the last `window_frames`
   are fighting. Clip-level counts for a threshold grid; the operating points (best F1 at precision
   >= 0.9 for `normal`, 0.95 `low`, 0.8 `high`) go into the manifest and the thresholds' presets.
4. The shipped scorer is trained on all clips the same way and exported with the encoder.
"""

import argparse
import csv
import logging
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from sklearn.model_selection import GroupKFold
from torch import nn

from citywatch.config import FightThresholds, ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.fight_clip import (
    CLIP_FPS,
    CLIP_STEP_S,
    ENCODER_INPUT,
    ENCODER_MODEL,
    MOTION_GAIN,
    SCORER_MODEL,
    WINDOW,
    encoder_input,
    grey_of,
    motion_picture,
)
from citywatch.perception.model_pack import ModelPack, sha256_of
from citywatch.perception.runtime import create_session
from citywatch.perception.tracker import TRACKED_ROLE
from citywatch.runtime.media_analysis import sampled_video_frames
from citywatch.training.coco_stem import coco_stem
from citywatch.training.pack_writer import cpu_latency_ms, write_manifest_entry

log = logging.getLogger(__name__)

EXTRACT_FPS = 10.0
"""Frames a second encoded per clip: CLIP_FPS windows take every 2nd, the speed augmentations every
1st (slowed to half) or 3rd (1.5x)."""
STEP = round(EXTRACT_FPS / CLIP_FPS)
MOTION_STEPS = round(CLIP_STEP_S * EXTRACT_FPS)
COPIES = ("plain", "mirrored", "brighter", "darker", "cropped", "cropped-mirrored")
STRIDES = (1, 2, 3)
FOLDS = 8
DEFAULT_CACHE = Path("/tmp/citywatch-fight-clip-cache")
THRESHOLDS = [*np.round(np.arange(0.05, 0.96, 0.025), 3), 0.97, 0.98, 0.99, 0.995, 0.998]
OPERATING_POINTS = {"normal": 0.9, "low": 0.95, "high": 0.8}
"""Sensitivity level -> the precision its threshold must keep (best F1 among those)."""
DATA_ATTRIBUTION = (
    "Surveillance Camera Fight Dataset, Ş. Aktı, G.A. Tataroğlu, H.K. Ekenel, IPTA 2019, "
    "https://github.com/seymanurakti/fight-detection-surv-dataset (MIT, Copyright (c) 2020 Şeymanur Aktı); "
    "the clips were cut from YouTube videos whose rights stay with their owners"
)


@dataclass(frozen=True, slots=True)
class Recipe:
    head: str = "spatial"
    features: str = "motion"
    hidden: int = 16
    epochs: int = 6
    epoch_windows: int = 2000
    """Windows drawn for each epoch (0: every one)."""
    batch: int = 64
    grid: tuple[int, int] = (2, 2)
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Clip:
    path: Path
    label: str
    source: str

    @property
    def is_fight(self) -> bool:
        return self.label == "fight"


def read_clips(data: Path, limit: int | None = None) -> list[Clip]:
    """The dataset's clips; with `limit`, the first limit/2 of each label (a small run keeps both)."""
    with (data / "clip_sources.csv").open(encoding="utf-8") as stream:
        sources = {row["file"]: row["source_video"] for row in csv.DictReader(stream)}
    with (data / "labels.csv").open(encoding="utf-8") as stream:
        clips = [Clip(data / r["file"], r["label"], sources[r["file"]]) for r in csv.DictReader(stream)]
    if not limit:
        return clips
    fights, others = [c for c in clips if c.is_fight], [c for c in clips if not c.is_fight]
    return fights[: (limit + 1) // 2] + others[: limit // 2]


# ---------------------------------------------------------------------------------------------
# The frame encoder and the cache of what it saw


def export_encoder(path: Path) -> Path:
    """COCO layers 0-6 as ONNX: [1, 3, 192, 320] -> [1, 128, 12, 20] (stride 16)."""
    sample = torch.zeros(1, 3, *ENCODER_INPUT)
    torch.onnx.export(
        coco_stem().eval(), (sample,), str(path), input_names=["images"], output_names=["features"],
        opset_version=17, dynamo=False,
    )  # fmt: skip
    return path


def _cropped(image: np.ndarray, left: float) -> np.ndarray:
    """The middle 80 % of the height and 80 % of the width from `left` (a fraction), back to size."""
    height, width = image.shape[:2]
    x0, y0 = int(width * left), int(height * 0.1)
    part = image[y0 : y0 + int(height * 0.8), x0 : x0 + int(width * 0.8)]
    return cv2.resize(part, (width, height), interpolation=cv2.INTER_LINEAR)


def copies_of(image: np.ndarray) -> dict[str, np.ndarray]:
    """The frame and its augmented copies (COPIES)."""
    return {
        "plain": image,
        "mirrored": cv2.flip(image, 1),
        "brighter": cv2.convertScaleAbs(image, alpha=1.25, beta=10),
        "darker": cv2.convertScaleAbs(image, alpha=0.7, beta=0),
        "cropped": _cropped(image, 0.0),
        "cropped-mirrored": cv2.flip(_cropped(image, 0.2), 1),
    }


def encode_clip(path: Path, encoder: Any) -> dict[str, np.ndarray]:
    """{"times": [n], copy: [n, 128, 12, 20] maps of the picture, "motion:" + copy: of its motion
    picture} for the frames a Sampler at EXTRACT_FPS picks."""
    name = encoder.get_inputs()[0].name
    times: list[float] = []
    maps: dict[str, list[np.ndarray]] = {key: [] for copy in COPIES for key in (copy, f"motion:{copy}")}
    greys: dict[str, list[np.ndarray]] = {copy: [] for copy in COPIES}
    for frame in sampled_video_frames(path, EXTRACT_FPS):
        times.append(frame.timestamp)
        for copy, picture in copies_of(frame.image).items():
            maps[copy].append(encoder.run(None, {name: encoder_input(picture)})[0][0].astype(np.float16))
            grey, history = grey_of(picture), greys[copy]
            before = history[0] if history else grey  # MOTION_STEPS back, or the first frame
            motion = encoder_input(motion_picture(grey, before))
            maps[f"motion:{copy}"].append(encoder.run(None, {name: motion})[0][0].astype(np.float16))
            history.append(grey)
            del history[:-MOTION_STEPS]  # so history[0] is MOTION_STEPS frames before the next one
    return {"times": np.array(times, np.float32), **{key: np.stack(value) for key, value in maps.items()}}


def people_in_view(path: Path, detector: Any) -> np.ndarray:
    """[n, 2] for the same frames as encode_clip: the highest and second highest COCO person
    confidence (0 where there are fewer people) on the frames the analyzer sees (every STEP-th),
    0 on the others."""
    return np.array(
        [_top_people(detector, frame.image) if number % STEP == 0 else (0.0, 0.0) for number, frame in
         enumerate(sampled_video_frames(path, EXTRACT_FPS))],
        np.float32,
    ).reshape(-1, 2)  # fmt: skip


def _top_people(detector: Any, image: np.ndarray) -> tuple[float, float]:
    detections = detector.detect(image)
    confidences = np.sort(detections.confidence[detections.data["class_name"] == "person"])[::-1]
    padded = np.concatenate([confidences, np.zeros(2, np.float32)])
    return float(padded[0]), float(padded[1])


def encoded_clips(clips: list[Clip], cache: Path) -> list[dict[str, np.ndarray]]:
    """Each clip's encoded frames and people in view ("people"), from the cache where it has them
    (the maps keyed by the encoder's bytes)."""
    cache.mkdir(parents=True, exist_ok=True)
    encoder_path = export_encoder(cache / f"{ENCODER_MODEL}.onnx")
    folder = cache / f"{sha256_of(encoder_path)[:12]}-maps-motion{MOTION_STEPS}x{MOTION_GAIN:g}"
    folder.mkdir(exist_ok=True)
    settings = ModelSettings(intra_op_threads=2)
    encoder = create_session(encoder_path, settings)
    detector = load_detector(ModelPack.open(), TRACKED_ROLE, settings)
    results = []
    for number, clip in enumerate(clips, 1):
        maps, people = folder / f"{clip.path.stem}.npz", folder / f"{clip.path.stem}.people2.npy"
        if not maps.is_file():
            np.savez(maps.with_suffix(".tmp.npz"), **encode_clip(clip.path, encoder))
            maps.with_suffix(".tmp.npz").replace(maps)
            log.info("[%d/%d] %s encoded", number, len(clips), clip.path.name)
        if not people.is_file():
            np.save(people.with_suffix(".tmp.npy"), people_in_view(clip.path, detector))
            people.with_suffix(".tmp.npy").replace(people)
        with np.load(maps) as stored:
            results.append({k: stored[k] for k in stored.files} | {"people": np.load(people)})
    return results


# ---------------------------------------------------------------------------------------------
# The scorers


class SpatialScorer(nn.Module):
    """[B, WINDOW, C, 12, 20] maps -> [B] P(fight), keeping where things happen (module doc).
    Inputs are standardized per channel with the training set's mean and spread, kept in the model
    so the exported file needs nothing else."""

    def __init__(self, channels: int, mean: np.ndarray, std: np.ndarray, hidden: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(mean.astype(np.float32)).view(1, 1, -1, 1, 1))
        self.register_buffer("std", torch.from_numpy(std.astype(np.float32)).view(1, 1, -1, 1, 1))
        self.frame = nn.Sequential(nn.Conv2d(2 * channels, hidden, 1), nn.GELU(), nn.Dropout2d(0.2))
        self.time = nn.Sequential(nn.Conv3d(hidden, hidden, 3, padding=1), nn.GELU())
        self.out = nn.Sequential(nn.Dropout(0.3), nn.Linear(2 * hidden, 1))

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        change = torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:] - x[:, :-1]], dim=1)
        batch, steps = x.shape[:2]
        h = self.frame(torch.cat([x, change], dim=2).flatten(0, 1))
        h = self.time(h.view(batch, steps, *h.shape[1:]).transpose(1, 2))
        return self.out(torch.cat([h.amax(dim=(2, 3, 4)), h.mean(dim=(2, 3, 4))], dim=1)).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(x))


class PooledScorer(nn.Module):
    """[B, WINDOW, F] pooled maps -> [B] P(fight): each vector and its change, a linear layer, a
    temporal convolution, max over time (the first trial; it mixes the whole picture)."""

    def __init__(self, features: int, mean: np.ndarray, std: np.ndarray, hidden: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(mean.astype(np.float32)))
        self.register_buffer("std", torch.from_numpy(std.astype(np.float32)))
        self.frame = nn.Sequential(nn.Linear(2 * features, hidden), nn.GELU(), nn.Dropout(0.3))
        self.time = nn.Sequential(nn.Conv1d(hidden, hidden, 3, padding=1), nn.GELU(), nn.Dropout(0.3))
        self.out = nn.Linear(hidden, 1)

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        change = torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:] - x[:, :-1]], dim=1)
        h = self.frame(torch.cat([x, change], dim=2))
        return self.out(self.time(h.transpose(1, 2)).amax(dim=2)).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(x))


def frame_inputs(encoded: dict[str, np.ndarray], copy: str, recipe: Recipe) -> np.ndarray:
    """What the scorer reads of each frame of `copy`: the maps of the picture, the motion or both;
    `spatial` takes them whole (float16), `pooled` their mean and max over the picture, `grid` also
    the max in each cell of a grid."""
    keys = {"picture": [copy], "motion": [f"motion:{copy}"], "both": [copy, f"motion:{copy}"]}
    parts = keys[recipe.features]
    maps = np.concatenate([encoded[key] for key in parts], axis=1)
    if recipe.head == "spatial":
        return maps
    maps = maps.astype(np.float32)
    pooled = [maps.mean(axis=(2, 3)), maps.max(axis=(2, 3))]
    if recipe.head == "grid":
        rows, columns = recipe.grid
        for band in np.array_split(maps, rows, axis=2):
            pooled += [cell.max(axis=(2, 3)) for cell in np.array_split(band, columns, axis=3)]
    return np.concatenate(pooled, axis=1)


Window = tuple[int, str, np.ndarray]
"""(clip, copy, the indices of its WINDOW frames)."""


def windows(clip: int, encoded: dict[str, np.ndarray]) -> list[Window]:
    """Every run of WINDOW frames at each stride (every phase) in each copy."""
    count = len(encoded["times"])
    found = []
    for copy in COPIES:
        for stride in STRIDES:
            for phase in range(stride):
                sequence = np.arange(phase, count, stride)
                found += [(clip, copy, sequence[s : s + WINDOW]) for s in range(len(sequence) - WINDOW + 1)]
    return found


def train_scorer(encoded: list[dict[str, np.ndarray]], labels: list[bool], recipe: Recipe) -> nn.Module:
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    frames = [{copy: frame_inputs(e, copy, recipe) for copy in COPIES} for e in encoded]
    found = [windows(i, e) for i, e in enumerate(encoded)]
    every = [w for clip in found for w in clip]
    y = torch.tensor([float(labels[clip]) for clip, _, _ in every])
    weight = torch.tensor([1.0 / len(found[clip]) for clip, _, _ in every])
    weight *= len(weight) / weight.sum()  # each clip counts once, however long it is
    plain = np.concatenate([f["plain"] for f in frames]).astype(np.float32)
    axes = (0, 2, 3) if plain.ndim == 4 else (0,)
    scorer = SpatialScorer if recipe.head == "spatial" else PooledScorer
    model = scorer(plain.shape[1], plain.mean(axes), plain.std(axes) + 1e-3, recipe.hidden)
    del plain
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    model.train()
    for _ in range(recipe.epochs):
        order = rng.permutation(len(every))[: recipe.epoch_windows or None]
        for batch in np.array_split(order, max(1, len(order) // recipe.batch)):
            x = torch.from_numpy(
                np.stack([frames[every[i][0]][every[i][1]][every[i][2]] for i in batch]).astype(np.float32)
            )
            noisy = x + 0.1 * model.std * torch.randn_like(x)
            loss = nn.functional.binary_cross_entropy_with_logits(
                model.logit(noisy), y[batch], weight=weight[batch]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


# ---------------------------------------------------------------------------------------------
# The analyzer's rule on held-out clips, and the operating points


@dataclass(frozen=True, slots=True)
class Scored:
    """A clip as the analyzer sees it at CLIP_FPS, from the WINDOW-th frame on."""

    times: np.ndarray
    scores: np.ndarray
    people: np.ndarray
    """[k, 2] the highest and second highest person confidence over each score's window."""


def stream_scores(model: nn.Module, encoded: dict[str, np.ndarray], recipe: Recipe) -> Scored:
    frames = frame_inputs(encoded, "plain", recipe)[::STEP]
    times, people = encoded["times"][::STEP], encoded["people"][::STEP]
    if len(frames) < WINDOW:
        return Scored(np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros((0, 2), np.float32))
    ends = range(WINDOW - 1, len(frames))
    runs = np.stack([frames[i - WINDOW + 1 : i + 1] for i in ends]).astype(np.float32)
    with torch.no_grad():
        scores = model(torch.from_numpy(runs)).numpy()
    in_view = np.array([people[i - WINDOW + 1 : i + 1].max(axis=0) for i in ends], np.float32).reshape(-1, 2)
    return Scored(times[WINDOW - 1 :], scores, in_view)


def clip_decision(scored: Scored, start: float, threshold: float, rule: FightThresholds) -> float | None:
    """Seconds from the clip's first frame to the first frame where `persist_frames` of the last
    `window_frames` are fighting (score >= threshold with `min_people` in view; 0, 1 or 2), None if
    none is."""
    fighting = scored.scores >= threshold
    if rule.min_people > 0:
        fighting &= scored.people[:, min(rule.min_people, 2) - 1] >= rule.min_person_confidence
    for i in range(len(fighting)):
        if fighting[i] and fighting[max(0, i - rule.window_frames + 1) : i + 1].sum() >= rule.persist_frames:
            return float(scored.times[i] - start)
    return None


def clip_point(threshold: float, decided: list[float | None], clips: list[Clip]) -> dict[str, Any]:
    tp = sum(1 for d, c in zip(decided, clips, strict=True) if c.is_fight and d is not None)
    fp = sum(1 for d, c in zip(decided, clips, strict=True) if not c.is_fight and d is not None)
    fights = sum(c.is_fight for c in clips)
    others = len(clips) - fights
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / fights if fights else 0.0
    latencies = [d for d, c in zip(decided, clips, strict=True) if c.is_fight and d is not None]
    return {
        "threshold": threshold,
        "tp": tp,
        "fp": fp,
        "fn": fights - tp,
        "tn": others - fp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "accuracy": round((tp + others - fp) / len(clips), 4),
        "false_alarm_rate": round(fp / others, 4) if others else 0.0,
        "median_decision_s": round(float(np.median(latencies)), 2) if latencies else None,
        "max_decision_s": round(float(np.max(latencies)), 2) if latencies else None,
    }


def clip_curve(
    scored: list[Scored], encoded: list[dict[str, np.ndarray]], clips: list[Clip], rule: FightThresholds
) -> list[dict[str, Any]]:
    """Clip-level counts at each threshold through the analyzer's rule."""
    starts = [float(e["times"][0]) if len(e["times"]) else 0.0 for e in encoded]
    return [
        clip_point(
            float(threshold),
            [clip_decision(s, at, float(threshold), rule) for s, at in zip(scored, starts, strict=True)],
            clips,
        )
        for threshold in THRESHOLDS
    ]


def operating_point(points: list[dict[str, Any]], min_precision: float) -> dict[str, Any]:
    """Best F1 at precision >= `min_precision` (lower threshold on a tie); else the most precise
    point that finds a fight."""
    finding = [p for p in points if p["tp"] > 0]
    meeting = [p for p in finding if p["precision"] >= min_precision]
    if meeting:
        return max(meeting, key=lambda p: (p["f1"], -p["threshold"]))
    return max(finding, key=lambda p: (p["precision"], p["recall"]))


def cross_validate(encoded: list[dict[str, np.ndarray]], clips: list[Clip], recipe: Recipe) -> list[Scored]:
    """Out-of-fold scores of every clip, each from a scorer that never saw its source video."""
    groups = np.array([c.source for c in clips])
    labels = [c.is_fight for c in clips]
    results: list[Scored | None] = [None] * len(clips)
    for fold, (fit, held) in enumerate(GroupKFold(n_splits=FOLDS).split(clips, groups=groups)):
        model = train_scorer(
            [encoded[i] for i in fit], [labels[i] for i in fit], replace(recipe, seed=recipe.seed + fold)
        )
        for i in held:
            results[i] = stream_scores(model, encoded[i], recipe)
        log.info("fold %d: %d clips held out (%d videos)", fold, len(held), len(set(groups[held])))
    return [r for r in results if r is not None]


# ---------------------------------------------------------------------------------------------
# The shipped model


def export_scorer(model: nn.Module, path: Path, channels: int) -> Path:
    sample = torch.zeros(1, WINDOW, channels, 12, 20)
    torch.onnx.export(
        model, (sample,), str(path), input_names=["maps"], output_names=["probability"], opset_version=17,
        dynamo=False,
    )  # fmt: skip
    return path


def manifest_entries(
    encoder: Path, scorer: Path, clips: list[Clip], metrics: dict[str, Any], latency_ms: dict[str, float]
) -> list[dict[str, Any]]:
    videos = len({c.source for c in clips})
    common = {
        "source": "python -m citywatch.training.fight_clip",
        "trained_on": f"../shared/datasets/fight ({len(clips)} surveillance clips, {videos} YouTube source "
        f"videos), at {CLIP_FPS:g} analysed fps",
    }
    return [
        {
            "name": ENCODER_MODEL,
            "file": encoder.name,
            "sha256": sha256_of(encoder),
            "task": "encode",
            "architecture": "layers 0-6 of the pack's coco-yolov8n-int8-640 (dequantized), not retrained",
            "license": "AGPL-3.0 (the weights of the pack's COCO YOLOv8n, Ultralytics)",
            "input": {"name": "images", "shape": [1, 3, *ENCODER_INPUT], "dtype": "float32",
                      "meaning": "perception.fight_clip.encoder_input of a motion picture"},
            "output": {"name": "features", "shape": [1, 128, 12, 20], "dtype": "float32"},
            "cpu_latency_ms": latency_ms["encoder"],
            **common,
        },
        {
            "name": SCORER_MODEL,
            "file": scorer.name,
            "sha256": sha256_of(scorer),
            "task": "classify",
            "architecture": "torch: 1x1 convolution per frame, 3x3x3 convolution over time and space, "
            "max and mean pooling, a linear layer (training.fight_clip.SpatialScorer)",
            "license": f"model: Apache-2.0 (citywatch); training data: MIT, {DATA_ATTRIBUTION}",
            "input": {"name": "maps", "shape": [1, WINDOW, 128, 12, 20], "dtype": "float32",
                      "meaning": f"the encoder's maps of {WINDOW} consecutive analysed frames, oldest first"},
            "output": {"name": "probability", "shape": [1], "dtype": "float32", "meaning": "P(fight)"},
            "classes": ["no_fight", "fight"],
            "metrics": metrics,
            "cpu_latency_ms": latency_ms["scorer"],
            **common,
        },
    ]  # fmt: skip


def train(data: Path, out: Path, cache: Path, recipe: Recipe, limit: int | None = None) -> dict[str, Any]:
    """Measure by grouped CV (where the clips come from FOLDS videos or more), then fit on every clip
    and write both files and their manifest entries."""
    started = time.monotonic()
    clips = read_clips(data, limit)
    encoded = encoded_clips(clips, cache)
    metrics: dict[str, Any] = {"recipe": {k: getattr(recipe, k) for k in Recipe.__slots__}}
    if len({c.source for c in clips}) >= FOLDS:
        metrics |= cross_validation_report(encoded, clips, recipe)
    model = train_scorer(encoded, [c.is_fight for c in clips], recipe)
    out.mkdir(parents=True, exist_ok=True)
    encoder = export_encoder(out / f"{ENCODER_MODEL}.onnx")
    channels = frame_inputs(encoded[0], "plain", recipe).shape[1]
    scorer = export_scorer(model, out / f"{SCORER_MODEL}.onnx", channels)
    latency = {
        "encoder": cpu_latency_ms(encoder, encoder_input(np.zeros((360, 640, 3), np.uint8))),
        "scorer": cpu_latency_ms(scorer, np.zeros((1, WINDOW, channels, 12, 20), np.float32)),
    }
    for entry in manifest_entries(encoder, scorer, clips, metrics, latency):
        write_manifest_entry(out, entry)
    log.info("trained in %.0f s", time.monotonic() - started)
    return metrics


def cross_validation_report(
    encoded: list[dict[str, np.ndarray]], clips: list[Clip], recipe: Recipe
) -> dict[str, Any]:
    """The curve and operating points of the analyzer's rule (its default `min_people`) on the
    out-of-fold scores, printed with those of the other people gates (0, 1, 2 in view)."""
    scored = cross_validate(encoded, clips, recipe)
    rule = FightThresholds()
    for gate in sorted({0, 1, 2} - {rule.min_people}):
        other = clip_curve(scored, encoded, clips, rule.model_copy(update={"min_people": gate}))
        print(f"\n## min_people {gate}")
        print_curve(other, {level: operating_point(other, p) for level, p in OPERATING_POINTS.items()})
    points = clip_curve(scored, encoded, clips, rule)
    chosen = {level: operating_point(points, p) for level, p in OPERATING_POINTS.items()}
    print(f"\n## min_people {rule.min_people} (the analyzer's default)")
    print_curve(points, chosen)
    return {
        "cross_validation": f"{FOLDS} folds grouped by source video, {len(clips)} clips, "
        f"min_people {rule.min_people}",
        "operating_points": chosen,
        "best_accuracy": max(points, key=lambda p: (p["accuracy"], -p["threshold"])),
    }


def print_curve(points: list[dict[str, Any]], chosen: dict[str, dict[str, Any]]) -> None:
    columns = ["threshold", "tp", "fp", "fn", "tn", "precision", "recall", "f1", "accuracy"]
    columns += ["false_alarm_rate", "median_decision_s", "max_decision_s"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for p in points:
        print("| " + " | ".join(str(p[c]) for c in columns) + " |")
    for level, point in chosen.items():
        print(f"{level} (best F1 at precision >= {OPERATING_POINTS[level]}): {point}")
    print("best accuracy:", max(points, key=lambda p: (p["accuracy"], -p["threshold"])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "fight", help="the fight dataset")
    parser.add_argument("--out", type=Path, default=BUNDLED_MODELS_DIR, help="model pack to write into")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where encoded frames are cached")
    parser.add_argument("--cv-only", action="store_true", help="print the cross-validation, write nothing")
    parser.add_argument("--limit", type=int, help="a small run on this many clips (no cross-validation)")
    defaults = Recipe()
    parser.add_argument("--head", choices=["spatial", "pooled", "grid"], default=defaults.head)
    parser.add_argument("--features", choices=["picture", "motion", "both"], default=defaults.features)
    parser.add_argument("--hidden", type=int, default=defaults.hidden)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--epoch-windows", type=int, default=defaults.epoch_windows, help="0: all")
    parser.add_argument("--batch", type=int, default=defaults.batch)
    parser.add_argument("--grid", type=int, nargs=2, default=defaults.grid, help="--head grid")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    recipe = Recipe(
        args.head, args.features, args.hidden, args.epochs, args.epoch_windows, args.batch, tuple(args.grid),
        args.seed,
    )  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(2)
    if args.cv_only:
        clips = read_clips(args.data)
        cross_validation_report(encoded_clips(clips, args.cache), clips, recipe)
        return 0
    train(args.data, args.out, args.cache, recipe, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
