"""The audit log, newest first, for admins only."""

from typing import Annotated

from fastapi import APIRouter, Query

from citywatch.api.auth import Context, may
from citywatch.api.schemas import AuditEntryOut
from citywatch.services.permissions import Caller, Task

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def audit_log(
    caller: Annotated[Caller, may(Task.READ_AUDIT)],
    context: Context,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Entries older than this id.")
    ] = None,
    actor: Annotated[str | None, Query(max_length=80, pattern=r"^[^\x00]*$")] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]*$")] = None,
) -> list[AuditEntryOut]:
    entries = context.audit_trail.entries(
        caller, limit=limit, before_id=before_id, actor=actor, action=action
    )
    return [AuditEntryOut.model_validate(entry, from_attributes=True) for entry in entries]
