"""Builds evaluation folders (labels.csv + symlinks) from the validation splits in ../shared/datasets.

Nothing is copied: each item is a symlink to the shared file, so `labels.csv` can name files
relative to the folder as the evaluation contract wants. Splits follow the dataset READMEs: by
source video or camera, never by random frame. The split rules are public so that training code
uses the same ones (train on what is not validation).
"""

import csv
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from citywatch.evaluation.labels import write_labels
from citywatch.paths import datasets_dir

Row = tuple[str, str, str]
"""(file relative to the output folder, label, source video/camera/photo set)."""


class DatasetBuildError(ValueError):
    """A build that cannot be done: unknown name, a non-empty output folder, missing shared data."""


# fall: file-name prefixes are cameras/videos (README). These hold 56 of the 176 `fall` frames
# and two fall-free cameras; every other prefix is for training.
FALL_VAL_SOURCES = frozenset({"5", "8", "16", "k107", "k108", "cam_2", "cam_5"})
FALL_CLASS = 2

# helmet_th: only video `-6-7_00-9_00` has riders without helmets, so a split by video alone
# leaves no positives on one side. Validation is the last stretch of that video (frame >= 700)
# plus the whole `2_-6-11_30-13_00` video; frames 650-699 are a gap used by neither side.
HELMET_MAIN_VIDEO = "-6-7_00-9_00"
HELMET_VAL_FROM_FRAME = 700
HELMET_GAP_FROM_FRAME = 650
HELMET_VAL_VIDEOS = frozenset({"2_-6-11_30-13_00"})
WITHOUT_HELMET_CLASS = 1

# helmet_idn: one folder (images/all), camera positions in the `source` column of sources.csv. The
# three junction groups show one junction and the two garden groups one road, so each family stays on
# one side. Validation: the gate road and the two garden positions (95 frames, 74 with a bare head);
# training: the junction, boulevard, open-junction and tree-corner positions (194 frames).
HELMET_IDN_VAL_SOURCES = frozenset({"yosiabatch2-gateroad", "yosiabatch2-garden1", "yosiabatch2-garden2"})

# accident: the source split is random per frame; these clips (file-name prefix) are validation.
ACCIDENT_VAL_CLIPS = frozenset({"test", "test3", "test7", "test10", "test15", "test22", "test25", "test27"})

FIRE_CLASS, SMOKE_CLASS = 0, 1

# gun: 0 = gun; knife_cctv: 0 = knife, 1 = person.
GUN_OR_KNIFE_CLASS = 0
# weapon_cctv: 0 = person, 1 = weapon (guns and knives in one class). One folder (images/all), camera
# groups in the `source` column of sources.csv. The weapon detector trains on the staged room (29
# weapons, the people-with-knife source that knife_cctv also comes from), three of the five office
# cameras and the street camera (weapon-free: hard negatives); everything else is held out: the hall
# screen captures, the control room, the parking garage and the night frame (20 weapons, four
# cameras no training frame shows), the dark hall and two office cameras (negatives).
WEAPON_CCTV_WEAPON_CLASS = 1
WEAPON_CCTV_TRAIN_SOURCES = frozenset({"frame-room", "point01", "point02", "point04", "frame1-street"})


def fall_source(file_name: str) -> str:
    """The camera/video of a fall frame: `cam_3`, `k107` or the leading number."""
    match = re.match(r"(cam_\d+|k\d+|\d+)[_-]", file_name)
    if not match:
        raise DatasetBuildError(f"fall: cannot tell the source camera of {file_name!r}")
    return match.group(1)


def helmet_source(file_name: str) -> tuple[str, int]:
    """(source video, frame number) of a helmet_th frame named `<video>_mp4-<frame>_jpg.rf.<hash>.jpg`."""
    match = re.match(r"(.+)_(?:mp4|MP4)-(\d+)_jpg", file_name)
    if not match:
        raise DatasetBuildError(f"helmet_th: cannot tell the source video of {file_name!r}")
    return match.group(1), int(match.group(2))


def helmet_split(file_name: str) -> str | None:
    """'val', 'train', or None for frames in the gap between them."""
    video, frame = helmet_source(file_name)
    if video in HELMET_VAL_VIDEOS or (video == HELMET_MAIN_VIDEO and frame >= HELMET_VAL_FROM_FRAME):
        return "val"
    if video == HELMET_MAIN_VIDEO and frame >= HELMET_GAP_FROM_FRAME:
        return None
    return "train"


def helmet_idn_split(sources: dict[str, str], file_name: str) -> str:
    """'val' or 'train' for a helmet_idn image, by its camera position (`helmet_idn_sources`)."""
    return "val" if _source_of("helmet_idn", sources, file_name) in HELMET_IDN_VAL_SOURCES else "train"


