"""The composition root: `citywatch serve` builds the pipeline (unless told otherwise), the API and
the dashboard mounted on it, and serves them. It is the one module that knows both the API and the
UI, so neither has to know the other (the import contracts in pyproject.toml)."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

import uvicorn

from citywatch.api.app import create_app
from citywatch.config import CitywatchConfig
from citywatch.services.context import AppContext
from citywatch.storage.store import IncidentStore
from citywatch.ui.app import mount_ui

log = logging.getLogger(__name__)


def serve(
    config: CitywatchConfig, host: str, port: int, pipeline: bool, config_path: Path | None = None
) -> int:
    """Migrate the database, then serve until SIGINT/SIGTERM; the app's lifespan starts the
    pipeline after the server is up and stops it cleanly (open clips finished) before exiting.

    The operator dashboard is mounted at / (its camera and zone editors write `config_path`, when
    given; what they save is applied to the running pipeline, as to the pages, without a restart).
    Returns the exit status: 0 after a clean stop, 3 (uvicorn's) when the server could not start,
    1 when the pipeline's watchdog stopped it (a thread died).
    """
    store = IncidentStore(config.storage.database_url, group_window_s=config.incidents.group_window_s)
    store.upgrade()
    supervisor = None
    if pipeline:
        from citywatch.runtime.supervisor import Supervisor  # loads the model pack: only when it runs

        supervisor = Supervisor(config)
    context = AppContext.build(config, store, supervisor, config_path=config_path)
    if supervisor is not None and context.config_file is not None:
        apply = supervisor.apply  # the cameras saved by the dashboard run from now on
        context.config_file.listen(lambda saved: apply(saved.cameras).pending.keys())
    app = create_app(context)
    mount_ui(app, context, config.ui)
    trusted = config.api.trusted_proxies
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=bool(trusted),  # uvicorn believes 127.0.0.1's X-Forwarded-For unless told not to
            forwarded_allow_ips=trusted or None,
        )
    )

    if supervisor is not None:  # a pipeline thread that died stops the server too, exit status 1
        supervisor.on_fatal.append(lambda _reason: setattr(server, "should_exit", True))

    def stopped_by(signum: int, _frame: FrameType | None) -> None:
        """uvicorn takes SIGINT/SIGTERM while it serves and raises the signal again once it has shut
        down cleanly: taken here then, so a clean stop exits 0 rather than being killed by it."""
        if not server.should_exit:  # before uvicorn took over: stop at once, as the signal would
            raise SystemExit(128 + signum)
        log.info("stopped by %s", signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stopped_by)
    log.info(
        "serving the API on http://%s:%d/api (%s)",
        host,
        port,
        "with the pipeline" if pipeline else "no pipeline",
    )
    server.run()
    if supervisor is not None and supervisor.fatal is not None:
        log.critical("%s: exiting with status 1", supervisor.fatal)
        return 1
    return 0 if server.started else 3
