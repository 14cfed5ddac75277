"""Runs the real cascade (MediaAnalyzer) on every labelled item, in this process or in workers.

Each worker process loads the models once and then takes items one by one; results come back in
the order of labels.csv whatever the order they finish in.
"""

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from citywatch.config import CitywatchConfig
from citywatch.domain.incident_types import IncidentType
from citywatch.evaluation.labels import LabelledItem
from citywatch.perception.detectors import load_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.second_stage import load_second_stage
from citywatch.runtime.media_analysis import MediaAnalyzer, MediaError, required_models, required_roles

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: LabelledItem
    found: dict[IncidentType, float] = field(default_factory=dict)
    """Each incident type raised on the item, with the best confidence among its incidents."""
    seconds: float = 0.0
    error: str | None = None
    """Why the file could not be read; such an item is a failure and is left out of the scores."""
    incidents: dict[IncidentType, list[float]] = field(default_factory=dict)
    """The confidence of every incident raised, by type (false alarms per hour count these)."""
    media_seconds: float = 0.0
    """Footage analysed: first to last analysed frame of a video (0 for a still image)."""


def build_analyzer(config: CitywatchConfig, types: set[IncidentType], fps: float) -> MediaAnalyzer:
    """The cascade for `types` with the config's model pack and thresholds, models verified and loaded."""
    pack = ModelPack.open(config.models.path)
    detectors = {role: load_detector(pack, role, config.models) for role in required_roles(types)}
    models = {name: load_second_stage(name, config.models) for name in required_models(types)}
    return MediaAnalyzer(detectors, types, config.thresholds, analytics_fps=fps, models=models)


def analyse_item(analyzer: MediaAnalyzer, folder: Path, item: LabelledItem) -> ItemResult:
    started = time.perf_counter()
    try:
        report = analyzer.analyse(folder / item.file)
    except MediaError as exc:
        return ItemResult(item, seconds=time.perf_counter() - started, error=str(exc))
    except Exception as exc:  # a bug on one item: listed as a failure with its cause, the run goes on
        log.exception("%s: the analysis raised", item.file)
        error = f"{folder / item.file}: the analysis raised {type(exc).__name__}: {exc}"
        return ItemResult(item, seconds=time.perf_counter() - started, error=error)
    incidents: dict[IncidentType, list[float]] = {}
    for incident in report.incidents:
        incidents.setdefault(incident.type, []).append(float(incident.confidence))
    found = {t: max(confidences) for t, confidences in incidents.items()}
    stamps = [f.frame.timestamp for f in report.frames]
    media_seconds = max(stamps) - min(stamps) if len(stamps) > 1 else 0.0
    seconds = time.perf_counter() - started
    return ItemResult(item, found, seconds, incidents=incidents, media_seconds=media_seconds)


_worker_analyzer: MediaAnalyzer | None = None


def _init_worker(config: CitywatchConfig, types: set[IncidentType], fps: float) -> None:
    global _worker_analyzer
    _worker_analyzer = build_analyzer(config, types, fps)


def _work(folder: Path, item: LabelledItem) -> ItemResult:
    assert _worker_analyzer is not None, "worker not initialised"
    return analyse_item(_worker_analyzer, folder, item)


def run_items(
    config: CitywatchConfig,
    folder: Path,
    items: Sequence[LabelledItem],
    types: set[IncidentType],
    fps: float = 2.0,
    workers: int = 1,
) -> Iterator[ItemResult]:
    """Results in the order of `items`. With `workers` > 1, that many processes (spawned, so ONNX
    Runtime never sees a forked session) share the items; each ONNX session then gets one thread
    unless the config sets `models.intra_op_threads`."""
    if workers <= 1:
        analyzer = build_analyzer(config, types, fps)
        yield from (analyse_item(analyzer, folder, item) for item in items)
        return
    if config.models.intra_op_threads == 0:
        config = config.model_copy(
            update={"models": config.models.model_copy(update={"intra_op_threads": 1})}
        )
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(config, types, fps),
    ) as pool:
        yield from pool.map(_work, [folder] * len(items), items)