def helmet_idn_sources() -> dict[str, str]:
    """Image file name -> camera position (the `source` column of helmet_idn's sources.csv)."""
    return _sources_of("helmet_idn")


def weapon_cctv_sources() -> dict[str, str]:
    """Image file name -> camera group (the `source` column of weapon_cctv's sources.csv)."""
    return _sources_of("weapon_cctv")


def weapon_cctv_split(sources: dict[str, str], file_name: str) -> str:
    """'val' or 'train' for a weapon_cctv image, by its camera group (`weapon_cctv_sources`)."""
    return "train" if _source_of("weapon_cctv", sources, file_name) in WEAPON_CCTV_TRAIN_SOURCES else "val"


def _sources_of(dataset: str) -> dict[str, str]:
    rows = _csv_rows(datasets_dir() / dataset / "sources.csv")
    return {Path(r["file"]).name: r["source"] for r in rows if r["file"].startswith("images/")}


def _source_of(dataset: str, sources: dict[str, str], file_name: str) -> str:
    try:
        return sources[file_name]
    except KeyError:
        raise DatasetBuildError(f"{dataset}: {file_name!r} is not in sources.csv") from None


def accident_clip(file_name: str) -> str:
    """The clip of an accident frame: the name without its `_<n>.jpg` frame number."""
    return re.sub(r"_\d+\.jpg$", "", file_name)


def _yolo_classes(label_file: Path) -> set[int]:
    if not label_file.is_file():
        return set()
    rows = np.loadtxt(label_file, ndmin=2, usecols=0) if label_file.stat().st_size else np.empty((0, 1))
    return {int(c) for c in np.asarray(rows).ravel()}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _yolo_images(dataset: Path, split: str) -> list[tuple[Path, set[int]]]:
    images = sorted((dataset / "images" / split).glob("*.jpg"))
    return [(image, _yolo_classes(dataset / "labels" / split / f"{image.stem}.txt")) for image in images]


def _fire_label(classes: set[int]) -> str:
    return "fire" if FIRE_CLASS in classes else "smoke" if SMOKE_CLASS in classes else "normal"


def _fire_frames(out: Path, split: str) -> list[Row]:
    dataset = datasets_dir() / "fire_smoke"
    rows = []
    for image, classes in _yolo_images(dataset, split):
        rows.append(
            (
                _link(out, f"fire_smoke_{split}/{image.name}", image),
                _fire_label(classes),
                image.name.split("_jpg")[0].rsplit("-", 1)[0],
            )
        )
    return rows


def build_fire_val(out: Path) -> list[Row]:
    """fire_smoke val frames (fire/smoke if they have a box), the cair fire/normal photos, the FURG video."""
    dataset = datasets_dir() / "fire_smoke"
    rows = _fire_frames(out, "val")
    cair = dataset / "cair_image_level"
    for row in _csv_rows(cair / "labels.csv"):
        rows.append((_link(out, f"cair/{row['file']}", cair / row["file"]), row["label"], "cair"))
    video = dataset / "videos" / "furg_house6.mp4"
    rows.append((_link(out, f"videos/{video.name}", video), "fire", "furg_house6"))
    return rows


def build_fire_tune(out: Path) -> list[Row]:
    """fire_smoke train frames: the set thresholds are tuned on (fire_val is reported)."""
    return _fire_frames(out, "train")


def build_streets(out: Path) -> list[Row]:
    """The two street videos, no incident in either."""
    dataset = datasets_dir() / "streets"
    return [
        (_link(out, row["file"], dataset / row["file"]), row["label"], Path(row["file"]).stem)
        for row in _csv_rows(dataset / "labels.csv")
    ]


def build_fight(out: Path) -> list[Row]:
    """All fight and no_fight clips: negatives for the other types; in-sample for `fight` (the fight clip
    model trains on every clip; its held-out numbers come from its grouped cross-validation)."""
    dataset = datasets_dir() / "fight"
    sources = {row["file"]: row["source_video"] for row in _csv_rows(dataset / "clip_sources.csv")}
    return [
        (_link(out, row["file"], dataset / row["file"]), row["label"], sources.get(row["file"], ""))
        for row in _csv_rows(dataset / "labels.csv")
    ]


def build_fall(out: Path) -> list[Row]:
    """Frames of the validation cameras (FALL_VAL_SOURCES): fall if a `fall` box, else normal."""
    dataset = datasets_dir() / "fall"
    rows = []
    for image, classes in _yolo_images(dataset, "train"):
        source = fall_source(image.name)
        if source in FALL_VAL_SOURCES:
            label = "fall" if FALL_CLASS in classes else "normal"
            rows.append((_link(out, f"images/{image.name}", image), label, source))
    return rows


