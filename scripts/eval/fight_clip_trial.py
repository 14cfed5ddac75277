"""Trial (not shipped): a fight clip model learnt end to end from the pack's COCO features.

    .venv/bin/python scripts/eval/fight_clip_trial.py [--cache DIR] [--epochs 6] [--hidden 32] [--window 6]

Issue 13's first suggestion: per-frame features from the pack's COCO YOLOv8n backbone, pooled over
a sliding window by a small temporal model, cross-validated grouped by source video.

1. The frame encoder is not trained: layers 0-6 of the COCO YOLOv8n (`training.coco_stem`) on a
   192x320 letterbox, average and max pooled over the picture (256 values a frame), exported to
   ONNX and run with ONNX Runtime (2.3 ms a frame on this CPU). Every clip of
   ../shared/datasets/fight is decoded once; the frames a `Sampler` at 10 fps picks are encoded as
   they are and in three augmented copies (mirrored, brighter, darker) and cached.
2. The scorer is a temporal network over `--window` consecutive vectors at 5 fps: each vector and
   its change from the previous one, a shared linear layer, a temporal convolution, max over time,
   one logit. Training windows: every run of `--window` frames of every clip at 5 fps (both
   phases), slowed (0.5x) and sped up (1.5x), from any copy, with Gaussian noise on the
   standardized inputs; every window of a fight clip is a positive (labels are per clip).
3. Grouped cross-validation by source video (8 folds, `clip_sources.csv`): each fold's scorer is
   replayed on its held-out clips at 5 fps; a clip raises when 2 of the last 3 scores reach the
   threshold; decision time from the clip's first frame. Clip-level counts for a threshold grid.

Results and the conclusion are in docs/ACCURACY.md (fight).
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import torch
from sklearn.model_selection import GroupKFold
from torch import nn

from citywatch.config import ModelSettings
from citywatch.paths import datasets_dir
from citywatch.perception.model_pack import sha256_of
from citywatch.perception.runtime import create_session
from citywatch.perception.yolo import letterbox
from citywatch.training.coco_stem import coco_stem
from citywatch.training.fight import Clip, read_clips
from citywatch.video.sampler import Sampler

log = logging.getLogger(__name__)

EXTRACT_FPS = 10.0
"""Frames a second encoded per clip: 5 fps windows take every 2nd, the speed augmentations every
1st (slowed to half) or 3rd (1.5x)."""
WINDOW = 6
"""Scorer input: analysed frames at 5 fps (1.2 s), so the first score comes 1.2 s in."""
COPIES = ("plain", "mirrored", "brighter", "darker")
STRIDES = (1, 2, 3)
DEFAULT_CACHE = Path("/tmp/citywatch-fight-clip-cache")
FOLDS = 8
PERSIST, RECENT = 2, 3
MOTION_STEPS = 2
"""The motion picture of a frame is its difference from the frame this many samples before (0.2 s:
what a 5 fps analyzer has)."""
MOTION_GAIN = 4.0
FEATURES = "motion"
THRESHOLDS = [*np.round(np.arange(0.05, 0.96, 0.025), 3), 0.97, 0.98, 0.99, 0.995, 0.998]
EPOCHS = 6
HIDDEN = 32


# ---------------------------------------------------------------------------------------------
# The frame encoder


class PooledStem(nn.Module):
    """COCO layers 0-6, then average and max over the picture: [N, 3, H, W] -> [N, 256]."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = coco_stem()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.stem(x)
        return torch.cat([maps.mean(dim=(2, 3)), maps.amax(dim=(2, 3))], dim=1)


def export_encoder(path: Path) -> Path:
    model = PooledStem().eval()
    sample = torch.zeros(1, 3, *ENCODER_INPUT)
    torch.onnx.export(
        model, (sample,), str(path), input_names=["images"], output_names=["features"], opset_version=17,
        dynamo=False,
    )  # fmt: skip
    return path


ENCODER_INPUT = (192, 320)
"""(height, width) the encoder sees: a 16:9 sub-stream at half the width of the COCO pass."""


class FrameEncoder:
    """`encode(image)` -> the 256 pooled COCO features of a BGR frame, through ONNX Runtime."""

    def __init__(self, path: Path) -> None:
        self.session = create_session(path, ModelSettings(intra_op_threads=2))
        self.input_name = self.session.get_inputs()[0].name

    def encode(self, image: np.ndarray) -> np.ndarray:
        canvas, _ = letterbox(image, ENCODER_INPUT)
        rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None]
        (features,) = self.session.run(None, {self.input_name: np.ascontiguousarray(rgb, np.float32) / 255.0})
        return np.asarray(features[0], np.float32)


def copies_of(image: np.ndarray) -> dict[str, np.ndarray]:
    """The frame and its augmented copies (COPIES)."""
    return {
        "plain": image,
        "mirrored": cv2.flip(image, 1),
        "brighter": cv2.convertScaleAbs(image, alpha=1.25, beta=10),
        "darker": cv2.convertScaleAbs(image, alpha=0.7, beta=0),
    }


