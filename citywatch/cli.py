"""`citywatch run | detect | models verify | incidents list | bench | eval | eval-data build`,
and (from citywatch.platform_commands) `serve | db upgrade | users | retention run`."""

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from citywatch import __version__
from citywatch.config import SENSITIVITY_LEVELS, CitywatchConfig, ConfigError, load_config
from citywatch.platform_commands import add_commands as add_platform_commands

log = logging.getLogger("citywatch")


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _load(path: str | None) -> CitywatchConfig:
    if path is None:
        return CitywatchConfig()
    return load_config(path)


def cmd_run(args: argparse.Namespace) -> int:
    from citywatch.api.camera_monitor import CameraMonitor
    from citywatch.runtime.supervisor import Supervisor

    config = _load(args.config)
    _setup_logging(args.log_level or config.log_level)
    supervisor = Supervisor(config)
    monitor = CameraMonitor(supervisor.store)  # camera states in the database, for `serve --no-pipeline`
    supervisor.state_listeners.append(monitor)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: supervisor.request_stop())
    monitor.start()
    supervisor.run(args.duration)
    monitor.stop()
    stats = supervisor.stats().sink
    print(
        f"stored {stats.incidents_stored} incidents, wrote {stats.clips_written} clips "
        f"({stats.evidence_errors} evidence errors, {stats.outbox} not stored)"
    )
    if supervisor.fatal is not None:
        print(f"citywatch: {supervisor.fatal}; stopped (restart it)", file=sys.stderr)
        return 1
    return 0 if stats.outbox == 0 else 1


def cmd_detect(args: argparse.Namespace) -> int:
    from citywatch.detect_command import detect

    config = _load(args.config)
    _setup_logging(args.log_level or "WARNING")
    return detect(config, Path(args.path), args.types, args.fps, args.json, args.out)


def cmd_models_verify(args: argparse.Namespace) -> int:
    from citywatch.perception.model_pack import ModelPack

    config = _load(args.config)
    pack = ModelPack.open(Path(args.path) if args.path else config.models.path)
    failures = 0
    for name, ok, message in pack.verify_all():
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {message}")
        failures += not ok
    return 1 if failures else 0


def cmd_incidents_list(args: argparse.Namespace) -> int:
    from citywatch.incidents.store import IncidentStore

    config = _load(args.config)
    store = IncidentStore(args.db or config.storage.database_url)
    store.upgrade()
    rows = store.list(limit=args.limit, type=args.type, camera_id=args.camera)
    store.dispose()
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2, ensure_ascii=False))
        return 0
    for row in rows:
        data = row.to_json()
        kind = data["type"] + (f"/{data['subtype']}" if data.get("subtype") else "")
        print(
            f"{data['started_at']}  {data['camera_id']:<12} {kind:<18} {data['confidence']:.2f} "
            f"{data['status']:<10} {data.get('snapshot_path') or '-'}  {data.get('clip_path') or '-'}"
        )
    if not rows:
        print("no incidents")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from citywatch.bench import run_bench

    _setup_logging(args.log_level or "WARNING")
    from citywatch.domain.incident_types import IncidentType

    types = tuple(IncidentType(t.strip()) for t in args.types.split(",") if t.strip())
    return run_bench(args.cameras, args.seconds, args.fps, args.out, types, args.threads)


def cmd_eval(args: argparse.Namespace) -> int:
    from citywatch.evaluation.command import EVAL_ERRORS, evaluate, evaluate_boxes

    config = _load(args.config)
    if args.sensitivity:
        config = config.model_copy(update={"thresholds": config.thresholds.at_sensitivity(args.sensitivity)})
    _setup_logging(args.log_level or "WARNING")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citywatch", description=__doc__)
    parser.add_argument("--version", action="version", version=f"citywatch {__version__}")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="watch the cameras of a config and store incidents")
    run.add_argument("--config", required=True, help="cameras.yaml")
    run.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    run.set_defaults(func=cmd_run)

    detect = sub.add_parser("detect", help="run the cascade on one image or video")
    detect.add_argument("path")
    detect.add_argument("--config", help="take model settings and thresholds from this cameras.yaml")
    detect.add_argument("--types", default="fire", help="comma-separated incident types (default: fire)")
    detect.add_argument("--fps", type=float, default=2.0, help="analysed frames per second of video")
    detect.add_argument("--json", action="store_true", help="print detections and incidents as JSON")
    detect.add_argument("--out", help="write the annotated image or video here")
    detect.set_defaults(func=cmd_detect)

    models = sub.add_parser("models", help="the model pack")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    verify = models_sub.add_parser("verify", help="check every model file against the manifest's sha256")
    verify.add_argument(
        "--path", help="model pack folder (default: config, $CITYWATCH_MODELS, ../shared/models)"
    )
    verify.add_argument("--config")
    verify.set_defaults(func=cmd_models_verify)

    incidents = sub.add_parser("incidents", help="stored incidents")
    incidents_sub = incidents.add_subparsers(dest="incidents_command", required=True)
    listing = incidents_sub.add_parser("list", help="newest first")
    listing.add_argument("--config")
    listing.add_argument("--db", help="database URL (default: the config's)")
    listing.add_argument("--type")
    listing.add_argument("--camera")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_incidents_list)

    bench = sub.add_parser("bench", help="throughput and latency on the real clips, against a naive baseline")
    bench.add_argument("--cameras", type=int, default=4, help="simultaneous cameras")
    bench.add_argument("--seconds", type=float, default=30, help="seconds of video per camera")
    bench.add_argument("--fps", type=float, default=2.0, help="analytics frames per second")
    bench.add_argument("--types", default="fire", help="incident types on every camera (default: fire)")
    bench.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads a model (0: default)")
    bench.add_argument("--out", help="also write the results as JSON here")
    bench.set_defaults(func=cmd_bench)

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

    add_platform_commands(sub)  # serve, db upgrade, users add|list, retention run
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"citywatch: config error:\n{exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a clear one-line error for known failures, a traceback for bugs
        from citywatch.errors import USER_ERRORS

        if isinstance(exc, USER_ERRORS):
            print(f"citywatch: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
