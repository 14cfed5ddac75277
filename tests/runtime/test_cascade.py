"""The cascade's passes on a file's frame: a detector that fails stops the file, naming its role
(a camera's frame goes on without that role instead: the scheduler's result names the error)."""

from collections.abc import Sequence

import numpy as np
import pytest
import supervision as sv

from citywatch.perception.passes import DetectorPasses
from citywatch.runtime.cascade import detect


class BrokenDetector:
    def detect_batch(self, images: Sequence[np.ndarray]) -> list[sv.Detections]:
        raise ValueError("the model's output has an unexpected shape")


def test_a_detector_failing_on_a_files_frame_raises_naming_its_role() -> None:
    passes = DetectorPasses({"fire_smoke": BrokenDetector()})
    with pytest.raises(RuntimeError, match="fire_smoke: ValueError: the model's output has an unexpected"):
        detect(np.zeros((64, 64, 3), np.uint8), ["fire_smoke"], passes)
    assert passes.counts().errors == 1 and passes.counts().detector_calls == {"fire_smoke": 1}
