"""Train the fight classifier (group features over ~1 s -> fighting or not) on ../shared/datasets/fight.

    python -m citywatch.training.fight [--data DIR] [--out DIR] [--cache DIR] [--limit N]

Every clip goes through the real cascade at FIGHT_FPS analysed frames a second: the COCO
detector, the ByteTrack tracker, MoveNet on the crops of grouped people, and the run-time feature
code (`analytics.fight_features`); the expensive model outputs are cached on disk
(`training.fight_cache`), so later runs cost seconds. The labels are per clip (no boxes, no
times), so every group row of a `fight` clip is a positive and every row of a `no_fight` clip a
negative.

The measure is cross-validation grouped by source video (leave one YouTube video out, from
`clip_sources.csv`): neighbouring clips of one video overlap in time and must not sit on both
sides. Inside each outer fold, the probability threshold is chosen by an inner grouped
cross-validation on the training videos only, and the held-out clips are then judged by the
analyzer's own temporal rule (`analytics.fight.FightEpisodes`) on the out-of-fold probabilities:
a clip is a fight when it raises an incident, its decision latency is the time from the clip's
first frame to that incident. The shipped model is fitted on all clips, with the threshold chosen
by the same rule on all of them.
"""

import argparse
import csv
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from skl2onnx import to_onnx
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from citywatch.analytics.fight import FightEpisodes, group_settings, people_tracker
from citywatch.analytics.fight_features import FEATURE_NAMES, FIGHT_FPS, NUM_FEATURES, FightFeatureExtractor
from citywatch.config import FightThresholds, ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.fight_classifier import FIGHT_MODEL
from citywatch.perception.model_pack import ModelPack, sha256_of
from citywatch.perception.pose import Poses, load_pose_estimator
from citywatch.training import fight_cache
from citywatch.training.pack_writer import cpu_latency_ms, write_manifest_entry

log = logging.getLogger(__name__)

CLASSES = ["no_fight", "fight"]
DEFAULT_CACHE = Path("/tmp/citywatch-fight-cache")
THRESHOLDS = np.round(np.arange(0.3, 0.86, 0.05), 2)
MAX_FALSE_ALARM_RATE = 0.10
INNER_FOLDS = 5
DATA_ATTRIBUTION = (
    "Surveillance Camera Fight Dataset, Ş. Aktı, G.A. Tataroğlu, H.K. Ekenel, IPTA 2019, "
    "https://github.com/seymanurakti/fight-detection-surv-dataset (MIT, Copyright (c) 2020 Şeymanur Aktı); "
    "the clips were cut from YouTube videos whose rights stay with their owners"
)


@dataclass(frozen=True, slots=True)
class Clip:
    path: Path
    label: str
    source: str

    @property
    def is_fight(self) -> bool:
        return self.label == "fight"


@dataclass(slots=True, eq=False)
class ReplayedFrame:
    """One analysed frame of a clip as the analyzer sees it: its time, the person track ids, and
    each group's track ids, boxes and feature row."""

    timestamp: float
    seen: np.ndarray
    groups: list[tuple[int, ...]]
    boxes: list[np.ndarray]
    features: np.ndarray


@dataclass(slots=True, eq=False)
class Rows:
    features: np.ndarray
    labels: np.ndarray
    clip: np.ndarray
    frames: list[list[ReplayedFrame]] = field(default_factory=list)


def read_clips(data: Path) -> list[Clip]:
    with (data / "clip_sources.csv").open(encoding="utf-8") as stream:
        sources = {row["file"]: row["source_video"] for row in csv.DictReader(stream)}
    with (data / "labels.csv").open(encoding="utf-8") as stream:
        return [Clip(data / r["file"], r["label"], sources[r["file"]]) for r in csv.DictReader(stream)]


