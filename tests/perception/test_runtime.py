import logging
from pathlib import Path

import pytest

from citywatch.config import ModelSettings
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.runtime import (
    CPU_PROVIDER,
    CUDA_PROVIDER,
    TENSORRT_PROVIDER,
    create_session,
    metadata_class_names,
    provider_options,
)

COCO = "coco-yolov8n-int8-640"


def test_an_unavailable_provider_falls_back_to_cpu_with_a_warning(
    pack: ModelPack, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ModelSettings(
        providers=["NoSuchExecutionProvider", "CPUExecutionProvider"], intra_op_threads=1
    )
    with caplog.at_level(logging.WARNING):
        session = create_session(pack.verified_path(COCO), settings)
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert session.get_session_options().intra_op_num_threads == 1
    assert "NoSuchExecutionProvider" in caplog.text


def test_no_available_provider_is_an_error_naming_it(pack: ModelPack) -> None:
    settings = ModelSettings(providers=["NoSuchExecutionProvider"])
    with pytest.raises(ModelPackError, match="NoSuchExecutionProvider"):
        create_session(pack.verified_path(COCO), settings)


def test_class_names_come_from_the_model_metadata(pack: ModelPack, settings: ModelSettings) -> None:
    names = metadata_class_names(create_session(pack.verified_path(COCO), settings))
    assert names is not None and len(names) == 80
    assert names[:4] == ["person", "bicycle", "car", "motorcycle"]
    assert names[43] == "knife"


def test_gpu_providers_fall_back_to_cpu_on_a_machine_without_them(
    pack: ModelPack, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """The GPU configuration of docs/OPERATIONS.md starts on a CPU-only machine, saying what it lacks."""
    settings = ModelSettings(
        providers=[TENSORRT_PROVIDER, CUDA_PROVIDER, CPU_PROVIDER],
        tensorrt_cache_dir=tmp_path / "trt",
        intra_op_threads=1,
    )
    with caplog.at_level(logging.WARNING):
        session = create_session(pack.verified_path(COCO), settings)
    assert session.get_providers() == [CPU_PROVIDER]
    assert TENSORRT_PROVIDER in caplog.text and CUDA_PROVIDER in caplog.text


def test_tensorrt_gets_its_engine_cache_folder_and_device(tmp_path: Path) -> None:
    settings = ModelSettings(tensorrt_cache_dir=tmp_path / "engines", gpu_device_id=1, tensorrt_fp16=False)
    options = provider_options(TENSORRT_PROVIDER, settings)
    assert options["trt_engine_cache_enable"] == "True"
    assert options["trt_engine_cache_path"] == str(tmp_path / "engines")
    assert options["device_id"] == "1" and options["trt_fp16_enable"] == "False"
    assert provider_options(CUDA_PROVIDER, settings) == {"device_id": "1"}
    assert provider_options(CPU_PROVIDER, settings) == {}
    assert "trt_engine_cache_path" not in provider_options(TENSORRT_PROVIDER, ModelSettings())


def test_idle_threads_sleep_unless_spinning_is_asked_for(pack: ModelPack) -> None:
    key = "session.intra_op.allow_spinning"
    quiet = create_session(pack.verified_path(COCO), ModelSettings(intra_op_threads=1))
    spinning = create_session(pack.verified_path(COCO), ModelSettings(intra_op_threads=1, spin_wait=True))
    assert quiet.get_session_options().get_session_config_entry(key) == "0"
    assert spinning.get_session_options().get_session_config_entry(key) == "1"
