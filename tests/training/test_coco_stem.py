"""The hand-written COCO stem (training/coco_stem.py) computes what the pack's ONNX model computes."""

import numpy as np
import pytest

pytest.importorskip("torch", reason="training needs the [train] extra")

from citywatch.paths import datasets_dir
from citywatch.perception.model_pack import ModelPack


def test_coco_stem_is_the_coco_model_s_first_seven_layers() -> None:
    """Loaded with the pack's COCO weights, the blocks give what the pack's ONNX model computes at
    layer 6 on a real street frame, up to the int8 rounding that the ONNX model adds layer by layer
    (correlation 1.000 at layer 0, 0.96 at layer 6); with the halves of the C2f split swapped it is
    0.12."""
    import cv2
    import onnx
    import onnxruntime
    import torch

    from citywatch.perception.yolo import letterbox
    from citywatch.training.coco_stem import coco_stem
    from citywatch.training.yolo_finetune import COCO_MODEL

    model = onnx.load(str(ModelPack.open().verified_path(COCO_MODEL)))
    layer6 = "/model.6/cv2/act/Mul_output_0"
    model.graph.output.append(onnx.helper.make_tensor_value_info(layer6, onnx.TensorProto.FLOAT, None))
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    frame = cv2.imread(str(sorted((datasets_dir() / "helmet_th" / "images" / "train").glob("*.jpg"))[0]))
    canvas = letterbox(frame, (640, 640))[0][:, :, ::-1]
    blob = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0
    expected = session.run([layer6], {"images": blob})[0]
    with torch.no_grad():
        found = coco_stem()(torch.from_numpy(blob)).numpy()
    assert found.shape == expected.shape == (1, 128, 40, 40)
    assert np.corrcoef(found.ravel(), expected.ravel())[0, 1] > 0.9
