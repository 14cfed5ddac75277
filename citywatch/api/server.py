"""`citywatch serve`: the API, and the pipeline in the same process unless told otherwise."""

from __future__ import annotations

import logging

import uvicorn

from citywatch.api.app import create_app
from citywatch.api.context import ApiContext
from citywatch.config import CitywatchConfig
from citywatch.incidents.store import IncidentStore

log = logging.getLogger(__name__)


def serve(config: CitywatchConfig, host: str, port: int, pipeline: bool) -> None:
    """Migrate the database, then serve until SIGINT/SIGTERM; the app's lifespan starts the
    pipeline after the server is up and stops it cleanly (open clips finished) before exiting."""
    store = IncidentStore(config.storage.database_url, group_window_s=config.incidents.group_window_s)
    store.upgrade()
    supervisor = None
    if pipeline:
        from citywatch.pipeline import Supervisor  # loads the model pack: only when it runs

        supervisor = Supervisor(config)
    app = create_app(ApiContext.build(config, store, supervisor))
    log.info(
        "serving the API on http://%s:%d/api (%s)",
        host,
        port,
        "with the pipeline" if pipeline else "no pipeline",
    )
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, server_header=False)
