"""Precision-recall curves of one incident type over `citywatch eval` reports, and operating points.

Run `citywatch eval` once with the type's confidence threshold at the bottom of the range to sweep
(the lowest point worth considering); each item's best incident confidence then says at which
thresholds it would still raise: an item found with confidence c raises at every threshold <= c.
That holds exactly for still images, whose incident confidence is the thresholded score itself;
in video a persistence rule decides, so the points chosen here are checked by a second `eval` at
each of them (docs/ACCURACY.md gives both).

False alarms per camera-hour come from the negative videos of the reports (street footage, no_fight
clips): the incidents of the type raised on them at or above the threshold, over their hours.

Operating points (`choose`): `normal` is the best F1 at precision >= 0.9 (DESIGN.md), `low` the best
F1 at precision >= 0.97 and `high` the most recall at precision >= 0.8 (an operator who turns a
camera up asks for fewer misses; the best F1 there is often `normal` again); where no threshold
reaches a floor, the most precise point stands in and the table says so.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citywatch.domain.incident_types import IncidentType
from citywatch.evaluation.labels import VOCABULARY

PRECISION_FLOORS = {"low": 0.97, "normal": 0.9, "high": 0.8}
"""Sensitivity level -> the least precision its operating point may have."""
MOST_RECALL = frozenset({"high"})
"""Levels that take the most recall above their floor instead of the best F1."""


@dataclass(frozen=True, slots=True)
class CurvePoint:
    threshold: float
    tp: int
    fp: int
    fn: int
    false_alarms_per_hour: float | None
    """On the negative videos of the reports; None when they hold no video."""

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def read_items(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The scored items (readable files) of every report, each with the report it came from."""
    items = []
    for path in paths:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        items += [{**item, "report": str(path)} for item in report["items"] if "error" not in item]
    return items


def curve(items: list[dict[str, Any]], kind: IncidentType, floor: float = 0.0) -> list[CurvePoint]:
    """One point per distinct best confidence at or above `floor` (ascending thresholds)."""
    positives = [i for i in items if VOCABULARY.get(i["label"]) is kind]
    negatives = [i for i in items if VOCABULARY.get(i["label"]) is not kind]
    scores = sorted({float(i["found"][kind.value]) for i in items if kind.value in i["found"]} | {floor})
    videos = [i for i in negatives if i.get("media_seconds", 0) > 0 and VOCABULARY.get(i["label"]) is None]
    hours = sum(i["media_seconds"] for i in videos) / 3600
    points = []
    for threshold in (s for s in scores if s >= floor):
        tp = sum(1 for i in positives if i["found"].get(kind.value, -1.0) >= threshold)
        fp = sum(1 for i in negatives if i["found"].get(kind.value, -1.0) >= threshold)
        alarms = sum(
            sum(1 for c in i.get("incidents", {}).get(kind.value, []) if c >= threshold) for i in videos
        )
        points.append(
            CurvePoint(round(threshold, 4), tp, fp, len(positives) - tp, alarms / hours if hours else None)
        )
    return points


def choose(
    points: list[CurvePoint], min_precision: float, most_recall: bool = False
) -> tuple[CurvePoint, bool]:
    """The best-F1 point with precision >= `min_precision` (the lower threshold on a tie: recall
    first), or with `most_recall` the one of most recall there (the more precise, then the higher
    threshold, on a tie); else the most precise point, with False."""
    meeting = [p for p in points if p.precision >= min_precision and p.tp > 0]
    if not meeting:
        return max(points, key=lambda p: (p.precision, p.recall)), False
    if most_recall:
        return max(meeting, key=lambda p: (p.tp, p.precision, p.threshold)), True
    return max(meeting, key=lambda p: (round(p.f1, 9), -p.threshold)), True


def operating_points(points: list[CurvePoint]) -> dict[str, tuple[CurvePoint, bool]]:
    return {level: choose(points, floor, level in MOST_RECALL) for level, floor in PRECISION_FLOORS.items()}


def markdown(points: list[CurvePoint], kind: IncidentType, every: int = 1) -> str:
    """The curve as a table (every `every`-th point, and every chosen one), then the chosen points."""
    chosen = operating_points(points)
    marks: dict[float, list[str]] = {}
    for level, (point, _) in chosen.items():
        marks.setdefault(point.threshold, []).append(level)
    lines = [
        f"{kind.value}: precision-recall by threshold",
        "",
        "| threshold | TP | FP | FN | precision | recall | F1 | false alarms / camera-hour | level |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for index, p in enumerate(points):
        if index % every and p.threshold not in marks and index != len(points) - 1:
            continue
        rate = "-" if p.false_alarms_per_hour is None else f"{p.false_alarms_per_hour:.2f}"
        lines.append(
            f"| {p.threshold:.3f} | {p.tp} | {p.fp} | {p.fn} | {p.precision:.3f} | {p.recall:.3f} | "
            f"{p.f1:.3f} | {rate} | {', '.join(marks.get(p.threshold, []))} |"
        )
    lines.append("")
    for level, (point, met) in chosen.items():
        note = (
            "" if met else f" (no threshold reaches precision {PRECISION_FLOORS[level]}: most precise point)"
        )
        lines.append(
            f"- {level}: threshold {point.threshold:.3f}, precision {point.precision:.3f}, recall "
            f"{point.recall:.3f}, F1 {point.f1:.3f}{note}"
        )
    return "\n".join(lines)
