"""The audit log, newest first, for admins only."""

from typing import Annotated

from fastapi import APIRouter, Query

from citywatch.api.auth import Admin, Context
from citywatch.api.schemas import AuditEntryOut

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def audit_log(
    principal: Admin,
    context: Context,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Entries older than this id.")
    ] = None,
    actor: Annotated[str | None, Query(max_length=80, pattern=r"^[^\x00]*$")] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]*$")] = None,
) -> list[AuditEntryOut]:
    entries = context.audit.entries(limit=limit, before_id=before_id, actor=actor, action=action)
    return [AuditEntryOut.model_validate(entry, from_attributes=True) for entry in entries]
