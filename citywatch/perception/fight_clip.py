"""The fight clip model: what moved in the last 1.2 s of a camera, scored as a fight or not.

Two ONNX files of the bundled pack, trained by `python -m citywatch.training.fight_clip` on the
fight clips (card in docs/MODELS.md):

- `fight-clip-encoder`: layers 0-6 of the pack's COCO YOLOv8n, run on the motion picture of an
  analysed frame (its grey difference from the analysed frame CLIP_STEP_S before, amplified,
  letterboxed to 192x320) -> a [128, 12, 20] map of what moved where.
- `fight-clip-scorer`: the maps of WINDOW consecutive analysed frames at CLIP_FPS -> P(fight). It
  keeps where things move (a convolution over time and space before pooling), so a fight in one
  corner is not averaged away by people walking everywhere else.

Training and run time share the picture code below, so the model sees at run time what it saw in
training.
"""

import cv2
import numpy as np
import onnxruntime

from citywatch.config import ModelSettings
from citywatch.paths import BUNDLED_MODELS_DIR
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.runtime import create_session
from citywatch.perception.yolo import letterbox

ENCODER_MODEL = "fight-clip-encoder"
SCORER_MODEL = "fight-clip-scorer"
ENCODER_INPUT = (192, 320)
"""(height, width) the encoder sees: a 16:9 frame at half the width of the COCO pass."""
CLIP_FPS = 5.0
"""Analysed frames a second the scorer was trained at."""
CLIP_STEP_S = 0.2
"""A motion picture is the difference from the analysed frame this long before (one at CLIP_FPS)."""
WINDOW = 6
"""Analysed frames the scorer reads (1.2 s at CLIP_FPS): the first score comes 1.2 s in."""
MOTION_GAIN = 4.0


def grey_of(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def motion_picture(grey: np.ndarray, before: np.ndarray) -> np.ndarray:
    """What moved between `before` and `grey` (same size), amplified, as a 3-channel picture."""
    moved = cv2.convertScaleAbs(cv2.absdiff(grey, before), alpha=MOTION_GAIN)
    return cv2.cvtColor(moved, cv2.COLOR_GRAY2BGR)


def encoder_input(picture: np.ndarray) -> np.ndarray:
    """[1, 3, 192, 320] float RGB in 0..1: `picture` (BGR) letterboxed as the encoder was trained."""
    canvas, _ = letterbox(picture, ENCODER_INPUT)
    rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(rgb, np.float32) / 255.0


class FightClipModel:
    """`encode` a motion picture into its map; `score` a window of WINDOW maps."""

    def __init__(self, encoder: onnxruntime.InferenceSession, scorer: onnxruntime.InferenceSession) -> None:
        self._encoder, self._scorer = encoder, scorer
        self._encoder_input = encoder.get_inputs()[0].name
        self._scorer_input = scorer.get_inputs()[0].name

    def encode(self, picture: np.ndarray) -> np.ndarray:
        """[128, 12, 20] float32 map of a BGR motion picture."""
        (maps,) = self._encoder.run(None, {self._encoder_input: encoder_input(picture)})
        return np.asarray(maps[0], np.float32)

    def score(self, window: np.ndarray) -> float:
        """P(fight) of [WINDOW, 128, 12, 20] maps, oldest first."""
        if len(window) != WINDOW:
            raise ValueError(f"the fight clip scorer reads {WINDOW} maps, got {len(window)}")
        (probability,) = self._scorer.run(None, {self._scorer_input: window[None].astype(np.float32)})
        return float(np.asarray(probability).reshape(-1)[0])


def open_fight_clip_model(pack: ModelPack, settings: ModelSettings) -> FightClipModel:
    """The pack's two files, each verified against the manifest first."""
    return FightClipModel(
        create_session(pack.verified_path(ENCODER_MODEL), settings),
        create_session(pack.verified_path(SCORER_MODEL), settings),
    )


def load_fight_clip_model(settings: ModelSettings) -> FightClipModel:
    """The bundled model (runtime settings such as providers still come from `settings`)."""
    return open_fight_clip_model(ModelPack.open(BUNDLED_MODELS_DIR), settings)
