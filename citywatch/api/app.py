"""The FastAPI app: every router under /api, Prometheus at /metrics, errors that never leak.

Errors: a validation error lists where and what (never the value sent, which may be a password);
a database outage is a 503; anything unexpected is a bare 500 with the details only in the log.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from citywatch import __version__
from citywatch.api.auth import Viewer
from citywatch.api.metrics import metrics_registry, render
from citywatch.api.routers import (
    audit,
    auth,
    cameras,
    evidence,
    frames,
    health,
    incidents,
    live,
    notifications,
    shared,
    stats,
    users,
)
from citywatch.services.context import AppContext
from citywatch.services.permissions import SESSION_COOKIE
from citywatch.storage.store import StoreError

log = logging.getLogger(__name__)

ROUTERS = (auth, cameras, incidents, evidence, stats, users, audit, notifications, shared, health, live)
"""Mounted under /api, in this order."""


def create_app(context: AppContext) -> FastAPI:
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

    docs = context.settings.docs
    app = FastAPI(
        title="citywatch",
        version=__version__,
        description="Incidents, evidence and cameras of a citywatch installation.",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.add_middleware(SecurityHeaders)
    app.state.context = context
    api = APIRouter(prefix="/api")
    for module in ROUTERS:
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(frames.router)  # the dashboard's pictures, at /ui/...
    registry = metrics_registry(context)

    @app.get("/metrics", tags=["metrics"], response_class=Response)
    def metrics(caller: Viewer) -> Response:
        """Prometheus text format; scrape with an API token (viewer role)."""
        body, content_type = render(registry)
        return Response(body, media_type=content_type)

    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreError, _store_error)
    return app


class SecurityHeaders(BaseHTTPMiddleware):
    """Headers every answer carries, and the cross-site request check.

    A state-changing request (POST, PUT, PATCH, DELETE) that authenticates with the session cookie
    must come from this site: its Origin (or, without one, its Referer) names this host, else 403.
    SameSite=Strict already keeps the cookie off other sites' requests in today's browsers; this
    holds where it does not. Bearer tokens are not sent by browsers on their own and need no check."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        cookie_only = SESSION_COOKIE in request.cookies and "authorization" not in request.headers
        if request.method not in _SAFE_METHODS and cookie_only and not _same_origin(request):
            return JSONResponse({"detail": "cross-site request refused"}, status_code=403)
        response = await call_next(request)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HEADERS = {
    # NiceGUI's pages need inline scripts and Vue's runtime template compiler ('unsafe-eval'); no
    # script, style or frame comes from anywhere else. Map tiles (ui.tile_url) are images.
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:; media-src 'self' blob:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return False
    parts = urlsplit(source)
    return parts.scheme in ("http", "https") and parts.netloc == request.headers.get("host", "")


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": "the database is unavailable; try again"}, status_code=503)
