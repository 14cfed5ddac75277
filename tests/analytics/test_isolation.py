"""An analyzer that raises on one camera: reset, counted, logged once then rate-limited, reported as
failing when it repeats; the frame raises nothing and the next frames are analysed from a clean state."""

import logging

import numpy as np
import pytest
import supervision as sv

from citywatch.analytics.base import AnalysisInput
from citywatch.analytics.isolation import FAILING_WINDOW_S, LOG_EVERY_S, IsolatedAnalyzer
from citywatch.domain.incident import IncidentEvent
from citywatch.domain.incident_types import IncidentType
from citywatch.video.frame import Frame


class Spots:
    """Remembers every frame it saw; chokes once it holds three (the kind of state that broke FallSpots)."""

    incident_type = IncidentType.FALL
    roles = ("fall",)
    made = 0

    def __init__(self) -> None:
        Spots.made += 1
        self.seen: list[int] = []

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        self.seen.append(analysis.frame.index)
        if len(self.seen) == 3:
            raise ValueError("The truth value of an array with more than one element is ambiguous")
        return []


def frame(index: int) -> AnalysisInput:
    image = np.zeros((4, 4, 3), np.uint8)
    return AnalysisInput(Frame("cam01", index, float(index), image), {"fall": sv.Detections.empty()}, None)


def test_a_failure_resets_the_analyzer_and_is_counted(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    Spots.made = 0
    isolated = IsolatedAnalyzer("cam01", IncidentType.FALL, Spots, clock=lambda: now[0])
    with caplog.at_level(logging.ERROR, logger="citywatch.analytics.isolation"):
        for index in range(12):  # fails on frames 2, 5, 8, 11: every third after each reset
            assert isolated.update(frame(index)) == []
            now[0] += 1
    assert isolated.health.failures == 4 and Spots.made == 5
    assert "ValueError: The truth value" in (isolated.health.last_error or "")
    assert isolated.health.failing(now[0])
    assert not isolated.health.failing(now[0] + FAILING_WINDOW_S + 1)
    logged = [r for r in caplog.records if "analyzer failed" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None  # once with the traceback
    now[0] += LOG_EVERY_S
    with caplog.at_level(logging.ERROR, logger="citywatch.analytics.isolation"):
        for index in range(12, 15):
            isolated.update(frame(index))
    assert (
        "failed 4 more times since it was last logged" in caplog.records[-1].getMessage()
    )  # 3 unlogged + this


def test_one_failure_is_not_yet_failing() -> None:
    isolated = IsolatedAnalyzer("cam01", IncidentType.FALL, Spots, clock=lambda: 5.0)
    for index in range(3):
        isolated.update(frame(index))
    assert isolated.health.failures == 1 and not isolated.health.failing(5.0)
