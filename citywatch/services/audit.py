"""The audit log as admins read it (Task.READ_AUDIT); the services write it."""

from __future__ import annotations

from citywatch.services.permissions import Caller, Task, permit
from citywatch.storage.audit import AuditEntry, AuditLog


class AuditTrail:
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def entries(
        self,
        caller: Caller,
        limit: int = 100,
        before_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `before_id` pages back from an entry."""
        permit(caller, Task.READ_AUDIT)
        return self._audit.entries(limit=limit, before_id=before_id, actor=actor, action=action)
