"""Reads the dashboard needs beyond the API's: open incidents per camera, each camera's recent
incidents and latest clip. Each is one indexed query, whatever the number of incidents stored."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citywatch.incidents.lifecycle import OPEN_STATUSES
from citywatch.incidents.schema import IncidentRow
from citywatch.incidents.store import IncidentStore, StoredIncident, stored_incident


@dataclass(frozen=True, slots=True)
class OpenIncidents:
    """A camera's incidents not yet resolved nor called a false alarm."""

    count: int
    types: frozenset[str]


def open_incidents(store: IncidentStore) -> dict[str, OpenIncidents]:
    """Camera id -> its open incidents (only cameras that have some)."""
    query = (
        select(IncidentRow.camera_id, IncidentRow.type, func.count())
        .where(IncidentRow.status.in_(list(OPEN_STATUSES)))
        .group_by(IncidentRow.camera_id, IncidentRow.type)
    )
    rows = store.read("count open incidents", lambda s: [tuple(r) for r in s.execute(query)])
    counts: dict[str, int] = {}
    types: dict[str, set[str]] = {}
    for camera_id, type_, count in rows:
        counts[camera_id] = counts.get(camera_id, 0) + count
        types.setdefault(camera_id, set()).add(type_.value)
    return {c: OpenIncidents(counts[c], frozenset(types[c])) for c in counts}


def recent_by_camera(
    store: IncidentStore, camera_ids: list[str], per_camera: int
) -> dict[str, list[StoredIncident]]:
    """The newest `per_camera` incidents of each camera (a window function: one query for all)."""
    rank = (
        func.row_number()
        .over(partition_by=IncidentRow.camera_id, order_by=(IncidentRow.started_at.desc(), IncidentRow.id))
        .label("rank")
    )
    ranked = select(IncidentRow.id, rank).where(IncidentRow.camera_id.in_(camera_ids)).subquery()
    query = (
        select(IncidentRow)
        .join(ranked, ranked.c.id == IncidentRow.id)
        .where(ranked.c.rank <= per_camera)
        .order_by(IncidentRow.camera_id, IncidentRow.started_at.desc())
    )

    def run(session: Session) -> dict[str, list[StoredIncident]]:
        found: dict[str, list[StoredIncident]] = {camera_id: [] for camera_id in camera_ids}
        for row in session.scalars(query):
            found[row.camera_id].append(stored_incident(row))
        return found

    return store.read("read recent incidents per camera", run)


def latest_clip(store: IncidentStore, camera_id: str) -> str | None:
    """The evidence path of the camera's newest clip, or None."""
    query = (
        select(IncidentRow.clip_path)
        .where(IncidentRow.camera_id == camera_id, IncidentRow.clip_path.is_not(None))
        .order_by(IncidentRow.started_at.desc())
        .limit(1)
    )
    return store.read(f"find the latest clip of {camera_id}", lambda s: s.scalar(query))
