"""The benchmark behind `citywatch bench`: the pipeline on real clips as N live cameras against a
naive baseline.

Both runs happen in this process on the same clips, analytics rate and models:

- citywatch: the real Supervisor; every camera is a looping file paced at its own frame rate (a
  live camera), for `seconds` of wall time. Per-stage counters come from the stages themselves.
- naive: one camera after another, every frame decoded, the detectors on every sampled frame
  (the cascade's passes, runtime.cascade.detect, without triggers), no motion gate, no batching,
  as fast as it can.

Throughput is compared as camera-seconds of video handled per CPU-second, the number that says how
many cameras one machine sustains (capacity = cores x that number, if nothing else runs).

`--synthetic` measures that capacity directly instead: the bench clips multiplied into N cameras,
N searched (doubling, then bisecting) for the largest the machine sustains, i.e. runs with nothing
dropped or shed, no detector pass skipped and p95 capture-to-analysis latency under the budget.
"""

import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from itertools import cycle
from pathlib import Path

import av
import numpy as np
import psutil

from citywatch.analytics.catalog import roles_for
from citywatch.config import CameraConfig, CitywatchConfig, EvidenceSettings, ModelSettings, StorageSettings
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.passes import DetectorPasses
from citywatch.runtime.cascade import detect
from citywatch.video.sampler import Sampler

DEFAULT_TYPES = (IncidentType.FIRE,)


def bench_clips() -> list[Path]:
    root = datasets_dir()
    return [
        root / "streets" / "car-detection.mp4",
        root / "fire_smoke" / "videos" / "furg_house6.mp4",
        root / "streets" / "one-by-one-person-detection.mp4",
        root / "fight" / "clips" / "fi009.mp4",
    ]


@dataclass
class RunResult:
    name: str
    cameras: int
    wall_s: float
    cpu_s: float
    camera_seconds: float
    frames_decoded: int
    frames_sampled: int
    frames_motion_skipped: int
    frames_analysed: int
    detector_calls: int
    frames_dropped: int
    incidents: int
    latency_p50_s: float | None
    latency_max_s: float | None
    peak_rss_mb: float
    analysis_latency_p50_s: float | None = None
    """Seconds from a frame's capture to the end of its inference, over every analysed frame."""
    latency_p95_s: float | None = None
    """The p95 of that capture-to-analysis latency."""
    analysis_latency_max_s: float | None = None
    frames_shed: dict[str, int] | None = None
    """Frames not analysed under load, by reason (superseded, late, queue_full, low_priority), all
    cameras."""
    passes_skipped: dict[str, int] | None = None
    """Frames analysed without a detector role's pass under load (models.type_priority), by role."""

    @property
    def camera_seconds_per_cpu_s(self) -> float:
        return self.camera_seconds / self.cpu_s if self.cpu_s else 0.0


