"""`citywatch eval DIR` and `citywatch eval-data build NAME --out DIR`: the glue to the CLI."""

import json
import sys
from pathlib import Path
from typing import Any

from citywatch.analytics.catalog import available_types, roles_for
from citywatch.config import CitywatchConfig
from citywatch.domain.incident_types import DETECTION_TYPES, IncidentType
from citywatch.evaluation.boxes import (
    AP_CONF_FLOOR,
    BoxDatasetError,
    boxes_markdown,
    class_mapping,
    dataset_class_names,
    score_boxes,
)
from citywatch.evaluation.datasets import DatasetBuildError, build
from citywatch.evaluation.labels import LabelError, LabelledItem, read_labels
from citywatch.evaluation.report import (
    build_report,
    code_version,
    markdown_table,
    model_hashes,
    run_config,
)
from citywatch.evaluation.runner import run_items
from citywatch.perception.detectors import load_detector
from citywatch.perception.model_pack import ModelPack


class EvalUsageError(ValueError):
    """A --types value that names no incident type."""


EVAL_ERRORS: tuple[type[Exception], ...] = (LabelError, DatasetBuildError, BoxDatasetError, EvalUsageError)
"""Input mistakes of the eval commands, printed as one line."""


def parse_types(types_arg: str | None) -> list[IncidentType] | None:
    if not types_arg:
        return None
    names = [t.strip() for t in types_arg.split(",") if t.strip()]
    known = {t.value for t in DETECTION_TYPES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise EvalUsageError(
            f"--types: unknown incident type(s) {unknown} (known: {', '.join(sorted(known))})"
        )
    return [IncidentType(n) for n in names]


def default_types(items: list[LabelledItem]) -> set[IncidentType]:
    """The types with an analyzer that the labels mention; all available types if they mention none."""
    available = set(available_types())
    mentioned = {item.truth for item in items if item.truth is not None} & available
    return mentioned or available


def _write_json(document: dict[str, Any], out: str | None) -> None:
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"report written to {path}", file=sys.stderr)


def evaluate(
    config: CitywatchConfig, folder: Path, types_arg: str | None, workers: int, fps: float, out: str | None
) -> int:
    items = read_labels(folder)
    given = parse_types(types_arg)
    types = set(given) if given else default_types(items)
    for t in types:
        roles_for(t)  # an unknown type fails here, before any model is loaded
    results = []
    for index, result in enumerate(run_items(config, folder, items, types, fps, workers), start=1):
        results.append(result)
        status = result.error or (", ".join(f"{t}" for t in sorted(result.found)) or "-")
        print(f"[{index}/{len(items)}] {result.item.file} ({result.item.label}): {status}", file=sys.stderr)
    report = build_report(results, types, run_config(config, folder, types, fps))
    _write_json(report, out)
    print(markdown_table(report))
    return 0


def evaluate_boxes(
    config: CitywatchConfig,
    folder: Path,
    split: str,
    types_arg: str | None,
    conf: float,
    out: str | None,
    role: str | None = None,
) -> int:
    """Score the first detector (of the types' roles, or `role`) whose classes match the dataset's by
    name. `role` picks one where several match (knife_cctv's `knife` is a class of `coco` and of
    `weapon`)."""
    names = dataset_class_names(folder)
    pack = ModelPack.open(config.models.path)
    roles = sorted({role for t in (parse_types(types_arg) or available_types()) for role in roles_for(t)})
    if role is not None:
        if role not in roles:
            raise EvalUsageError(f"--role {role!r} is not a detector role of {roles}")
        roles = [role]
    for role in roles:
        detector = load_detector(pack, role, config.models, conf_threshold=AP_CONF_FLOOR)
        if class_mapping(names, detector.class_names):
            report = score_boxes(folder, split, detector, conf)
            report["config"] = {
                "code_version": code_version(),
                "model_sha256": model_hashes(config)[detector.name],
            }
            _write_json(report, out)
            print(boxes_markdown(report))
            return 0
    raise BoxDatasetError(f"{folder}: no detector of roles {roles} has any of the classes {names}")


def build_dataset(name: str, out: Path) -> int:
    labels = build(name, out)
    with labels.open(encoding="utf-8") as stream:
        count = sum(1 for _ in stream) - 1
    print(f"{name}: {count} items in {labels}")
    return 0
