import json
import shutil
from pathlib import Path

import pytest

from citywatch.paths import models_dir
from citywatch.perception.model_pack import ModelPack, ModelPackError

COCO = "coco-yolov8n-int8-640"
FIRE = "fire-smoke-yolov8-416"


def _pack_copy(tmp_path: Path) -> Path:
    """A pack in tmp: the real manifest, real model files linked in (not copied)."""
    shutil.copy(models_dir() / "manifest.json", tmp_path / "manifest.json")
    for model in ModelPack.open().specs.values():
        (tmp_path / model.file).symlink_to(models_dir() / model.file)
    return tmp_path


def test_the_shared_pack_verifies(pack: ModelPack) -> None:
    results = pack.verify_all()
    assert {name for name, _, _ in results} == {COCO, FIRE, "pose-movenet-multipose"}
    assert all(ok for _, ok, _ in results), results
    assert pack.verified_path(FIRE) == models_dir() / "fire-smoke-yolov8-416.onnx"


def test_specs_come_from_the_manifest(pack: ModelPack) -> None:
    fire = pack.spec(FIRE)
    assert fire.classes == ["smoke", "fire"]
    assert fire.task == "detect"
    assert fire.input["shape"] == [1, 3, 416, 416]
    # The manifest describes COCO's classes in prose: they are read from the model when loading.
    assert pack.spec(COCO).classes is None
    assert "AGPL" in pack.spec(COCO).license


def test_open_defaults_to_the_configured_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYWATCH_MODELS", str(_pack_copy(tmp_path)))
    assert ModelPack.open().root == tmp_path.resolve()


def test_an_altered_file_names_the_file_and_both_hashes(tmp_path: Path) -> None:
    root = _pack_copy(tmp_path)
    (root / "fire-smoke-yolov8-416.onnx").unlink()
    (root / "fire-smoke-yolov8-416.onnx").write_bytes(b"not the model")
    pack = ModelPack.open(root)
    with pytest.raises(ModelPackError) as error:
        pack.verified_path(FIRE)
    message = str(error.value)
    assert str(root / "fire-smoke-yolov8-416.onnx") in message
    assert "sha256" in message and pack.spec(FIRE).sha256 in message
    results = {name: (ok, text) for name, ok, text in pack.verify_all()}
    assert results[FIRE][0] is False and "altered" in results[FIRE][1]
    assert results[COCO][0] is True


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    root = _pack_copy(tmp_path)
    (root / "coco-yolov8n-int8-640.onnx").unlink()
    with pytest.raises(ModelPackError, match="missing") as error:
        ModelPack.open(root).verified_path(COCO)
    assert str(root / "coco-yolov8n-int8-640.onnx") in str(error.value)


def test_a_verified_file_is_hashed_once_per_process(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    digest = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"  # sha256(b"x")
    entry = {"name": "m", "file": "m.onnx", "sha256": digest, "task": "detect"}
    (tmp_path / "manifest.json").write_text(json.dumps({"models": [entry]}))
    pack = ModelPack.open(tmp_path)
    assert pack.verified_path("m") == model
    model.write_bytes(b"y")  # not noticed: the check is at first use, not on every load
    assert pack.verified_path("m") == model


def test_manifest_problems_name_the_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    with pytest.raises(ModelPackError, match="not found") as error:
        ModelPack.open(tmp_path)
    assert str(manifest) in str(error.value)
    manifest.write_text("{not json")
    with pytest.raises(ModelPackError, match="malformed JSON") as error:
        ModelPack.open(tmp_path)
    assert str(manifest) in str(error.value)
    manifest.write_text(json.dumps({"models": [{"name": "x", "file": "x.onnx"}]}))
    with pytest.raises(ModelPackError, match=r"models\[0\] lacks sha256, task"):
        ModelPack.open(tmp_path)


def test_an_unknown_model_names_the_manifest_and_the_known_ones(pack: ModelPack) -> None:
    with pytest.raises(ModelPackError, match="unknown model 'nope'") as error:
        pack.verified_path("nope")
    assert str(pack.manifest_path) in str(error.value) and COCO in str(error.value)
