"""The fight classifier: a group's `analytics.fight_features` row -> probability that it fights.

Trained by `python -m citywatch.training.fight` and shipped in the bundled pack (citywatch/models/).
"""

from citywatch.config import ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR
from citywatch.perception.feature_classifier import FeatureClassifier, open_feature_classifier
from citywatch.perception.model_pack import ModelPack

FIGHT_MODEL = "fight-classifier"


def open_fight_classifier(pack: ModelPack, settings: ModelSettings) -> FeatureClassifier:
    return open_feature_classifier(pack, FIGHT_MODEL, "fight", settings)


def load_fight_classifier(settings: ModelSettings) -> FeatureClassifier:
    """The bundled classifier (runtime settings such as providers still come from `settings`)."""
    return open_fight_classifier(ModelPack.open(BUNDLED_MODELS_DIR), settings)
