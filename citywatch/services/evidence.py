"""Evidence as people see it: an incident's snapshot and clip, the feed's thumbnails, the snapshot
of a signed link, a camera's latest clip and an incident exported for a case file. Every view and
export is audited; the views of one file by one person within `audit.VIEW_WINDOW_S` (a player
seeking a clip, a page reloading) are one. A stored path is only served from inside the evidence
folder.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
from sqlalchemy import select

from citywatch.domain.lifecycle import IncidentEvent
from citywatch.domain.stored_incident import StoredIncident
from citywatch.services.permissions import Caller, Task, permit
from citywatch.storage.audit import AuditLog
from citywatch.storage.lifecycle import IncidentLifecycle
from citywatch.storage.schema import IncidentRow
from citywatch.storage.store import IncidentStore

EvidenceKind = Literal["snapshot", "clip"]
SHARED_LINK_ACTOR = "shared-link"
"""Who the audit log names for a view through a signed link."""


@dataclass(frozen=True, slots=True)
class IncidentExport:
    """What a case file of one incident holds."""

    incident: StoredIncident
    history: list[IncidentEvent]
    snapshot: Path | None


def evidence_path(root: Path, relative: str | None) -> Path | None:
    """The file `relative` names under `root`, or None if there is none or it would be outside."""
    if relative is None:
        return None
    root = root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


@functools.lru_cache(maxsize=512)
def _thumbnail(path: Path, width: int) -> bytes | None:
    image = cv2.imread(str(path))
    if image is None:
        return None
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    ok, jpeg = cv2.imencode(".jpg", cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))
    return jpeg.tobytes() if ok else None


class Evidence:
    """Evidence files, for any role (Task.VIEW), each view audited."""

    def __init__(
        self, store: IncidentStore, lifecycle: IncidentLifecycle, audit: AuditLog, evidence_dir: Path
    ) -> None:
        self._store = store
        self._lifecycle = lifecycle
        self._audit = audit
        self._dir = evidence_dir

    def file(self, caller: Caller, incident_id: str, kind: EvidenceKind) -> Path | None:
        """The incident's snapshot or clip (None when it has none), its view audited."""
        permit(caller, Task.VIEW)
        path = self._path(incident_id, kind)
        if path is not None:
            self._audit.record_view(
                caller.actor, "evidence.view", f"incident:{incident_id}/{kind}", caller.ip
            )
        return path

    def thumbnail(self, caller: Caller, incident_id: str, width: int) -> bytes | None:
        """A JPEG `width` pixels wide of the incident's snapshot (None when it has none), audited as
        a view of it."""
        permit(caller, Task.VIEW)
        path = self._path(incident_id, "snapshot")
        thumbnail = _thumbnail(path, width) if path is not None else None
        if thumbnail is not None:
            target = f"incident:{incident_id}/thumbnail"
            self._audit.record_view(caller.actor, "evidence.view", target, caller.ip)
        return thumbnail

    def shared_snapshot(self, incident_id: str, ip: str) -> Path | None:
        """The snapshot a signed link names (its route checks the signature: no caller), audited as
        viewed by SHARED_LINK_ACTOR; None when the incident has none."""
        path = self._path(incident_id, "snapshot")
        if path is not None:
            self._audit.record(SHARED_LINK_ACTOR, "evidence.view", f"incident:{incident_id}/snapshot", ip)
        return path

    def camera_viewed(self, caller: Caller, camera_id: str) -> None:
        """Audit a view of the camera's latest picture."""
        permit(caller, Task.VIEW)
        self._audit.record_view(caller.actor, "camera.view", f"camera:{camera_id}", caller.ip)

    def latest_clip(self, caller: Caller, camera_id: str) -> Path | None:
        """The camera's newest evidence clip, or None."""
        permit(caller, Task.VIEW)
        query = (
            select(IncidentRow.clip_path)
            .where(IncidentRow.camera_id == camera_id, IncidentRow.clip_path.is_not(None))
            .order_by(IncidentRow.started_at.desc())
            .limit(1)
        )
        relative = self._store.read(f"find the latest clip of {camera_id}", lambda s: s.scalar(query))
        return evidence_path(self._dir, relative)

    def export(self, caller: Caller, incident_id: str) -> IncidentExport | None:
        """The incident, its history and its snapshot for a case file (None when there is no such
        incident), the export audited."""
        permit(caller, Task.VIEW)
        incident = self._store.get(incident_id)
        if incident is None:
            return None
        history = self._lifecycle.history(incident_id)
        snapshot = evidence_path(self._dir, incident.snapshot_path)
        self._audit.record(caller.actor, "incident.export", f"incident:{incident_id}", caller.ip)
        return IncidentExport(incident, history, snapshot)

    def _path(self, incident_id: str, kind: EvidenceKind) -> Path | None:
        incident = self._store.get(incident_id)
        if incident is None:
            return None
        return evidence_path(self._dir, incident.snapshot_path if kind == "snapshot" else incident.clip_path)
