"""The GPU path of our detector training: the staged folder `finetune_main --stage` writes and the
parts of `citywatch.training.yolo_train` that need no Ultralytics. The staged training itself ran on
an H100 through the device tool (docs/MODELS.md, the weapon card); it needs the `[train-yolo]` extra."""

import json
import os
import subprocess
import sys
from pathlib import Path

from citywatch.training.weapon import build_dataset
from citywatch.training.yolo_finetune import stage_dataset
from citywatch.training.yolo_train import data_yaml_at, read_results_csv


def test_the_training_step_imports_nothing_a_bare_gpu_machine_lacks() -> None:
    code = (
        "import sys, citywatch.training.yolo_train\n"
        "heavy = {'numpy', 'cv2', 'pydantic', 'onnxruntime', 'av', 'sqlalchemy', 'torch', 'ultralytics'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_staged_dataset_carries_each_image_once(tmp_path: Path) -> None:
    build_dataset(tmp_path / "data")  # knife_cctv images are listed twice
    stage_dataset(tmp_path / "data", tmp_path / "stage")
    listed = sorted((tmp_path / "data" / "images" / "train").iterdir())
    staged = sorted((tmp_path / "stage" / "images" / "train").iterdir())
    assert [p.name for p in staged] == [p.name for p in listed]
    files = [p for p in staged if not p.is_symlink()]
    links = [p for p in staged if p.is_symlink()]
    assert len(files) == len({p.resolve() for p in listed}) and len(links) == len(listed) - len(files)
    # A link names a file beside it, so it survives being copied to another machine.
    assert all("/" not in os.readlink(p) and (p.parent / os.readlink(p)).is_file() for p in links)
    for image in staged:
        assert (
            image.resolve().read_bytes() == (tmp_path / "data" / "images" / "train" / image.name).read_bytes()
        )
        label = tmp_path / "stage" / "labels" / "train" / f"{image.stem}.txt"
        assert label.read_text() == (tmp_path / "data" / "labels" / "train" / label.name).read_text()
    assert not (tmp_path / "stage" / "images" / "val").exists()
    yaml = (tmp_path / "stage" / "data.yaml").read_text()
    assert "val: images/train" in yaml and "0: gun" in yaml


def test_staged_yaml_points_at_where_the_stage_now_is(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "data.yaml").write_text(
        "path: /elsewhere/data\ntrain: images/train\nnames:\n  0: gun\n"
    )
    data_yaml_at(tmp_path)
    lines = (tmp_path / "data" / "data.yaml").read_text().splitlines()
    assert lines[0] == f"path: {(tmp_path / 'data').resolve()}" and lines[1:] == [
        "train: images/train",
        "names:",
        "  0: gun",
    ]


def test_results_csv_reads_back_as_columns_of_numbers(tmp_path: Path) -> None:
    csv_file = tmp_path / "results.csv"
    csv_file.write_text("epoch,time,train/box_loss,lr/pg0\n1,3.5,1.25,0.002\n2,7.1,1.0,0.0019\n")
    assert read_results_csv(csv_file) == {
        "epoch": [1.0, 2.0],
        "time": [3.5, 7.1],
        "train/box_loss": [1.25, 1.0],
        "lr/pg0": [0.002, 0.0019],
    }
    assert read_results_csv(tmp_path / "missing.csv") == {}
    json.dumps(read_results_csv(csv_file))  # goes into the checkpoint as plain values
