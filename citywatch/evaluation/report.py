"""The evaluation report: JSON with exactly `items`, `per_type` and `config`, and a markdown table."""

import hashlib
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from citywatch import __version__
from citywatch.config import CitywatchConfig
from citywatch.domain.incident_types import IncidentType
from citywatch.evaluation.labels import LABELS_FILE
from citywatch.evaluation.runner import ItemResult
from citywatch.evaluation.scoring import TypeScore, score_items
from citywatch.paths import BUNDLED_MODELS_DIR, REPO_ROOT
from citywatch.perception.model_pack import ModelPack


def code_version() -> str:
    """The package version, plus the git commit (and `-dirty`) when run from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}{'-dirty' if dirty else ''}"


def model_hashes(config: CitywatchConfig) -> dict[str, str]:
    """sha256 of every model in the configured pack and in the bundled pack (the models citywatch
    trains itself), as their manifests state them; the loaders refuse a file that does not match."""
    hashes: dict[str, str] = {}
    for root in (config.models.path, BUNDLED_MODELS_DIR):
        hashes.update({name: spec.sha256 for name, spec in ModelPack.open(root).specs.items()})
    return dict(sorted(hashes.items()))


def run_config(config: CitywatchConfig, folder: Path, types: set[IncidentType], fps: float) -> dict[str, Any]:
    labels = (folder / LABELS_FILE).read_bytes()
    return {
        "code_version": code_version(),
        "models": model_hashes(config),
        "thresholds": config.thresholds.model_dump(mode="json"),
        "types": sorted(t.value for t in types),
        "analytics_fps": fps,
        "labels_sha256": hashlib.sha256(labels).hexdigest(),
    }


def item_json(result: ItemResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "file": result.item.file,
        "label": result.item.label,
        "found": {t.value: round(c, 4) for t, c in sorted(result.found.items())},
        "seconds": round(result.seconds, 3),
        "incidents": {t.value: [round(c, 4) for c in cs] for t, cs in sorted(result.incidents.items())},
        "media_seconds": round(result.media_seconds, 2),
    }
    if result.error is not None:
        entry["error"] = result.error
    return entry


def per_type_scores(results: Sequence[ItemResult], types: set[IncidentType]) -> dict[IncidentType, TypeScore]:
    """Scores over the items that could be read (failures are reported per item, not scored)."""
    return score_items(((r.item.truth, r.found) for r in results if r.error is None), sorted(types))


def build_report(
    results: Sequence[ItemResult], types: set[IncidentType], config: dict[str, Any]
) -> dict[str, Any]:
    scores = per_type_scores(results, types)
    return {
        "items": [item_json(r) for r in results],
        "per_type": {t.value: s.to_json() for t, s in scores.items()},
        "config": config,
    }


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def markdown_table(report: dict[str, Any]) -> str:
    lines = [
        "| type | positives | negatives | TP | FP | FN | TN | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in report["per_type"].items():
        lines.append(
            f"| {name} | {s['tp'] + s['fn']} | {s['fp'] + s['tn']} | {s['tp']} | {s['fp']} | {s['fn']} | "
            f"{s['tn']} | {_cell(s['precision'])} | {_cell(s['recall'])} | {_cell(s['f1'])} |"
        )
    failures = [item for item in report["items"] if "error" in item]
    lines.append("")
    lines.append(f"{len(report['items'])} items, {len(failures)} failures (unreadable, not scored)")
    lines.extend(f"- FAILED {item['file']}: {item['error']}" for item in failures)
    return "\n".join(lines)
