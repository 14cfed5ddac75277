"""Binary classifiers over feature rows (the fall classifier), trained with scikit-learn.

They are scikit-learn models trained by `citywatch/training/` and exported with skl2onnx, shipped
in the bundled pack (citywatch/models/), so they are verified and loaded like any pack model.
"""

import numpy as np
import onnxruntime

from citywatch.config import ModelSettings
from citywatch.perception.model_pack import ModelPack, ModelPackError
from citywatch.perception.runtime import create_session


class FeatureClassifier:
    """`probability` gives P(positive class) for each row of features.

    The exported model outputs (label, probabilities [N, 2]); the column of the class named
    `positive` in the manifest is taken.
    """

    def __init__(
        self, session: onnxruntime.InferenceSession, classes: list[str], positive: str, name: str
    ) -> None:
        if positive not in classes:
            raise ModelPackError(f"model {name!r}: classes {classes} lack {positive!r}")
        model_input = session.get_inputs()[0]
        self.session = session
        self.name = name
        self.input_name = model_input.name
        self.num_features = model_input.shape[1]
        self._column = classes.index(positive)
        self._probabilities = next(o.name for o in session.get_outputs() if "prob" in o.name)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """[N] P(positive) for [N, num_features] features."""
        if len(features) == 0:
            return np.zeros(0, np.float32)
        if features.shape[1] != self.num_features:
            raise ValueError(f"{self.name} expects {self.num_features} features, got {features.shape[1]}")
        (probabilities,) = self.session.run(
            [self._probabilities], {self.input_name: features.astype(np.float32)}
        )
        return np.asarray(probabilities)[:, self._column].astype(np.float32)


def open_feature_classifier(
    pack: ModelPack, model: str, positive: str, settings: ModelSettings
) -> FeatureClassifier:
    """The pack's `model`, its file verified against the manifest first."""
    spec = pack.spec(model)
    session = create_session(pack.verified_path(model), settings)
    return FeatureClassifier(session, spec.classes or [], positive, model)
