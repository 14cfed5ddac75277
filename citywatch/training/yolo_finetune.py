"""Fine-tuning a YOLOv8n detector from the pack's COCO model, offline, on the CPU or a GPU.

The steps every detector we train shares (the weapon detector, the fall detector): the pack's int8
COCO YOLOv8n turned back into an Ultralytics model (`coco_yolov8n_from_pack`, checked against the
ONNX model by `check_transfer`), Ultralytics kept off the network (`offline_ultralytics`, and
`NetworkGuard` refusing and counting every connection), training (`train`) and export to the ONNX
layout perception/yolo.py decodes (`export_onnx`). Needs the `[train-yolo]` extra (torch,
torchvision, ultralytics: AGPL-3.0, training time only). The dataset-specific parts live in each
model's own module (training/weapon.py, training/fall_detector.py).
"""

import argparse
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from citywatch.config import ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.geometry import box_iou
from citywatch.perception.model_pack import ModelPack, sha256_of
from citywatch.perception.runtime import create_session
from citywatch.perception.yolo import YoloDetector, letterbox
from citywatch.perception.yolo_loader import load_yolo
from citywatch.training.pack_writer import cpu_latency_ms, write_manifest_entry
from citywatch.training.yolo_train import (
    DEFAULT_LR0,
    JOB_FILE,
    START_CHECKPOINT,
    NetworkGuard,
    offline_ultralytics,
    train,
)

COCO_MODEL = "coco-yolov8n-int8-640"


CALIBRATION_IMAGES = 64


TRANSFER_FRAMES = (("car-detection.mp4", 200), ("one-by-one-person-detection.mp4", 300))
"""(street video, frame index) the transfer check compares on, with the first TRANSFER_HELMET_IMAGES
Thai street frames of helmet_th (riders, motorcycles, cars)."""


TRANSFER_HELMET_IMAGES = 4


TRANSFER_CLASSES = ("person", "car", "motorcycle", "bicycle", "bus", "truck")


def dequantized_weights(onnx_path: Path) -> dict[str, np.ndarray]:
    """The fused float weights of an ONNX Runtime dynamically quantized YOLOv8 export, by the
    PyTorch parameter names the exporter gave them (`model.0.conv.weight`, `model.0.conv.bias`...)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    weights: dict[str, np.ndarray] = {}
    for name, array in arrays.items():
        if name.endswith(".weight_quantized"):
            stem = name.removesuffix("_quantized")
            scale = arrays[f"{stem}_scale"].astype(np.float32)
            zero = arrays[f"{stem}_zero_point"].astype(np.float32)
            weights[stem] = (array.astype(np.float32) - zero) * scale
        elif name.endswith(".bias") and name.startswith("model."):
            weights[name] = array.astype(np.float32)
        elif name.endswith(".weight") and name.startswith("model.") and array.dtype == np.float32:
            weights[name] = array
    return weights


def coco_yolov8n_from_pack(calibration: list[np.ndarray], imgsz: int):
    """An Ultralytics YOLOv8n (80 classes, unfused) carrying the pack's COCO weights, with batch
    norms re-created from `calibration` images (BGR) as the module docstring explains."""
    return yolov8n_from_onnx(ModelPack.open().verified_path(COCO_MODEL), 80, calibration, imgsz)


def yolov8n_from_onnx(onnx_path: Path, classes: int, calibration: list[np.ndarray], imgsz: int):
    """An Ultralytics YOLOv8n with `classes` classes carrying the fused weights of a YOLOv8n ONNX
    export (the pack's int8 COCO model, or one of our float detectors to fine-tune further)."""
    import torch
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    fused = dequantized_weights(onnx_path)
    # The class branch's hidden width follows nc when built (max(64, nc)); our detectors keep the
    # COCO model's 80 with their own last layer, as Ultralytics fine-tunes them from the COCO start.
    hidden = int(fused["model.22.cv3.0.0.conv.weight"].shape[0])
    model = DetectionModel("yolov8n.yaml", nc=hidden, verbose=False)
    if classes != hidden:
        detect = model.model[-1]
        for branch in detect.cv3:
            branch[2] = torch.nn.Conv2d(branch[2].in_channels, classes, 1)
        detect.nc, detect.no = classes, classes + detect.reg_max * 4
        model.yaml["nc"] = classes
        model.names = {i: str(i) for i in range(classes)}
    state = model.state_dict()
    loaded: set[str] = set()
    convs = {name: module for name, module in model.named_modules() if isinstance(module, Conv)}
    with torch.no_grad():
        for name, module in convs.items():
            weight, bias = fused.pop(f"{name}.conv.weight"), fused.pop(f"{name}.conv.bias")
            module.conv.weight.copy_(torch.from_numpy(weight))
            bn = module.bn
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(bias))
            loaded.update(f"{name}.{k}" for k in ("conv.weight", "bn.weight", "bn.bias"))
            loaded.update(f"{name}.bn.{k}" for k in ("running_mean", "running_var", "num_batches_tracked"))
        for key, value in list(fused.items()):  # plain convolutions: the heads' last layers, DFL
            if key in state and tuple(state[key].shape) == value.shape:
                state[key].copy_(torch.from_numpy(value))
                loaded.add(key)
                fused.pop(key)
    missing = sorted(set(state) - loaded)
    if fused or missing:
        raise RuntimeError(
            f"{onnx_path.name} transfer: unused ONNX weights {sorted(fused)}, unset parameters {missing}"
        )
    _calibrate_batch_norms(model, convs, calibration, imgsz)
    return model


