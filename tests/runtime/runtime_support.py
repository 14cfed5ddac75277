"""Configs of the runtime tests: real clips as looping cameras, fast health timings."""

from pathlib import Path

from citywatch.config import CitywatchConfig, parse_config
from citywatch.paths import datasets_dir

FIRE_CLIP = datasets_dir() / "fire_smoke" / "videos" / "furg_house6.mp4"
STREET_CLIP = datasets_dir() / "streets" / "car-detection.mp4"
PEOPLE_CLIP = datasets_dir() / "streets" / "one-by-one-person-detection.mp4"


def make_config(
    tmp_path: Path, cameras: list[dict], database_url: str | None = None, **extra
) -> CitywatchConfig:
    raw = {
        "storage": {
            "database_url": database_url or f"sqlite:///{tmp_path / 'cw.db'}",
            "evidence_dir": str(tmp_path / "evidence"),
        },
        "evidence": {"pre_roll_s": 2, "post_roll_s": 2, "clip_fps": 10},
        "health": {
            "stalled_after_s": 1,
            "offline_after_s": 2,
            "backoff_initial_s": 0.2,
            "backoff_max_s": 0.5,
        },
        "models": {"intra_op_threads": 1},
        # The pipeline's mechanics, not the tuned defaults (docs/ACCURACY.md): with smoke counted
        # from 0.4 the clip's early smoke (0.4-0.55) raises within 2 s instead of at 24 s.
        "thresholds": {"fire": {"smoke_min_confidence": 0.4}},
        "cameras": cameras,
        **extra,
    }
    return parse_config(raw, source="test", base_dir=tmp_path)


def camera(camera_id: str, url: Path | str, **extra) -> dict:
    return {
        "id": camera_id,
        "url": str(url),
        "loop": True,
        "analytics_fps": 2,
        "incident_types": ["fire"],
        **extra,
    }
