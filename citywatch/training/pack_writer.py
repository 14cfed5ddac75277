"""Putting a trained ONNX model into a model pack: the file, and its entry in manifest.json."""

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

from citywatch.perception.model_pack import MANIFEST_NAME


def write_manifest_entry(pack_dir: Path, entry: dict[str, Any]) -> None:
    """Add `entry` to the pack's manifest, replacing an entry of the same name; others are kept."""
    manifest = pack_dir / MANIFEST_NAME
    document = (
        json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else {"format": 1, "models": []}
    )
    models = [m for m in document["models"] if m.get("name") != entry["name"]]
    models.append(entry)
    document["models"] = sorted(models, key=lambda m: m["name"])
    manifest.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def cpu_latency_ms(path: Path, sample: np.ndarray, runs: int = 300) -> float:
    """Median milliseconds of one ONNX Runtime CPU run on `sample` (one thread, after warm-up)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: sample}
    for _ in range(20):
        session.run(None, feed)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        timings.append(time.perf_counter() - start)
    return float(np.median(timings) * 1000)
