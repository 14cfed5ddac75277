"""What every command shares: logging set-up and the config it runs with."""

import argparse
import logging
import sys

from pydantic import ValidationError

from citywatch.config import CitywatchConfig, ConfigError, StorageSettings, load_config


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def config_of(args: argparse.Namespace) -> CitywatchConfig:
    """The config of --config (defaults without one), with --db, where the command has it, over its
    database URL (validated like the config's own)."""
    config = load_config(args.config) if getattr(args, "config", None) else CitywatchConfig()
    if getattr(args, "db", None):
        try:
            storage = StorageSettings.model_validate(config.storage.model_dump() | {"database_url": args.db})
        except ValidationError as exc:
            raise ConfigError(f"--db: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
        config = config.model_copy(update={"storage": storage})
    return config


def database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="cameras.yaml (its storage settings)")
    parser.add_argument("--db", help="database URL (default: the config's, else sqlite:///citywatch.db)")
