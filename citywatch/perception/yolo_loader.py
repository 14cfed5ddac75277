"""A YOLOv8 model of a pack as a detector: what every detector role's loader builds on."""

from citywatch.config import ModelSettings
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.runtime import create_session, metadata_class_names
from citywatch.perception.yolo import YoloDetector


def load_yolo(pack: ModelPack, model: str, settings: ModelSettings, conf_threshold: float) -> YoloDetector:
    """A verified YOLOv8 model of the pack; class names from the manifest, else from the model."""
    path = pack.verified_path(model)
    session = create_session(path, settings)
    classes = pack.spec(model).classes or metadata_class_names(session)
    if not classes:
        raise ModelPackError(f"model {model!r}: {path} has no class names in the manifest or its metadata")
    return YoloDetector(session, classes, conf_threshold=conf_threshold, name=model)