def _calibrate_batch_norms(model, convs: dict, images: list[np.ndarray], imgsz: int) -> None:
    import torch

    sums: dict[str, list] = {name: [0.0, 0.0, 0] for name in convs}

    def recorder(name: str):
        def hook(_module, _inputs, output) -> None:
            x = output.double().transpose(0, 1).reshape(output.shape[1], -1)
            sums[name][0] = sums[name][0] + x.sum(1)
            sums[name][1] = sums[name][1] + (x * x).sum(1)
            sums[name][2] += x.shape[1]

        return hook

    handles = [module.conv.register_forward_hook(recorder(name)) for name, module in convs.items()]
    model.eval()
    with torch.no_grad():
        for start in range(0, len(images), 8):
            model(_to_tensor(images[start : start + 8], imgsz))
    for handle in handles:
        handle.remove()
    with torch.no_grad():
        for name, module in convs.items():
            total, squares, count = sums[name]
            mean = total / count
            var = (squares / count - mean * mean).clamp(min=1e-8)
            bn = module.bn
            bn.running_mean.copy_(mean.float())
            bn.running_var.copy_(var.float())
            bn.weight.copy_(torch.sqrt(var + bn.eps).float())
            bn.bias.add_(mean.float())


def _to_tensor(images: list[np.ndarray], imgsz: int):
    import torch

    canvases = [letterbox(image, (imgsz, imgsz))[0][:, :, ::-1] for image in images]
    return torch.from_numpy(np.stack(canvases).transpose(0, 3, 1, 2).copy()).float() / 255.0


