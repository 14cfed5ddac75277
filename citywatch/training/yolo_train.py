"""The Ultralytics training step of our detectors, importable with nothing but Ultralytics, PyTorch
and the standard library.

`finetune_main` (training/yolo_finetune.py) calls `train` in-process on the CPU. For a GPU machine
that has PyTorch but none of citywatch's other dependencies (no ONNX Runtime pack, no datasets),
`finetune_main --stage DIR` writes a self-contained folder (the start checkpoint, the dataset with
real files, `job.json`), and this module trains it there:

    python -m citywatch.training.yolo_train DIR --out OUT --device 0 [--imgsz 640 --epochs 60]

OUT then holds `last.pt` and `job.json` (the arguments the run really used), which
`finetune_main --trained OUT` exports, measures and writes into the pack on this machine.
"""

import argparse
import csv
import json
import os
import shutil
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

JOB_FILE = "job.json"
START_CHECKPOINT = "start.pt"
TRAIN_ARGUMENTS = ("epochs", "imgsz", "batch", "seed", "freeze")
"""The job.json keys that set the Ultralytics run (overridable on the command line)."""


class NetworkGuard:
    """Refuses every socket connection and host lookup while active (local sockets excepted) and
    records each attempt, so a run can prove it downloaded nothing."""

    LOCAL_HOSTS = frozenset({None, "", "localhost", "127.0.0.1", "::1", "0.0.0.0"})

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> "NetworkGuard":
        for name in ("connect", "connect_ex"):
            self._saved[name] = getattr(socket.socket, name)
            setattr(socket.socket, name, self._refusing_connect(self._saved[name]))
        self._saved["getaddrinfo"] = socket.getaddrinfo
        socket.getaddrinfo = self._refusing_lookup(socket.getaddrinfo)  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        socket.getaddrinfo = self._saved.pop("getaddrinfo")  # type: ignore[assignment]
        for name, original in self._saved.items():
            setattr(socket.socket, name, original)

    def _refusing_connect(self, original: Any) -> Any:
        def connect(sock: socket.socket, address: Any, *args: Any) -> Any:
            if sock.family == socket.AF_UNIX:
                return original(sock, address, *args)
            self.attempts.append(f"connect {address!r} from {_caller()}")
            raise OSError(f"citywatch.training: network access refused ({address!r})")

        return connect

    def _refusing_lookup(self, original: Any) -> Any:
        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host in self.LOCAL_HOSTS:
                return original(host, *args, **kwargs)
            self.attempts.append(f"lookup {host!r} from {_caller()}")
            raise socket.gaierror(f"citywatch.training: network access refused ({host!r})")

        return getaddrinfo


def _caller() -> str:
    """file:line of the innermost frame outside the socket modules and this file (for the report)."""
    for frame in reversed(traceback.extract_stack()[:-3]):
        if not frame.filename.endswith(("socket.py", "yolo_train.py")):
            return f"{Path(frame.filename).name}:{frame.lineno}"
    return "?"


def offline_ultralytics(workdir: Path) -> None:
    """Ultralytics settings that keep it off the network: no hub sync, no font or asset downloads
    (plots off at the call sites), its settings file in `workdir`."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_CONFIG_DIR", str(workdir / "ultralytics-config"))
    import ultralytics.data.utils
    from ultralytics import settings

    # The dataset check fetches a plotting font from GitHub when none is installed; nothing is
    # plotted here (plots=False), so it is not needed.
    ultralytics.data.utils.check_font = lambda *args, **kwargs: None
    _read_results_without_polars()

    integrations = ("clearml", "comet", "dvc", "mlflow", "raytune", "tensorboard", "wandb")
    settings.update(
        {
            "sync": False,
            "vscode_msg": False,
            "openvino_msg": False,
            **dict.fromkeys(integrations, False),
            "datasets_dir": str(workdir / "datasets"),
            "weights_dir": str(workdir / "weights"),
            "runs_dir": str(workdir / "runs"),
        }
    )


def _read_results_without_polars() -> None:
    """Ultralytics reads its own results.csv back with polars at every checkpoint save, and for
    nothing else we use. The GPU machines have no polars and its wheel (54 MB) does not fit in what
    a device call carries, so where it is missing the csv module reads the file instead."""
    try:
        import polars  # noqa: F401
    except ImportError:
        from ultralytics.engine.trainer import BaseTrainer

        BaseTrainer.read_results_csv = lambda trainer: read_results_csv(Path(trainer.csv))


def read_results_csv(path: Path) -> dict[str, list[float | str]]:
    """Ultralytics' results.csv as {column: values by epoch} (numbers as floats), as its own polars
    reader returns it; {} when the file is missing."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return {}
    return {key.strip(): [_number(row[key]) for row in rows] for key in (rows[0] if rows else {})}


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


