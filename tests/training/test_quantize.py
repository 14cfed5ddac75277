"""Static int8 quantization of our detectors (training/quantize.py): the model it writes is int8,
loads, keeps its box decoding in float and still scores what the float model scores."""

from pathlib import Path

import onnx
import onnxruntime
import pytest

from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.training.quantize import (
    box_decode_nodes,
    calibration_blobs,
    cpu_ms_per_frame,
    input_size,
    quantize,
)

FALL = BUNDLED_MODELS_DIR / "fall-yolov8n-416.onnx"


@pytest.mark.slow
def test_quantized_fall_detector_is_int8_and_still_scores_falls(tmp_path: Path) -> None:
    size = input_size(FALL)
    frames = datasets_dir() / "fall" / "images" / "train"
    quantized = quantize(FALL, calibration_blobs(frames, size, 8, seed=0), tmp_path / "fall-int8.onnx")

    assert quantized.stat().st_size < 0.5 * FALL.stat().st_size  # int8 weights, a quarter of float32
    graph = onnx.load(str(quantized)).graph
    decode_outputs = {out for n in graph.node if n.name in set(box_decode_nodes(FALL)) for out in n.output}
    assert decode_outputs and not [
        n.name for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] in decode_outputs
    ]
    float_session = onnxruntime.InferenceSession(str(FALL), providers=["CPUExecutionProvider"])
    int8_session = onnxruntime.InferenceSession(str(quantized), providers=["CPUExecutionProvider"])
    name = float_session.get_inputs()[0].name
    held_out = calibration_blobs(frames, size, 3, seed=1)
    scored = 0
    for blob in held_out:
        expected = float_session.run(None, {name: blob})[0][0, 4]  # the fall score of every anchor
        got = int8_session.run(None, {name: blob})[0][0, 4]
        if expected.max() > 0.3:
            scored += 1
            # one 8-bit scale over boxes (0-416 px) and scores would round every score to 0
            assert got.max() > 0.1
    assert scored >= 1
    assert cpu_ms_per_frame(quantized, held_out) > 0
