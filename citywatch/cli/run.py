"""`citywatch run`: watch the cameras of a config and store incidents, without the API."""

import argparse
import signal
import sys

from citywatch.cli.common import config_of, setup_logging


def cmd_run(args: argparse.Namespace) -> int:
    from citywatch.runtime.supervisor import Supervisor
    from citywatch.services.camera_monitor import CameraMonitor

    config = config_of(args)
    setup_logging(args.log_level or config.log_level)
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


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = sub.add_parser("run", help="watch the cameras of a config and store incidents")
    run.add_argument("--config", required=True, help="cameras.yaml")
    run.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    run.set_defaults(func=cmd_run)
