"""The audit log's rows: who viewed which evidence and who changed what. Written by the services
(citywatch.services), which decide what is audited; read by admins through them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citywatch.storage.schema import AuditRow
from citywatch.storage.store import IncidentStore

VIEW_WINDOW_S = 600.0
"""Views of one evidence file by one person within this many seconds are audited once."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    ip: str | None
    details: dict[str, Any]


def audit_row(
    at: datetime, actor: str, action: str, target: str | None, ip: str | None, details: dict[str, Any]
) -> AuditRow:
    """An audit log entry; `details` must never hold a secret (password, token)."""
    return AuditRow(at=at, actor=actor, action=action, target=target, ip=ip, details=details)


class AuditLog:
    def __init__(self, store: IncidentStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def record(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        ip: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append an entry on its own; a change writes its entry in its own transaction
        (`audit_row`). `details` must never hold a secret (password, token)."""
        row = audit_row(self.now(), actor, action, target, ip, details or {})
        self._store.write(f"record audit entry {action}", lambda session: session.add(row))

    def record_view(self, actor: str, action: str, target: str, ip: str | None = None) -> bool:
        """Append a view of evidence unless `actor` viewed `target` within VIEW_WINDOW_S (a player's
        seeks and a page's reloads are one view; every other request of it is audited, whatever
        its Range header says). True when an entry was written."""
        now = self.now()
        since = datetime.fromtimestamp(self._clock() - VIEW_WINDOW_S, UTC)
        recent = (
            select(AuditRow.id)
            .where(AuditRow.actor == actor, AuditRow.action == action, AuditRow.target == target)
            .where(AuditRow.at >= since)
            .limit(1)
        )

        def run(session: Session) -> bool:
            if session.scalars(recent).first() is not None:
                return False
            session.add(audit_row(now, actor, action, target, ip, {}))
            return True

        return self._store.write(f"record audit entry {action}", run)

    def entries(
        self,
        limit: int = 100,
        before_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `before_id` pages back from an entry."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditRow.id < before_id)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if action is not None:
            query = query.where(AuditRow.action == action)
        return self._store.read(
            "read the audit log",
            lambda session: [
                AuditEntry(r.id, r.at, r.actor, r.action, r.target, r.ip, r.details)
                for r in session.scalars(query)
            ],
        )
