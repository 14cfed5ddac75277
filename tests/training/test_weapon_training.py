"""The parts of the weapon training that need no torch or Ultralytics: the YOLO dataset it builds, the
dequantized COCO weights it starts from, and the guard that keeps it off the network. The training
itself needs the `[train-yolo]` extra (see docs/MODELS.md for the command) and is not run here."""

import os
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest

from citywatch.evaluation.datasets import weapon_cctv_sources, weapon_cctv_split
from citywatch.paths import datasets_dir
from citywatch.perception.model_pack import ModelPack
from citywatch.training.weapon import build_dataset
from citywatch.training.yolo_finetune import COCO_MODEL, dequantized_weights
from citywatch.training.yolo_train import NetworkGuard


def test_dataset_links_images_and_remaps_labels(tmp_path: Path) -> None:
    data_yaml, _ = build_dataset(tmp_path)
    assert "0: gun" in data_yaml.read_text() and "1: knife" in data_yaml.read_text()
    train = sorted((tmp_path / "images" / "train").iterdir())
    assert all(p.is_symlink() and Path(os.readlink(p)).is_absolute() for p in train)
    gun_train = len(list((datasets_dir() / "gun" / "images" / "train").glob("*.jpg")))
    knife_train = len(list((datasets_dir() / "knife_cctv" / "images" / "train").glob("*.jpg")))
    assert len(train) == gun_train + 2 * knife_train  # knife images listed twice
    val = sorted((tmp_path / "images" / "val").iterdir())
    assert len(val) == 70 + 74
    # knife_cctv: class 0 knife -> 1, class 1 person dropped.
    stem = "KravMagaTraining20145_jpg.rf.621d2113c994d3cb78fe9da7bd6a60b7"
    source = (datasets_dir() / "knife_cctv" / "labels" / "val" / f"{stem}.txt").read_text().split("\n")
    rows = (tmp_path / "labels" / "val" / f"knife_{stem}.txt").read_text().splitlines()
    assert len(rows) == sum(line.startswith("0 ") for line in source) and rows
    assert all(row.split()[0] == "1" for row in rows)


def test_weapon_cctv_adds_its_training_cameras_only_and_replay_keeps_a_grey_sample(tmp_path: Path) -> None:
    """--cctv-repeats 3 --replay 20 --gray-share 0.5: 20 gun and 20 knife images (10 of each grey,
    real files), weapon_cctv's 168 training-group frames (29 with a weapon, listed 3 times, as
    knives), none of its held-out groups."""
    _, counts = build_dataset(tmp_path, {"gun": 1, "knife": 1}, cctv_repeats=3, replay=20, gray_share=0.5)
    train = sorted((tmp_path / "images" / "train").iterdir())
    assert counts["weapon_cctv_train_weapon_frames"] == 29
    assert counts["weapon_cctv_train_weapon_free_frames"] == 139
    assert len(train) == 20 + 20 + 29 * 3 + 139
    grey = [p for p in train if "_gray" in p.name]
    assert len(grey) == 20 and not any(p.is_symlink() for p in grey)
    image = cv2.imread(str(grey[0]))
    assert np.abs(image[:, :, 0].astype(int) - image[:, :, 2].astype(int)).max() <= 2  # grey in BGR
    sources = weapon_cctv_sources()
    cctv = [p for p in train if p.name.startswith("cctv")]
    originals = {p.resolve().name for p in cctv}
    assert {weapon_cctv_split(sources, name) for name in originals} == {"train"}
    labels = [(tmp_path / "labels" / "train" / f"{p.stem}.txt").read_text().split() for p in cctv]
    assert {row[0] for row in labels if row} == {"1"}  # the weapon class as knife; no person boxes
    assert sum(bool(row) for row in labels) == 29 * 3


def test_dequantized_coco_weights_are_the_fused_yolov8n() -> None:
    pytest.importorskip("onnx")
    weights = dequantized_weights(ModelPack.open().verified_path(COCO_MODEL))
    assert weights["model.0.conv.weight"].shape == (16, 3, 3, 3)
    assert weights["model.22.cv3.0.2.weight"].shape == (80, 80, 1, 1)  # 80 COCO class scores
    assert sum(w.size for w in weights.values()) == 3_151_904  # YOLOv8n, batch norms fused
    assert all(w.dtype == np.float32 and np.isfinite(w).all() for w in weights.values())
    assert 0 < float(np.abs(weights["model.0.conv.weight"]).max()) < 50


def test_network_guard_refuses_and_records_connections() -> None:
    with NetworkGuard() as guard, pytest.raises(OSError, match="refused"):
        socket.create_connection(("example.org", 443), timeout=1)
    assert guard.attempts and "example.org" in guard.attempts[0]
    with NetworkGuard():
        left, right = socket.socketpair()  # local sockets still work
        left.sendall(b"x")
        assert right.recv(1) == b"x"
        left.close()
        right.close()


def test_val_subset_links_the_chosen_images_with_their_labels(tmp_path: Path) -> None:
    """The by-camera AP rows score a subset of a val split: only those images, each with its own label."""
    from citywatch.evaluation.boxes import read_split
    from citywatch.training.yolo_finetune import val_subset

    gun = datasets_dir() / "gun"
    cameras = sorted((gun / "images" / "val").glob("Cam*.jpg"))
    chosen = [p for p in cameras if (gun / "labels" / "val" / f"{p.stem}.txt").read_text().strip()][:3]
    assert len(chosen) == 3
    out = val_subset(gun, chosen, tmp_path / "subset")
    (out / "images" / "val" / "stale.jpg").symlink_to(chosen[0].resolve())
    out = val_subset(gun, chosen, tmp_path / "subset")  # a reused folder is emptied first
    items = read_split(out, "val")
    assert sorted(i.image.name for i in items) == [p.name for p in chosen]
    for image in chosen:
        linked = out / "labels" / "val" / f"{image.stem}.txt"
        assert linked.read_text() == (gun / "labels" / "val" / f"{image.stem}.txt").read_text()
    assert all(len(i.boxes) > 0 for i in items)
