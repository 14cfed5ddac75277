"""The bundled helmet classifier: verified against its manifest, and right on real labelled heads
of helmet_th frames it never trained on (the `val` split of the evaluation harness)."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from citywatch.config import ModelSettings
from citywatch.evaluation.datasets import helmet_split
from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.perception.helmet import MODEL_NAME, HelmetClassifier, crop_boxes
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.second_stage import load_second_stage

ACCURACY_FLOOR = 0.85
"""Measured 0.9 on these heads; the floor leaves room for another seed, not for a broken model."""


@pytest.fixture(scope="module")
def classifier() -> HelmetClassifier:
    return HelmetClassifier.from_pack(ModelSettings())


def val_heads() -> list[tuple[Path, np.ndarray, np.ndarray]]:
    """(image, head boxes xyxy, labels 0 helmet / 1 no helmet) of helmet_th's validation frames."""
    import cv2

    root = datasets_dir() / "helmet_th"
    items = []
    for image_path in sorted((root / "images/train").glob("*.jpg")):
        if helmet_split(image_path.name) != "val":
            continue
        image = cv2.imread(str(image_path))
        height, width = image.shape[:2]
        rows = np.loadtxt(root / "labels/train" / f"{image_path.stem}.txt", ndmin=2)
        cx, cy, w, h = rows[:, 1] * width, rows[:, 2] * height, rows[:, 3] * width, rows[:, 4] * height
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        items.append((image, boxes, rows[:, 0].astype(int)))
    return items


def test_loads_as_the_helmet_second_stage_model() -> None:
    assert isinstance(load_second_stage("helmet", ModelSettings()), HelmetClassifier)


def test_classifies_real_heads_it_never_saw(classifier: HelmetClassifier) -> None:
    correct = total = 0
    for image, boxes, labels in val_heads():
        names, probabilities = classifier.classify(image, boxes)
        assert probabilities.shape == (len(boxes), 2)
        assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
        correct += sum(
            name == ("no_helmet" if label else "helmet") for name, label in zip(names, labels, strict=True)
        )
        total += len(labels)
    assert total >= 60
    assert correct / total >= ACCURACY_FLOOR


def test_no_heads_is_an_empty_batch(classifier: HelmetClassifier) -> None:
    names, probabilities = classifier.classify(np.zeros((100, 100, 3), np.uint8), np.empty((0, 4)))
    assert names == [] and probabilities.shape == (0, 2)


def test_heads_at_the_image_edge_are_padded_not_dropped(classifier: HelmetClassifier) -> None:
    image = np.full((50, 50, 3), 90, np.uint8)
    names, _ = classifier.classify(image, np.array([[-5, -5, 5, 5], [45, 45, 60, 60]], dtype=np.float32))
    assert len(names) == 2


def test_crop_is_a_square_with_margin_around_the_head() -> None:
    assert crop_boxes(np.array([[10, 10, 20, 30]])).tolist() == [[0, 5, 30, 35]]


def test_an_altered_model_is_refused(tmp_path: Path) -> None:
    pack = ModelPack.open(BUNDLED_MODELS_DIR)
    shutil.copy(pack.manifest_path, tmp_path)
    data = bytearray((BUNDLED_MODELS_DIR / pack.spec(MODEL_NAME).file).read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / pack.spec(MODEL_NAME).file).write_bytes(bytes(data))
    with pytest.raises(ModelPackError, match="altered"):
        HelmetClassifier.from_pack(ModelSettings(), ModelPack.open(tmp_path))
