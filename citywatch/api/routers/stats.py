"""Incident statistics for reports (counts, false alarm rate, time to acknowledge)."""

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from citywatch.api.auth import Context, Viewer
from citywatch.api.routers.incidents import CameraId, incident_filter
from citywatch.api.schemas import StatsOut
from citywatch.domain.incident_types import IncidentType

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("")
def stats(
    caller: Viewer,
    context: Context,
    since: Annotated[
        datetime | None, Query(description="From (UTC if no offset); default 30 days ago.")
    ] = None,
    until: Annotated[datetime | None, Query(description="Until (UTC if no offset); default now.")] = None,
    type: Annotated[list[IncidentType] | None, Query()] = None,
    camera: Annotated[list[CameraId] | None, Query()] = None,
) -> StatsOut:
    if since is None and until is None:
        since = datetime.now().astimezone() - timedelta(days=30)
    where = incident_filter(type, camera, None, since, until)
    result = context.stats.stats(caller, where, context.timezone)
    return StatsOut(
        since=where.since, until=where.until, timezone=context.settings.timezone, **asdict(result)
    )