def motion_picture(grey: np.ndarray, before: np.ndarray) -> np.ndarray:
    """What moved since `before` (MOTION_STEPS samples earlier), amplified, as a 3-channel picture."""
    moved = cv2.convertScaleAbs(cv2.absdiff(grey, before), alpha=MOTION_GAIN)
    return cv2.cvtColor(moved, cv2.COLOR_GRAY2BGR)


def encode_clip(path: Path, encoder: FrameEncoder) -> dict[str, np.ndarray]:
    """{"times": [n], copy: [n, 256], "motion:" + copy: [n, 256]} for the frames a Sampler at
    EXTRACT_FPS picks: the encoded picture, and the encoded picture of what moved in it."""
    sampler, times = Sampler(EXTRACT_FPS), []
    vectors: dict[str, list[np.ndarray]] = {key: [] for name in COPIES for key in (name, f"motion:{name}")}
    greys: dict[str, list[np.ndarray]] = {name: [] for name in COPIES}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for index, frame in enumerate(container.decode(stream)):
            stamp = float(frame.time) if frame.time is not None else index / float(stream.average_rate or 25)
            if not sampler.due(stamp):
                continue
            times.append(stamp)
            for name, image in copies_of(frame.to_ndarray(format="bgr24")).items():
                vectors[name].append(encoder.encode(image))
                grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
                history = greys[name]
                before = (
                    history[-MOTION_STEPS]
                    if len(history) >= MOTION_STEPS
                    else (history[0] if history else grey)
                )
                vectors[f"motion:{name}"].append(encoder.encode(motion_picture(grey, before)))
                history.append(grey)
                del history[:-MOTION_STEPS]
    return {"times": np.array(times, np.float32), **{k: np.stack(v) for k, v in vectors.items()}}


def frame_vectors(encoded: dict[str, np.ndarray], copy: str) -> np.ndarray:
    """The vectors the scorer reads for `copy`: FEATURES picks picture, motion or both."""
    parts = {"picture": [copy], "motion": [f"motion:{copy}"], "both": [copy, f"motion:{copy}"]}[FEATURES]
    return np.concatenate([encoded[key] for key in parts], axis=1)


def encoded_clips(clips: list[Clip], encoder_path: Path, cache: Path) -> list[dict[str, np.ndarray]]:
    """Each clip's encoded frames, from the cache where it has them (keyed by the encoder's bytes)."""
    encoder = FrameEncoder(encoder_path)
    folder = cache / f"{sha256_of(encoder_path)[:12]}-motion{MOTION_STEPS}x{MOTION_GAIN:g}"
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for number, clip in enumerate(clips, 1):
        target = folder / f"{clip.path.stem}.npz"
        if not target.is_file():
            encoded = encode_clip(clip.path, encoder)
            np.savez(target.with_suffix(".tmp.npz"), **encoded)
            target.with_suffix(".tmp.npz").replace(target)
            log.info(
                "[%d/%d] %s: %d frames encoded", number, len(clips), clip.path.name, len(encoded["times"])
            )
        with np.load(target) as stored:
            results.append({k: stored[k] for k in stored.files})
    return results


# ---------------------------------------------------------------------------------------------
# The scorer


class TemporalScorer(nn.Module):
    """[B, WINDOW, F] frame vectors -> [B] P(fight). Inputs are standardized with the training
    set's mean and spread (kept in the model, so the exported file needs nothing else)."""

    def __init__(self, features: int, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(mean.astype(np.float32)))
        self.register_buffer("std", torch.from_numpy(std.astype(np.float32)))
        self.frame = nn.Sequential(nn.Linear(2 * features, HIDDEN), nn.GELU(), nn.Dropout(0.3))
        self.time = nn.Sequential(nn.Conv1d(HIDDEN, HIDDEN, 3, padding=1), nn.GELU(), nn.Dropout(0.3))
        self.out = nn.Linear(HIDDEN, 1)

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        change = torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:] - x[:, :-1]], dim=1)
        h = self.frame(torch.cat([x, change], dim=2))
        h = self.time(h.transpose(1, 2)).amax(dim=2)
        return self.out(h).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(x))


def windows(encoded: dict[str, np.ndarray], strides: tuple[int, ...], copies: tuple[str, ...]) -> np.ndarray:
    """Every run of WINDOW frames at each stride (every phase) in each copy: [n, WINDOW, F]."""
    found = []
    for copy in copies:
        frames = frame_vectors(encoded, copy)
        for stride in strides:
            for phase in range(stride):
                sequence = frames[phase::stride]
                for start in range(len(sequence) - WINDOW + 1):
                    found.append(sequence[start : start + WINDOW])
    size = frame_vectors(encoded, "plain").shape[1]
    return np.stack(found) if found else np.zeros((0, WINDOW, size), np.float32)


