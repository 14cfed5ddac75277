"""`python -m citywatch.training.fall` end to end on a few frames, into a temporary pack."""

from pathlib import Path

import numpy as np
import pytest

from citywatch.analytics.pose_features import NUM_FEATURES
from citywatch.config import ModelSettings
from citywatch.perception.fall_classifier import FALL_MODEL, open_fall_classifier
from citywatch.perception.model_pack import ModelPack
from citywatch.training.fall import main


@pytest.mark.slow
def test_training_writes_a_loadable_verified_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--out", str(tmp_path), "--limit", "8"])
    assert "'validation'" in capsys.readouterr().out
    pack = ModelPack.open(tmp_path)
    spec = pack.spec(FALL_MODEL)
    assert spec.classes == ["not_fall", "fall"] and "CC BY 4.0" in spec.license
    assert spec.source == "python -m citywatch.training.fall"
    classifier = open_fall_classifier(pack, ModelSettings())
    probability = classifier.probability(np.zeros((3, NUM_FEATURES), np.float32))
    assert probability.shape == (3,) and ((probability >= 0) & (probability <= 1)).all()
