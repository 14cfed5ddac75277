"""The evaluation-folder builders: symlinked items, labels from the shared labels, splits by source."""

import os
from pathlib import Path

import pytest

from citywatch.evaluation.datasets import (
    FALL_VAL_SOURCES,
    HELMET_IDN_VAL_SOURCES,
    WEAPON_CCTV_TRAIN_SOURCES,
    DatasetBuildError,
    build,
    fall_source,
    helmet_idn_sources,
    helmet_idn_split,
    helmet_split,
    weapon_cctv_sources,
    weapon_cctv_split,
    weapon_source,
)
from citywatch.evaluation.labels import read_labels
from citywatch.paths import datasets_dir


def test_fall_set_holds_whole_cameras_only(tmp_path: Path) -> None:
    build("fall", tmp_path / "fall")
    items = read_labels(tmp_path / "fall")
    assert {fall_source(Path(i.file).name) for i in items} == FALL_VAL_SOURCES
    every = [p.name for p in (datasets_dir() / "fall" / "images" / "train").glob("*.jpg")]
    in_val = [n for n in every if fall_source(n) in FALL_VAL_SOURCES]
    assert len(items) == len(in_val) and 0 < len(items) < len(every)
    assert {i.label for i in items} == {"fall", "normal"}
    link = tmp_path / "fall" / items[0].file
    assert link.is_symlink() and Path(os.readlink(link)).is_absolute() and link.stat().st_size > 0


def test_helmet_split_keeps_a_gap_and_positives_on_both_sides() -> None:
    assert helmet_split("-6-7_00-9_00_mp4-0701_jpg.rf.x.jpg") == "val"
    assert helmet_split("-6-7_00-9_00_mp4-0674_jpg.rf.x.jpg") is None
    assert helmet_split("-6-7_00-9_00_mp4-0605_jpg.rf.x.jpg") == "train"
    assert helmet_split("2_-6-11_30-13_00_MP4-0013_jpg.rf.x.jpg") == "val"
    assert helmet_split("2_-6-7_00-8_30_MP4-0000_jpg.rf.x.jpg") == "train"


def test_helmet_set_labels_from_boxes(tmp_path: Path) -> None:
    build("helmet", tmp_path / "h")
    labels = [i.label for i in read_labels(tmp_path / "h")]
    assert labels.count("no_helmet") > 0 and labels.count("helmet") > 0


def test_fire_val_labels(tmp_path: Path) -> None:
    build("fire_val", tmp_path / "f")
    items = read_labels(tmp_path / "f")
    by_label = {label: sum(i.label == label for i in items) for label in ("fire", "smoke", "normal")}
    assert by_label == {"fire": 49 + 6 + 1, "smoke": 17, "normal": 90}  # cair + val frames + video
    assert items[-1].file == "videos/furg_house6.mp4"


def test_refuses_unknown_names_and_non_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(DatasetBuildError, match="unknown evaluation set 'fires'"):
        build("fires", tmp_path / "x")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetBuildError, match="not empty"):
        build("streets", tmp_path / "y")
    assert (tmp_path / "y" / "keep.txt").read_text() == "mine"


def test_weapon_set_is_the_val_splits_labelled_by_their_boxes(tmp_path: Path) -> None:
    build("weapon", tmp_path / "w")
    items = read_labels(tmp_path / "w")
    labels = [i.label for i in items]
    # gun val: 63 images with a gun, 7 without; knife_cctv val: 74 images, all with a knife.
    assert (labels.count("weapon_gun"), labels.count("weapon_knife"), labels.count("normal")) == (63, 74, 7)
    assert all("/images/val/" in os.readlink(tmp_path / "w" / i.file) for i in items)
    assert weapon_source("gun", "Cam7-From09-05-50To10-09-24_Segment_8_x264_frame_171_jpg.rf.x.jpg") == "Cam7"
    assert weapon_source("knife_cctv", "2022-04-15_33_jpg.rf.x.jpg") == "office_cctv"


def test_helmet_idn_set_holds_the_validation_camera_positions_only(tmp_path: Path) -> None:
    build("helmet_idn", tmp_path / "hi")
    items = read_labels(tmp_path / "hi")
    sources = helmet_idn_sources()
    assert {sources[Path(i.file).name] for i in items} == HELMET_IDN_VAL_SOURCES
    assert len(items) == 95  # gate road 26 + garden 28 + 41 (README)
    assert sum(i.label == "no_helmet" for i in items) == 74
    # The three views of the one campus junction are all on the training side.
    junction = {"Screenshot-junction-wall", "Screenshot-junction-guardpost", "yosiabattch3-junction"}
    assert not junction & HELMET_IDN_VAL_SOURCES
    with pytest.raises(DatasetBuildError, match=r"not in sources\.csv"):
        helmet_idn_split(sources, "made-up.jpg")


def test_weapon_cctv_set_holds_out_the_cameras_the_detector_never_trained_on(tmp_path: Path) -> None:
    build("weapon_cctv", tmp_path / "wc")
    items = read_labels(tmp_path / "wc")
    # control room 19 + hall screen captures 9 + dark hall 5 + parking 1 + night 1 + point05/06 54
    assert (len(items), sum(i.label == "weapon" for i in items)) == (89, 20)
    rows = (tmp_path / "wc" / "labels.csv").read_text().splitlines()
    assert rows[0] == "file,label,source"
    held_out = {r.rsplit(",", 1)[1] for r in rows[1:]}
    assert not held_out & WEAPON_CCTV_TRAIN_SOURCES
    assert {"2023-02-controlroom", "screen-12_14_2022-hall", "point05"} <= held_out
    sources = weapon_cctv_sources()
    assert sum(weapon_cctv_split(sources, name) == "train" for name in sources) == 168
    with pytest.raises(DatasetBuildError, match=r"not in sources\.csv"):
        weapon_cctv_split(sources, "made-up.jpg")
