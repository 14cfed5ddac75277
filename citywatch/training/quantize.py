"""Static int8 quantization of our detectors, and whether it pays (issue 17, item 3; docs/BENCHMARKS.md).

Each YOLO detector of citywatch/models is quantized by ONNX Runtime (QDQ format, int8 weights per
channel, uint8 activations) with activation ranges calibrated on training frames of its own
training split (the one its training module builds, so no held-out frame), letterboxed exactly as
YoloDetector feeds them. Then the float and the int8 model are
timed back to back on the same frames, alternating, twice: CPU milliseconds per frame of one ONNX
Runtime thread (CPU time, not wall time, so a loaded machine slows both alike). A quantized model
replaces the shipped one only where it is faster and its held-out AP is no worse (the training
module's own `measure`), which is a decision for a person: this writes the models and the numbers.

    .venv/bin/python -m citywatch.training.quantize --out /tmp/quantized [--models weapon-yolov8n-640]
"""

import argparse
import importlib
import json
import random
import resource
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from citywatch.paths import BUNDLED_MODELS_DIR
from citywatch.perception.yolo import letterbox
from citywatch.training.yolo_finetune import FinetuneJob

# Model -> its training module (citywatch.training.<module>.JOB: the data it builds, its `measure`).
TRAINING_MODULES = {
    "weapon-yolov8n-640": "weapon",
    "rider-heads-yolov8n-640": "rider_heads",
    "fall-yolov8n-416": "fall_detector",
}
AP_CONF = 0.4
"""The precision/recall point of the training modules' reports (yolo_finetune --conf)."""
CALIBRATION_FRAMES = 64
TIMED_FRAMES = 16


def input_size(path: Path) -> tuple[int, int]:
    _, _, height, width = onnxruntime.InferenceSession(str(path)).get_inputs()[0].shape
    return int(height), int(width)


def training_split(job: FinetuneJob, workdir: Path) -> Path:
    """The images/train folder of the dataset the model's training module builds (its defaults)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)  # yolo_finetune's own, which some builders read
    job.add_arguments(parser)
    data_yaml, _ = job.build_data(workdir / "data", parser.parse_args([]))
    return data_yaml.parent / "images" / "train"


def _measure_dir(workdir: Path, name: str) -> Path:
    """A work folder of one model's `measure`, which finds the built dataset at its `data`."""
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "data").exists():
        (folder / "data").symlink_to((workdir / "data").resolve())
    return folder


def calibration_blobs(folder: Path, size: tuple[int, int], count: int, seed: int) -> list[np.ndarray]:
    """`count` frames drawn from `folder`, as the model's input tensors."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    chosen = random.Random(seed).sample(paths, min(count, len(paths)))
    blobs = []
    for path in chosen:
        canvas, _ = letterbox(cv2.imread(str(path), cv2.IMREAD_COLOR), size)
        blobs.append(cv2.dnn.blobFromImage(canvas, scalefactor=1 / 255.0, swapRB=True))
    return blobs


class _Frames(CalibrationDataReader):
    def __init__(self, input_name: str, blobs: list[np.ndarray]) -> None:
        self._feeds: Iterator[dict[str, np.ndarray]] = iter([{input_name: b} for b in blobs])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def box_decode_nodes(model: Path) -> list[str]:
    """The nodes of an Ultralytics export's Detect layer that turn its convolutions' outputs into
    boxes and scores (DFL, anchors, sigmoid, the final concat), named by the last node's layer prefix
    ("/model.22/"), its box and class branches (cv2, cv3) left out.

    They stay float: their output puts box coordinates (0-640 px) and scores (0-1) in one tensor,
    and one 8-bit scale over both rounds every score to 0 (measured: AP 0.70 -> 0.00 on gun).
    """
    nodes = onnx.load(str(model)).graph.node
    layer = "/".join(nodes[-1].name.split("/")[:2]) + "/"
    return [
        n.name for n in nodes if n.name.startswith(layer) and "/cv2." not in n.name and "/cv3." not in n.name
    ]


CALIBRATIONS = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile}


def quantize(model: Path, blobs: list[np.ndarray], out: Path, calibration: str = "minmax") -> Path:
    """`model` statically quantized to `out` (QDQ, per-channel int8 weights, activation ranges by
    `calibration`: MinMax, or the 99.999th percentile), its box decoding left float."""
    out.parent.mkdir(parents=True, exist_ok=True)
    prepared = out.with_suffix(".prep.onnx")
    quant_pre_process(str(model), str(prepared), skip_symbolic_shape=True)
    input_name = onnxruntime.InferenceSession(str(model)).get_inputs()[0].name
    quantize_static(
        str(prepared),
        str(out),
        _Frames(input_name, blobs),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CALIBRATIONS[calibration],
        nodes_to_exclude=box_decode_nodes(model),
        extra_options={"CalibPercentile": 99.999},
    )
    prepared.unlink()
    return out


def cpu_ms_per_frame(path: Path, blobs: list[np.ndarray], providers: list[str] | None = None) -> float:
    """CPU milliseconds per run of one ONNX Runtime thread over `blobs`, after a warm-up run."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(path), options, providers=providers or ["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    session.run(None, {name: blobs[0]})
    before = resource.getrusage(resource.RUSAGE_SELF)
    for blob in blobs:
        session.run(None, {name: blob})
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return 1000 * cpu / len(blobs)


@dataclass
class Timing:
    model: str
    float_ms: list[float]
    int8_ms: list[float]
    float_ap: dict | None = None
    int8_ap: dict | None = None

    @property
    def speedup(self) -> float:
        return float(np.median(self.float_ms) / np.median(self.int8_ms))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the quantized models")
    parser.add_argument("--models", nargs="*", default=list(TRAINING_MODULES), help="model names")
    parser.add_argument("--accuracy", action="store_true", help="also AP on the held-out sets, both models")
    parser.add_argument("--calibration-frames", type=int, default=CALIBRATION_FRAMES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calibration", choices=sorted(CALIBRATIONS), default="minmax")
    args = parser.parse_args(argv)
    timings = []
    for name in args.models:
        job: FinetuneJob = importlib.import_module(f"citywatch.training.{TRAINING_MODULES[name]}").JOB
        workdir = args.out / f"work-{name}"
        model = BUNDLED_MODELS_DIR / f"{name}.onnx"
        size = input_size(model)
        train = training_split(job, workdir)
        blobs = calibration_blobs(train, size, args.calibration_frames, args.seed)
        quantized = quantize(model, blobs, args.out / f"{name}-int8.onnx", args.calibration)
        timed = calibration_blobs(train, size, TIMED_FRAMES, args.seed + 1)
        timing = Timing(name, [], [])
        for _ in range(2):  # alternating, twice
            timing.float_ms.append(cpu_ms_per_frame(model, timed))
            timing.int8_ms.append(cpu_ms_per_frame(quantized, timed))
        print(
            f"{name} {size[0]}x{size[1]}: float {timing.float_ms} ms, int8 {timing.int8_ms} ms CPU per frame "
            f"(one thread): {timing.speedup:.2f}x",
            flush=True,
        )
        if args.accuracy:
            timing.float_ap = job.measure(model, _measure_dir(workdir, "float"), AP_CONF)
            timing.int8_ap = job.measure(quantized, _measure_dir(workdir, "int8"), AP_CONF)
            print(
                f"  AP float {json.dumps(timing.float_ap)}\n  AP int8  {json.dumps(timing.int8_ap)}",
                flush=True,
            )
        timings.append(timing)
    (args.out / "timings.json").write_text(json.dumps([asdict(t) for t in timings], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
