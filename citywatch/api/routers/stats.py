"""Incident statistics for reports (counts, false alarm rate, closing reasons, time to acknowledge and
to close) of a time range or of whole local days (`from`/`to`, as the dashboard's Reports page)."""

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from citywatch.api.auth import Context, Viewer
from citywatch.api.routers.incidents import CameraId, incident_filter
from citywatch.api.schemas import StatsOut
from citywatch.domain.incident_types import IncidentType
from citywatch.services.periods import Period, PeriodError

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("", responses={422: {"description": "A period that cannot be reported, or two kinds of period"}})
def stats(
    caller: Viewer,
    context: Context,
    since: Annotated[
        datetime | None, Query(description="From (UTC if no offset); default 30 days ago.")
    ] = None,
    until: Annotated[datetime | None, Query(description="Until (UTC if no offset); default now.")] = None,
    first_day: Annotated[
        date | None,
        Query(
            alias="from",
            description="First local day (api.timezone) of the period, e.g. 2026-11-30; with `to`, instead "
            "of since/until.",
        ),
    ] = None,
    last_day: Annotated[
        date | None,
        Query(alias="to", description="Last local day of the period, included (at most 366 days in all)."),
    ] = None,
    type: Annotated[list[IncidentType] | None, Query()] = None,
    camera: Annotated[list[CameraId] | None, Query()] = None,
) -> StatsOut:
    if first_day is not None or last_day is not None:
        if first_day is None or last_day is None or since is not None or until is not None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "give both from and to, and neither since nor until"
            )
        try:
            since, until = Period(first_day, last_day).span(context.timezone)
        except PeriodError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    elif since is None and until is None:
        since = datetime.now().astimezone() - timedelta(days=30)
    where = incident_filter(type, camera, None, since, until)
    result = context.stats.stats(caller, where, context.timezone, context.settings.shifts)
    return StatsOut(
        since=where.since, until=where.until, timezone=context.settings.timezone, **asdict(result)
    )
