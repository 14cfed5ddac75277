"""No helmet: a motorcycle rider whose head the helmet classifier keeps judging bare.

A rider is a person whose lower half lies on a motorcycle box (see RIDDEN_CLASSES) and who,
while tracked, moves with that motorcycle (passengers are riders too). The head is estimated
from the top of the person box (perception.helmet.person_head_boxes); riders whose head is under
`min_head_px` are too far away to judge. Each judged frame adds the head's no-helmet probability
to the rider track's recent judgements, and a track raises one incident in its life, when
`persist_frames` of its last `window_frames` judgements say no helmet with a mean probability of
at least `min_probability`.
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import supervision as sv

from citywatch.analytics.base import (
    AnalysisInput,
    IncidentEnded,
    IncidentEvent,
    IncidentRaised,
    register_analyzer,
)
from citywatch.analytics.zones import ZoneFilter
from citywatch.config import CameraConfig, Thresholds
from citywatch.incidents.model import EvidenceBox, Incident, IncidentType
from citywatch.perception.helmet import (
    HEAD_SIDE,
    NO_HELMET,
    HelmetClassifier,
    crop_boxes,
    person_head_boxes,
)
from citywatch.perception.tracker import TRACKED_ROLE

HELMET_MODEL = "helmet"
RIDDEN_CLASSES = ("motorcycle", "bicycle")
"""COCO classes a rider sits on. The COCO model calls small, distant scooters `bicycle` on Thai
street CCTV (seen on helmet_th), and a rider on one is then only found this way."""
MAX_DRIFT = 0.25
"""Most a rider's centre may move relative to its motorcycle's between two analysed frames, in
person heights: a pedestrian walking past a parked motorcycle drifts more than this."""
FORGET_AFTER_S = 10.0
"""A track unseen this long is over: its incident ends and its state is dropped."""
UNTRACKED = -1


def lower_half_overlap(person_xyxy: np.ndarray, vehicle_xyxy: np.ndarray) -> np.ndarray:
    """[P, V] share of each person box's lower half that lies inside each vehicle box."""
    lower = np.asarray(person_xyxy, dtype=np.float32).reshape(-1, 4).copy()
    lower[:, 1] = (lower[:, 1] + lower[:, 3]) / 2
    vehicles = np.asarray(vehicle_xyxy, dtype=np.float32).reshape(-1, 4)
    width = np.minimum(lower[:, None, 2], vehicles[None, :, 2]) - np.maximum(
        lower[:, None, 0], vehicles[None, :, 0]
    )
    height = np.minimum(lower[:, None, 3], vehicles[None, :, 3]) - np.maximum(
        lower[:, None, 1], vehicles[None, :, 1]
    )
    area = (lower[:, 2] - lower[:, 0]) * (lower[:, 3] - lower[:, 1])
    return np.clip(width, 0, None) * np.clip(height, 0, None) / np.maximum(area, 1e-6)[:, None]


def track_ids(detections: sv.Detections, tracks: sv.Detections | None) -> np.ndarray:
    """Each detection's tracker id (UNTRACKED if not a confirmed track): the tracker hands back the
    detections' own boxes, so the best-overlapping track is the same object."""
    ids = np.full(len(detections), UNTRACKED, dtype=int)
    if tracks is None or len(tracks) == 0 or len(detections) == 0:
        return ids
    iou = sv.box_iou_batch(detections.xyxy, tracks.xyxy)
    best = iou.argmax(axis=1)
    matched = iou[np.arange(len(detections)), best] >= 0.9
    ids[matched] = tracks.tracker_id[best[matched]]
    return ids


@dataclass(slots=True)
class _RiderTrack:
    motorcycle_id: int
    offset: np.ndarray
    """Rider centre minus motorcycle centre, in rider heights, at the last sighting."""
    last_seen: float
    judgements: deque[float] = field(default_factory=deque)
    incident: Incident | None = None


@dataclass(frozen=True, slots=True)
class _Rider:
    """A rider seen in this frame: indices into the frame's persons and motorcycles."""

    person: int
    motorcycle: int
    track_id: int


