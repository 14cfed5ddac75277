"""ONNX Runtime sessions built from the `models:` settings."""

import ast
import logging
from pathlib import Path

import onnxruntime

from citywatch.config import ModelSettings
from citywatch.perception.model_pack import ModelPackError

log = logging.getLogger(__name__)

CPU_PROVIDER = "CPUExecutionProvider"


def select_providers(requested: list[str], available: list[str]) -> list[str]:
    """The requested providers this ONNX Runtime build has, in the requested order.

    A missing accelerator (say CUDA on a CPU-only machine) is a warning when CPU was also asked
    for; when nothing asked for is available it is an error naming what is missing.
    """
    chosen = [p for p in requested if p in available]
    missing = [p for p in requested if p not in available]
    if not chosen:
        raise ModelPackError(
            f"none of the requested ONNX Runtime providers {requested} is available "
            f"(this build has {available}); set models.providers accordingly"
        )
    if missing:
        log.warning("ONNX Runtime providers %s are not available; using %s", missing, chosen)
    return chosen


def create_session(path: Path, settings: ModelSettings) -> onnxruntime.InferenceSession:
    """An inference session for one model file, with the providers and threads from `settings`."""
    providers = select_providers(list(settings.providers), onnxruntime.get_available_providers())
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if settings.intra_op_threads > 0:
        options.intra_op_num_threads = settings.intra_op_threads
    try:
        return onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # ONNX Runtime raises its own untyped errors for unreadable models.
        raise ModelPackError(f"{path}: ONNX Runtime cannot load the model: {exc}") from exc


def metadata_class_names(session: onnxruntime.InferenceSession) -> list[str] | None:
    """Class names from an Ultralytics export's metadata key `names` (a Python dict literal)."""
    raw = session.get_modelmeta().custom_metadata_map.get("names")
    if raw is None:
        return None
    try:
        names = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        names = None
    if not isinstance(names, dict):
        raise ModelPackError(f"model metadata 'names' is not a dict literal: {raw[:80]!r}")
    return [str(names[index]) for index in sorted(names)]
