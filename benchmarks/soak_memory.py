"""Memory soak: N looping cameras through the whole pipeline; RSS must stay flat.

    .venv/bin/python benchmarks/soak_memory.py --cameras 4 --minutes 10

Samples the process RSS every 10 s and reports the growth after the first minute (the warm-up
that loads models, fills ring buffers and queues). Exits 1 when it grows by more than --max-mb.
"""

import argparse
import sys
import tempfile
import threading
import time
from itertools import cycle

import psutil

from citywatch.config import parse_config
from citywatch.paths import datasets_dir
from citywatch.pipeline import Supervisor

CLIPS = [
    datasets_dir() / "streets" / "car-detection.mp4",
    datasets_dir() / "fire_smoke" / "videos" / "furg_house6.mp4",
    datasets_dir() / "streets" / "one-by-one-person-detection.mp4",
    datasets_dir() / "fight" / "clips" / "fi009.mp4",
]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--max-mb", type=float, default=50)
    parser.add_argument("--types", default="fire", help="comma-separated incident types on every camera")
    args = parser.parse_args()

    clips = cycle(CLIPS)
    with tempfile.TemporaryDirectory(prefix="citywatch-soak-") as tmp:
        config = parse_config(
            {
                "storage": {"database_url": f"sqlite:///{tmp}/soak.db", "evidence_dir": f"{tmp}/evidence"},
                "models": {"intra_op_threads": 1},
                "cameras": [
                    {
                        "id": f"cam{i:02d}",
                        "url": str(next(clips)),
                        "loop": True,
                        "incident_types": args.types.split(","),
                    }
                    for i in range(args.cameras)
                ],
            },
            source="soak",
        )
        supervisor = Supervisor(config)
        process = psutil.Process()
        samples: list[tuple[float, float]] = []
        stop = threading.Event()

        def sample() -> None:
            start = time.monotonic()
            while not stop.wait(10):
                samples.append((time.monotonic() - start, process.memory_info().rss / 2**20))
                print(f"{samples[-1][0]:6.0f} s  RSS {samples[-1][1]:7.1f} MB", flush=True)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        supervisor.run(args.minutes * 60)
        stop.set()
        sampler.join()

    after_warmup = [rss for t, rss in samples if t >= 60]
    if len(after_warmup) < 2:
        print("run longer than a minute to measure growth")
        return 1
    growth = max(after_warmup) - after_warmup[0]
    analysed = sum(w.counters.frames_analysed for w in supervisor.workers.values())
    decoded = sum(w.source.stats.frames_decoded for w in supervisor.workers.values())
    print(
        f"cameras {args.cameras}, {args.minutes:g} min: RSS at 1 min {after_warmup[0]:.1f} MB, "
        f"max after {max(after_warmup):.1f} MB, last {after_warmup[-1]:.1f} MB, growth {growth:.1f} MB "
        f"(limit {args.max_mb:g}); frames decoded {decoded}, analysed {analysed}, "
        f"incidents {supervisor.sink.stats.incidents_stored}"
    )
    return 0 if growth <= args.max_mb else 1


if __name__ == "__main__":
    sys.exit(main())
