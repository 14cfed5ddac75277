"""The rider head detector's training data (no torch needed): both helmet sets, split by the
evaluation's own rules, so no validation frame or camera position is ever trained on."""

import os
from pathlib import Path

from citywatch.evaluation.datasets import HELMET_IDN_VAL_SOURCES, helmet_idn_sources, helmet_split
from citywatch.training.rider_heads import build_dataset


def test_dataset_splits_by_camera_and_drops_motorcycle_boxes(tmp_path: Path) -> None:
    data_yaml, counts = build_dataset(tmp_path)
    assert "0: with_helmet" in data_yaml.read_text() and "1: without_helmet" in data_yaml.read_text()
    sources = helmet_idn_sources()
    for split in ("train", "val"):
        for image in (tmp_path / "images" / split).iterdir():
            assert image.is_symlink() and Path(os.readlink(image)).is_absolute()
            original = Path(os.readlink(image)).name
            if image.name.startswith("helmet_idn"):
                assert (sources[original] in HELMET_IDN_VAL_SOURCES) == (split == "val")
            else:
                assert helmet_split(original) == split  # never a frame of the gap
    assert counts["helmet_idn_val_images"] == 95 and counts["helmet_idn_train_images"] == 194
    assert counts["helmet_th_val_images"] == 51 and counts["helmet_th_train_images"] == 153
    assert (
        counts["helmet_idn_train_without_helmet_boxes"] + counts["helmet_th_train_without_helmet_boxes"] > 200
    )
    labels = [p.read_text() for p in (tmp_path / "labels" / "train").iterdir()]
    assert all(line.split()[0] in {"0", "1"} for text in labels for line in text.splitlines())
