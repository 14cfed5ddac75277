"""`python -m citywatch.training.fight_clip` end to end on two clips, into a temporary pack and cache."""

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from citywatch.config import ModelSettings
from citywatch.perception.fight_clip import (
    ENCODER_MODEL,
    SCORER_MODEL,
    WINDOW,
    grey_of,
    motion_picture,
    open_fight_clip_model,
)
from citywatch.perception.model_pack import ModelPack
from citywatch.training.fight_clip import main


@pytest.mark.slow
def test_training_writes_a_loadable_verified_pair_of_models(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    main(
        [
            "--out",
            str(tmp_path),
            "--cache",
            str(cache),
            "--limit",
            "2",
            "--epochs",
            "1",
            "--epoch-windows",
            "32",
        ]
    )
    assert len(list(cache.glob("*/*.people2.npy"))) == 2  # a second run reuses the encoded clips
    pack = ModelPack.open(tmp_path)
    scorer = pack.spec(SCORER_MODEL)
    assert scorer.classes == ["no_fight", "fight"] and "MIT" in scorer.license and "YouTube" in scorer.license
    assert scorer.source == pack.spec(ENCODER_MODEL).source == "python -m citywatch.training.fight_clip"
    model = open_fight_clip_model(pack, ModelSettings())
    rng = np.random.default_rng(0)
    greys = [grey_of(rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)) for _ in range(WINDOW + 1)]
    maps = np.stack([model.encode(motion_picture(g, b)) for b, g in pairwise(greys)])
    assert maps.shape == (WINDOW, 128, 12, 20)
    assert 0.0 <= model.score(maps) <= 1.0
    with pytest.raises(ValueError, match=f"reads {WINDOW} maps"):
        model.score(maps[:2])
