"""The event sink with a real store and real evidence files: nothing lost, nothing written twice."""

import sqlite3
import time
from pathlib import Path

import av
import numpy as np

from citywatch.config import EvidenceSettings
from citywatch.domain.incident import EvidenceBox, Incident, IncidentEnded, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.storage.evidence import EvidenceWriter
from citywatch.storage.sink import EventSink
from citywatch.storage.store import IncidentStore
from citywatch.video.frame import Frame

SETTINGS = EvidenceSettings(pre_roll_s=1, post_roll_s=1, clip_fps=10)


def fire_incident(frame: Frame) -> Incident:
    return Incident(
        IncidentType.FIRE,
        frame.camera_id,
        started_at=frame.timestamp,
        confidence=0.8,
        subtype="smoke",
        frame_index=frame.index,
        boxes=[EvidenceBox((10, 10, 100, 80), "smoke", 0.8)],
        frame=frame.image,
    )


def sink_for(store: IncidentStore, evidence_dir: Path, frames: list[Frame]) -> EventSink:
    def clip_frames(camera_id: str, start: float, end: float) -> list[Frame]:
        return [f for f in frames if f.camera_id == camera_id and start <= f.timestamp <= end]

    sink = EventSink(store, EvidenceWriter(evidence_dir, SETTINGS), SETTINGS, clip_frames)
    sink.start()
    return sink


def live_frames(camera_frames: list[Frame]) -> list[Frame]:
    """The fixture's frames re-stamped as if they were decoded in the last seconds."""
    now = time.time()
    return [Frame(f.camera_id, f.index, now - 2 + 0.1 * i, f.image) for i, f in enumerate(camera_frames)]


def test_incident_stored_with_snapshot_and_clip(store: IncidentStore, tmp_path: Path, camera_frames) -> None:
    frames = live_frames(camera_frames)
    sink = sink_for(store, tmp_path / "evidence", frames)
    incident = fire_incident(frames[10])
    sink.submit(IncidentRaised(incident))
    sink.submit(IncidentEnded(incident.id, incident.camera_id, frames[-1].timestamp))
    sink.stop()

    (row,) = store.list()
    assert row.id == incident.id and row.ended_at is not None
    assert (tmp_path / "evidence" / row.snapshot_path).stat().st_size > 1000
    with av.open(str(tmp_path / "evidence" / row.clip_path)) as clip:
        assert clip.streams.video[0].frames >= 10
    assert sink.stats.incidents_stored == 1 and sink.stats.clips_written == 1


def test_full_disk_keeps_the_incident_with_a_clear_evidence_error(
    store: IncidentStore, tmp_path: Path, camera_frames, caplog
) -> None:
    """The evidence folder cannot be created (a file stands in its way): rows are stored anyway."""
    blocker = tmp_path / "evidence"
    blocker.write_text("not a folder")
    frames = live_frames(camera_frames)
    sink = sink_for(store, blocker, frames)
    sink.submit(IncidentRaised(fire_incident(frames[5])))
    sink.stop()

    (row,) = store.list()
    assert row.snapshot_path is None and row.clip_path is None
    assert row.evidence_error and str(blocker) in row.evidence_error
    assert sink.stats.evidence_errors == 2 and sink.stats.incidents_stored == 1
    assert any("snapshot not written" in r.message for r in caplog.records)


def test_locked_database_keeps_incidents_in_the_outbox_until_it_returns(
    tmp_path: Path, camera_frames
) -> None:
    database = tmp_path / "cw.db"
    store = IncidentStore(f"sqlite:///{database}", retries=1, backoff_s=0.05, sqlite_busy_timeout_ms=100)
    store.upgrade()
    frames = live_frames(camera_frames)
    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database: every write fails
    sink = sink_for(store, tmp_path / "evidence", frames)
    incidents = [fire_incident(frames[i]) for i in (3, 6, 9)]
    for incident in incidents:
        sink.submit(IncidentRaised(incident))
    deadline = time.monotonic() + 10
    while sink.stats.outbox < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.stats.outbox == 3 and sink.stats.store_failures >= 3
    blocker.execute("ROLLBACK")
    blocker.close()
    sink.stop()

    rows = store.list()
    assert sorted(r.id for r in rows) == sorted(i.id for i in incidents), "each stored exactly once"
    snapshots = list((tmp_path / "evidence").rglob("*.jpg"))
    assert len(snapshots) == 3, "a retried write does not write the snapshot again"
    assert all(r.snapshot_path and r.clip_path for r in rows)
    store.dispose()


def test_offline_incident_without_picture_is_stored_without_evidence(
    store: IncidentStore, tmp_path: Path
) -> None:
    sink = sink_for(store, tmp_path / "evidence", [])
    incident = Incident(IncidentType.CAMERA_OFFLINE, "cam-x", time.time(), 1.0)
    sink.submit(IncidentRaised(incident))
    sink.stop()
    (row,) = store.list()
    assert (
        row.type is IncidentType.CAMERA_OFFLINE and row.snapshot_path is None and row.evidence_error is None
    )
    assert not (tmp_path / "evidence").exists() or not any((tmp_path / "evidence").rglob("*"))
    assert np.isfinite(row.confidence)
