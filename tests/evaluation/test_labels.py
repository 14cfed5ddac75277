"""labels.csv: the vocabulary of DESIGN.md, and errors that name the row."""

from pathlib import Path

import pytest

from citywatch.domain.incident_types import IncidentType
from citywatch.evaluation.labels import LabelError, read_labels, write_labels


def write(folder: Path, text: str) -> Path:
    (folder / "labels.csv").write_text(text, encoding="utf-8")
    return folder


def test_vocabulary_aliases_and_negatives(tmp_path: Path) -> None:
    rows = [
        ("a.jpg", "fire", IncidentType.FIRE),
        ("b.jpg", "smoke", IncidentType.FIRE),
        ("c.jpg", "weapon_gun", IncidentType.WEAPON),
        ("d.jpg", "weapon_knife", IncidentType.WEAPON),
        ("e.mp4", "fight", IncidentType.FIGHT),
        ("f.jpg", "fall", IncidentType.FALL),
        ("g.jpg", "no_helmet", IncidentType.NO_HELMET),
        ("h.jpg", "accident", IncidentType.ACCIDENT),
        ("i.jpg", "weapon", IncidentType.WEAPON),
        ("j.jpg", "helmet", None),
        ("k.mp4", "no_fight", None),
        ("l.jpg", "normal", None),
    ]
    write(tmp_path, "file,label,note\n" + "".join(f"{f},{label},x\n" for f, label, _ in rows))
    items = read_labels(tmp_path)
    assert [(i.file, i.label, i.truth) for i in items] == rows
    assert [i.line for i in items] == list(range(2, 2 + len(rows)))


def test_unknown_label_names_line_and_file(tmp_path: Path) -> None:
    write(tmp_path, "file,label\nok.jpg,fire\nclips/x.mp4,Fire\n")
    with pytest.raises(LabelError, match=r"line 3 \(clips/x.mp4\): unknown label 'Fire'"):
        read_labels(tmp_path)


def test_camera_health_types_are_not_labels(tmp_path: Path) -> None:
    write(tmp_path, "file,label\nx.jpg,camera_offline\n")
    with pytest.raises(LabelError, match="line 2"):
        read_labels(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,label\nx.jpg,fire\n", "lacks column"),
        ("file,label\n", "no rows"),
        ("file,label\n,fire\n", "line 2: empty file name"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, text)
    with pytest.raises(LabelError, match=message):
        read_labels(tmp_path)


def test_missing_labels_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match=r"labels\.csv: not found"):
        read_labels(tmp_path)


def test_written_labels_read_back(tmp_path: Path) -> None:
    write_labels(tmp_path, [("a b.jpg", "smoke", "cam 1"), ("c,d.mp4", "normal", "x")])
    assert [(i.file, i.truth) for i in read_labels(tmp_path)] == [
        ("a b.jpg", IncidentType.FIRE),
        ("c,d.mp4", None),
    ]
