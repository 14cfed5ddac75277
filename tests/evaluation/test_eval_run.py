"""`citywatch eval` end to end on a few real images built by the fire_val builder, a corrupt file
among them; and box scoring with supervision on real YOLO labels."""

import csv
import json
from pathlib import Path

import pytest

from citywatch.cli import main
from citywatch.evaluation.datasets import build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_fire_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 fire_smoke val frames (labelled fire/smoke) + 2 cair normal photos + 1 corrupt jpg."""
    folder = tmp_path_factory.mktemp("fire_small")
    build("fire_val", folder)
    with (folder / "labels.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    frames = [r for r in rows if r["file"].startswith("fire_smoke_val/")][:3]
    normals = [r for r in rows if r["label"] == "normal"][:2]
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    chosen = [*frames, *normals, {"file": "broken.jpg", "label": "fire"}]
    with (folder / "labels.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, ["file", "label"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(chosen)
    return folder


def test_eval_writes_the_contract_report(small_fire_set: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.json"
    assert main(["eval", str(small_fire_set), "--types", "fire", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert list(report) == ["items", "per_type", "config"]
    assert [i["file"] for i in report["items"]][-1] == "broken.jpg"
    broken = report["items"][-1]
    assert "not a readable image" in broken["error"] and broken["found"] == {}
    for item in report["items"][:-1]:
        assert set(item) == {"file", "label", "found", "seconds", "incidents", "media_seconds"}
        assert set(item["found"]) <= {"fire"} and item["seconds"] > 0
        # every incident's confidence is kept (the curve reads them), and found holds the best one
        assert {t: max(cs) for t, cs in item["incidents"].items()} == item["found"]
        assert item["media_seconds"] == 0  # a still image has no running time
    fire = report["per_type"]["fire"]
    assert fire["tp"] + fire["fn"] == 3  # the broken positive is a failure, not a miss
    assert fire["fp"] + fire["tn"] == 2
    assert fire["tp"] == sum(1 for i in report["items"][:3] if "fire" in i["found"])
    assert report["config"]["types"] == ["fire"]
    assert report["config"]["models"]["fire-smoke-yolov8-416"].startswith("ad8daf4c")
    assert report["config"]["thresholds"]["fire"]["min_confidence"] > 0
    printed = capsys.readouterr().out
    assert "| fire | 3 | 2 |" in printed and "1 failures" in printed


def test_unknown_label_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "labels.csv").write_text("file,label\na.jpg,normal\nb.jpg,flames\n")
    assert main(["eval", str(tmp_path)]) == 2
    assert "line 3 (b.jpg): unknown label 'flames'" in capsys.readouterr().err


def test_box_scoring_on_real_labels(tmp_path: Path, capsys) -> None:
    """Four fire_smoke val frames as a YOLO set: AP, precision and recall per class from supervision."""
    from citywatch.paths import datasets_dir

    source = datasets_dir() / "fire_smoke"
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val").mkdir(parents=True)
    for image in sorted((source / "images" / "val").glob("*.jpg"))[:4]:
        (tmp_path / "images" / "val" / image.name).symlink_to(image)
        label = source / "labels" / "val" / f"{image.stem}.txt"
        (tmp_path / "labels" / "val" / label.name).symlink_to(label)
    (tmp_path / "data.yaml").write_text("names:\n  0: fire\n  1: smoke\n  2: steam\n")
    out = tmp_path / "boxes.json"
    assert main(["eval", str(tmp_path), "--boxes", "--types", "fire", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["images"] == 4 and report["model"] == "fire-smoke-yolov8-416"
    fire, smoke, steam = (report["per_class"][n] for n in ("fire", "smoke", "steam"))
    assert fire["model_class"] == "fire" and smoke["model_class"] == "smoke"
    assert steam == {
        "model_class": None, "targets": 0, "predictions": 0, "precision": None, "recall": None, "ap50": None,
    }  # fmt: skip
    assert (fire["targets"], smoke["targets"]) == (2, 2)  # the label files of these four frames
    for scores in (fire, smoke):
        assert all(0 <= scores[k] <= 1 for k in ("precision", "recall", "ap50") if scores[k] is not None)
    assert smoke["ap50"] > 0.5 and smoke["recall"] > 0
    assert 0 < fire["ap50"] < smoke["ap50"]  # the model finds these flames only below confidence 0.4
    assert "| fire | fire |" in capsys.readouterr().out


def test_box_scoring_of_a_chosen_role(tmp_path: Path) -> None:
    """knife_cctv's `knife` is a class of the COCO model and of our weapon detector: --role picks."""
    from citywatch.paths import datasets_dir

    source = datasets_dir() / "knife_cctv"
    for kind in ("images", "labels"):
        (tmp_path / kind / "val").mkdir(parents=True)
    for image in sorted((source / "images" / "val").glob("*.jpg"))[:3]:
        (tmp_path / "images" / "val" / image.name).symlink_to(image)
        (tmp_path / "labels" / "val" / f"{image.stem}.txt").symlink_to(
            source / "labels/val" / f"{image.stem}.txt"
        )
    (tmp_path / "data.yaml").symlink_to(source / "data.yaml")
    models = {}
    for role in (None, "weapon"):
        out = tmp_path / f"{role}.json"
        args = ["eval", str(tmp_path), "--boxes", "--types", "weapon", "--out", str(out)]
        assert main(args + (["--role", role] if role else [])) == 0
        report = json.loads(out.read_text())
        models[role] = report["model"]
        assert report["per_class"]["knife"]["targets"] >= 3
    assert models[None] == "coco-yolov8n-int8-640" and models["weapon"].startswith("weapon-yolov8n")
    assert main(["eval", str(tmp_path), "--boxes", "--types", "weapon", "--role", "fire_smoke"]) == 2


def test_an_item_whose_analysis_raises_is_a_failure_and_the_run_goes_on(
    small_fire_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """As the fall analyzer's numpy `==` did on one held-out video: that item is listed with the
    exception, every other item is still scored."""
    from citywatch.analytics import fire

    original, calls = fire.FireAnalyzer.update, []

    def second_item_fails(self, analysis):
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("The truth value of an array with more than one element is ambiguous")
        return original(self, analysis)

    monkeypatch.setattr(fire.FireAnalyzer, "update", second_item_fails)
    out = tmp_path / "report.json"
    assert main(["eval", str(small_fire_set), "--types", "fire", "--out", str(out)]) == 0
    items = json.loads(out.read_text())["items"]
    failed = [i for i in items if "error" in i]
    assert [i["file"] for i in failed] == [items[1]["file"], "broken.jpg"]
    assert "the analysis raised ValueError: The truth value" in failed[0]["error"]
    fire_counts = json.loads(out.read_text())["per_type"]["fire"]
    assert fire_counts["tp"] + fire_counts["fn"] + fire_counts["fp"] + fire_counts["tn"] == 4
    assert "2 failures" in capsys.readouterr().out
