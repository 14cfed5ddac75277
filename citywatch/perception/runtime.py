"""ONNX Runtime sessions built from the `models:` settings."""

import ast
import logging
from pathlib import Path

import onnxruntime

from citywatch.config import ModelSettings
from citywatch.perception.model_pack import ModelPackError

log = logging.getLogger(__name__)

CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"
TENSORRT_PROVIDER = "TensorrtExecutionProvider"


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


def provider_options(provider: str, settings: ModelSettings) -> dict[str, str]:
    """ONNX Runtime's options for one provider from `settings` (empty for providers without any).

    TensorRT builds an engine per model at the first run (minutes); with `tensorrt_cache_dir` it is
    kept there and reused by later starts. CUDA and TensorRT run on `gpu_device_id`.
    """
    if provider == CUDA_PROVIDER:
        return {"device_id": str(settings.gpu_device_id)}
    if provider != TENSORRT_PROVIDER:
        return {}
    options = {"device_id": str(settings.gpu_device_id), "trt_fp16_enable": str(settings.tensorrt_fp16)}
    if settings.tensorrt_cache_dir is not None:
        cache = str(settings.tensorrt_cache_dir)
        options |= {
            "trt_engine_cache_enable": "True",
            "trt_engine_cache_path": cache,
            "trt_timing_cache_enable": "True",
            "trt_timing_cache_path": cache,
        }
    return options


def create_session(path: Path, settings: ModelSettings) -> onnxruntime.InferenceSession:
    """An inference session for one model file, with the providers and threads from `settings`."""
    providers = select_providers(list(settings.providers), onnxruntime.get_available_providers())
    if TENSORRT_PROVIDER in providers and settings.tensorrt_cache_dir is not None:
        settings.tensorrt_cache_dir.mkdir(parents=True, exist_ok=True)
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if settings.intra_op_threads > 0:
        options.intra_op_num_threads = settings.intra_op_threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if settings.spin_wait else "0")
    try:
        return onnxruntime.InferenceSession(
            str(path),
            sess_options=options,
            providers=providers,
            provider_options=[provider_options(p, settings) for p in providers],
        )
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
