"""Tune the fire thresholds on one part of the data and report them on another.

    .venv/bin/python scripts/eval/tune_fire.py --work /tmp/cw-tune

Builds the evaluation folders fire_tune, fire_val, streets and fight under --work, runs the fire
detector once over every sampled frame (2 fps, confidence floor 0.1) and caches what it found,
then replays the real FireAnalyzer under every combination of the grid, exactly as
`citywatch eval` would (still images with persistence relaxed).

Tuning part: fire_tune (fire_smoke train frames), the street video car-detection.mp4 and the
fight/no_fight clips of every other source video (sorted). The rule: no alarm on the tuning
negatives, then the best fire_tune F1; ties go to the shortest persistence, then the highest
confidences. Held out (only reported): fire_val, one-by-one-person-detection.mp4 and the other
fight clips.
"""

import argparse
import itertools
import pickle
from dataclasses import dataclass
from pathlib import Path

from citywatch.analytics.base import AnalysisInput, relaxed_for_single_frame
from citywatch.analytics.catalog import create_analyzer
from citywatch.config import CameraConfig, FireThresholds, ModelSettings, Thresholds
from citywatch.domain.incident import IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.evaluation.datasets import build
from citywatch.evaluation.labels import LabelledItem, read_labels
from citywatch.evaluation.scoring import TypeScore, score_items
from citywatch.perception.detectors import load_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.runtime.media_analysis import IMAGE_SUFFIXES, FrameReport, MediaAnalyzer

SETS = ("fire_tune", "fire_val", "streets", "fight")
FIRE = IncidentType.FIRE
CAMERA = CameraConfig(id="media", url="eval", incident_types=["fire"])
FIRE_CONFIDENCES = (0.25, 0.3, 0.35, 0.4, 0.5)
SMOKE_CONFIDENCES = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
AREAS = (0.7, 0.8, 0.9, 1.0)
PERSISTENCE = ((1, 1), (2, 3), (3, 4), (3, 5), (4, 6))
TUNE_STREET = "car-detection.mp4"


@dataclass(frozen=True)
class Cached:
    item: LabelledItem
    source: str
    is_image: bool
    frames: list[FrameReport]


def cached_items(work: Path) -> dict[str, list[Cached]]:
    cache = work / "detections.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    detector = load_detector(ModelPack.open(), "fire_smoke", ModelSettings(), conf_threshold=0.1)
    every_frame = Thresholds(fire=FireThresholds(check_every_s=0))  # the replay needs every frame's boxes
    analyzer = MediaAnalyzer({"fire_smoke": detector}, {FIRE}, every_frame, analytics_fps=2.0)
    data = {}
    for name in SETS:
        folder = work / name
        if not folder.exists():
            build(name, folder)
        sources = _sources(folder)
        data[name] = [
            Cached(item, sources[item.file], item.file.lower().endswith(tuple(IMAGE_SUFFIXES)),
                   analyzer.analyse(folder / item.file).frames)
            for item in read_labels(folder)
        ]  # fmt: skip
        print(f"{name}: {len(data[name])} items, {sum(len(c.frames) for c in data[name])} frames", flush=True)
    cache.write_bytes(pickle.dumps(data))
    return data


def _sources(folder: Path) -> dict[str, str]:
    import csv

    with (folder / "labels.csv").open(encoding="utf-8") as stream:
        return {row["file"]: row["source"] for row in csv.DictReader(stream)}


def raises_fire(cached: Cached, thresholds: Thresholds) -> bool:
    analyzer = create_analyzer(
        FIRE, CAMERA, relaxed_for_single_frame(thresholds) if cached.is_image else thresholds
    )
    return any(
        isinstance(event, IncidentRaised)
        for report in cached.frames
        for event in analyzer.update(AnalysisInput(report.frame, report.detections))
    )


def score(items: list[Cached], thresholds: Thresholds) -> TypeScore:
    pairs = ((c.item.truth, {FIRE} if raises_fire(c, thresholds) else set()) for c in items)
    return score_items(pairs, [FIRE])[FIRE]


def _fmt(s: TypeScore) -> str:
    cell = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    return (
        f"P {cell(s.precision)} R {cell(s.recall)} F1 {cell(s.f1)} (tp {s.tp} fp {s.fp} fn {s.fn} tn {s.tn})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True, help="folder for the built sets and the cache")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    data = cached_items(args.work)
    fight_sources = sorted({c.source for c in data["fight"]})
    tune_sources = set(fight_sources[::2])
    tune_negatives = [c for c in data["streets"] if c.item.file == TUNE_STREET] + [
        c for c in data["fight"] if c.source in tune_sources
    ]
    held_streets = [c for c in data["streets"] if c.item.file != TUNE_STREET]
    held_fight = [c for c in data["fight"] if c.source not in tune_sources]
    candidates = []
    for conf, smoke, area, (persist, window) in itertools.product(
        FIRE_CONFIDENCES, SMOKE_CONFIDENCES, AREAS, PERSISTENCE
    ):
        fire = FireThresholds(
            min_confidence=conf,
            smoke_min_confidence=smoke,
            max_area_fraction=area,
            persist_frames=persist,
            window_frames=window,
        )
        thresholds = Thresholds(fire=fire)
        alarms = sum(raises_fire(c, thresholds) for c in tune_negatives)
        if alarms == 0:
            tune = score(data["fire_tune"], thresholds)
            candidates.append(((-(tune.f1 or 0), persist, window, -conf, -smoke, -area), fire, tune))
    candidates.sort(key=lambda c: c[0])
    print(f"{len(candidates)} combinations raise nothing on the {len(tune_negatives)} tuning negatives")
    for _, fire, tune in candidates[:10]:
        print(f"  {fire.model_dump(exclude={'clear_after_s'})}  fire_tune {_fmt(tune)}")
    _, chosen, tune = candidates[0]
    thresholds = Thresholds(fire=chosen)
    print(f"\nchosen: {chosen.model_dump()}")
    print(f"tuning   fire_tune ({len(data['fire_tune'])}): {_fmt(tune)}")
    print(f"held out fire_val ({len(data['fire_val'])}): {_fmt(score(data['fire_val'], thresholds))}")
    for name, items in (("streets held out", held_streets), ("fight held out", held_fight)):
        alarms = [c.item.file for c in items if raises_fire(c, thresholds)]
        print(f"held out {name} ({len(items)} items): {len(alarms)} alarms {alarms}")


if __name__ == "__main__":
    main()
