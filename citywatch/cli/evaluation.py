"""`citywatch eval | eval-curve | eval-data build`: score the pipeline on labelled data."""

import argparse
import sys
from pathlib import Path

from citywatch.cli.common import config_of, setup_logging
from citywatch.config import SENSITIVITY_LEVELS


def cmd_eval(args: argparse.Namespace) -> int:
    from citywatch.evaluation.command import EVAL_ERRORS, evaluate, evaluate_boxes

    config = config_of(args)
    if args.sensitivity:
        config = config.model_copy(update={"thresholds": config.thresholds.at_sensitivity(args.sensitivity)})
    setup_logging(args.log_level or "WARNING")
    try:
        if args.boxes:
            return evaluate_boxes(
                config, Path(args.dir), args.split, args.types, args.conf, args.out, args.role
            )
        return evaluate(config, Path(args.dir), args.types, args.workers, args.fps, args.out)
    except EVAL_ERRORS as exc:
        print(f"citywatch: {exc}", file=sys.stderr)
        return 2


def cmd_eval_curve(args: argparse.Namespace) -> int:
    from citywatch.domain.incident_types import IncidentType
    from citywatch.evaluation.curve import curve, markdown, read_items

    try:
        kind = IncidentType(args.type)
        items = read_items(Path(p) for p in args.reports)
    except (ValueError, OSError, KeyError) as exc:
        print(f"citywatch: eval-curve: {exc}", file=sys.stderr)
        return 2
    print(markdown(curve(items, kind, args.floor), kind, args.every))
    return 0


def cmd_eval_data_build(args: argparse.Namespace) -> int:
    from citywatch.evaluation.command import EVAL_ERRORS, build_dataset

    try:
        return build_dataset(args.name, Path(args.out))
    except EVAL_ERRORS as exc:
        print(f"citywatch: {exc}", file=sys.stderr)
        return 2


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    evaluation = sub.add_parser("eval", help="run the pipeline on a labelled folder and score it")
    evaluation.add_argument("dir", help="folder with labels.csv (file,label); with --boxes a YOLO dataset")
    evaluation.add_argument("--out", help="write the JSON report here")
    evaluation.add_argument(
        "--types", help="comma-separated incident types (default: those with an analyzer the labels name)"
    )
    evaluation.add_argument("--workers", type=int, default=1, help="processes, each with its own models")
    evaluation.add_argument("--fps", type=float, default=2.0, help="analysed frames per second of video")
    evaluation.add_argument("--config", help="take model settings and thresholds from this cameras.yaml")
    evaluation.add_argument(
        "--boxes", action="store_true", help="score detector boxes (precision, recall, AP@0.5 per class)"
    )
    evaluation.add_argument("--split", default="val", help="with --boxes: images/<split>, labels/<split>")
    evaluation.add_argument(
        "--role", help="with --boxes: score this detector role (e.g. weapon), not the first that matches"
    )
    evaluation.add_argument(
        "--conf", type=float, default=0.4, help="with --boxes: confidence of the precision/recall point"
    )
    evaluation.add_argument(
        "--sensitivity",
        choices=SENSITIVITY_LEVELS,
        help="score at this camera sensitivity (the type's measured operating points)",
    )
    evaluation.set_defaults(func=cmd_eval)

    eval_curve = sub.add_parser(
        "eval-curve", help="precision-recall curve and operating points of one type over eval reports"
    )
    eval_curve.add_argument("reports", nargs="+", help="JSON reports of citywatch eval --out")
    eval_curve.add_argument("--type", required=True, help="incident type, e.g. weapon")
    eval_curve.add_argument("--floor", type=float, default=0.0, help="lowest threshold on the curve")
    eval_curve.add_argument(
        "--every", type=int, default=1, help="print every n-th point (chosen ones always)"
    )
    eval_curve.set_defaults(func=cmd_eval_curve)

    eval_data = sub.add_parser("eval-data", help="evaluation folders built from ../shared/datasets")
    eval_data_sub = eval_data.add_subparsers(dest="eval_data_command", required=True)
    eval_build = eval_data_sub.add_parser("build", help="labels.csv + symlinks for one evaluation set")
    eval_build.add_argument(
        "name",
        help="fire_val, fire_tune, streets, fight, fall, helmet, helmet_idn, accident, weapon or weapon_cctv",
    )
    eval_build.add_argument("--out", required=True, help="output folder (must not exist or be empty)")
    eval_build.set_defaults(func=cmd_eval_data_build)
