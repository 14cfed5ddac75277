"""Long-run soak: N RTSP cameras through the whole pipeline, one of them dropped and brought back
every few minutes; RSS, threads, open files and incidents over time.

    .venv/bin/python benchmarks/soak.py --hours 2 --cameras 4 [--drop-every-min 5 --down-s 30]

Each camera is its own RTSP server (tests/support/rtsp_server.py, Debian's GStreamer) serving one
of the bench clips; at the clip's end the stream ends and citywatch reconnects, which starts it
again (so the clips loop, each end a short outage of its own). Every --drop-every-min minutes the
next camera's server is killed, kept down --down-s seconds and started again; citywatch must find
it back on its own (no restart).
Samples every 30 s. The pass criteria (issue 15): every drop recovered; RSS growth under --max-mb
after the first 10 minutes, judged as the mean of the last 30 minutes against the mean of the
first 30 (`rss_growth`); threads and open files flat (no more in the second half of the run than
in the first). A drop the end of the run cuts short is not judged. Exits 1 when one fails.
"""

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from itertools import cycle
from pathlib import Path

import psutil

from citywatch.config import parse_config
from citywatch.paths import datasets_dir
from citywatch.runtime.supervisor import Supervisor
from citywatch.video.state import CameraState

CLIPS = [
    datasets_dir() / "streets" / "car-detection.mp4",
    datasets_dir() / "fire_smoke" / "videos" / "furg_house6.mp4",
    datasets_dir() / "streets" / "one-by-one-person-detection.mp4",
    datasets_dir() / "fight" / "clips" / "fi009.mp4",
]
RTSP_SERVER = Path(__file__).resolve().parent.parent / "tests" / "support" / "rtsp_server.py"
WARM_UP_S = 600


class Server:
    """One RTSP server process on a fixed port, restartable."""

    def __init__(self, video: Path, port: int) -> None:
        self.video, self.port = video, port
        self.url = f"rtsp://127.0.0.1:{port}/cam"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["/usr/bin/python3", str(RTSP_SERVER), str(self.video), str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hours", type=float, default=2)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--drop-every-min", type=float, default=5)
    parser.add_argument("--down-s", type=float, default=30)
    parser.add_argument("--max-mb", type=float, default=50)
    parser.add_argument("--types", default="fire,fall", help="comma-separated incident types on every camera")
    args = parser.parse_args()

    clips = cycle(CLIPS)
    servers = [Server(next(clips), 18554 + i) for i in range(args.cameras)]
    for server in servers:
        server.start()
    process = psutil.Process()
    samples: list[dict[str, float]] = []
    drops: list[tuple[str, float, float | None]] = []  # camera, restarted at, back at
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="citywatch-soak-") as tmp:
        config = parse_config(
            {
                "storage": {"database_url": f"sqlite:///{tmp}/soak.db", "evidence_dir": f"{tmp}/evidence"},
                "models": {"intra_op_threads": 1},
                "health": {"offline_after_s": 10, "backoff_max_s": 5},
                "cameras": [
                    {"id": f"cam{i:02d}", "url": s.url, "incident_types": args.types.split(",")}
                    for i, s in enumerate(servers)
                ],
            },
            source="soak",
        )
        supervisor = Supervisor(config)
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(30):
                stats = supervisor.stats()
                streaming = sum(c.state is CameraState.STREAMING for c in stats.cameras.values())
                samples.append(
                    {
                        "t": time.monotonic() - started,
                        "rss_mb": process.memory_info().rss / 2**20,
                        "threads": process.num_threads(),
                        "open_files": process.num_fds(),
                        "incidents": stats.sink.incidents_stored,
                        "streaming": streaming,
                    }
                )
                print("  ".join(f"{k} {v:.0f}" for k, v in samples[-1].items()), flush=True)

        def drop() -> None:
            turn = cycle(range(args.cameras))
            while not stop.wait(args.drop_every_min * 60):
                index = next(turn)
                servers[index].stop()
                if stop.wait(args.down_s):
                    return
                servers[index].start()
                camera_id, restarted = f"cam{index:02d}", time.monotonic()
                deadline = restarted + 120
                while time.monotonic() < deadline and not stop.is_set():
                    if supervisor.stats().cameras[camera_id].state is CameraState.STREAMING:
                        break
                    time.sleep(0.5)
                state = supervisor.stats().cameras[camera_id].state
                if stop.is_set() and state is not CameraState.STREAMING:
                    return  # the run ended during this outage: nothing to judge
                back = time.monotonic() if state is CameraState.STREAMING else None
                drops.append((camera_id, restarted - started, None if back is None else back - restarted))
                took = drops[-1][2]
                print(f"drop of {camera_id}: " + ("NOT back" if took is None else f"back after {took:.1f} s"))

        threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=drop, daemon=True)]
        for thread in threads:
            thread.start()
        supervisor.run(args.hours * 3600)
        stop.set()
        for thread in threads:
            thread.join(150)
    for server in servers:
        server.stop()
    return report(samples, drops, args)


