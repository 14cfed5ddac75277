"""`citywatch bench`: throughput and latency on the real clips, against a naive baseline
(runtime.bench)."""

import argparse

from citywatch.cli.common import setup_logging


def cmd_bench(args: argparse.Namespace) -> int:
    from citywatch.domain.incident_types import IncidentType
    from citywatch.runtime.bench import run_bench, run_capacity_search

    setup_logging(args.log_level or "WARNING")
    types = tuple(IncidentType(t.strip()) for t in args.types.split(",") if t.strip())
    if args.synthetic:
        return run_capacity_search(
            args.cameras, args.seconds, args.fps, args.out, types, args.threads, args.p95_budget
        )
    return run_bench(args.cameras, args.seconds, args.fps, args.out, types, args.threads)


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="throughput and latency on the real clips, against a naive baseline")
    bench.add_argument(
        "--cameras", type=int, default=4, help="simultaneous cameras (with --synthetic: the most tried)"
    )
    bench.add_argument("--seconds", type=float, default=30, help="seconds of video per camera")
    bench.add_argument("--fps", type=float, default=2.0, help="analytics frames per second")
    bench.add_argument("--types", default="fire", help="incident types on every camera (default: fire)")
    bench.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads a model (0: default)")
    bench.add_argument("--out", help="also write the results as JSON here")
    bench.add_argument(
        "--synthetic",
        action="store_true",
        help="search the largest camera count (the bench clips repeated, up to --cameras) this machine "
        "sustains: nothing dropped, p95 latency under --p95-budget",
    )
    bench.add_argument("--p95-budget", type=float, default=2.0, help="seconds; with --synthetic")
    bench.set_defaults(func=cmd_bench)
