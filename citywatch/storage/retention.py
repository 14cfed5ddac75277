"""Evidence retention: delete snapshots and clips by age, then by total size, oldest first.

Only files referenced by incident rows are considered; the rows themselves are never deleted
(an operator's report, and an open incident above all, still needs them), only their paths are
cleared. Evidence of a locked incident (`IncidentLifecycle.set_locked`) is never deleted.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from citywatch.domain.stored_incident import StoredIncident
from citywatch.storage.store import IncidentStore

_SECONDS_PER_DAY = 86400


@dataclass(slots=True)
class RetentionReport:
    incidents_cleared: int = 0
    """Incidents whose evidence was deleted and whose paths were cleared."""
    files_deleted: int = 0
    bytes_freed: int = 0
    bytes_kept: int = 0
    """Size of the evidence still referenced by incidents afterwards."""
    locked_skipped: int = 0
    """Locked incidents whose evidence would otherwise have been deleted."""
    errors: list[str] = field(default_factory=list)
    """Files that could not be deleted (their incidents keep their paths, to be tried next time)."""


def apply_retention(
    store: IncidentStore,
    evidence_dir: Path,
    max_age_days: float,
    max_total_bytes: int,
    now: float | None = None,
) -> RetentionReport:
    """Delete evidence of incidents started more than `max_age_days` before `now` (epoch seconds,
    default the current time), then of the oldest ones while the total exceeds `max_total_bytes`."""
    now = time.time() if now is None else now
    cutoff = datetime.fromtimestamp(now - max_age_days * _SECONDS_PER_DAY, UTC)
    root = Path(evidence_dir).resolve()
    report = RetentionReport()
    incidents = [(incident, _evidence_files(root, incident)) for incident in store.with_evidence()]
    total = sum(size for _, files in incidents for _, size in files)
    for incident, files in incidents:  # oldest first
        if incident.started_at >= cutoff and total <= max_total_bytes:
            break  # every later incident is younger still, and the total fits
        if incident.locked:
            report.locked_skipped += 1
            continue
        freed, all_deleted = _delete(root, files, report)
        total -= freed
        if all_deleted:
            store.clear_evidence(incident.id)
            report.incidents_cleared += 1
    report.bytes_kept = total
    return report


def _evidence_files(root: Path, incident: StoredIncident) -> list[tuple[Path, int]]:
    """The incident's evidence files and their sizes (0 for a file already gone)."""
    files = []
    for relative in (incident.snapshot_path, incident.clip_path):
        if relative is None:
            continue
        path = root / relative
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        files.append((path, size))
    return files


def _delete(root: Path, files: list[tuple[Path, int]], report: RetentionReport) -> tuple[int, bool]:
    """Delete `files`: the bytes freed, and whether none is left (failures go to the report)."""
    freed = 0
    all_deleted = True
    for path, size in files:
        if not path.resolve().is_relative_to(root):
            report.errors.append(f"{path}: outside the evidence folder {root}, not deleted")
            all_deleted = False
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            report.errors.append(f"{path}: {exc.strerror or exc}")
            all_deleted = False
            continue
        freed += size
        report.files_deleted += 1
        report.bytes_freed += size
        _remove_empty_parents(path.parent, root)
    return freed, all_deleted


def _remove_empty_parents(folder: Path, root: Path) -> None:
    """Remove the now empty day and camera folders, up to (not including) the evidence folder."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # not empty (or busy): it stays
            return
        folder = folder.parent
