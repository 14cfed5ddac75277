"""Serving the picture under the camera map (`ui.map_image`: a city map or a floor plan from the
config's folder) to logged-in users only: a floor plan of a station is not for everyone who can
reach the server, as the dashboard's own scripts and styles are."""

from __future__ import annotations

import functools
from pathlib import Path

from nicegui import app
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from citywatch.ui.session import session_of


@functools.cache
def map_image_url(path: Path) -> str:
    """The URL of the picture at `path`, routed the first time a page asks for it (once a process:
    the config names one picture, known only once the dashboard is mounted)."""
    url = f"/ui/map-image{path.suffix.lower()}"

    @app.get(url, include_in_schema=False)
    def picture(request: Request) -> Response:
        if session_of(request) is None:
            return Response(status_code=401)
        return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})

    return url