def transfer_frames() -> list[np.ndarray]:
    """BGR street frames: TRANSFER_FRAMES of the street videos and the first helmet_th frames."""
    import av

    frames = []
    for video, wanted in TRANSFER_FRAMES:
        with av.open(str(datasets_dir() / "streets" / video)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index == wanted:
                    frames.append(frame.to_ndarray(format="bgr24"))
                    break
    helmet = sorted((datasets_dir() / "helmet_th" / "images" / "train").glob("*.jpg"))
    frames.extend(cv2.imread(str(p), cv2.IMREAD_COLOR) for p in helmet[:TRANSFER_HELMET_IMAGES])
    return frames


def check_transfer(
    model,
    reference: YoloDetector | None = None,
    frames: list[np.ndarray] | None = None,
    classes: tuple[str, ...] = TRANSFER_CLASSES,
    min_iou: float = 0.5,
) -> dict[str, Any]:
    """The converted model against the ONNX model it was converted from (`reference`, the pack's
    COCO model by default), both through the same decoding (perception.yolo) at 640, on `frames`
    (BGR; the street frames of `transfer_frames` by default): the share of the reference's boxes of
    `classes` (conf >= 0.25) that the converted model also finds, same class, IoU >= `min_iou`. A
    failed transfer (wrong layer order, a lost scale) finds next to nothing; the int8 rounding of the
    COCO model moves a few borderline boxes."""
    import torch

    reference = reference or load_detector(ModelPack.open(), "coco", ModelSettings())
    frames = transfer_frames() if frames is None else frames
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "converted.onnx"
        model.eval()
        torch.onnx.export(
            _raw_head_copy(model),
            torch.zeros(1, 3, 640, 640),
            str(path),
            opset_version=17,
            input_names=["images"],
            output_names=["output0"],
            dynamo=False,
        )
        converted = YoloDetector(
            create_session(path, ModelSettings()), reference.class_names, name="converted"
        )
        reference_boxes = found_boxes = matched = 0
        for frame in frames:
            expected, found = reference.detect(frame), converted.detect(frame)
            expected = expected[np.isin(expected.data["class_name"], classes)]
            found_boxes += int(np.isin(found.data["class_name"], classes).sum())
            reference_boxes += len(expected)
            for box, name in zip(expected.xyxy, expected.data["class_name"], strict=True):
                same = found[found.data["class_name"] == name]
                if len(same) and float(box_iou(box, same.xyxy).max()) >= min_iou:
                    matched += 1
    result = {
        "frames": len(frames),
        "onnx_boxes": reference_boxes,
        "converted_boxes": found_boxes,
        "matched": matched,
        "recall_of_onnx_boxes": round(matched / max(reference_boxes, 1), 3),
    }
    if reference_boxes == 0 or result["recall_of_onnx_boxes"] < 0.8:
        raise RuntimeError(f"{reference.name} weight transfer failed its check: {result}")
    return result


def _raw_head_copy(model):
    """A copy of a DetectionModel whose head returns the raw [1, 4 + classes, anchors] output."""
    import copy

    from ultralytics.nn.modules import Detect

    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, Detect):
            module.export = True
            module.format = "onnx"
    return model


def calibration_images(root: Path, count: int, seed: int) -> list[np.ndarray]:
    paths = sorted((root / "images" / "train").glob("*.jpg"))
    chosen = random.Random(seed).sample(paths, min(count, len(paths)))
    return [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in chosen]


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def save_start_checkpoint(model, path: Path, names: list[str] | None = None) -> None:
    """The converted model (COCO classes unless `names` says otherwise) as an Ultralytics checkpoint
    that `YOLO(path).train` starts from."""
    import copy

    import torch

    model = copy.deepcopy(model).float()
    model.names = dict(enumerate(names or _coco_names()))
    model.args = {"imgsz": 640}
    torch.save({"model": model, "epoch": -1, "optimizer": None, "ema": None}, path)


def _coco_names() -> list[str]:
    coco = load_detector(ModelPack.open(), "coco", ModelSettings())
    return coco.class_names


def export_onnx(checkpoint: Path, imgsz: int, out: Path, height: int | None = None) -> Path:
    """The checkpoint as ONNX with input `height` x `imgsz` (square when `height` is None): a
    16:9 sub-stream letterboxed into 384 x 640 costs 0.6 of a 640 x 640 pass."""
    from ultralytics import YOLO

    shape = imgsz if height is None else [height, imgsz]
    exported = YOLO(str(checkpoint), task="detect").export(
        format="onnx", imgsz=shape, opset=17, dynamic=False, simplify=True, nms=False, half=False
    )
    shutil.copyfile(exported, out)
    return out


def single_model_pack(path: Path, folder: Path, classes: list[str]) -> ModelPack:
    """A pack in `folder` holding only `path` (linked), to load it through citywatch's own detector."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / path.name
    if link.is_symlink() or link.exists():
        link.unlink()  # a folder reused for another file of the same name (a re-export)
    link.symlink_to(path.resolve())
    entry = {
        "name": path.stem,
        "file": path.name,
        "sha256": sha256_of(path),
        "task": "detect",
        "classes": classes,
    }
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "models": [entry]}))
    return ModelPack.open(folder)


def label_file(image: Path) -> Path:
    """The YOLO label of `image` in a dataset laid out as `images/<split>/X.jpg`, `labels/<split>/X.txt`."""
    return image.parent.parent.parent / "labels" / image.parent.name / f"{image.stem}.txt"


def val_subset(dataset: Path, images: list[Path], out: Path) -> Path:
    """`images` of `dataset` as the `val` split of a YOLO folder in `out` (links and the set's
    data.yaml; `out` is emptied first), to score a detector on part of a set; returns `out`."""
    if out.exists():
        shutil.rmtree(out)
    (out / "images" / "val").mkdir(parents=True)
    (out / "labels" / "val").mkdir(parents=True)
    shutil.copyfile(dataset / "data.yaml", out / "data.yaml")
    for image in images:
        (out / "images" / "val" / image.name).symlink_to(image.resolve())
        (out / "labels" / "val" / f"{image.stem}.txt").symlink_to(label_file(image).resolve())
    return out


@contextlib.contextmanager
def workdir_for(prefix: str, keep: Path | None) -> Iterator[Path]:
    """`keep` (created) when given, else a temporary folder removed afterwards."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix=f"citywatch-{prefix}-") as folder:
        yield Path(folder)


