"""The incident store: incidents and references to their evidence, in SQLite or PostgreSQL.

SQLite (WAL, busy timeout) is the single-machine default; PostgreSQL (psycopg 3) is the system of
record of deployments. The schema is created and upgraded only by the Alembic migrations
(`upgrade()`), never by `create_all`.

Every operation that fails with an OperationalError (database restarting, connection dropped,
SQLite file locked) is retried with exponential backoff; when the retries are used up, or on any
other database error, a `StoreError` naming the operation is raised. Nothing is dropped silently.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from citywatch.domain.incident import EvidenceBox, Incident
from citywatch.domain.incident_types import IncidentType
from citywatch.domain.stored_incident import StoredIncident, utc
from citywatch.storage.schema import CameraStatusRow, IncidentRow

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK_KEY = 0x63697479  # "city": any constant shared by every citywatch process
_ALEMBIC_LOCK = threading.Lock()
"""Alembic keeps the running migration context in module globals: one upgrade per process at a time."""

T = TypeVar("T")


class StoreError(RuntimeError):
    """The database could not do what was asked, even after retrying."""


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """The last known health state of a camera (a `CameraState` value) and since when."""

    camera_id: str
    state: str
    reason: str | None
    since: datetime


class IncidentStore:
    """Incidents in the database at `url` (any SQLAlchemy URL; sqlite:/// or postgresql+psycopg://).

    Safe to share between threads. `retries` and `backoff_s` set how long an operation keeps
    trying through a database outage (by default about 6 s in all); `sqlite_busy_timeout_ms` is how
    long SQLite waits for another writer's lock before that counts as a failed try. An incident
    started within `group_window_s` after another of the same camera and type joins its group.
    """

    def __init__(
        self,
        url: str,
        *,
        retries: int = 5,
        backoff_s: float = 0.2,
        sqlite_busy_timeout_ms: int = 5000,
        group_window_s: float = 300,
    ) -> None:
        # hide_parameters: an error message must never carry a password hash or token hash into a log.
        self._engine = create_engine(
            url, pool_pre_ping=True, json_serializer=_json_dumps, hide_parameters=True
        )
        if self._engine.dialect.name == "sqlite":
            database = self._engine.url.database
            if database and database != ":memory:":
                _database_folder(Path(database).parent)
            _configure_sqlite(self._engine, sqlite_busy_timeout_ms)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._retries = retries
        self._backoff_s = backoff_s
        self._group_window_s = group_window_s

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for health checks and tests; incidents go through the methods)."""
        return self._engine

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (creates it in an empty database; else a no-op).

        Safe when several processes (pipeline, API) start at once: on PostgreSQL they queue on an
        advisory lock; on SQLite the loser's "table already exists" is retried and finds it done.
        """

        def run() -> None:
            with _ALEMBIC_LOCK, self._engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS_DIR))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")

        self._run("upgrade the schema", run)

    def add(
        self,
        incident: Incident,
        snapshot_path: str | None,
        clip_path: str | None = None,
        evidence_error: str | None = None,
    ) -> bool:
        """Save `incident`; False (and nothing changed) when its id is already stored.

        That makes retries safe, here and in callers: a try whose commit reached the database but
        whose answer was lost is simply found done by the next one.
        """
        values = _row_values(incident, snapshot_path, clip_path, evidence_error)
        dialect_insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert

        def run(session: Session) -> bool:
            values["group_id"] = self._group_of(session, values)
            statement = (
                dialect_insert(IncidentRow)
                .values(values)
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(IncidentRow.id)  # no row back when the id was already there
            )
            return session.execute(statement).first() is not None

        return self._write(f"add incident {incident.id}", run)

    def _group_of(self, session: Session, values: dict[str, Any]) -> str:
        """The group of the newest earlier incident of the same camera and type, if it started at most
        `group_window_s` before this one; else this incident starts a group of its own."""
        started_at: datetime = values["started_at"]
        query = (
            select(IncidentRow.group_id, IncidentRow.id)
            .where(
                IncidentRow.camera_id == values["camera_id"],
                IncidentRow.type == values["type"],
                IncidentRow.started_at <= started_at,
                IncidentRow.started_at >= started_at - timedelta(seconds=self._group_window_s),
                IncidentRow.id != values["id"],
            )
            .order_by(IncidentRow.started_at.desc(), IncidentRow.id.desc())
            .limit(1)
        )
        previous = session.execute(query).first()
        if previous is None:
            return values["id"]
        return previous.group_id or previous.id

    def set_clip(self, incident_id: str, clip_path: str | None, evidence_error: str | None = None) -> bool:
        """Record the clip (or why there is none: added to an earlier error, such as the snapshot's,
        never in its place); False when there is no such incident."""

        def run(session: Session) -> bool:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                return False
            row.clip_path = clip_path
            if evidence_error is not None:
                row.evidence_error = "; ".join(e for e in (row.evidence_error, evidence_error) if e)
            return True

        return self._write(f"set clip of incident {incident_id}", run)

    def repair_interrupted(self, camera_ids: Sequence[str], now: float) -> list[str]:
        """Incidents of `camera_ids` that a pipeline left open when it died (kill -9, power cut):
        not ended, their clip neither written nor failed. Called when a pipeline for those cameras
        starts (so none of them is really open); each is closed at its start time and says why it
        has no clip. Returns their ids."""
        note = f"no clip: citywatch stopped before writing it (repaired at restart, {utc(now).isoformat()})"

        def run(session: Session) -> list[str]:
            query = select(IncidentRow).where(
                IncidentRow.camera_id.in_(list(camera_ids)),
                IncidentRow.ended_at.is_(None),
                IncidentRow.clip_path.is_(None),
                IncidentRow.evidence_error.is_(None),
            )
            rows = list(session.scalars(query))
            for row in rows:
                row.ended_at = row.started_at
                row.evidence_error = note
            return [row.id for row in rows]

        return self._write("repair incidents left open", run) if camera_ids else []

    def close(self, incident_id: str, ended_at: float) -> bool:
        """Mark the incident ended at `ended_at` (epoch seconds); False when there is no such incident."""
        return self._update(incident_id, "close", ended_at=utc(ended_at))

    def clear_evidence(self, incident_id: str) -> bool:
        """Forget the snapshot and clip paths (their files were deleted); False when no such incident."""
        return self._update(incident_id, "clear evidence of", snapshot_path=None, clip_path=None)

    def list(
        self,
        limit: int = 100,
        type: IncidentType | str | None = None,
        camera_id: str | None = None,
        open_only: bool = False,
    ) -> list[StoredIncident]:
        """Newest first (by started_at). `open_only`: only incidents not ended yet (ended_at is None)."""
        query = select(IncidentRow).order_by(IncidentRow.started_at.desc(), IncidentRow.id).limit(limit)
        if type is not None:
            query = query.where(IncidentRow.type == IncidentType(type))
        if camera_id is not None:
            query = query.where(IncidentRow.camera_id == camera_id)
        if open_only:
            query = query.where(IncidentRow.ended_at.is_(None))
        return self._read("list incidents", lambda s: [stored_incident(row) for row in s.scalars(query)])

    def with_evidence(self) -> list[StoredIncident]:
        """Every incident that still has a snapshot or clip, oldest first (for retention)."""
        query = (
            select(IncidentRow)
            .where((IncidentRow.snapshot_path.is_not(None)) | (IncidentRow.clip_path.is_not(None)))
            .order_by(IncidentRow.started_at, IncidentRow.id)
        )
        return self._read(
            "list incidents with evidence", lambda s: [stored_incident(r) for r in s.scalars(query)]
        )

    def get(self, incident_id: str) -> StoredIncident | None:
        def run(session: Session) -> StoredIncident | None:
            row = session.get(IncidentRow, incident_id)
            return stored_incident(row) if row is not None else None

        return self._read(f"get incident {incident_id}", run)

    def created_since(self, since: datetime | None) -> list[StoredIncident]:
        """Incidents whose row was created at or after `since` (all when None), oldest first.

        `created_at` is the writing process's clock at insert: a row committed late can carry an
        earlier time than rows already read, so pollers look back a margin (see api.store_feed).
        """
        query = select(IncidentRow).order_by(IncidentRow.created_at, IncidentRow.id)
        if since is not None:
            query = query.where(IncidentRow.created_at >= since)
        return self._read("list new incidents", lambda s: [stored_incident(row) for row in s.scalars(query)])

    def latest_created_at(self) -> datetime | None:
        """When the newest row was created; None for an empty table."""
        query = select(func.max(IncidentRow.created_at))
        return self._read("find the newest incident", lambda s: s.scalar(query))

    def count(self) -> int:
        query = select(func.count()).select_from(IncidentRow)
        return self._read("count incidents", lambda s: s.scalar(query))

    def set_camera_state(self, camera_id: str, state: str, reason: str | None, since: float) -> None:
        """Remember `camera_id`'s latest health state (since `since`, epoch seconds)."""
        values = {"camera_id": camera_id, "state": state, "reason": reason, "since": utc(since)}

        def run(session: Session) -> None:
            row = session.get(CameraStatusRow, camera_id)
            if row is None:
                session.add(CameraStatusRow(**values))
            else:
                row.state, row.reason, row.since = values["state"], values["reason"], values["since"]

        self._write(f"store state of camera {camera_id}", run)

    def camera_states(self) -> dict[str, CameraStatus]:
        """The last known state of every camera that ever reported one."""

        def run(session: Session) -> dict[str, CameraStatus]:
            return {
                row.camera_id: CameraStatus(row.camera_id, row.state, row.reason, row.since)
                for row in session.scalars(select(CameraStatusRow))
            }

        return self._read("read camera states", run)

    def read(self, action: str, work: Callable[[Session], T]) -> T:
        """Run `work` in a read session, with this store's retries; `action` names it in errors.

        For modules that keep their own tables in this database (lifecycle, users, audit).
        """
        return self._read(action, work)

    def write(self, action: str, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction, committed when it returns, with this store's retries."""
        return self._write(action, work)

    def dispose(self) -> None:
        """Close every pooled connection (the store can still be used; it reconnects)."""
        self._engine.dispose()

    def _update(self, incident_id: str, action: str, **values: object) -> bool:
        statement = update(IncidentRow).where(IncidentRow.id == incident_id).values(**values)
        return self._write(f"{action} incident {incident_id}", lambda s: s.execute(statement).rowcount == 1)

    def _write(self, action: str, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self._sessions.begin() as session:
                return work(session)

        return self._run(action, run)

    def _read(self, action: str, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self._sessions() as session:
                return work(session)

        return self._run(action, run)

    def _run(self, action: str, work: Callable[[], T]) -> T:
        where = self._engine.url.render_as_string(hide_password=True)
        attempt = 0
        while True:
            try:
                return work()
            except OperationalError as exc:
                if attempt == self._retries:
                    raise StoreError(
                        f"cannot {action} in {where} after {attempt + 1} tries: {exc.orig}"
                    ) from exc
                delay = self._backoff_s * 2**attempt
                log.warning("cannot %s in %s (%s); retrying in %.1f s", action, where, exc.orig, delay)
                time.sleep(delay)
                attempt += 1
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot {action} in {where}: {exc}") from exc


def _database_folder(folder: Path) -> None:
    """The SQLite file's folder: made when only it is missing (a fresh `var/`), said in the log;
    a path whose parent does not exist either is a mistake, not a folder tree to invent."""
    if folder.is_dir():
        return
    if not folder.parent.is_dir():
        raise StoreError(f"the database folder {folder} does not exist (nor does {folder.parent})")
    try:
        folder.mkdir()
    except OSError as exc:
        raise StoreError(f"cannot make the database folder {folder}: {exc.strerror}") from None
    log.warning("made the database folder %s", folder)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL lets the dashboard read while the pipeline writes; the busy timeout waits out short locks."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough in WAL mode, much faster
        cursor.close()


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays (common in analyzer `details`) as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default)


def _row_values(
    incident: Incident, snapshot_path: str | None, clip_path: str | None, evidence_error: str | None
) -> dict[str, Any]:
    stored = StoredIncident.raised(incident, datetime.now(UTC), snapshot_path, clip_path, evidence_error)
    values = {f.name: getattr(stored, f.name) for f in fields(StoredIncident)}
    values["boxes"] = [box.to_json() for box in stored.boxes]
    return values


def stored_incident(row: IncidentRow) -> StoredIncident:
    """The plain value of an incident row (for modules that query the table themselves)."""
    values = {f.name: getattr(row, f.name) for f in fields(StoredIncident)}
    values["boxes"] = tuple(EvidenceBox.from_json(box) for box in row.boxes)
    return StoredIncident(**values)
