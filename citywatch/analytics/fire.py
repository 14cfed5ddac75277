"""Smoke and fire: detections that persist over sampled frames become one incident per episode."""

from collections import deque
from collections.abc import Mapping

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput, register_analyzer
from citywatch.analytics.zones import ZoneFilter
from citywatch.config import CameraConfig, FireThresholds, Thresholds
from citywatch.domain.incident import EvidenceBox, Incident, IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.triggers import PassSchedule

FIRE_ROLE = "fire_smoke"


def confident(detections: sv.Detections, settings: FireThresholds) -> np.ndarray:
    """Which boxes are confident enough to count: fire from `min_confidence`, smoke from its own."""
    names = detections.data.get("class_name", np.array([], str))
    minimum = np.where(names == "smoke", settings.smoke_min_confidence, settings.min_confidence)
    return np.asarray(detections.confidence >= minimum, bool)


def fire_schedules(settings: FireThresholds, fps: float) -> tuple[PassSchedule, ...]:
    """The smoke/fire pass of a camera analysing `fps` frames a second with `settings` (already at
    that rate, analytics.base.thresholds_at_frame_rate) on a schedule: every `check_every_s`, and
    at every frame for the persistence window's seconds after a box the analyzer might count (a
    `confident` one; zones and area are not looked at, which can only add passes);
    none when `check_every_s` is 0."""
    if settings.check_every_s == 0:
        return ()
    schedule = PassSchedule(
        role=FIRE_ROLE,
        every_frames=max(1, round(settings.check_every_s * fps)),
        every_s=settings.check_every_s,
        hold_s=settings.window_frames / settings.counted_at_fps,
        counts=lambda found: bool(len(found)) and bool(confident(found, settings).any()),
    )
    return (schedule,)


@register_analyzer(IncidentType.FIRE, roles=(FIRE_ROLE,))
class FireAnalyzer:
    """Raises `fire` (subtype `fire` or `smoke`) when smoke or fire is seen in `persist_frames` of
    the last `window_frames` sampled frames, once per episode.

    An episode lasts until nothing was seen for `clear_after_s`; then it ends (the incident gets its
    end time) and a later sighting is a new incident. Fire outranks smoke as the subtype: a
    sighting of flames in the window makes it `fire`. Box areas are kept so an operator can see
    whether it grows.
    """

    def __init__(self, camera: CameraConfig, thresholds: Thresholds, models: Mapping[str, object]) -> None:
        self._camera_id = camera.id
        self._settings = thresholds.fire
        self._zone_filter = ZoneFilter(camera.zones, IncidentType.FIRE)
        self._window: deque[sv.Detections] = deque(maxlen=self._settings.window_frames)
        self._open_incident: Incident | None = None
        self._last_seen_at: float | None = None

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        frame = analysis.frame
        detections = analysis.detections.get(FIRE_ROLE, sv.Detections.empty())
        if len(detections):
            area_fraction = detections.box_area / float(frame.width * frame.height)
            keep = confident(detections, self._settings) & (area_fraction <= self._settings.max_area_fraction)
            detections = detections[keep]
        detections = self._zone_filter(detections, frame.width, frame.height)
        self._window.append(detections)
        events: list[IncidentEvent] = []
        if len(detections):
            self._last_seen_at = frame.timestamp
        elif (
            self._open_incident is not None
            and self._last_seen_at is not None
            and frame.timestamp - self._last_seen_at >= self._settings.clear_after_s
        ):
            events.append(IncidentEnded(self._open_incident.id, self._camera_id, frame.timestamp))
            self._open_incident = None
        if self._open_incident is None and len(detections) and self._persists():
            self._open_incident = self._incident(analysis)
            events.append(IncidentRaised(self._open_incident))
        return events

    def _persists(self) -> bool:
        return sum(1 for d in self._window if len(d)) >= self._settings.persist_frames

    def _incident(self, analysis: AnalysisInput) -> Incident:
        frame = analysis.frame
        seen = [d for d in self._window if len(d)]
        names = np.concatenate([d.data["class_name"] for d in seen])
        confidences = np.concatenate([d.confidence for d in seen])
        subtype = "fire" if "fire" in names else "smoke"
        current = self._window[-1]
        frame_area = float(frame.width * frame.height)
        areas = [float(d.box_area.sum()) / frame_area for d in seen]
        return Incident(
            type=IncidentType.FIRE,
            subtype=subtype,
            camera_id=self._camera_id,
            started_at=frame.timestamp,
            confidence=float(confidences[names == subtype].max()),
            frame_index=frame.index,
            boxes=[
                EvidenceBox.of(xyxy, str(name), float(conf))
                for xyxy, name, conf in zip(
                    current.xyxy, current.data["class_name"], current.confidence, strict=True
                )
            ],
            details={
                "frames_seen": len(seen),
                "window_frames": self._settings.window_frames,
                "area_fraction_first": round(areas[0], 5),
                "area_fraction_last": round(areas[-1], 5),
            },
            frame=frame.image,
        )
