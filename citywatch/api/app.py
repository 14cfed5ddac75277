"""The FastAPI app: every router under /api, Prometheus at /metrics, errors that never leak.

Errors: a validation error lists where and what (never the value sent, which may be a password);
a database outage is a 503; anything unexpected is a bare 500 with the details only in the log.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from citywatch import __version__
from citywatch.api.auth import Viewer
from citywatch.api.context import ApiContext
from citywatch.api.metrics import metrics_registry, render
from citywatch.api.routers import (
    audit,
    auth,
    cameras,
    evidence,
    health,
    incidents,
    live,
    notifications,
    shared,
    stats,
    users,
)
from citywatch.incidents.store import StoreError

log = logging.getLogger(__name__)

ROUTERS = (auth, cameras, incidents, evidence, stats, users, audit, notifications, shared, health, live)
"""Mounted under /api, in this order."""


def create_app(context: ApiContext) -> FastAPI:
    """The app over `context`; its lifespan starts and stops the camera monitor and either the
    pipeline (`context.supervisor`) or the store feed of the live hub (`context.feed`)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        context.monitor.start()
        if context.feed is not None:
            context.feed.start()
        supervisor = context.supervisor
        if supervisor is not None:
            supervisor.state_listeners.append(context.monitor)
            supervisor.start()
        try:
            yield
        finally:
            if supervisor is not None:
                supervisor.stop()
            if context.feed is not None:
                context.feed.stop()
            context.monitor.stop()
            context.store.dispose()

    app = FastAPI(
        title="citywatch",
        version=__version__,
        description="Incidents, evidence and cameras of a citywatch installation.",
        lifespan=lifespan,
    )
    app.state.context = context
    api = APIRouter(prefix="/api")
    for module in ROUTERS:
        api.include_router(module.router)
    app.include_router(api)
    registry = metrics_registry(context)

    @app.get("/metrics", tags=["metrics"], response_class=Response)
    def metrics(principal: Viewer) -> Response:
        """Prometheus text format; scrape with an API token (viewer role)."""
        body, content_type = render(registry)
        return Response(body, media_type=content_type)

    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreError, _store_error)
    return app


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": "the database is unavailable; try again"}, status_code=503)
