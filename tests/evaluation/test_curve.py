"""Precision-recall curves over eval reports and the operating points chosen from them."""

import json
from pathlib import Path

import pytest

from citywatch.domain.incident_types import IncidentType
from citywatch.evaluation.curve import choose, curve, markdown, operating_points, read_items

WEAPON = IncidentType.WEAPON


def report(tmp_path: Path, name: str, items: list[dict]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"items": items}))
    return path


def item(label: str, found: float | None = None, **extra) -> dict:
    return {"file": "x", "label": label, "found": {} if found is None else {"weapon": found}, **extra}


def test_each_distinct_confidence_is_a_threshold_and_counts_follow_it(tmp_path: Path) -> None:
    stills = [item("weapon_gun", 0.9), item("weapon_knife", 0.5), item("weapon", None), item("normal", 0.4)]
    street = item("normal", 0.45, media_seconds=1800, incidents={"weapon": [0.45, 0.3]})
    unreadable = {**item("weapon_gun", 0.99), "error": "cannot decode"}
    items = read_items([report(tmp_path, "a.json", stills), report(tmp_path, "b.json", [street, unreadable])])
    assert len(items) == 5  # the unreadable item is not scored
    points = {p.threshold: p for p in curve(items, WEAPON, floor=0.3)}
    assert sorted(points) == [0.3, 0.4, 0.45, 0.5, 0.9]
    assert (points[0.4].tp, points[0.4].fp, points[0.4].fn) == (2, 2, 1)
    assert (points[0.5].tp, points[0.5].fp, points[0.5].precision) == (2, 0, 1.0)
    assert points[0.3].false_alarms_per_hour == pytest.approx(4.0)  # 2 incidents in half an hour
    assert points[0.45].false_alarms_per_hour == pytest.approx(2.0)
    assert points[0.5].false_alarms_per_hour == 0.0


def test_operating_points_are_the_best_f1_above_each_precision_floor(tmp_path: Path) -> None:
    items = [item("weapon", c) for c in (0.9, 0.8, 0.7, 0.6)] + [item("normal", 0.65), item("normal", 0.3)]
    items += [item("weapon")] * 2
    points = curve(items, WEAPON, floor=0.3)
    normal, met = choose(points, 0.9)
    assert met and normal.threshold == 0.7 and (normal.tp, normal.fp) == (3, 0)
    high, _ = choose(points, 0.8)
    assert high.threshold == 0.6 and (high.tp, high.fp) == (4, 1)
    levels = operating_points(points)
    assert levels["low"][0].threshold == 0.7
    assert levels["high"][0] == high  # here the most recall at >= 0.8 is also the best F1 there
    table = markdown(points, WEAPON)
    assert "| 0.700 | 3 | 0 | 3 |" in table and "normal" in table


def test_high_sensitivity_takes_the_most_recall_above_its_floor() -> None:
    """Best F1 at >= 0.8 is 0.6 (8 TP, 0 FP: 0.889); turning a camera up must find more, so high goes
    to 0.4 (9 TP, 2 FP: precision 0.818, F1 0.857)."""
    items = [item("weapon", c) for c in (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.4)]
    items += [item("normal", 0.5), item("normal", 0.45), item("weapon")]
    points = curve(items, WEAPON, floor=0.3)
    assert choose(points, 0.8)[0].threshold == 0.6
    high, met = operating_points(points)["high"]
    assert met and high.threshold == 0.4 and (high.tp, high.fp, round(high.precision, 3)) == (9, 2, 0.818)


def test_a_floor_no_threshold_reaches_falls_back_to_the_most_precise_point() -> None:
    points = curve([item("weapon", 0.5), item("normal", 0.6), item("normal", 0.55)], WEAPON, floor=0.5)
    point, met = choose(points, 0.9)
    assert not met and point.threshold == 0.5
