"""`DIR/labels.csv`: which file shows which incident type, in the vocabulary of DESIGN.md."""

import csv
from dataclasses import dataclass
from pathlib import Path

from citywatch.domain.incident_types import DETECTION_TYPES, INCIDENT_TYPES, IncidentType

LABELS_FILE = "labels.csv"

NEGATIVE_LABELS = frozenset({"normal", "helmet", "no_fight"})
"""Labels that mean: none of the incident types is in this file."""

LABEL_ALIASES: dict[str, IncidentType] = {
    label: incident_type for incident_type, info in INCIDENT_TYPES.items() for label in info.eval_labels
}

VOCABULARY: dict[str, IncidentType | None] = {
    **{t.value: t for t in DETECTION_TYPES},
    **LABEL_ALIASES,
    **dict.fromkeys(NEGATIVE_LABELS),
}
"""Every accepted label and the incident type it means (None: no incident)."""


class LabelError(ValueError):
    """A labels.csv that cannot be used; the message names the file, and the row where there is one."""


@dataclass(frozen=True, slots=True)
class LabelledItem:
    file: str
    """Path relative to the folder of labels.csv, as written there."""
    label: str
    truth: IncidentType | None
    line: int
    """Line number in labels.csv (the header is line 1)."""


def read_labels(folder: Path) -> list[LabelledItem]:
    """The rows of `folder/labels.csv` in file order; extra columns are ignored."""
    path = folder / LABELS_FILE
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LabelError(f"{path}: not found (an evaluation folder needs labels.csv)") from None
    reader = csv.DictReader(text.splitlines())
    missing = {"file", "label"} - set(reader.fieldnames or [])
    if missing:
        raise LabelError(f"{path}: header lacks column(s) {', '.join(sorted(missing))}")
    items = []
    for row in reader:
        line = reader.line_num
        file, label = (row.get("file") or "").strip(), (row.get("label") or "").strip()
        if not file:
            raise LabelError(f"{path}: line {line}: empty file name")
        if label not in VOCABULARY:
            known = ", ".join(sorted(VOCABULARY))
            raise LabelError(f"{path}: line {line} ({file}): unknown label {label!r} (known: {known})")
        items.append(LabelledItem(file, label, VOCABULARY[label], line))
    if not items:
        raise LabelError(f"{path}: no rows")
    return items


def write_labels(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    """Write `folder/labels.csv` from (file, label, source) rows; `source` (the video, camera or
    photo set an item comes from) is an extra column that the reader ignores."""
    path = folder / LABELS_FILE
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["file", "label", "source"])
        writer.writerows(rows)
    return path
