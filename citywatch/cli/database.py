"""`citywatch db upgrade | retention run`: keeping the database and the evidence in shape."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

from citywatch.cli.common import config_of, database_options
from citywatch.config import CitywatchConfig

if TYPE_CHECKING:
    from citywatch.storage.store import IncidentStore


def open_store(config: CitywatchConfig) -> IncidentStore:
    """The config's store, migrated to the newest schema."""
    from citywatch.storage.store import IncidentStore

    store = IncidentStore(config.storage.database_url, group_window_s=config.incidents.group_window_s)
    store.upgrade()
    return store


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    config = config_of(args)
    store = open_store(config)
    url = store.engine.url.render_as_string(hide_password=True)
    store.dispose()
    print(f"database {url} is at the newest schema")
    return 0


def cmd_retention_run(args: argparse.Namespace) -> int:
    from citywatch.storage.retention import apply_retention

    config = config_of(args)
    store = open_store(config)
    storage = config.storage
    report = apply_retention(
        store, storage.evidence_dir, storage.retention_days, int(storage.retention_max_gb * 1024**3)
    )
    store.dispose()
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        print(
            f"evidence of {report.incidents_cleared} incidents deleted: {report.files_deleted} files, "
            f"{report.bytes_freed / 1e6:.1f} MB freed, {report.bytes_kept / 1e6:.1f} MB kept; "
            f"{report.locked_skipped} locked incidents kept; incident rows are never deleted"
        )
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
    return 1 if report.errors else 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = sub.add_parser("db", help="the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="run the migrations up to the newest schema")
    database_options(upgrade)
    upgrade.set_defaults(func=cmd_db_upgrade)

    retention = sub.add_parser("retention", help="evidence retention")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    run = retention_sub.add_parser("run", help="delete old evidence by age and total size; print the report")
    database_options(run)
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.set_defaults(func=cmd_retention_run)
