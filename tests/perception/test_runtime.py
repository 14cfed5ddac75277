import logging

import pytest

from citywatch.config import ModelSettings
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.runtime import create_session, metadata_class_names

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