@register_analyzer(IncidentType.NO_HELMET, roles=(TRACKED_ROLE,), models=(HELMET_MODEL,))
class NoHelmetAnalyzer:
    """One `no_helmet` incident per rider track (see the module docstring).

    A person not (yet) confirmed as a track is judged only when a single judgement is enough
    (`window_frames` 1, as for a still image): ByteTrack confirms a track from its second frame.
    """

    def __init__(self, camera: CameraConfig, thresholds: Thresholds, models: Mapping[str, object]) -> None:
        classifier = models.get(HELMET_MODEL)
        if classifier is None:
            raise ValueError(f"camera {camera.id!r}: no_helmet needs the {HELMET_MODEL!r} second-stage model")
        self._classifier = cast(HelmetClassifier, classifier)
        self._camera_id = camera.id
        self._settings = thresholds.no_helmet
        self._zone_filter = ZoneFilter(camera.zones, IncidentType.NO_HELMET)
        self._judge_untracked = self._settings.window_frames == 1
        self._tracks: dict[int, _RiderTrack] = {}

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        frame = analysis.frame
        coco = analysis.detections.get(TRACKED_ROLE, sv.Detections.empty())
        ids = track_ids(coco, analysis.tracks)
        names = coco.data.get("class_name", np.empty(0, dtype=str))
        persons = coco[names == "person"]
        persons.tracker_id = ids[names == "person"]
        persons = self._zone_filter(persons, frame.width, frame.height)
        ridden = np.isin(names, RIDDEN_CLASSES)
        motorcycles = coco[ridden]
        motorcycle_ids = ids[ridden]
        riders = self._riders(persons, motorcycles, motorcycle_ids, frame.timestamp)
        events: list[IncidentEvent] = []
        if riders:
            heads = person_head_boxes(persons.xyxy[[r.person for r in riders]])
            _, probabilities = self._classifier.classify(frame.image, heads)
            for rider, head, probability in zip(riders, heads, probabilities[:, NO_HELMET], strict=True):
                incident = self._judge(rider, float(probability), head, persons, motorcycles, analysis)
                if incident is not None:
                    events.append(IncidentRaised(incident))
        events.extend(self._forget(frame.timestamp))
        return events

    def _riders(
        self, persons: sv.Detections, motorcycles: sv.Detections, motorcycle_ids: np.ndarray, now: float
    ) -> list[_Rider]:
        """Persons on a motorcycle (moving with it, if tracked) whose head is big enough to judge."""
        if len(persons) == 0 or len(motorcycles) == 0:
            return []
        overlap = lower_half_overlap(persons.xyxy, motorcycles.xyxy)
        heights = persons.xyxy[:, 3] - persons.xyxy[:, 1]
        riders = []
        for index in np.flatnonzero(overlap.max(axis=1) >= self._settings.min_rider_overlap):
            moto = int(overlap[index].argmax())
            track_id = int(persons.tracker_id[index])
            if track_id == UNTRACKED and not self._judge_untracked:
                continue
            if track_id != UNTRACKED and not self._moves_with(
                track_id, int(motorcycle_ids[moto]), persons.xyxy[index], motorcycles.xyxy[moto], now
            ):
                continue
            if HEAD_SIDE * heights[index] >= self._settings.min_head_px:
                riders.append(_Rider(int(index), moto, track_id))
        return riders

    def _moves_with(
        self, track_id: int, motorcycle_id: int, person_xyxy: np.ndarray, moto_xyxy: np.ndarray, now: float
    ) -> bool:
        """Records where the rider sits on its motorcycle; False when it drifted off since last time."""
        height = max(float(person_xyxy[3] - person_xyxy[1]), 1.0)
        offset = ((person_xyxy[:2] + person_xyxy[2:]) - (moto_xyxy[:2] + moto_xyxy[2:])) / (2 * height)
        state = self._tracks.get(track_id)
        if state is None:
            state = _RiderTrack(motorcycle_id, offset, now, deque(maxlen=self._settings.window_frames))
            self._tracks[track_id] = state
            return True
        same = motorcycle_id != UNTRACKED and motorcycle_id == state.motorcycle_id
        drift = float(np.abs(offset - state.offset).max())
        state.motorcycle_id, state.offset, state.last_seen = motorcycle_id, offset, now
        return not same or drift <= MAX_DRIFT

    def _judge(
        self,
        rider: _Rider,
        probability: float,
        head: np.ndarray,
        persons: sv.Detections,
        motorcycles: sv.Detections,
        analysis: AnalysisInput,
    ) -> Incident | None:
        """Adds a judgement to the rider's track; the incident when it is the one that tips it."""
        if rider.track_id == UNTRACKED:
            judgements = [probability]
        else:
            state = self._tracks[rider.track_id]
            if state.incident is not None:
                return None
            state.judgements.append(probability)
            judgements = list(state.judgements)
        bare = [p for p in judgements if p >= 0.5]
        if len(bare) < self._settings.persist_frames or np.mean(bare) < self._settings.min_probability:
            return None
        incident = self._incident(
            rider, float(np.mean(bare)), len(judgements), head, persons, motorcycles, analysis
        )
        if rider.track_id != UNTRACKED:
            self._tracks[rider.track_id].incident = incident
        return incident

    def _incident(
        self,
        rider: _Rider,
        confidence: float,
        judged: int,
        head: np.ndarray,
        persons: sv.Detections,
        motorcycles: sv.Detections,
        analysis: AnalysisInput,
    ) -> Incident:
        frame = analysis.frame
        crop = crop_boxes(head)[0]
        return Incident(
            type=IncidentType.NO_HELMET,
            camera_id=self._camera_id,
            started_at=frame.timestamp,
            confidence=confidence,
            frame_index=frame.index,
            boxes=[
                EvidenceBox(_box(crop), "head (no helmet)", confidence),
                EvidenceBox(
                    _box(persons.xyxy[rider.person]), "rider", float(persons.confidence[rider.person])
                ),
                EvidenceBox(
                    _box(motorcycles.xyxy[rider.motorcycle]),
                    str(motorcycles.data["class_name"][rider.motorcycle]),
                    float(motorcycles.confidence[rider.motorcycle]),
                ),
            ],
            details={
                "rider_track_id": rider.track_id,
                "head_px": round(float(head[2] - head[0]), 1),
                "judgements": judged,
                "window_frames": self._settings.window_frames,
            },
            frame=frame.image,
        )

    def _forget(self, now: float) -> list[IncidentEvent]:
        """Drops tracks unseen for FORGET_AFTER_S; their incidents end when they were last seen."""
        events: list[IncidentEvent] = []
        for track_id in [t for t, s in self._tracks.items() if now - s.last_seen >= FORGET_AFTER_S]:
            state = self._tracks.pop(track_id)
            if state.incident is not None:
                events.append(IncidentEnded(state.incident.id, self._camera_id, state.last_seen))
        return events


def _box(xyxy: np.ndarray) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    return (x1, y1, x2, y2)
