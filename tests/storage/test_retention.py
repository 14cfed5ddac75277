"""Evidence retention over a real store (SQLite and PostgreSQL) and real files."""

from pathlib import Path

import pytest

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.retention import apply_retention
from citywatch.storage.store import IncidentStore

NOW = 1_700_000_000.0
DAY = 86400.0
UNLIMITED = 10**12


def add_with_files(
    store: IncidentStore, root: Path, days_ago: float, sizes: tuple[int, int], locked: bool = False
) -> Incident:
    """An incident `days_ago` old with a snapshot and a clip of the given sizes on disk."""
    incident = Incident(IncidentType.FIGHT, "cam01", NOW - days_ago * DAY, 0.7)
    relative = []
    for suffix, size in zip((".jpg", ".mp4"), sizes, strict=True):
        path = f"cam01/day-{days_ago:g}/{incident.id}{suffix}"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"x" * size)
        relative.append(path)
    store.add(incident, relative[0], relative[1])
    if locked:
        IncidentLifecycle(store).set_locked(incident.id, "supervisor1", True)
    return incident


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


def has_files(store: IncidentStore, root: Path, incident: Incident) -> bool:
    stored = store.get(incident.id)
    paths = (stored.snapshot_path, stored.clip_path)
    if paths == (None, None):
        return False
    assert all(p is not None and (root / p).is_file() for p in paths)
    return True


def test_evidence_older_than_the_age_limit_is_deleted(store: IncidentStore, root: Path) -> None:
    old = add_with_files(store, root, 40, (100, 1000))
    kept = [add_with_files(store, root, days, (100, 1000)) for days in (20, 1)]

    report = apply_retention(store, root, max_age_days=30, max_total_bytes=UNLIMITED, now=NOW)

    assert (report.incidents_cleared, report.files_deleted, report.bytes_freed) == (1, 2, 1100)
    assert report.bytes_kept == 2200
    assert report.errors == []
    assert not has_files(store, root, old)
    assert store.get(old.id) is not None  # the incident itself stays
    assert not (root / "cam01" / "day-40").exists()  # its emptied folder is gone
    assert all(has_files(store, root, incident) for incident in kept)


def test_the_oldest_evidence_goes_first_until_the_total_fits(store: IncidentStore, root: Path) -> None:
    incidents = [add_with_files(store, root, days, (100, 900)) for days in (5, 4, 3, 2, 1)]  # 5000 bytes

    report = apply_retention(store, root, max_age_days=30, max_total_bytes=3500, now=NOW)

    assert [has_files(store, root, i) for i in incidents] == [False, False, True, True, True]
    assert (report.incidents_cleared, report.bytes_freed, report.bytes_kept) == (2, 2000, 3000)
    assert apply_retention(store, root, 30, 3500, now=NOW).incidents_cleared == 0  # nothing more to do


def test_locked_evidence_is_never_deleted(store: IncidentStore, root: Path) -> None:
    locked = add_with_files(store, root, 40, (100, 900), locked=True)
    expired = add_with_files(store, root, 35, (100, 900))
    oldest_young, youngest = (add_with_files(store, root, days, (100, 900)) for days in (3, 1))

    report = apply_retention(store, root, max_age_days=30, max_total_bytes=2500, now=NOW)

    assert has_files(store, root, locked)
    assert not has_files(store, root, expired)
    assert not has_files(store, root, oldest_young)  # deleted instead of the locked one
    assert has_files(store, root, youngest)
    assert (report.locked_skipped, report.incidents_cleared, report.bytes_kept) == (1, 2, 2000)


def test_files_already_gone_are_forgotten(store: IncidentStore, root: Path) -> None:
    incident = add_with_files(store, root, 40, (100, 900))
    for path in (root / "cam01" / "day-40").iterdir():
        path.unlink()

    report = apply_retention(store, root, max_age_days=30, max_total_bytes=UNLIMITED, now=NOW)

    assert (report.incidents_cleared, report.files_deleted, report.bytes_freed) == (1, 0, 0)
    assert not has_files(store, root, incident)


def test_a_path_outside_the_evidence_folder_is_never_deleted(
    store: IncidentStore, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    incident = Incident(IncidentType.FALL, "cam01", NOW - 40 * DAY, 0.7)
    store.add(incident, "../precious.txt")
    root.mkdir()

    report = apply_retention(store, root, max_age_days=30, max_total_bytes=UNLIMITED, now=NOW)

    assert outside.read_text() == "keep me"
    assert report.incidents_cleared == 0
    assert report.errors == [f"{root / '../precious.txt'}: outside the evidence folder {root}, not deleted"]