class _PeakRss:
    """Samples this process's RSS twice a second on a thread."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> "_PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def _cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def _bench_config(
    cameras: int, analytics_fps: float, types: tuple[IncidentType, ...], threads: int, workdir: Path
) -> CitywatchConfig:
    clips = cycle(bench_clips())
    return CitywatchConfig(
        cameras=[
            CameraConfig(
                id=f"cam{i:02d}",
                url=str(next(clips)),
                loop=True,
                realtime=True,
                analytics_fps=analytics_fps,
                incident_types=[t.value for t in types],
            )
            for i in range(cameras)
        ],
        models=ModelSettings(intra_op_threads=threads),
        storage=StorageSettings(
            database_url=f"sqlite:///{workdir / 'bench.db'}", evidence_dir=workdir / "evidence"
        ),
        evidence=EvidenceSettings(),
    )


def run_citywatch(
    cameras: int,
    seconds: float,
    analytics_fps: float,
    types: tuple[IncidentType, ...] = DEFAULT_TYPES,
    threads: int = 0,
) -> RunResult:
    from citywatch.runtime.supervisor import Supervisor

    with tempfile.TemporaryDirectory(prefix="citywatch-bench-") as tmp:
        supervisor = Supervisor(_bench_config(cameras, analytics_fps, types, threads, Path(tmp)))
        with _PeakRss() as rss:
            cpu0, wall0 = _cpu_seconds(), time.perf_counter()
            supervisor.run(seconds)
            cpu, wall = _cpu_seconds() - cpu0, time.perf_counter() - wall0
    stats = supervisor.stats()
    per_camera, sched, latencies = stats.cameras.values(), stats.scheduler, stats.sink.latencies_s
    return RunResult(
        name="citywatch",
        cameras=cameras,
        wall_s=wall,
        cpu_s=cpu,
        camera_seconds=cameras * seconds,
        frames_decoded=sum(c.source.frames_decoded for c in per_camera),
        frames_sampled=sum(c.counters.frames_sampled for c in per_camera),
        frames_motion_skipped=sum(c.counters.frames_motion_skipped for c in per_camera),
        frames_analysed=sum(c.counters.frames_analysed for c in per_camera),
        detector_calls=sum(sched.detector_calls.values()),
        frames_dropped=sched.jobs_dropped,
        incidents=stats.sink.incidents_stored,
        latency_p50_s=statistics.median(latencies) if latencies else None,
        latency_max_s=max(latencies) if latencies else None,
        peak_rss_mb=rss.peak / 2**20,
        analysis_latency_p50_s=_quantile(sched.latencies_s, 0.5),
        latency_p95_s=_quantile(sched.latencies_s, 0.95),
        analysis_latency_max_s=max(sched.latencies_s, default=None),
        frames_shed=_totals(sched.shed),
        passes_skipped=_totals(sched.skipped_passes),
    )


def _counts(counts: dict[str, int] | None) -> str:
    if counts is None:
        return "-"
    return ", ".join(f"{key} {n}" for key, n in sorted(counts.items())) or "0"


def _quantile(values: list[float], q: float) -> float | None:
    return float(np.quantile(values, q)) if values else None


def _totals(per_camera: dict[str, dict[str, int]]) -> dict[str, int]:
    """camera -> key -> count, added up over the cameras."""
    totals: dict[str, int] = {}
    for counts in per_camera.values():
        for key, count in counts.items():
            totals[key] = totals.get(key, 0) + count
    return totals


def run_naive(
    cameras: int,
    seconds: float,
    analytics_fps: float,
    types: tuple[IncidentType, ...] = DEFAULT_TYPES,
    threads: int = 0,
) -> RunResult:
    pack = ModelPack.open(None)
    roles = sorted({r for t in types for r in roles_for(t)})
    settings = ModelSettings(intra_op_threads=threads)
    passes = DetectorPasses({role: load_detector(pack, role, settings) for role in roles})
    clips = cycle(bench_clips())
    decoded = sampled = 0
    with _PeakRss() as rss:
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        for _ in range(cameras):
            path, sampler, media_s = next(clips), Sampler(analytics_fps), 0.0
            while media_s < seconds:  # loop the clip like the live cameras do
                offset = media_s
                with av.open(str(path)) as container:
                    stream = container.streams.video[0]
                    for frame in container.decode(stream):
                        media_s = offset + float(frame.time or 0.0)
                        if media_s >= seconds:
                            break
                        image = frame.to_ndarray(format="bgr24")
                        decoded += 1
                        if sampler.due(media_s):
                            sampled += 1
                            detect(image, roles, passes)
                    media_s += 1 / float(stream.average_rate or 25)
        cpu, wall = _cpu_seconds() - cpu0, time.perf_counter() - wall0
    calls = sum(passes.counts().detector_calls.values())
    return RunResult(
        "naive",
        cameras,
        wall,
        cpu,
        cameras * seconds,
        decoded,
        sampled,
        0,
        sampled,
        calls,
        0,
        0,
        None,
        None,
        rss.peak / 2**20,
    )


def format_table(ours: RunResult, naive: RunResult) -> str:
    def row(label: str, fmt, key) -> str:
        return f"| {label} | {fmt(key(ours))} | {fmt(key(naive))} |"

    def num(v: float) -> str:
        return f"{v:,.1f}"

    def per_s(r: RunResult, v: float) -> float:
        return v / r.wall_s if r.wall_s else 0.0

    def opt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    ratio = (
        ours.camera_seconds_per_cpu_s / naive.camera_seconds_per_cpu_s
        if naive.camera_seconds_per_cpu_s
        else 0
    )
    cores = psutil.cpu_count() or 1
    lines = [
        "| measure | citywatch | naive baseline |",
        "|---|---|---|",
        row("cameras", str, lambda r: r.cameras),
        row("video per camera (s)", num, lambda r: r.camera_seconds / r.cameras),
        row("wall time (s)", num, lambda r: r.wall_s),
        row("CPU time (s)", num, lambda r: r.cpu_s),
        row("CPU % (of one core)", num, lambda r: 100 * r.cpu_s / r.wall_s),
        row("frames decoded/s", num, lambda r: per_s(r, r.frames_decoded)),
        row("frames sampled/s", num, lambda r: per_s(r, r.frames_sampled)),
        row("frames skipped by motion gate", str, lambda r: r.frames_motion_skipped),
        row("frames analysed/s", num, lambda r: per_s(r, r.frames_analysed)),
        row("detector calls/s", num, lambda r: per_s(r, r.detector_calls)),
        row("frames dropped or shed", str, lambda r: r.frames_dropped),
        row("frames shed by reason", _counts, lambda r: r.frames_shed),
        row("detector passes skipped by role (priority)", _counts, lambda r: r.passes_skipped),
        row("latency capture to analysis p50 (s)", opt, lambda r: r.analysis_latency_p50_s),
        row("latency capture to analysis p95 (s)", opt, lambda r: r.latency_p95_s),
        row("latency capture to analysis max (s)", opt, lambda r: r.analysis_latency_max_s),
        row("incidents stored", str, lambda r: r.incidents),
        row("latency frame to stored incident p50 (s)", opt, lambda r: r.latency_p50_s),
        row("latency frame to stored incident max (s)", opt, lambda r: r.latency_max_s),
        row("peak RSS (MB)", num, lambda r: r.peak_rss_mb),
        row("camera-seconds per CPU-second", lambda v: f"{v:.2f}", lambda r: r.camera_seconds_per_cpu_s),
        row(f"cameras sustainable on {cores} cores", num, lambda r: cores * r.camera_seconds_per_cpu_s),
        "",
        f"throughput ratio citywatch / naive (camera-seconds per CPU-second): **{ratio:.2f}x**",
    ]
    return "\n".join(lines)


def run_bench(
    cameras: int,
    seconds: float,
    analytics_fps: float,
    out: str | None,
    types: tuple[IncidentType, ...] = DEFAULT_TYPES,
    threads: int = 0,
) -> int:
    print(
        f"citywatch bench: {cameras} cameras x {seconds:.0f} s at {analytics_fps} fps analytics, "
        f"types {', '.join(types)}, ONNX Runtime threads per model {threads or 'auto'}; "
        f"machine: {os.cpu_count()} CPUs",
        flush=True,
    )
    ours = run_citywatch(cameras, seconds, analytics_fps, types, threads)
    naive = run_naive(cameras, seconds, analytics_fps, types, threads)
    print(format_table(ours, naive))
    if out:
        Path(out).write_text(json.dumps({"citywatch": asdict(ours), "naive": asdict(naive)}, indent=2))
    return 0


SUSTAINED_P95_S = 2.0
"""The p95 capture-to-analysis latency a sustained run stays under (issue 17)."""


def sustained(result: RunResult, p95_budget_s: float = SUSTAINED_P95_S) -> bool:
    """Whether a run kept up: every sampled frame analysed with all its passes, p95 under budget."""
    return (
        result.frames_dropped == 0
        and not any((result.frames_shed or {}).values())
        and not any((result.passes_skipped or {}).values())
        and result.frames_analysed > 0
        and result.latency_p95_s is not None
        and result.latency_p95_s < p95_budget_s
    )


def find_capacity(
    max_cameras: int, trial: Callable[[int], RunResult], p95_budget_s: float = SUSTAINED_P95_S
) -> tuple[int, list[RunResult]]:
    """The largest camera count up to `max_cameras` whose `trial` run is sustained (0 if not even
    one), and every run made: counts double from 1 until one fails, then the gap is bisected."""
    runs: dict[int, RunResult] = {}

    def ok(cameras: int) -> bool:
        runs[cameras] = trial(cameras)
        return sustained(runs[cameras], p95_budget_s)

    good, bad = 0, max_cameras + 1
    cameras = 1
    while cameras <= max_cameras:
        if not ok(cameras):
            bad = cameras
            break
        good = cameras
        cameras = min(2 * cameras, max_cameras) if cameras < max_cameras else max_cameras + 1
    while bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (middle, bad) if ok(middle) else (good, middle)
    return good, [runs[n] for n in sorted(runs)]


def format_capacity(best: int, runs: list[RunResult], p95_budget_s: float) -> str:
    def opt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    lines = [
        "| cameras | sustained | frames analysed | dropped or shed | passes skipped | p95 latency (s) "
        "| CPU % (of one core) | camera-seconds per CPU-second |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.cameras} | {'yes' if sustained(r, p95_budget_s) else 'no'} | {r.frames_analysed} "
            f"| {r.frames_dropped} "
            f"| {sum((r.passes_skipped or {}).values())} | {opt(r.latency_p95_s)} "
            f"| {100 * r.cpu_s / r.wall_s:.0f} | {r.camera_seconds_per_cpu_s:.2f} |"
        )
    lines += ["", f"largest camera count sustained (p95 < {p95_budget_s:g} s, nothing dropped): **{best}**"]
    return "\n".join(lines)


def run_capacity_search(
    max_cameras: int,
    seconds: float,
    analytics_fps: float,
    out: str | None,
    types: tuple[IncidentType, ...] = DEFAULT_TYPES,
    threads: int = 0,
    p95_budget_s: float = SUSTAINED_P95_S,
) -> int:
    print(
        f"citywatch bench --synthetic: up to {max_cameras} cameras (the bench clips repeated) x "
        f"{seconds:.0f} s at {analytics_fps} fps analytics, types {', '.join(types)}; machine: "
        f"{os.cpu_count()} CPUs, load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}",
        flush=True,
    )

    def trial(cameras: int) -> RunResult:
        result = run_citywatch(cameras, seconds, analytics_fps, types, threads)
        print(
            f"  {cameras} cameras: p95 {result.latency_p95_s} s, dropped {result.frames_dropped}", flush=True
        )
        return result

    best, runs = find_capacity(max_cameras, trial, p95_budget_s)
    print(format_capacity(best, runs, p95_budget_s))
    if out:
        Path(out).write_text(json.dumps({"sustained": best, "runs": [asdict(r) for r in runs]}, indent=2))
    return 0
