"""The incident store against a real SQLite file and a real PostgreSQL database."""

import json
import multiprocessing
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import numpy as np
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import make_url

from citywatch.domain.incident import EvidenceBox, Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.domain.stored_incident import IncidentStatus
from citywatch.storage.schema import Base
from citywatch.storage.store import MIGRATIONS_DIR, IncidentStore, StoreError

T0 = 1_700_000_000.25  # 2023-11-14 22:13:20.25 UTC


def make_incident(
    started_at: float = T0,
    type: IncidentType = IncidentType.FIRE,
    camera_id: str = "cam01",
    confidence: float = 0.8,
    **kwargs: object,
) -> Incident:
    return Incident(type=type, camera_id=camera_id, started_at=started_at, confidence=confidence, **kwargs)


def test_add_then_get_round_trips_every_field(store: IncidentStore) -> None:
    boxes = [EvidenceBox((176.0, 84.0, 200.5, 117.0), "fire", 0.91), EvidenceBox((1, 2, 3, 4), "smoke", 0.5)]
    details = {"episode": 3, "areas": [0.1, 0.2], "zone": {"name": "ทางม้าลาย"}, "flag": None}
    incident = make_incident(subtype="smoke", frame_index=42, boxes=boxes, details=details)

    assert store.add(incident, "cam01/2023-11-14/x.jpg", clip_path=None, evidence_error="disk full") is True

    stored = store.get(incident.id)
    assert stored is not None
    assert (stored.id, stored.type, stored.subtype, stored.camera_id) == (
        incident.id,
        "fire",
        "smoke",
        "cam01",
    )
    assert stored.status is IncidentStatus.NEW
    assert stored.confidence == pytest.approx(0.8)
    assert stored.started_at == datetime.fromtimestamp(T0, UTC)
    assert stored.started_at.tzinfo == UTC
    assert stored.ended_at is None
    assert stored.frame_index == 42
    assert stored.boxes == (
        EvidenceBox((176.0, 84.0, 200.5, 117.0), "fire", 0.91),
        EvidenceBox((1.0, 2.0, 3.0, 4.0), "smoke", 0.5),
    )
    assert stored.details == details
    assert (stored.snapshot_path, stored.clip_path, stored.evidence_error) == (
        "cam01/2023-11-14/x.jpg",
        None,
        "disk full",
    )
    assert stored.created_at.tzinfo == UTC
    assert store.get("0" * 32) is None


def test_to_json_is_json_safe(store: IncidentStore) -> None:
    incident = make_incident(boxes=[EvidenceBox((1, 2, 3, 4), "fire", 0.5)], details={"k": [1, "ข"]})
    store.add(incident, "a.jpg")
    data = json.loads(json.dumps(store.get(incident.id).to_json()))
    assert data["id"] == incident.id
    assert data["type"] == "fire"
    assert data["status"] == "new"
    assert datetime.fromisoformat(data["started_at"]) == datetime.fromtimestamp(T0, UTC)
    assert data["ended_at"] is None
    assert data["boxes"] == [{"xyxy": [1.0, 2.0, 3.0, 4.0], "label": "fire", "confidence": 0.5}]
    assert data["details"] == {"k": [1, "ข"]}
    assert data["snapshot_path"] == "a.jpg"


def test_numpy_values_are_stored_as_plain_json(store: IncidentStore) -> None:
    incident = make_incident(
        confidence=np.float32(0.75),
        boxes=[EvidenceBox(tuple(np.array([1, 2, 3, 4], dtype=np.float32)), "fire", np.float32(0.5))],
        details={"area": np.float32(1.5), "track_ids": np.array([3, 4])},
    )
    store.add(incident, None)
    stored = store.get(incident.id)
    assert stored.confidence == 0.75
    assert stored.details == {"area": 1.5, "track_ids": [3, 4]}
    assert stored.boxes == (EvidenceBox((1.0, 2.0, 3.0, 4.0), "fire", 0.5),)


def test_add_is_idempotent_on_id(store: IncidentStore) -> None:
    incident = make_incident()
    assert store.add(incident, "first.jpg") is True
    assert store.add(incident, "second.jpg", evidence_error="late retry") is False
    assert store.count() == 1
    stored = store.get(incident.id)
    assert (stored.snapshot_path, stored.evidence_error) == ("first.jpg", None)


