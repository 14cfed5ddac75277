"""Where the shared model pack and datasets live.

They are never copied into the repository: `CITYWATCH_SHARED` (default `../shared` next to the
checkout) holds `models/` and `datasets/`; `CITYWATCH_MODELS` overrides the model pack alone.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODELS_DIR = Path(__file__).resolve().parent / "models"
"""The pack of small models citywatch trains itself (citywatch/training/), shipped with the code."""


def shared_dir() -> Path:
    return Path(os.environ.get("CITYWATCH_SHARED", REPO_ROOT.parent / "shared")).resolve()


def models_dir() -> Path:
    override = os.environ.get("CITYWATCH_MODELS")
    return Path(override).resolve() if override else shared_dir() / "models"


def datasets_dir() -> Path:
    return shared_dir() / "datasets"