def report(samples: list[dict[str, float]], drops: list[tuple[str, float, float | None]], args) -> int:
    warm = [s for s in samples if s["t"] >= min(WARM_UP_S, args.hours * 3600 / 4)]
    if len(warm) < 2:
        print("run longer to measure growth")
        return 1
    growth = rss_growth(warm)
    threads = _first_and_last_half_max(warm, "threads")
    fds = _first_and_last_half_max(warm, "open_files")
    recovered = [d for d in drops if d[2] is not None]
    print("| measure | value |\n|---|---|")
    print(
        f"| run | {args.cameras} RTSP cameras, {args.hours:g} h, a drop every {args.drop_every_min:g} min |"
    )
    first, peak, last = warm[0]["rss_mb"], max(s["rss_mb"] for s in warm), warm[-1]["rss_mb"]
    print(f"| RSS after warm-up / max / last | {first:.0f} / {peak:.0f} / {last:.0f} MB |")
    print(
        f"| RSS growth after warm-up: mean of the last window minus mean of the first | {growth:.1f} MB "
        f"(limit {args.max_mb:g}; windows of {_window_s(warm) / 60:.0f} min) |"
    )
    print(f"| RSS max minus the first sample after warm-up (noise, not judged) | {peak - first:.1f} MB |")
    print(f"| threads, most in the first / second half after warm-up | {threads[0]} / {threads[1]} |")
    print(f"| open files, most in the first / second half after warm-up | {fds[0]} / {fds[1]} |")
    slowest = max((d[2] or 0.0 for d in recovered), default=0.0)
    print(
        f"| drops recovered without a restart | {len(recovered)} of {len(drops)} (slowest {slowest:.1f} s) |"
    )
    print(f"| incidents stored | {samples[-1]['incidents']:.0f} |")
    flat = threads[1] <= threads[0] and fds[1] <= fds[0]
    return 0 if growth <= args.max_mb and len(recovered) == len(drops) and flat else 1


def rss_growth(samples: list[dict[str, float]]) -> float:
    """How much RSS grew over the run: the mean of its last window minus the mean of its first (30
    minutes each, or a quarter of a shorter run). Single samples swing by +-80 MB with what the
    ring buffers and batches hold at that moment (docs/BENCHMARKS.md), so the largest sample minus
    the first measures that swing, not a leak."""
    window = _window_s(samples)
    start, end = samples[0]["t"], samples[-1]["t"]
    first = [s["rss_mb"] for s in samples if s["t"] < start + window]
    last = [s["rss_mb"] for s in samples if s["t"] > end - window]
    return sum(last) / len(last) - sum(first) / len(first)


def _window_s(samples: list[dict[str, float]]) -> float:
    return min(30 * 60.0, (samples[-1]["t"] - samples[0]["t"]) / 4)


def _first_and_last_half_max(samples: list[dict[str, float]], key: str) -> tuple[int, int]:
    """The most of `key` in the first and in the second half of the samples: flat (nothing leaks)
    when the second is not above the first. Counts move with every reconnect (a camera's decode
    thread, a clip being written), so single samples are not compared."""
    half = len(samples) // 2
    return int(max(s[key] for s in samples[:half])), int(max(s[key] for s in samples[half:]))


if __name__ == "__main__":
    sys.exit(main())