def detector_manifest_entry(
    path: Path,
    imgsz: int,
    classes: list[str],
    *,
    command: str,
    trained_on: str,
    data_license: str,
    metrics: dict[str, Any],
    transfer: dict[str, Any],
    height: int | None = None,
) -> dict[str, Any]:
    """The manifest entry (the model card's machine-readable half) of a detector exported by
    `export_onnx` (input `height` x `imgsz`; square when `height` is None)."""
    height = height or imgsz
    anchors = sum((imgsz // s) * (height // s) for s in (8, 16, 32))
    return {
        "name": path.stem,
        "file": path.name,
        "sha256": sha256_of(path),
        "task": "detect",
        "architecture": "YOLOv8n (Ultralytics), fine-tuned from the pack's COCO YOLOv8n (dequantized "
        "int8 weights, batch norms re-created from data), exported to ONNX opset 17 without NMS",
        "trained_on": trained_on,
        "license": "code: Apache-2.0 (citywatch); weights: derived from the Ultralytics YOLOv8n COCO "
        f"weights (AGPL-3.0), so AGPL-3.0; training data {data_license}",
        "source": command,
        "input": {
            "name": "images",
            "shape": [1, 3, height, imgsz],
            "dtype": "float32",
            "layout": "NCHW",
            "color": "RGB",
            "scale": "0..1",
            "resize": "letterbox, pad value 114, centered",
        },
        "output": {
            "name": "output0",
            "shape": [1, 4 + len(classes), anchors],
            "meaning": f"per anchor: cx, cy, w, h in input pixels, then {len(classes)} class scores "
            "(already sigmoid); no NMS inside",
        },
        "classes": classes,
        "validation": metrics,
        "transfer_check": transfer,
    }


@dataclass(frozen=True)
class FinetuneJob:
    """What a detector's training module (training/weapon.py, training/fall_detector.py) supplies to
    `finetune_main`; the rest of the run is the same for every detector."""

    module: str
    """`citywatch.training.<module>`: the command line recorded in the manifest."""
    model_prefix: str
    classes: tuple[str, ...]
    default_epochs: int
    trained_on: str
    data_license: str
    build_data: Callable[[Path, argparse.Namespace], tuple[Path, dict[str, Any]]]
    """(data folder, arguments) -> (its data.yaml, facts about the data for the model card)."""
    measure: Callable[[Path, Path, float], dict[str, Any]]
    """(exported ONNX file, work folder, confidence of the precision/recall point) -> metrics."""
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None
    extra_flags: Callable[[argparse.Namespace], str] = lambda args: ""
    """The module's own flags, as they go on the recorded command line."""


def start_model(
    job: FinetuneJob, args: argparse.Namespace, calibration: list[np.ndarray]
) -> tuple[Any, dict[str, Any]]:
    """The model training starts from (`--start`) and its transfer check, which names the start."""
    if args.start == "coco":
        converted = coco_yolov8n_from_pack(calibration, args.imgsz)
        return converted, {**check_transfer(converted), "start": COCO_MODEL}
    name = f"{job.model_prefix}-{args.imgsz}"
    pack = ModelPack.open(BUNDLED_MODELS_DIR)
    path = pack.verified_path(name)
    converted = yolov8n_from_onnx(path, len(job.classes), calibration, args.imgsz)
    reference = load_yolo(pack, name, ModelSettings(), conf_threshold=0.25)
    transfer = check_transfer(converted, reference, calibration, job.classes)
    return converted, {**transfer, "start": f"{name} sha256 {sha256_of(path)}"}


def start_names(job: FinetuneJob, args: argparse.Namespace) -> list[str] | None:
    """The class names of the start checkpoint: COCO's (None) or the detector's own."""
    return None if args.start == "coco" else list(job.classes)


def finetune_main(job: FinetuneJob, description: str, argv: list[str] | None = None) -> int:
    """Parse the command line, then: offline Ultralytics, data, the pack's COCO YOLOv8n converted and
    checked, training, ONNX export, measurement, manifest entry. Exit status 1 if anything tried
    to reach the network.

    `--stage DIR` stops after the conversion and writes a folder a GPU machine trains with
    `python -m citywatch.training.yolo_train DIR --out OUT`; `--trained OUT` then takes that run's
    checkpoint through export, measurement and the manifest entry here."""
    parser = argparse.ArgumentParser(
        prog=f"python -m citywatch.training.{job.module}", description=description
    )
    parser.add_argument(
        "--out", type=Path, default=BUNDLED_MODELS_DIR, help="model pack folder to write into"
    )
    parser.add_argument("--epochs", type=int, default=job.default_epochs)
    parser.add_argument("--imgsz", type=int, default=416, help="square input size (a multiple of 32)")
    parser.add_argument(
        "--export-height",
        type=int,
        help="export with this input height (a multiple of 32, e.g. 384 for 16:9 frames at --imgsz 640); "
        "training stays square",
    )
    parser.add_argument("--freeze", type=int, default=0, help="layers kept fixed (10: the backbone)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="'cpu', or a CUDA device index")
    parser.add_argument("--lr0", type=float, default=DEFAULT_LR0, help="initial learning rate (AdamW)")
    parser.add_argument(
        "--start",
        choices=("coco", "shipped"),
        default="coco",
        help="start from the pack's COCO YOLOv8n, or from this detector as the bundled pack ships it "
        "(a further fine-tune: new data, a lower --lr0)",
    )
    parser.add_argument("--conf", type=float, default=0.4, help="operating point of precision/recall")
    parser.add_argument("--workdir", type=Path, help="keep the dataset and training runs here")
    parser.add_argument(
        "--stage", type=Path, help="write a self-contained training folder here and stop (for a GPU)"
    )
    parser.add_argument(
        "--trained",
        type=Path,
        help="folder a staged run wrote (last.pt, job.json): export and measure it, no training",
    )
    job.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.imgsz % 32 or (args.export_height or 0) % 32:
        parser.error("--imgsz and --export-height must be multiples of 32")
    if args.stage and args.trained:
        parser.error("--stage and --trained exclude each other")
    started = time.monotonic()
    staged: dict[str, Any] = {}
    with workdir_for(job.module, args.workdir) as workdir, NetworkGuard() as guard:
        offline_ultralytics(workdir)
        if args.trained:
            staged = json.loads((args.trained / JOB_FILE).read_text())
            for name in ("epochs", "imgsz", "batch", "seed", "freeze", "lr0", "start"):
                setattr(args, name, staged.get(name, getattr(args, name)))
            last, transfer, data_facts = args.trained / "last.pt", staged["transfer"], staged["data"]
            trained_on_device, training_minutes = staged["trained_on_device"], staged["training_minutes"]
        else:
            seed_everything(args.seed)
            data_yaml, data_facts = job.build_data(workdir / "data", args)
            print(f"data: {data_facts}", file=sys.stderr)
            calibration = calibration_images(workdir / "data", CALIBRATION_IMAGES, args.seed)
            converted, transfer = start_model(job, args, calibration)
            data_facts = {**data_facts, "start": transfer["start"]}
            print(f"transfer check: {transfer}", file=sys.stderr)
            if args.stage:
                stage_training(
                    args.stage,
                    workdir / "data",
                    converted,
                    start_names(job, args),
                    args,
                    transfer,
                    data_facts,
                    _command_line(job, args, "--stage STAGE"),
                )
                print(
                    f"staged in {args.stage}: python -m citywatch.training.yolo_train {args.stage} --out OUT"
                )
                return 0 if not guard.attempts else 1
            start = workdir / "start.pt"
            save_start_checkpoint(converted, start, start_names(job, args))
            last = train(
                start,
                data_yaml,
                workdir,
                args.epochs,
                args.imgsz,
                args.seed,
                args.batch,
                args.freeze,
                device=args.device,
                lr0=args.lr0,
            )
            trained_on_device, training_minutes = args.device, None
        args.out.mkdir(parents=True, exist_ok=True)
        path = export_onnx(
            last, args.imgsz, args.out / f"{job.model_prefix}-{args.imgsz}.onnx", args.export_height
        )
        metrics = {**job.measure(path, workdir, args.conf), "conf": args.conf, "data": data_facts}
        command = _command_line(job, args, "--out citywatch/models/")
        if args.trained:
            command = (
                f"{staged['stage_command']}; on the GPU machine: python -m citywatch.training.yolo_train "
                f"STAGE --out RUN --device 0 --epochs {args.epochs} --imgsz {args.imgsz} "
                f"--batch {args.batch} --seed {args.seed} --freeze {args.freeze}; back here: "
                f"python -m citywatch.training.{job.module} --out citywatch/models/ --trained RUN"
            )
        entry = detector_manifest_entry(
            path,
            args.imgsz,
            list(job.classes),
            command=command,
            trained_on=job.trained_on,
            data_license=job.data_license,
            metrics=metrics,
            transfer=transfer,
            height=args.export_height,
        )
        height = args.export_height or args.imgsz
        latency = cpu_latency_ms(path, np.zeros((1, 3, height, args.imgsz), np.float32), runs=50)
        entry["cpu_latency_ms"] = round(latency, 1)
        entry["trained_on_device"] = trained_on_device
        entry["training_minutes"] = training_minutes or round((time.monotonic() - started) / 60, 1)
        write_manifest_entry(args.out, entry)
    json.dump({k: entry[k] for k in ("file", "sha256", "validation", "cpu_latency_ms")}, sys.stdout, indent=2)
    print(f"\nnetwork connections attempted (refused): {len(guard.attempts)} {guard.attempts[:5]}")
    return 0 if not guard.attempts else 1


def _command_line(job: FinetuneJob, args: argparse.Namespace, destination: str) -> str:
    """The command that repeats this run (the training flags and the module's own)."""
    return (
        f"python -m citywatch.training.{job.module} {destination} --epochs {args.epochs} "
        f"--imgsz {args.imgsz} --freeze {args.freeze} --batch {args.batch} --seed {args.seed}"
        f"{f' --lr0 {args.lr0:g}' if args.lr0 != DEFAULT_LR0 else ''}"
        f"{f' --start {args.start}' if args.start != 'coco' else ''}"
        f"{f' --export-height {args.export_height}' if args.export_height else ''}{job.extra_flags(args)}"
    )


def stage_training(
    stage: Path,
    data: Path,
    converted: Any,
    names: list[str] | None,
    args: argparse.Namespace,
    transfer: dict[str, Any],
    data_facts: dict[str, Any],
    command: str,
) -> None:
    """A folder that `yolo_train` trains on a machine without ../shared or citywatch's dependencies:
    the start checkpoint, the training data (`stage_dataset`) and job.json."""
    if stage.exists():
        shutil.rmtree(stage)
    stage_dataset(data, stage / "data")
    save_start_checkpoint(converted, stage / START_CHECKPOINT, names)
    names_of_run = ("epochs", "imgsz", "batch", "seed", "freeze", "lr0", "start")
    job = {name: getattr(args, name) for name in names_of_run}
    facts = {"stage_command": command, "transfer": transfer, "data": data_facts}
    (stage / JOB_FILE).write_text(json.dumps({**job, **facts}, indent=2))


def stage_dataset(data: Path, out: Path) -> None:
    """The train split of the dataset in `data` as files in `out`: an image listed again (a repeat)
    is a relative link to its first copy, so repeats cost nothing to carry. The val split stays
    behind (it is measured here, on the exported model); the staged data.yaml names the train split
    as val, for Ultralytics' closing validation."""
    for folder in ("images", "labels"):
        (out / folder / "train").mkdir(parents=True)
    copies: dict[Path, Path] = {}
    for image in sorted((data / "images" / "train").glob("*.jpg")):
        target = out / "images" / "train" / image.name
        original = image.resolve()
        if original in copies:
            target.symlink_to(copies[original].name)
        else:
            shutil.copyfile(original, target)
            copies[original] = target
        label = data / "labels" / "train" / f"{image.stem}.txt"
        if label.exists():
            shutil.copyfile(label, out / "labels" / "train" / label.name)
    yaml = (data / "data.yaml").read_text().replace("val: images/val", "val: images/train")
    (out / "data.yaml").write_text(yaml)