def build_helmet(out: Path) -> list[Row]:
    """Validation frames of helmet_th (see `helmet_split`): no_helmet if a Without Helmet box, else helmet."""
    dataset = datasets_dir() / "helmet_th"
    rows = []
    for image, classes in _yolo_images(dataset, "train"):
        if helmet_split(image.name) == "val":
            label = "no_helmet" if WITHOUT_HELMET_CLASS in classes else "helmet"
            rows.append((_link(out, f"images/{image.name}", image), label, helmet_source(image.name)[0]))
    return rows


def build_helmet_idn(out: Path) -> list[Row]:
    """Validation camera positions of helmet_idn (HELMET_IDN_VAL_SOURCES): no_helmet if a Without
    Helmet box, else helmet."""
    dataset = datasets_dir() / "helmet_idn"
    sources = helmet_idn_sources()
    rows = []
    for image, classes in _yolo_images(dataset, "all"):
        if helmet_idn_split(sources, image.name) == "val":
            label = "no_helmet" if WITHOUT_HELMET_CLASS in classes else "helmet"
            rows.append((_link(out, f"images/{image.name}", image), label, sources[image.name]))
    return rows


def build_accident(out: Path) -> list[Row]:
    """Frames of the validation clips (ACCIDENT_VAL_CLIPS) from both source splits."""
    dataset = datasets_dir() / "accident"
    rows = []
    for row in _csv_rows(dataset / "labels.csv"):
        name = Path(row["file"]).name
        clip = accident_clip(name)
        if clip in ACCIDENT_VAL_CLIPS:
            label = "accident" if row["label"] == "Accident" else "normal"
            rows.append((_link(out, f"{label}/{name}", dataset / row["file"]), label, clip))
    return rows


def weapon_source(dataset: str, file_name: str) -> str:
    """The camera or image set of a gun / knife_cctv frame (READMEs): `Cam1`/`Cam5`/`Cam7` for the gun
    CCTV frames, `web` for gun's Open-Images ids, `office_cctv` for knife_cctv's numbered fisheye
    frames, else the leading letters of the name (`armas`, `KravMagaTraining`, `knife`, `DSC`...)."""
    if dataset == "gun" and file_name.startswith("Cam"):
        return file_name.split("-", 1)[0]
    if dataset == "gun" and not file_name.startswith("armas"):
        return "web"
    if file_name[0].isdigit():
        return "office_cctv"
    match = re.match(r"([A-Za-z]+)", file_name)
    return match.group(1) if match else "other"


def build_weapon(out: Path) -> list[Row]:
    """The `val` images of gun and knife_cctv: weapon_gun / weapon_knife if they have a gun / knife box,
    else normal (the weapon detector trains on the `train` images only)."""
    rows = []
    for dataset, label in (("gun", "weapon_gun"), ("knife_cctv", "weapon_knife")):
        for image, classes in _yolo_images(datasets_dir() / dataset, "val"):
            rows.append(
                (
                    _link(out, f"{dataset}/{image.name}", image),
                    label if GUN_OR_KNIFE_CLASS in classes else "normal",
                    f"{dataset}:{weapon_source(dataset, image.name)}",
                )
            )
    return rows


def build_weapon_cctv(out: Path) -> list[Row]:
    """The held-out camera groups of weapon_cctv (`weapon_cctv_split`): weapon if the frame has a
    weapon box (guns and knives are one class there), else normal; the source is the camera group."""
    dataset = datasets_dir() / "weapon_cctv"
    sources = weapon_cctv_sources()
    rows = []
    for image, classes in _yolo_images(dataset, "all"):
        if weapon_cctv_split(sources, image.name) != "val":
            continue
        label = "weapon" if WEAPON_CCTV_WEAPON_CLASS in classes else "normal"
        rows.append((_link(out, f"images/{image.name}", image), label, sources[image.name]))
    return rows


BUILDERS: dict[str, Callable[[Path], list[Row]]] = {
    "weapon": build_weapon,
    "weapon_cctv": build_weapon_cctv,
    "fire_val": build_fire_val,
    "fire_tune": build_fire_tune,
    "streets": build_streets,
    "fight": build_fight,
    "fall": build_fall,
    "helmet": build_helmet,
    "helmet_idn": build_helmet_idn,
    "accident": build_accident,
}


def _link(out: Path, relative: str, target: Path) -> str:
    if not target.is_file():
        raise DatasetBuildError(f"{target}: missing from the shared datasets")
    link = out / relative
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target.resolve())
    return relative


def build(name: str, out: Path) -> Path:
    """Build evaluation folder `name` into `out` (which must not exist or be empty); returns labels.csv."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise DatasetBuildError(f"unknown evaluation set {name!r} (known: {', '.join(BUILDERS)})") from None
    if out.exists() and any(out.iterdir()):
        raise DatasetBuildError(f"{out}: not empty; remove it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    return write_labels(out, builder(out))