def test_list_is_newest_first_and_filters(store: IncidentStore) -> None:
    fire_1 = make_incident(T0, IncidentType.FIRE, "cam01")
    fall_1 = make_incident(T0 + 10, IncidentType.FALL, "cam01")
    fire_2 = make_incident(T0 + 20, IncidentType.FIRE, "cam02", ended_at=T0 + 25)
    offline = make_incident(T0 + 30, IncidentType.CAMERA_OFFLINE, "cam02")
    for incident in (fall_1, offline, fire_1, fire_2):  # insertion order must not matter
        store.add(incident, None)

    def ids(rows: list) -> list[str]:
        return [row.id for row in rows]

    assert ids(store.list()) == [offline.id, fire_2.id, fall_1.id, fire_1.id]
    assert ids(store.list(limit=2)) == [offline.id, fire_2.id]
    assert ids(store.list(type=IncidentType.FIRE)) == [fire_2.id, fire_1.id]
    assert ids(store.list(type="fall")) == [fall_1.id]
    assert ids(store.list(camera_id="cam02")) == [offline.id, fire_2.id]
    assert ids(store.list(type="fire", camera_id="cam02")) == [fire_2.id]
    assert ids(store.list(open_only=True)) == [offline.id, fall_1.id, fire_1.id]
    assert store.list(camera_id="nowhere") == []
    assert store.count() == 4


def test_close_sets_ended_at(store: IncidentStore) -> None:
    incident = make_incident()
    store.add(incident, None)
    assert store.close(incident.id, T0 + 90.5) is True
    assert store.get(incident.id).ended_at == datetime.fromtimestamp(T0 + 90.5, UTC)
    assert store.list(open_only=True) == []
    assert store.close("f" * 32, T0) is False


def test_set_clip_records_the_clip_or_why_there_is_none(store: IncidentStore) -> None:
    with_clip, without_clip = make_incident(), make_incident()
    store.add(with_clip, "a.jpg")
    store.add(without_clip, "b.jpg")

    assert store.set_clip(with_clip.id, "cam01/2023-11-14/a.mp4") is True
    assert (
        store.set_clip(without_clip.id, None, evidence_error="cannot write clip x.mp4: No space left") is True
    )
    assert store.set_clip("f" * 32, "c.mp4") is False

    stored = store.get(with_clip.id)
    assert (stored.snapshot_path, stored.clip_path, stored.evidence_error) == (
        "a.jpg",
        "cam01/2023-11-14/a.mp4",
        None,
    )
    stored = store.get(without_clip.id)
    assert (stored.clip_path, stored.evidence_error) == (None, "cannot write clip x.mp4: No space left")


def test_clear_evidence_and_with_evidence(store: IncidentStore) -> None:
    newer = make_incident(T0 + 5)
    older = make_incident(T0)
    bare = make_incident(T0 + 9)
    store.add(newer, "n.jpg", "n.mp4")
    store.add(older, "o.jpg")
    store.add(bare, None)

    assert [row.id for row in store.with_evidence()] == [older.id, newer.id]
    assert store.clear_evidence(older.id) is True
    assert (store.get(older.id).snapshot_path, store.get(older.id).clip_path) == (None, None)
    assert [row.id for row in store.with_evidence()] == [newer.id]


def test_migration_creates_the_schema_from_empty_and_upgrade_is_idempotent(db_url: str) -> None:
    store = IncidentStore(db_url)
    assert inspect(store.engine).get_table_names() == []

    store.upgrade()
    inspector = inspect(store.engine)
    assert set(inspector.get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    assert {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("incidents")} == {
        "ix_incidents_camera_id_started_at": ["camera_id", "started_at"],
        "ix_incidents_type_started_at": ["type", "started_at"],
        "ix_incidents_status": ["status"],
        "ix_incidents_started_at_id": ["started_at", "id"],
        "ix_incidents_group_id": ["group_id"],
        "ix_incidents_created_at": ["created_at"],
    }
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []

    incident = make_incident()
    store.add(incident, None)
    store.upgrade()  # a no-op: same revision, data untouched
    with store.engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()]
    assert store.get(incident.id) is not None
    store.dispose()


