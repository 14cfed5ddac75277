"""Item-level scoring and the report built from it, on hand-made results."""

import pytest

from citywatch.domain.incident_types import IncidentType
from citywatch.evaluation.labels import LabelledItem
from citywatch.evaluation.report import build_report, markdown_table
from citywatch.evaluation.runner import ItemResult
from citywatch.evaluation.scoring import score_items, type_score

FIRE, FALL = IncidentType.FIRE, IncidentType.FALL


def result(file: str, label: str, truth, found=None, error=None) -> ItemResult:
    return ItemResult(LabelledItem(file, label, truth, 2), found or {}, 0.5, error)


RESULTS = [
    result("f1.jpg", "fire", FIRE, {FIRE: 0.9}),  # fire: TP; fall: TN
    result("f2.jpg", "smoke", FIRE, {FIRE: 0.6, FALL: 0.7}),  # fire: TP; fall: FP
    result("f3.jpg", "fire", FIRE),  # fire: FN; fall: TN
    result("n1.jpg", "normal", None, {FIRE: 0.5}),  # fire: FP; fall: TN
    result("n2.jpg", "normal", None),  # fire: TN; fall: TN
    result("d1.jpg", "fall", FALL, {FALL: 0.8}),  # fire: TN; fall: TP
    result("d2.jpg", "fall", FALL, {FIRE: 0.4}),  # fire: FP (another type); fall: FN
    result("bad.jpg", "fire", FIRE, error="bad.jpg: not a readable image"),  # not scored
]


def test_counts_per_type() -> None:
    scores = score_items(((r.item.truth, r.found) for r in RESULTS if r.error is None), [FIRE, FALL])
    fire, fall = scores[FIRE], scores[FALL]
    assert (fire.tp, fire.fp, fire.fn, fire.tn) == (2, 2, 1, 2)
    assert fire.precision == pytest.approx(0.5)
    assert fire.recall == pytest.approx(2 / 3)
    assert fire.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert (fall.tp, fall.fp, fall.fn, fall.tn) == (1, 1, 1, 4)
    assert fall.precision == pytest.approx(0.5) and fall.recall == pytest.approx(0.5)


def test_undefined_ratios_are_none_not_zero() -> None:
    negatives_only = type_score(tp=0, fp=0, fn=0, tn=7)
    assert (negatives_only.precision, negatives_only.recall, negatives_only.f1) == (None, None, None)
    missed_all = type_score(tp=0, fp=0, fn=3, tn=1)
    assert missed_all.precision is None and missed_all.recall == 0 and missed_all.f1 == 0


def test_report_has_exactly_the_contract_keys_and_failures_are_items() -> None:
    report = build_report(RESULTS, {FIRE, FALL}, {"code_version": "test"})
    assert list(report) == ["items", "per_type", "config"]
    assert set(report["per_type"]) == {"fire", "fall"}
    assert report["per_type"]["fire"] == {
        "tp": 2, "fp": 2, "fn": 1, "tn": 2, "precision": 0.5, "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(4 / 7),
    }  # fmt: skip
    items = {i["file"]: i for i in report["items"]}
    assert items["f2.jpg"] == {
        "file": "f2.jpg", "label": "smoke", "found": {"fall": 0.7, "fire": 0.6}, "seconds": 0.5,
        "incidents": {}, "media_seconds": 0.0,
    }  # fmt: skip
    clip = ItemResult(
        LabelledItem("c.mp4", "normal", None, 3), {FIRE: 0.8}, 2.0,
        incidents={FIRE: [0.8, 0.55]}, media_seconds=30.0,
    )  # fmt: skip
    entry = build_report([clip], {FIRE}, {})["items"][0]
    assert entry["incidents"] == {"fire": [0.8, 0.55]} and entry["media_seconds"] == 30.0
    assert items["bad.jpg"]["error"] == "bad.jpg: not a readable image"
    assert all("error" not in i for f, i in items.items() if f != "bad.jpg")
    table = markdown_table(report)
    assert "| fire | 3 | 4 | 2 | 2 | 1 | 2 | 0.500 | 0.667 | 0.571 |" in table
    assert "8 items, 1 failures" in table and "FAILED bad.jpg" in table
