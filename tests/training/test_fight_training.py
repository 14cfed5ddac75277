"""`python -m citywatch.training.fight` end to end on two clips, into a temporary pack and cache."""

from pathlib import Path

import numpy as np
import pytest

from citywatch.analytics.fight_features import NUM_FEATURES
from citywatch.config import ModelSettings
from citywatch.perception.fight_classifier import FIGHT_MODEL, open_fight_classifier
from citywatch.perception.model_pack import ModelPack
from citywatch.training.fight import main


@pytest.mark.slow
def test_training_writes_a_loadable_verified_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--out", str(tmp_path), "--cache", str(tmp_path / "cache"), "--limit", "2"])
    assert "'threshold'" in capsys.readouterr().out
    assert len(list((tmp_path / "cache").glob("*.pkl"))) == 2  # a second run would reuse them
    pack = ModelPack.open(tmp_path)
    spec = pack.spec(FIGHT_MODEL)
    assert spec.classes == ["no_fight", "fight"] and "MIT" in spec.license and "YouTube" in spec.license
    assert spec.source == "python -m citywatch.training.fight"
    classifier = open_fight_classifier(pack, ModelSettings())
    probability = classifier.probability(np.zeros((3, NUM_FEATURES), np.float32))
    assert probability.shape == (3,) and ((probability >= 0) & (probability <= 1)).all()
