"""Liveness for load balancers and monitoring: no authentication, no details beyond up or down."""

import time

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from citywatch import __version__
from citywatch.api.auth import Context
from citywatch.api.schemas import HealthOut
from citywatch.storage.store import StoreError

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"model": HealthOut, "description": "The database is unreachable"}})
def health(context: Context, response: Response) -> HealthOut:
    try:
        context.store.read("check the database", lambda session: session.execute(text("SELECT 1")))
        database = True
    except StoreError:
        database = False
    supervisor = context.supervisor
    pipeline = None if supervisor is None else supervisor.running
    failing = {} if supervisor is None else supervisor.failing_analyzers(time.time())
    ok = database and pipeline is not False
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthOut(
        status="ok" if ok else "degraded",
        database=database,
        pipeline=pipeline,
        version=__version__ if context.settings.health_version else None,
        stages={} if supervisor is None else supervisor.stages(),
        failing_analyzers=failing,
    )