def replay(cached: fight_cache.CachedVideo, fps: float, settings: FightThresholds) -> list[ReplayedFrame]:
    """The analyzer's view of a cached video at `fps`: people, tracker, groups, features."""
    people = people_tracker(settings, fps)
    extractor = FightFeatureExtractor(group_settings(settings))
    replayed = []
    for frame in cached.sampled(fps):
        wanted = frame.frame_people is not None and people.wants_frame_people(frame.detections)
        boxes, ids = people.update(
            frame.timestamp, frame.detections, frame.frame_people if wanted else Poses.empty()
        )

        def pose(asked: np.ndarray, frame: fight_cache.CachedFrame = frame) -> Poses:
            found = [frame.pose_of(box) for box in asked]
            if any(f is None for f in found):
                raise ValueError(f"{cached.path}: a tracked box has no cached pose")
            return (
                Poses(
                    np.stack([p.keypoints[i] for p, i in found]),  # type: ignore[misc]
                    np.stack([p.scores[i] for p, i in found]),  # type: ignore[misc]
                    np.asarray(asked, np.float32).reshape(-1, 4),
                    np.array([p.confidence[i] for p, i in found], np.float32),  # type: ignore[misc]
                )
                if found
                else Poses.empty()
            )

        groups = extractor.update(frame.timestamp, boxes, ids, frame.grey, frame.shape[1], pose)
        replayed.append(
            ReplayedFrame(
                frame.timestamp,
                np.asarray(ids, int),
                [g.track_ids for g in groups],
                [g.boxes for g in groups],
                np.stack([g.features for g in groups]) if groups else np.zeros((0, NUM_FEATURES), np.float32),
            )
        )
    return replayed


def collect(clips: list[Clip], cache_dir: Path, settings: FightThresholds, fps: float = FIGHT_FPS) -> Rows:
    """Feature rows of every group in every analysed frame of every clip (models run only for
    what the cache lacks)."""
    models = None
    all_frames, features, labels, clip_of = [], [], [], []
    for index, clip in enumerate(clips):
        cached = fight_cache.load(cache_dir, clip.path)
        if cached is None or fps not in cached.picks:
            if models is None:
                model_settings = ModelSettings()
                models = (
                    load_detector(ModelPack.open(), "coco", model_settings),
                    load_pose_estimator(model_settings),
                )
            cached = fight_cache.extract(clip.path, (fps,), *models, cache_dir)
        frames = replay(cached, fps, settings)
        all_frames.append(frames)
        for frame in frames:
            features.append(frame.features)
            labels.extend([int(clip.is_fight)] * len(frame.features))
            clip_of.extend([index] * len(frame.features))
    return Rows(
        np.concatenate(features).reshape(-1, NUM_FEATURES) if features else np.zeros((0, NUM_FEATURES)),
        np.array(labels, int),
        np.array(clip_of, int),
        all_frames,
    )


def new_model() -> RandomForestClassifier:
    # Shallow forest: a few hundred correlated rows from 29 videos; deeper trees learnt the videos.
    return RandomForestClassifier(
        n_estimators=150,
        max_depth=6,
        min_samples_leaf=5,
        max_features="sqrt",
        class_weight="balanced",
        random_state=0,
        n_jobs=1,
    )


def clip_decision(
    frames: list[ReplayedFrame], probability: np.ndarray, settings: FightThresholds
) -> float | None:
    """Seconds from the clip's first analysed frame to its first fight incident (None: no incident),
    by the analyzer's rule on per-row probabilities (rows in the order of the frames' groups)."""
    episodes = FightEpisodes(settings)
    start, at = (frames[0].timestamp if frames else 0.0), 0
    for frame in frames:
        count = len(frame.groups)
        update = episodes.update(
            frame.timestamp, frame.seen, frame.groups, frame.boxes, probability[at : at + count]
        )
        at += count
        if update.raised:
            return frame.timestamp - start
    return None


def clip_results(
    rows: Rows, probability: np.ndarray, clips_idx: np.ndarray, settings: FightThresholds
) -> dict[int, float | None]:
    """Per clip index: its decision latency, None when it raised nothing."""
    out: dict[int, float | None] = {}
    for c in clips_idx:
        out[int(c)] = clip_decision(rows.frames[c], probability[rows.clip == c], settings)
    return out


