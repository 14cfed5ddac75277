"""`citywatch serve`: the REST API and the dashboard, with the pipeline unless --no-pipeline."""

import argparse
import sys
from pathlib import Path

from citywatch.cli.common import config_of, database_options, setup_logging


def cmd_serve(args: argparse.Namespace) -> int:
    from citywatch.app import serve

    config = config_of(args)
    setup_logging(args.log_level or config.log_level)
    pipeline = not args.no_pipeline
    if pipeline and not config.cameras:
        print(
            "citywatch: serve needs --config with cameras (or --no-pipeline for the API alone)",
            file=sys.stderr,
        )
        return 2
    config_path = Path(args.config) if args.config else None
    return serve(config, args.host or config.api.host, args.port or config.api.port, pipeline, config_path)


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="the REST API, with the pipeline unless --no-pipeline")
    database_options(serve)
    serve.add_argument("--host", help="listen address (default: api.host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: api.port, 8080)")
    serve.add_argument("--no-pipeline", action="store_true", help="serve the API alone (no cameras needed)")
    serve.set_defaults(func=cmd_serve)