def test_status_defaults_to_new_in_the_database_too(store: IncidentStore) -> None:
    """A row inserted by hand (or by an older writer) gets the status 'new' from the schema."""
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO incidents (id, type, camera_id, confidence, started_at, boxes, details,"
                " created_at) VALUES ('a', 'fall', 'cam09', 0.5, :t, '[]', '{}', :t)"
            ),
            {"t": datetime.fromtimestamp(T0, UTC)},
        )
    assert store.get("a").status is IncidentStatus.NEW


def test_an_unmigrated_database_is_a_clear_error(db_url: str) -> None:
    store = IncidentStore(db_url, retries=1, backoff_s=0.01)
    with pytest.raises(StoreError, match=r"cannot count incidents in .*incidents"):
        store.count()
    store.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:
    store = IncidentStore(f"sqlite:///{tmp_path / 'wal.db'}", sqlite_busy_timeout_ms=1234)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
    store.dispose()


def _lock_sqlite(path) -> sqlite3.Connection:
    """Another process-like writer holding the write lock of the SQLite file."""
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    return locker


def test_a_write_that_keeps_failing_raises_store_error(tmp_path) -> None:
    path = tmp_path / "locked.db"
    store = IncidentStore(f"sqlite:///{path}", retries=2, backoff_s=0.01, sqlite_busy_timeout_ms=20)
    store.upgrade()
    locker = _lock_sqlite(path)
    try:
        with pytest.raises(StoreError, match=r"cannot add incident \w+ in sqlite:///.*after 3 tries.*locked"):
            store.add(make_incident(), None)
    finally:
        locker.rollback()
        locker.close()
    store.dispose()


def test_a_write_is_retried_until_the_database_is_back(tmp_path) -> None:
    path = tmp_path / "locked.db"
    store = IncidentStore(f"sqlite:///{path}", retries=6, backoff_s=0.05, sqlite_busy_timeout_ms=20)
    store.upgrade()
    locker = _lock_sqlite(path)
    release = threading.Timer(0.3, lambda: (locker.rollback(), locker.close()))
    release.start()
    incident = make_incident()
    assert store.add(incident, "a.jpg") is True
    release.join()
    assert store.get(incident.id).snapshot_path == "a.jpg"
    store.dispose()


def test_postgresql_connections_killed_by_a_restart_are_replaced(pg_database_url: str) -> None:
    store = IncidentStore(pg_database_url, backoff_s=0.05)
    store.upgrade()
    try:
        first, second = make_incident(), make_incident(T0 + 1)
        assert store.add(first, None)
        url = make_url(pg_database_url)
        admin_info = url.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        with psycopg.connect(admin_info, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()) AS t",
                (url.database,),
            ).fetchone()[0]
        assert killed >= 1  # the store's pooled connection was really cut
        assert store.add(second, None)
        assert store.count() == 2
    finally:
        metadata = MetaData()
        metadata.reflect(store.engine)
        metadata.drop_all(store.engine)
        store.dispose()


def _upgrade_when_all_are_ready(url: str, ready: Barrier, errors: Queue) -> None:
    ready.wait()
    try:
        IncidentStore(url, backoff_s=0.05).upgrade()
    except Exception as exc:
        errors.put(repr(exc))


def test_processes_starting_at_once_migrate_once(db_url: str) -> None:
    """The pipeline and the API server may both call upgrade() on a new database at the same time."""
    context = multiprocessing.get_context("fork")
    ready, errors = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=_upgrade_when_all_are_ready, args=(db_url, ready, errors)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert errors.empty(), errors.get()
    store = IncidentStore(db_url)
    assert store.count() == 0
    store.dispose()


def test_threads_of_one_process_may_upgrade_at_once(db_url: str) -> None:
    stores = [IncidentStore(db_url, backoff_s=0.05) for _ in range(3)]
    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(IncidentStore.upgrade, stores))
    assert stores[0].count() == 0
    for store in stores:
        store.dispose()
