"""Cost of the fight analyzer per analysed frame, against the COCO pass it follows (docs/BENCHMARKS.md).

.venv/bin/python benchmarks/fight_cost.py
"""

import time
from pathlib import Path

import numpy as np

from citywatch.analytics.base import AnalysisInput
from citywatch.analytics.catalog import create_analyzer
from citywatch.config import CameraConfig, ModelSettings, Thresholds
from citywatch.domain.incident_types import IncidentType
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.fight_clip import CLIP_FPS, load_fight_clip_model
from citywatch.perception.model_pack import ModelPack
from citywatch.runtime.media_analysis import sampled_video_frames

VIDEOS = [
    ("fight/clips/fi026.mp4", 0.0, 1e9),
    ("fight/clips/fi089.mp4", 0.0, 1e9),
    ("streets/one-by-one-person-detection.mp4", 79.0, 99.0),
    ("streets/car-detection.mp4", 0.0, 20.0),
]


def main() -> None:
    settings = ModelSettings(intra_op_threads=1)
    detector = load_detector(ModelPack.open(), "coco", settings)
    models = {"fight_clip": load_fight_clip_model(settings)}
    print("| video (5 fps) | frames | COCO pass | fight analyzer | fight / COCO |")
    for name, start, end in VIDEOS:
        camera = CameraConfig(id="bench", url=name, incident_types=["fight"], analytics_fps=CLIP_FPS)
        analyzer = create_analyzer(IncidentType.FIGHT, camera, Thresholds(), models)
        coco, fight = [], []
        for frame in sampled_video_frames(datasets_dir() / Path(name), CLIP_FPS):
            if frame.timestamp < start:
                continue
            if frame.timestamp >= end:
                break
            started = time.perf_counter()
            detections = detector.detect(frame.image)
            coco.append(time.perf_counter() - started)
            started = time.perf_counter()
            analyzer.update(AnalysisInput(frame, {"coco": detections}))
            fight.append(time.perf_counter() - started)
        c, f = np.median(coco) * 1e3, np.median(fight) * 1e3
        print(
            f"| `{name}` | {len(coco)} | {c:.0f} ms | {f:.0f} ms (p90 {np.percentile(fight, 90) * 1e3:.0f}) "
            f"| {f / c:.2f} |"
        )


if __name__ == "__main__":
    main()
