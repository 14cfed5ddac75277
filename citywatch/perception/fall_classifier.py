"""The fall classifier: pose features of one person -> probability that the person lies fallen.

Trained by `python -m citywatch.training.fall` and shipped in the bundled pack (citywatch/models/).
"""

from citywatch.config import ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR
from citywatch.perception.feature_classifier import FeatureClassifier, open_feature_classifier
from citywatch.perception.model_pack import ModelPack

FALL_MODEL = "fall-pose-classifier"


def open_fall_classifier(pack: ModelPack, settings: ModelSettings) -> FeatureClassifier:
    return open_feature_classifier(pack, FALL_MODEL, "fall", settings)


def load_fall_classifier(settings: ModelSettings) -> FeatureClassifier:
    """The bundled classifier (runtime settings such as providers still come from `settings`)."""
    return open_fall_classifier(ModelPack.open(BUNDLED_MODELS_DIR), settings)
