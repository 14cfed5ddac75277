import shutil
from pathlib import Path

import pytest

from citywatch.config import ModelSettings
from citywatch.paths import models_dir
from citywatch.perception.detectors import DETECTORS, load_detector, register_detector
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.yolo import YoloDetector
from citywatch.perception.yolo_loader import load_yolo


def test_the_pack_detectors_load_with_their_classes(coco: YoloDetector, fire_smoke: YoloDetector) -> None:
    assert coco.name == "coco-yolov8n-int8-640" and coco.input_size == (640, 640)
    assert len(coco.class_names) == 80 and coco.class_names[2] == "car"
    assert fire_smoke.class_names == ["smoke", "fire"] and fire_smoke.input_size == (416, 416)
    assert coco.fixed_batch == 1


def test_an_unknown_role_lists_the_known_ones(pack: ModelPack, settings: ModelSettings) -> None:
    with pytest.raises(ValueError, match=r"'licence_plate'.*fire_smoke, rider_heads, weapon"):
        load_detector(pack, "licence_plate", settings)


def test_an_altered_model_is_refused_before_loading(tmp_path: Path, settings: ModelSettings) -> None:
    shutil.copy(models_dir() / "manifest.json", tmp_path / "manifest.json")
    (tmp_path / "fire-smoke-yolov8-416.onnx").write_bytes(b"\0" * 64)
    with pytest.raises(ModelPackError, match="sha256"):
        load_detector(ModelPack.open(tmp_path), "fire_smoke", settings)


def test_new_roles_are_added_by_registering(
    pack: ModelPack, settings: ModelSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DETECTORS, "_entries", dict(DETECTORS._entries))

    def load_vehicles(pack: ModelPack, settings: ModelSettings, conf_threshold: float) -> YoloDetector:
        return load_yolo(pack, "coco-yolov8n-int8-640", settings, conf_threshold)

    register_detector("vehicles", load_vehicles)
    detector = load_detector(pack, "vehicles", settings, conf_threshold=0.5)
    assert detector.conf_threshold == 0.5
    with pytest.raises(ValueError, match="already registered"):
        register_detector("coco", load_vehicles)
