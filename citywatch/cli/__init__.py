"""The `citywatch` command: one module of this package per command group, each adding its commands
to the parser with `add_commands`.

`run | serve | detect | models verify | incidents list | bench | eval | eval-curve | eval-data build
| db upgrade | users add | users list | retention run`
"""

import argparse
import sys

from citywatch import __version__
from citywatch.cli import bench, database, detect, evaluation, incidents, models, run, serve, users
from citywatch.config import ConfigError

COMMAND_GROUPS = (run, serve, detect, models, incidents, bench, evaluation, database, users)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citywatch", description=__doc__)
    parser.add_argument("--version", action="version", version=f"citywatch {__version__}")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"citywatch: config error:\n{exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a clear one-line error for known failures, a traceback for bugs
        from citywatch.cli.errors import USER_ERRORS

        if isinstance(exc, USER_ERRORS):
            print(f"citywatch: {exc}", file=sys.stderr)
            return 2
        raise