DEFAULT_LR0 = 0.002
"""AdamW's initial learning rate from the COCO start; a start already trained on our classes takes less."""


def train(
    start_checkpoint: Path,
    data_yaml: Path,
    workdir: Path,
    epochs: int,
    imgsz: int,
    seed: int,
    batch: int,
    freeze: int,
    device: str = "cpu",
    workers: int = 1,
    lr0: float = DEFAULT_LR0,
) -> Path:
    """Fine-tunes from `start_checkpoint` with the first `freeze` layers (the backbone is 0-9) fixed;
    returns the last checkpoint. No validation between epochs (a CPU budget choice): the val splits
    are measured once, on the exported ONNX model, by `finetune_main`'s measurement."""
    from ultralytics import YOLO

    model = YOLO(str(start_checkpoint), task="detect")
    model.train(
        data=str(data_yaml),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        device=device,
        workers=workers,
        seed=seed,
        freeze=freeze,
        val=False,
        deterministic=True,
        plots=False,
        project=str(workdir),
        name="train",
        exist_ok=True,
        pretrained=True,
        optimizer="AdamW",
        lr0=lr0,
        cos_lr=True,
        warmup_epochs=1,
        close_mosaic=max(1, epochs // 4),
        patience=max(epochs, 50),
        amp=False,
        cache=True,
        verbose=False,
    )
    last = workdir / "train" / "weights" / "last.pt"
    if not last.is_file():
        raise RuntimeError(f"training wrote no {last}")
    return last


def data_yaml_at(stage: Path) -> Path:
    """The staged dataset's data.yaml, rewritten with the stage's absolute path (Ultralytics reads a
    relative `path` against its own datasets folder, not against the yaml)."""
    data_yaml = stage / "data" / "data.yaml"
    lines = data_yaml.read_text().splitlines()
    data_yaml.write_text(
        "\n".join(f"path: {(stage / 'data').resolve()}" if ln.startswith("path:") else ln for ln in lines)
        + "\n"
    )
    return data_yaml


def run_staged(
    stage: Path, out: Path, device: str, workers: int, overrides: dict[str, int]
) -> dict[str, Any]:
    """Trains the job staged in `stage` into `out` (last.pt, job.json with the arguments used)."""
    job = json.loads((stage / JOB_FILE).read_text())
    job.update({k: v for k, v in overrides.items() if v is not None})
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with NetworkGuard() as guard:
        offline_ultralytics(out)
        last = train(
            stage / START_CHECKPOINT,
            data_yaml_at(stage),
            out,
            job["epochs"],
            job["imgsz"],
            job["seed"],
            job["batch"],
            job["freeze"],
            device=device,
            workers=workers,
            lr0=job.get("lr0", DEFAULT_LR0),
        )
    shutil.copyfile(last, out / "last.pt")
    job["trained_on_device"] = _device_name(device)
    job["training_minutes"] = round((time.monotonic() - started) / 60, 1)
    job["network_attempts"] = guard.attempts
    (out / JOB_FILE).write_text(json.dumps(job, indent=2))
    return job


def _device_name(device: str) -> str:
    import torch

    if device != "cpu" and torch.cuda.is_available():
        return torch.cuda.get_device_name(int(device.split(",")[0]))
    return "cpu"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citywatch.training.yolo_train",
        description="Train a detector staged by `python -m citywatch.training.<model> --stage DIR`.",
    )
    parser.add_argument("stage", type=Path, help="folder written by --stage")
    parser.add_argument("--out", type=Path, required=True, help="where last.pt and job.json go")
    parser.add_argument("--device", default="0", help="'cpu', or CUDA device index")
    parser.add_argument("--workers", type=int, default=8, help="data loader processes")
    for name in TRAIN_ARGUMENTS:
        parser.add_argument(f"--{name}", type=int, help=f"overrides job.json's {name}")
    args = parser.parse_args(argv)
    overrides = {name: getattr(args, name) for name in TRAIN_ARGUMENTS}
    job = run_staged(args.stage, args.out, args.device, args.workers, overrides)
    print(json.dumps(job, indent=2))
    return 0 if not job["network_attempts"] else 1


if __name__ == "__main__":
    sys.exit(main())
