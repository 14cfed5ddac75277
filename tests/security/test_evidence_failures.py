"""Findings 10 (second half) and 13 of the security probe (issue 14): an incident says why its
evidence is missing, all of it, even after a full disk or a killed pipeline."""

import time
from pathlib import Path

import pytest

from citywatch.domain.incident import Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.storage.store import IncidentStore


@pytest.fixture
def store(tmp_path: Path) -> IncidentStore:
    store = IncidentStore(f"sqlite:///{tmp_path / 'citywatch.db'}")
    store.upgrade()
    return store


def test_a_full_disk_that_fails_snapshot_and_clip_records_both(store: IncidentStore) -> None:
    incident = Incident(IncidentType.FIRE, "cam01", time.time(), 0.9)
    snapshot_error = "cannot write snapshot cam01/x.jpg: No space left on device"
    clip_error = "cannot write clip cam01/x.mp4: No space left on device"
    assert store.add(incident, None, evidence_error=snapshot_error)
    assert store.set_clip(incident.id, None, evidence_error=clip_error)
    stored = store.get(incident.id)
    assert stored is not None and stored.evidence_error == f"{snapshot_error}; {clip_error}"
    later = Incident(IncidentType.FIRE, "cam01", time.time(), 0.9)
    assert store.add(later, None, evidence_error=snapshot_error)
    assert store.set_clip(later.id, "cam01/y.mp4")  # the clip made it: the snapshot's error stays
    kept = store.get(later.id)
    assert kept is not None and kept.evidence_error == snapshot_error and kept.clip_path == "cam01/y.mp4"


def test_a_restart_closes_what_a_killed_pipeline_left_open(store: IncidentStore) -> None:
    now = time.time()
    orphan = Incident(IncidentType.FIGHT, "cam01", now - 120, 0.8)  # killed before its clip
    done = Incident(IncidentType.FIRE, "cam01", now - 300, 0.9)
    elsewhere = Incident(IncidentType.FIRE, "cam09", now - 120, 0.9)  # another pipeline's camera
    for incident in (orphan, done, elsewhere):
        assert store.add(incident, f"{incident.camera_id}/x.jpg")
    store.set_clip(done.id, "cam01/done.mp4")
    store.close(done.id, now - 280)
    assert store.repair_interrupted(["cam01", "cam02"], now) == [orphan.id]
    repaired = store.get(orphan.id)
    assert repaired is not None and repaired.ended_at is not None
    assert (
        repaired.evidence_error is not None
        and "citywatch stopped before writing it" in repaired.evidence_error
    )
    untouched = store.get(elsewhere.id)
    assert untouched is not None and untouched.ended_at is None and untouched.evidence_error is None
    assert store.repair_interrupted(["cam01"], now) == []  # once
