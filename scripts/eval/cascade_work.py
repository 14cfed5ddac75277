"""Model work of the whole cascade per analysed frame: every analyzer on, real clips, counted.

    .venv/bin/python scripts/eval/cascade_work.py [--fps 5] [--clips 8]

Runs `MediaAnalyzer` (the cascade `citywatch detect` and `citywatch eval` use, with the same
triggers as the live scheduler) with all six analytic incident types over the first `--clips`
fight and no_fight clips of ../shared/datasets/fight (people, close together) and the two street
videos (vehicles, few people), and counts per analysed frame: detector passes per role, the frames
the weapon detector skipped because COCO found nobody, and MoveNet runs against the pose requests
the per-frame memo answered. Counts, not times, so a loaded machine does not change them; the
milliseconds each model costs are in docs/BENCHMARKS.md (scripts/eval/weapon_cost.py).
"""

import argparse
import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import supervision as sv

from citywatch.config import CitywatchConfig
from citywatch.domain.incident_types import IncidentType
from citywatch.evaluation.runner import build_analyzer
from citywatch.paths import datasets_dir
from citywatch.perception.pose import PoseEstimator

TYPES = {IncidentType(t) for t in ("fire", "no_helmet", "fall", "fight", "accident", "weapon")}


class CountingDetector:
    """A real detector, counting the frames it runs on."""

    def __init__(self, detector: object) -> None:
        self.detector = detector
        self.frames = 0

    def detect(self, image: np.ndarray) -> sv.Detections:
        self.frames += 1
        return self.detector.detect(image)  # type: ignore[attr-defined]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[sv.Detections]:
        self.frames += len(images)
        return self.detector.detect_batch(images)  # type: ignore[attr-defined]


def clips(count: int) -> dict[str, list[str]]:
    root = datasets_dir() / "fight"
    with (root / "labels.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    fights = [r["file"] for r in rows if r["label"] == "fight"][: count // 2]
    calm = [r["file"] for r in rows if r["label"] == "no_fight"][: count - count // 2]
    return {
        "fight clips": [str(root / f) for f in fights],
        "no_fight clips": [str(root / f) for f in calm],
        "street videos": [str(p) for p in sorted((datasets_dir() / "streets").glob("*.mp4"))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--clips", type=int, default=8)
    args = parser.parse_args()
    analyzer = build_analyzer(CitywatchConfig(), TYPES, args.fps)
    counting = {role: CountingDetector(d) for role, d in analyzer._detectors.items()}
    analyzer._detectors = counting
    pose = analyzer._models["pose"]
    assert isinstance(pose, PoseEstimator)
    print(
        "| footage | analysed frames | "
        + " | ".join(f"{r} passes" for r in counting)
        + " | frames with a person | MoveNet runs | pose requests answered by the memo | incidents |"
    )
    print("|---" * (6 + len(counting)) + "|")
    for name, paths in clips(args.clips).items():
        before = {r: d.frames for r, d in counting.items()}
        runs, reused = pose.model_runs, pose.reused
        frames = people = 0
        incidents: Counter[str] = Counter()
        for path in paths:
            report = analyzer.analyse(Path(path))
            frames += len(report.frames)
            people += sum("person" in f.detections["coco"].data["class_name"] for f in report.frames)
            incidents.update(str(i.type) for i in report.incidents)
        passes = " | ".join(f"{counting[r].frames - before[r]}" for r in counting)
        print(
            f"| {name} ({len(paths)}) | {frames} | {passes} | {people} | {pose.model_runs - runs} "
            f"| {pose.reused - reused} | {dict(incidents) or 0} |"
        )


if __name__ == "__main__":
    main()
