"""Alerts that could not go out: the notifiers' dead letters, newest first, for admins (their
payloads name incidents and receivers, and a LINE image message carries a signed snapshot link)."""

from typing import Annotated

from fastapi import APIRouter, Query

from citywatch.api.auth import Context, may
from citywatch.api.schemas import DeadLetterOut
from citywatch.notifiers.dead_letters import DeadLetters
from citywatch.services.permissions import Caller, Task

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("/dead-letters")
def dead_letters(
    caller: Annotated[Caller, may(Task.READ_DEAD_LETTERS)],
    context: Context,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetterOut]:
    """Messages a channel gave up on (tries used up, refused, or still queued at shutdown)."""
    rows = DeadLetters(context.store.engine).list(limit)
    return [DeadLetterOut.model_validate(row, from_attributes=True) for row in rows]
