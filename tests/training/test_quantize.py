"""Static int8 quantization of our detectors (training/quantize.py): the model it writes is int8,
loads, and answers like the float model it came from."""

from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.training.quantize import calibration_blobs, cpu_ms_per_frame, input_size, quantize

FALL = BUNDLED_MODELS_DIR / "fall-yolov8n-416.onnx"


@pytest.mark.slow
def test_quantized_fall_detector_is_int8_and_agrees_with_the_float_model(tmp_path: Path) -> None:
    size = input_size(FALL)
    frames = datasets_dir() / "fall" / "images" / "train"
    quantized = quantize(FALL, calibration_blobs(frames, size, 8, seed=0), tmp_path / "fall-int8.onnx")

    assert quantized.stat().st_size < 0.5 * FALL.stat().st_size  # int8 weights, a quarter of float32
    held_out = calibration_blobs(frames, size, 3, seed=1)
    float_session = onnxruntime.InferenceSession(str(FALL), providers=["CPUExecutionProvider"])
    int8_session = onnxruntime.InferenceSession(str(quantized), providers=["CPUExecutionProvider"])
    name = float_session.get_inputs()[0].name
    for blob in held_out:
        expected = float_session.run(None, {name: blob})[0][0, 4]  # the fall score of every anchor
        got = int8_session.run(None, {name: blob})[0][0, 4]
        assert np.corrcoef(expected, got)[0, 1] > 0.9
        assert np.abs(expected - got).max() < 0.25
    assert cpu_ms_per_frame(quantized, held_out) > 0
