"""The fight classifier: a group's `analytics.fight_features` row -> probability that it fights.

Trained by `python -m citywatch.training.fight` and shipped in the bundled pack
(citywatch/models/), so it is verified and loaded like any pack model.
"""

import numpy as np
import onnxruntime

from citywatch.config import ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.runtime import create_session
from citywatch.perception.second_stage import register_second_stage

FIGHT_MODEL = "fight-classifier"
FIGHT_CLASS = "fight"


class FightClassifier:
    """An ONNX binary classifier over fight feature rows; `probability` gives P(fight) per row.

    The exported scikit-learn model outputs (label, probabilities [N, 2]); the column of the class
    named `fight` in the manifest is taken.
    """

    def __init__(
        self, session: onnxruntime.InferenceSession, classes: list[str], name: str = FIGHT_MODEL
    ) -> None:
        if FIGHT_CLASS not in classes:
            raise ModelPackError(f"model {name!r}: classes {classes} lack {FIGHT_CLASS!r}")
        model_input = session.get_inputs()[0]
        self.session = session
        self.input_name = model_input.name
        self.num_features = model_input.shape[1]
        self._column = classes.index(FIGHT_CLASS)
        self._probabilities = next(o.name for o in session.get_outputs() if "prob" in o.name)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """[N] P(fight) for [N, num_features] features."""
        if len(features) == 0:
            return np.zeros(0, np.float32)
        if features.shape[1] != self.num_features:
            raise ValueError(
                f"fight classifier expects {self.num_features} features, got {features.shape[1]}"
            )
        (probabilities,) = self.session.run(
            [self._probabilities], {self.input_name: features.astype(np.float32)}
        )
        return np.asarray(probabilities)[:, self._column].astype(np.float32)


def open_fight_classifier(pack: ModelPack, settings: ModelSettings) -> FightClassifier:
    spec = pack.spec(FIGHT_MODEL)
    session = create_session(pack.verified_path(FIGHT_MODEL), settings)
    return FightClassifier(session, spec.classes or [], FIGHT_MODEL)


def load_fight_classifier(settings: ModelSettings) -> FightClassifier:
    """The bundled classifier (runtime settings such as providers still come from `settings`)."""
    return open_fight_classifier(ModelPack.open(BUNDLED_MODELS_DIR), settings)


register_second_stage("fight", load_fight_classifier)