def choose_threshold(
    rows: Rows, probability: np.ndarray, clips: list[Clip], clip_idx: np.ndarray, base: FightThresholds
) -> float:
    """The threshold with the best clip accuracy among those whose false alarm rate on the no_fight
    clips is at most MAX_FALSE_ALARM_RATE (ties to the higher threshold)."""
    best, best_key = float(THRESHOLDS[-1]), (-1.0, 0.0)
    for threshold in THRESHOLDS:
        settings = base.model_copy(update={"min_probability": float(threshold)})
        decided = clip_results(rows, probability, clip_idx, settings)
        truth = np.array([clips[c].is_fight for c in clip_idx])
        found = np.array([decided[int(c)] is not None for c in clip_idx])
        negatives = max(1, int((~truth).sum()))
        false_alarm = float((found & ~truth).sum()) / negatives
        accuracy = float((found == truth).mean())
        key = (accuracy if false_alarm <= MAX_FALSE_ALARM_RATE else accuracy - 1.0, threshold)
        if key > best_key:
            best, best_key = float(threshold), key
    return best


def out_of_fold(rows: Rows, groups: np.ndarray, fit_rows: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
    model = new_model().fit(rows.features[fit_rows], rows.labels[fit_rows])
    return model.predict_proba(rows.features[test_rows])[:, 1]


def inner_threshold(
    rows: Rows, clips: list[Clip], videos: np.ndarray, fit_clips: np.ndarray, base: FightThresholds
) -> float:
    """Threshold chosen by grouped CV inside the training clips of one outer fold."""
    probability = np.zeros(len(rows.labels))
    fit_videos = videos[fit_clips]
    folds = GroupKFold(n_splits=min(INNER_FOLDS, len(set(fit_videos))))
    for inner_fit, inner_test in folds.split(fit_clips, groups=fit_videos):
        fit_rows = np.isin(rows.clip, fit_clips[inner_fit])
        test_rows = np.isin(rows.clip, fit_clips[inner_test])
        if len(set(rows.labels[fit_rows])) < 2 or not test_rows.any():
            continue
        probability[test_rows] = out_of_fold(rows, videos, fit_rows, test_rows)
    return choose_threshold(rows, probability, clips, fit_clips, base)


def cross_validate(rows: Rows, clips: list[Clip], base: FightThresholds) -> dict[str, object]:
    """Leave-one-source-video-out: out-of-fold clip decisions with thresholds chosen inside each fold."""
    videos = np.array([c.source for c in clips])
    all_clips = np.arange(len(clips))
    decided: dict[int, float | None] = {}
    thresholds = []
    probability = np.zeros(len(rows.labels))
    for fit_clips, test_clips in LeaveOneGroupOut().split(all_clips, groups=videos):
        fit_rows, test_rows = np.isin(rows.clip, fit_clips), np.isin(rows.clip, test_clips)
        threshold = inner_threshold(rows, clips, videos, fit_clips, base)
        thresholds.append(threshold)
        if test_rows.any() and len(set(rows.labels[fit_rows])) == 2:
            probability[test_rows] = out_of_fold(rows, videos, fit_rows, test_rows)
        settings = base.model_copy(update={"min_probability": threshold})
        decided.update(clip_results(rows, probability, test_clips, settings))
    metrics = clip_metrics(decided, clips)
    metrics["fold_thresholds"] = {
        "min": min(thresholds),
        "median": float(np.median(thresholds)),
        "max": max(thresholds),
    }
    metrics["folds"] = len(set(videos))
    metrics["per_clip"] = {
        clips[c].path.name: (None if t is None else round(t, 2)) for c, t in sorted(decided.items())
    }
    return metrics


def clip_metrics(decided: dict[int, float | None], clips: list[Clip]) -> dict[str, object]:
    truth = np.array([clips[c].is_fight for c in decided])
    found = np.array([t is not None for t in decided.values()])
    latencies = [t for c, t in decided.items() if t is not None and clips[c].is_fight]
    return {
        "clips": len(decided),
        "accuracy": round(float((found == truth).mean()), 3),
        "fight_recall": round(float(found[truth].mean()), 3) if truth.any() else None,
        "false_alarm_rate": round(float(found[~truth].mean()), 3) if (~truth).any() else None,
        "false_alarms": int((found & ~truth).sum()),
        "missed_fights": int((~found & truth).sum()),
        "latency_s_median": round(float(np.median(latencies)), 2) if latencies else None,
        "latency_s_max": round(float(np.max(latencies)), 2) if latencies else None,
        "decided_within_2s": round(float(np.mean(np.array(latencies) <= 2.0)), 3) if latencies else None,
    }


def export(model: RandomForestClassifier, path: Path) -> None:
    onnx_model = to_onnx(
        model,
        np.zeros((1, NUM_FEATURES), np.float32),
        options={id(model): {"zipmap": False}},
        target_opset=17,
    )
    path.write_bytes(onnx_model.SerializeToString())


def train(data: Path, out: Path, cache_dir: Path, limit: int | None = None) -> dict[str, object]:
    """Measure by grouped CV, then fit on everything and write the model and its manifest entry."""
    started = time.monotonic()
    clips = read_clips(data)
    if limit:
        # A small run keeps both labels: every n-th clip of each.
        fights = [c for c in clips if c.is_fight]
        others = [c for c in clips if not c.is_fight]
        clips = fights[: (limit + 1) // 2] + others[: limit // 2]
    base = FightThresholds()
    rows = collect(clips, cache_dir, base)
    log.info("%d rows (%d fight) from %d clips", len(rows.labels), int(rows.labels.sum()), len(clips))
    metrics: dict[str, object] = {
        "fps": FIGHT_FPS,
        "rows": len(rows.labels),
        "fight_rows": int(rows.labels.sum()),
    }
    if len({c.source for c in clips}) >= INNER_FOLDS:
        metrics["cross_validation"] = cross_validate(rows, clips, base)
    model = new_model().fit(rows.features, rows.labels)
    threshold = choose_threshold(
        rows, model.predict_proba(rows.features)[:, 1], clips, np.arange(len(clips)), base
    )
    if "cross_validation" in metrics:
        # In-sample probabilities are overconfident; ship the threshold the folds chose.
        threshold = float(metrics["cross_validation"]["fold_thresholds"]["median"])  # type: ignore[index]
    metrics["threshold"] = threshold
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{FIGHT_MODEL}.onnx"
    export(model, path)
    latency = cpu_latency_ms(path, rows.features[:1].astype(np.float32))
    write_manifest_entry(out, manifest_entry(path, metrics, latency))
    log.info("trained in %.0f s", time.monotonic() - started)
    return metrics


def manifest_entry(path: Path, metrics: dict[str, object], latency_ms: float) -> dict[str, object]:
    summary = {k: v for k, v in metrics.items() if k != "cross_validation"}
    cv = metrics.get("cross_validation")
    if isinstance(cv, dict):
        summary["cross_validation"] = {k: v for k, v in cv.items() if k != "per_clip"}
    return {
        "name": FIGHT_MODEL,
        "file": path.name,
        "sha256": sha256_of(path),
        "task": "classify",
        "architecture": "scikit-learn RandomForestClassifier (150 trees, depth 6) exported with skl2onnx",
        "trained_on": "../shared/datasets/fight (76 surveillance clips, 29 YouTube source videos), "
        f"groups of close person tracks at {FIGHT_FPS:g} analysed fps",
        "license": f"model: Apache-2.0 (citywatch); training data: MIT, {DATA_ATTRIBUTION}",
        "source": "python -m citywatch.training.fight",
        "input": {
            "name": "X",
            "shape": ["N", NUM_FEATURES],
            "dtype": "float32",
            "meaning": "analytics.fight_features.FightFeatureExtractor rows, one per group of close people",
            "features": list(FEATURE_NAMES),
        },
        "output": {"name": "probabilities", "shape": ["N", 2], "meaning": "P(no_fight), P(fight)"},
        "classes": CLASSES,
        "metrics": summary,
        "cpu_latency_ms": round(latency_ms, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "fight", help="the fight dataset")
    parser.add_argument("--out", type=Path, default=BUNDLED_MODELS_DIR, help="model pack to write into")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where model outputs are cached")
    parser.add_argument("--limit", type=int, default=None, help="use only this many clips (smoke tests)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    metrics = train(args.data, args.out, args.cache, args.limit)
    print(metrics)


if __name__ == "__main__":
    main()
