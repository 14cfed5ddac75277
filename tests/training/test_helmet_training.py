"""The helmet training pipeline end to end on a small subset, and its leakage-safe folds."""

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="training needs the [train] extra")

from citywatch.config import ModelSettings
from citywatch.paths import datasets_dir
from citywatch.perception.helmet import MODEL_NAME, HelmetClassifier
from citywatch.perception.model_pack import ModelPack
from citywatch.training.helmet import Heads, fold_groups, main, training_fit_problem, training_indices
from citywatch.training.yolo_data import video_and_frame


@pytest.mark.slow
def test_trains_and_exports_a_loadable_model_next_to_other_models(tmp_path: Path) -> None:
    """20 epochs on 30 heads: enough to fit them, which main checks before it writes anything."""
    other = {"name": "other", "file": "other.onnx", "sha256": "0" * 64, "task": "detect"}
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "models": [other]}))
    data = datasets_dir() / "helmet_th"
    argv = [
        "--data",
        str(data),
        "--out",
        str(tmp_path),
        "--epochs",
        "20",
        "--max-heads",
        "30",
        "--no-validation",
    ]
    assert main(argv) == 0
    models = json.loads((tmp_path / "manifest.json").read_text())["models"]
    assert [m["name"] for m in models] == [MODEL_NAME, "other"]
    entry = models[0]
    assert entry["classes"] == ["helmet", "no_helmet"]
    assert entry["input"]["shape"] == ["N", 3, 32, 32] and entry["output"]["shape"] == ["N", 2]
    classifier = HelmetClassifier.from_pack(ModelSettings(), ModelPack.open(tmp_path))
    boxes = np.array([[10, 10, 20, 22], [30, 30, 40, 40], [0, 0, 8, 8]], dtype=np.float32)
    names, probabilities = classifier.classify(np.zeros((60, 60, 3), np.uint8), boxes)
    assert len(names) == 3 and probabilities.shape == (3, 2)


def synthetic_heads(videos: list[str], frames: list[int]) -> Heads:
    count = len(videos)
    return Heads(
        frames=[],
        frame_of=np.zeros(count, int),
        boxes=np.zeros((count, 4), np.float32),
        labels=np.zeros(count, int),
        videos=np.array(videos),
        frame_numbers=np.array(frames),
        splits=np.array(["train"] * count),
        from_person=np.zeros(count, bool),
    )


def test_a_model_that_calls_every_head_helmet_is_refused_and_a_fitting_one_passes() -> None:
    labels = np.array([0, 0, 0, 1, 1])
    problem = training_fit_problem(labels, np.array([0.1, 0.2, 0.1, 0.3, 0.45]))
    assert problem is not None and "0.00 of its 2 no_helmet" in problem
    assert "helmet training heads" in (training_fit_problem(labels, np.full(5, 0.9)) or "")
    assert training_fit_problem(labels, np.array([0.1, 0.6, 0.1, 0.9, 0.7])) is None


def test_folds_cut_the_main_video_in_blocks_and_keep_other_videos_whole() -> None:
    heads = synthetic_heads(["main"] * 8 + ["other"] * 2, [1, 2, 3, 4, 50, 51, 52, 53, 7, 8])
    groups = fold_groups(heads, np.arange(10))
    assert len(set(groups[:8])) == 4 and set(groups[8:]) == {"other"}
    assert groups[0] == groups[1] and groups[6] == groups[7]


def test_frames_next_to_a_held_out_frame_are_left_out_of_training() -> None:
    heads = synthetic_heads(["main"] * 5 + ["other"], [10, 12, 14, 20, 40, 12])
    held_out = np.array([True, False, False, False, False, False])
    # Frame 12 is within LEAKAGE_GAP (3) of held-out frame 10, 14 is not; the other video's 12 stays.
    assert training_indices(heads, np.arange(6), held_out).tolist() == [2, 3, 4, 5]


def test_roboflow_names_give_video_and_frame() -> None:
    assert video_and_frame("-6-7_00-9_00_mp4-0001_jpg.rf.dd404b278ab3") == ("-6-7_00-9_00", 1)
    assert video_and_frame("2_-6-17_00-19_00_MP4-0123_jpg.rf.00ff") == ("2_-6-17_00-19_00", 123)
    with pytest.raises(ValueError, match="Roboflow"):
        video_and_frame("frame_0001")


def test_head_net_stem_is_the_coco_model_s_first_seven_layers() -> None:
    """The hand-written YOLOv8 blocks of HeadNet, loaded with the pack's COCO weights, give what the
    pack's ONNX model computes at layer 6 on a real street frame, up to the int8 rounding that the
    ONNX model adds layer by layer (correlation 1.000 at layer 0, 0.96 at layer 6); with the halves
    of the C2f split swapped it is 0.12."""
    import cv2
    import onnx
    import onnxruntime
    import torch

    from citywatch.perception.yolo import letterbox
    from citywatch.training.helmet import HeadNet
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
        found = HeadNet().features(torch.from_numpy(blob)).numpy()
    assert found.shape == expected.shape == (1, 128, 40, 40)
    assert np.corrcoef(found.ravel(), expected.ravel())[0, 1] > 0.9