def train_scorer(encoded: list[dict[str, np.ndarray]], labels: list[bool], seed: int) -> TemporalScorer:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    parts = [(windows(e, STRIDES, COPIES), fight) for e, fight in zip(encoded, labels, strict=True)]
    x = np.concatenate([w for w, _ in parts])
    y = np.concatenate([np.full(len(w), float(f), np.float32) for w, f in parts])
    weight = np.concatenate([np.full(len(w), 1.0 / max(len(w), 1), np.float32) for w, _ in parts])
    weight *= len(weight) / weight.sum()  # each clip counts once, however long it is
    flat = x.reshape(-1, x.shape[2])
    model = TemporalScorer(x.shape[2], flat.mean(0), flat.std(0) + 1e-3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    tx, ty, tw = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(weight)
    model.train()
    for _ in range(EPOCHS):
        order = torch.from_numpy(rng.permutation(len(tx)))
        for batch in order.split(256):
            noisy = tx[batch] + 0.1 * model.std * torch.randn_like(tx[batch])
            loss = nn.functional.binary_cross_entropy_with_logits(
                model.logit(noisy), ty[batch], weight=tw[batch]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def stream_scores(model: TemporalScorer, encoded: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(times, scores) as an analyzer would see the clip at 5 fps: one score per analysed frame from
    the WINDOW-th on."""
    frames, times = frame_vectors(encoded, "plain")[::2], encoded["times"][::2]
    if len(frames) < WINDOW:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    runs = np.stack([frames[i - WINDOW + 1 : i + 1] for i in range(WINDOW - 1, len(frames))])
    with torch.no_grad():
        scores = model(torch.from_numpy(runs)).numpy()
    return times[WINDOW - 1 :], scores


def clip_decision(times: np.ndarray, scores: np.ndarray, start: float, threshold: float) -> float | None:
    """Seconds from the clip's first frame to the first frame where PERSIST of the last RECENT
    scores reach `threshold` (the persistence of today's fight rule), None if none does."""
    for i in range(len(scores)):
        if scores[i] >= threshold and np.sum(scores[max(0, i - RECENT + 1) : i + 1] >= threshold) >= PERSIST:
            return float(times[i] - start)
    return None


# ---------------------------------------------------------------------------------------------
# Cross-validation and the operating point


def cross_validate(
    encoded: list[dict[str, np.ndarray]], clips: list[Clip], seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Out-of-fold (times, scores) of every clip, each from a scorer that never saw its video."""
    groups = np.array([c.source for c in clips])
    labels = [c.is_fight for c in clips]
    results: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0), np.zeros(0))] * len(clips)
    for fold, (fit, held) in enumerate(GroupKFold(n_splits=FOLDS).split(clips, groups=groups)):
        model = train_scorer([encoded[i] for i in fit], [labels[i] for i in fit], seed + fold)
        for i in held:
            results[i] = stream_scores(model, encoded[i])
        log.info("fold %d: %d clips held out (%d videos)", fold, len(held), len(set(groups[held])))
    return results


def clip_curve(
    scored: list[tuple[np.ndarray, np.ndarray]], encoded: list[dict[str, np.ndarray]], clips: list[Clip]
) -> list[dict[str, Any]]:
    """Clip-level counts at each threshold through the analyzer's rule."""
    points = []
    for threshold in THRESHOLDS:
        decided = [
            clip_decision(t, s, float(e["times"][0]) if len(e["times"]) else 0.0, float(threshold))
            for (t, s), e in zip(scored, encoded, strict=True)
        ]
        points.append(clip_point(float(threshold), decided, clips))
    return points


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
    }


def operating_point(points: list[dict[str, Any]], min_precision: float = 0.9) -> dict[str, Any]:
    """Best F1 at precision >= `min_precision` (lower threshold on a tie); else the most precise."""
    meeting = [p for p in points if p["precision"] >= min_precision and p["tp"] > 0]
    if meeting:
        return max(meeting, key=lambda p: (p["f1"], -p["threshold"]))
    return max(points, key=lambda p: (p["precision"], p["recall"]))


def main(argv: list[str] | None = None) -> int:
    global EPOCHS, HIDDEN, WINDOW, FEATURES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "fight", help="the fight dataset")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where encoded frames are cached")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--hidden", type=int, default=HIDDEN)
    parser.add_argument(
        "--window", type=int, default=WINDOW, help="analysed frames at 5 fps the scorer reads"
    )
    parser.add_argument("--features", choices=["picture", "motion", "both"], default=FEATURES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    EPOCHS, HIDDEN, WINDOW, FEATURES = args.epochs, args.hidden, args.window, args.features
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(2)
    clips = read_clips(args.data)
    args.cache.mkdir(parents=True, exist_ok=True)
    encoded = encoded_clips(clips, export_encoder(args.cache / "frame-encoder.onnx"), args.cache)
    points = clip_curve(cross_validate(encoded, clips, args.seed), encoded, clips)
    columns = ["threshold", "tp", "fp", "fn", "tn", "precision", "recall", "f1", "accuracy"]
    columns += ["false_alarm_rate", "median_decision_s"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for p in points:
        print("| " + " | ".join(str(p[c]) for c in columns) + " |")
    print("best F1 at precision >= 0.9 (else the most precise):", operating_point(points))
    print("best accuracy:", max(points, key=lambda p: p["accuracy"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
