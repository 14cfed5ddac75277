"""The value a camera source hands to every later stage."""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One decoded picture of one camera.

    `index` counts decoded frames of this camera since citywatch started it (it keeps counting
    across reconnects); `timestamp` is wall-clock seconds (time.time()) when it was decoded, the
    clock that incidents, clips and health share; `image` is BGR uint8, height x width x 3.
    """

    camera_id: str
    index: int
    timestamp: float
    image: np.ndarray = field(repr=False)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])
