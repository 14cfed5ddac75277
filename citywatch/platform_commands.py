"""The platform's commands: `citywatch serve | db upgrade | users add | users list | retention run`.

`add_commands` registers them on the main parser of `citywatch.cli`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

from pydantic import ValidationError

from citywatch.config import CitywatchConfig, ConfigError, StorageSettings, load_config
from citywatch.incidents.store import IncidentStore
from citywatch.incidents.users import Role, UserDirectory, UserError


def _config(args: argparse.Namespace) -> CitywatchConfig:
    """The config of --config (defaults without one), with --db over its database URL."""
    config = load_config(args.config) if args.config else CitywatchConfig()
    if getattr(args, "db", None):
        try:
            storage = StorageSettings.model_validate(config.storage.model_dump() | {"database_url": args.db})
        except ValidationError as exc:
            raise ConfigError(f"--db: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
        config = config.model_copy(update={"storage": storage})
    return config


def _store(config: CitywatchConfig) -> IncidentStore:
    store = IncidentStore(config.storage.database_url, group_window_s=config.incidents.group_window_s)
    store.upgrade()
    return store


def cmd_serve(args: argparse.Namespace) -> int:
    from citywatch.app import serve

    config = _config(args)
    logging.basicConfig(
        level=getattr(logging, args.log_level or config.log_level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    pipeline = not args.no_pipeline
    if pipeline and not config.cameras:
        print(
            "citywatch: serve needs --config with cameras (or --no-pipeline for the API alone)",
            file=sys.stderr,
        )
        return 2
    config_path = Path(args.config) if args.config else None
    return serve(config, args.host or config.api.host, args.port or config.api.port, pipeline, config_path)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    config = _config(args)
    _store(config).dispose()
    url = IncidentStore(config.storage.database_url).engine.url.render_as_string(hide_password=True)
    print(f"database {url} is at the newest schema")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    password = args.password
    if password is None:
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    store = _store(_config(args))
    try:
        user = UserDirectory(store).add_user(args.name, Role(args.role), password)
    except UserError as exc:
        print(f"citywatch: {exc}", file=sys.stderr)
        return 2
    finally:
        store.dispose()
    print(f"added user {user.name} ({user.role.value})")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    store = _store(_config(args))
    for user in UserDirectory(store).users():
        print(f"{user.name:<24} {user.role.value:<10} {'disabled' if user.disabled else 'active'}")
    store.dispose()
    return 0


def cmd_retention_run(args: argparse.Namespace) -> int:
    from citywatch.incidents.retention import apply_retention

    config = _config(args)
    store = _store(config)
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


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="cameras.yaml (its storage settings)")
    parser.add_argument("--db", help="database URL (default: the config's, else sqlite:///citywatch.db)")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="the REST API, with the pipeline unless --no-pipeline")
    _database_options(serve)
    serve.add_argument("--host", help="listen address (default: api.host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: api.port, 8080)")
    serve.add_argument("--no-pipeline", action="store_true", help="serve the API alone (no cameras needed)")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="run the migrations up to the newest schema")
    _database_options(upgrade)
    upgrade.set_defaults(func=cmd_db_upgrade)

    users = sub.add_parser("users", help="people who may use the API")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--password", help="the password (visible to other local users: prefer stdin)")
    _database_options(add)
    add.set_defaults(func=cmd_users_add)
    listing = users_sub.add_parser("list", help="users and their roles")
    _database_options(listing)
    listing.set_defaults(func=cmd_users_list)

    retention = sub.add_parser("retention", help="evidence retention")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    run = retention_sub.add_parser("run", help="delete old evidence by age and total size; print the report")
    _database_options(run)
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.set_defaults(func=cmd_retention_run)
