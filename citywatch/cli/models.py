"""`citywatch models verify`: every model file of the pack checked against its manifest."""

import argparse
from pathlib import Path

from citywatch.cli.common import config_of


def cmd_models_verify(args: argparse.Namespace) -> int:
    from citywatch.perception.model_pack import ModelPack

    pack = ModelPack.open(Path(args.path) if args.path else config_of(args).models.path)
    failures = 0
    for name, ok, message in pack.verify_all():
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {message}")
        failures += not ok
    return 1 if failures else 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    models = sub.add_parser("models", help="the model pack")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    verify = models_sub.add_parser("verify", help="check every model file against the manifest's sha256")
    verify.add_argument(
        "--path", help="model pack folder (default: config, $CITYWATCH_MODELS, ../shared/models)"
    )
    verify.add_argument("--config")
    verify.set_defaults(func=cmd_models_verify)
