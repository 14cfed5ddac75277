"""COCO detection + tracking, citywatch against the peer, side by side (issue 17, docs/BENCHMARKS.md).

The peer is what a user would write in ten lines: Ultralytics `YOLO(model).track(clip, vid_stride=N)`
on the same int8 ONNX COCO model of the pack. citywatch is `citywatch detect CLIP --types accident`
(the COCO pass, ByteTrack and the accident rules) at the clip's rate divided by N, so both analyse
the same frames. Each run is a whole process (imports, model load, decode, inference, tracking);
its CPU seconds come from the kernel's resource usage of the finished child. The tools alternate
run by run, so load on a shared machine falls on both alike.

Ultralytics is AGPL-3.0: it runs only in its own venv (.venv-train, `pip install -e ".[train-yolo]"`),
as a subprocess; citywatch never imports it.

    .venv/bin/python benchmarks/peer_compare.py [--runs 3] [--stride 2] [CLIP ...]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from citywatch.paths import REPO_ROOT, datasets_dir
from citywatch.perception.model_pack import ModelPack

COCO_MODEL = "coco-yolov8n-int8-640"
PEER_PYTHON = REPO_ROOT / ".venv-train" / "bin" / "python"
CITYWATCH = Path(sys.executable).with_name("citywatch")
DEFAULT_CLIPS = ("streets/car-detection.mp4",)
TARGET_RATIO = 0.5

# The peer's whole program; prints how many frames it analysed. conf and iou are citywatch's
# (YoloDetector), so both keep the same boxes to NMS and track.
PEER_PROGRAM = """
import sys
from ultralytics import YOLO
model, clip, stride = sys.argv[1], sys.argv[2], int(sys.argv[3])
frames = 0
for _ in YOLO(model, task="detect").track(
    clip, vid_stride=stride, stream=True, verbose=False, conf=0.25, iou=0.45, tracker="bytetrack.yaml"
):
    frames += 1
print(frames)
"""


@dataclass
class Run:
    tool: str
    clip: str
    cpu_s: float
    frames: int

    @property
    def cpu_ms_per_frame(self) -> float:
        return 1000 * self.cpu_s / self.frames if self.frames else float("nan")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(tool: str, clip: Path, command: list[str], frames_of) -> Run:
    """One whole process; its CPU time is what RUSAGE_CHILDREN gained when it was reaped."""
    before = _children_cpu_s()
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"YOLO_OFFLINE": "1"})
    cpu_s = _children_cpu_s() - before
    if done.returncode != 0:
        raise SystemExit(f"{tool} failed on {clip}:\n{done.stderr[-3000:]}")
    return Run(tool, clip.name, cpu_s, frames_of(done.stdout))


def run_peer(model: Path, clip: Path, stride: int) -> Run:
    command = [str(PEER_PYTHON), "-c", PEER_PROGRAM, str(model), str(clip), str(stride)]
    return _run("peer", clip, command, lambda out: int(out.split()[-1]))


def run_citywatch(clip: Path, fps: float) -> Run:
    command = [str(CITYWATCH), "detect", str(clip), "--types", "accident", "--fps", f"{fps:.4f}", "--json"]
    return _run("citywatch", clip, command, lambda out: len(json.loads(out)["frames"]))


def clip_fps(clip: Path) -> float:
    with av.open(str(clip)) as container:
        return float(container.streams.video[0].average_rate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "clips", nargs="*", help=f"videos (default: {', '.join(DEFAULT_CLIPS)} in the datasets)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool per clip")
    parser.add_argument("--stride", type=int, default=2, help="the peer's vid_stride")
    parser.add_argument("--out", help="also write every run as JSON here")
    args = parser.parse_args()
    if not PEER_PYTHON.exists():
        raise SystemExit(
            f"{PEER_PYTHON} missing: python3 -m venv .venv-train && "
            '.venv-train/bin/pip install -e ".[train-yolo]"'
        )
    model = ModelPack.open(None).verified_path(COCO_MODEL)
    clips = [Path(c) for c in args.clips] or [datasets_dir() / c for c in DEFAULT_CLIPS]
    print(
        f"machine: {os.cpu_count()} CPUs, load average at start {os.getloadavg()}; model {model.name}",
        flush=True,
    )
    runs: list[Run] = []
    for clip in clips:
        fps = clip_fps(clip) / args.stride
        for _ in range(args.runs):
            for run in (run_peer(model, clip, args.stride), run_citywatch(clip, fps)):
                runs.append(run)
                print(f"  {run.tool:9} {run.clip}: {run.cpu_s:6.1f} CPU s, {run.frames} frames", flush=True)
    print(f"load average at end {os.getloadavg()}\n")
    print(
        "| clip | analysed frames (peer / citywatch) | peer CPU ms/frame | citywatch CPU ms/frame | ratio |"
    )
    print("|---|---|---|---|---|")
    ratios = []
    for clip in clips:
        mine = [r for r in runs if r.clip == clip.name]
        peer = [r for r in mine if r.tool == "peer"]
        ours = [r for r in mine if r.tool == "citywatch"]
        peer_ms = statistics.median(r.cpu_ms_per_frame for r in peer)
        ours_ms = statistics.median(r.cpu_ms_per_frame for r in ours)
        ratios.append(ours_ms / peer_ms)
        print(
            f"| {clip.name} | {peer[0].frames} / {ours[0].frames} | {peer_ms:.0f} | {ours_ms:.0f} "
            f"| {ratios[-1]:.2f}x |"
        )
    worst = max(ratios)
    verdict = "meets" if worst <= TARGET_RATIO else "misses"
    print(
        f"\ncitywatch CPU per analysed frame / peer's (medians of {args.runs} runs): worst clip "
        f"{worst:.2f}x, {verdict} the target {TARGET_RATIO}x"
    )
    if args.out:
        Path(args.out).write_text(
            json.dumps([asdict(r) | {"cpu_ms_per_frame": r.cpu_ms_per_frame} for r in runs], indent=2)
        )
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
