"""Falls: a person whose pose the fall classifier calls fallen, or whom the fall detector boxes.

Two kinds of evidence: the pose of a COCO person (MoveNet on the crop, then the fall-pose
classifier), and the boxes of our fall detector (perception.fall_detector), which finds people
lying on a floor that COCO misses.

In video a fall is a change, not a posture: a person track seen upright, then fallen within
`max_fall_s`, and still down `min_down_s` later raises one incident for that episode; the episode
ends when the person is upright again or the track is lost.

MoveNet is the costly part (a run per person and frame), so in video a person is posed only when
their box or track says they may be down or going down (`may_be_down`: a box not clearly taller
than wide, a box much shorter than when the track last stood, its top or centre dropping fast, a
fall-detector box over it, or a track already down or in a fall). Anyone else stands: their box
alone counts as an upright observation, as a pose classified upright in a box taller than wide
would (`pose_gate`, thresholds in FallThresholds). Someone already lying when first seen
(asleep on a bench) or sitting down slowly never was upright-then-fallen, so neither raises. The
fall detector's boxes go through the same rule as spots (analytics.fall_spots), since COCO loses
the track of most people once they lie down; a spot and a track of the same fall raise once.

A still image (`window_frames` 1, see `relaxed_for_single_frame`) has no past: a fall box at or
above `min_box_confidence` raises, and so does a person whose pose is fallen (every person box
counts there, COCO's and MoveNet's own, see `analytics.people`) when `still_image_pose` is on.
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput, register_analyzer
from citywatch.analytics.fall_spots import FallSpots
from citywatch.analytics.people import persons, still_image_poses
from citywatch.analytics.pose_features import pose_features
from citywatch.analytics.track_episodes import forget_unseen
from citywatch.analytics.zones import ZoneFilter
from citywatch.config import CameraConfig, FallThresholds, Thresholds
from citywatch.domain.incident import EvidenceBox, Incident, IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.fall_detector import FALL_ROLE
from citywatch.perception.feature_classifier import FeatureClassifier
from citywatch.perception.geometry import box_iou
from citywatch.perception.pose import PoseEstimator, Poses
from citywatch.perception.tracker import TRACKED_ROLE

SAME_FALL_IOU = 0.3
"""A fall-box spot and a person track whose evidence boxes overlap this much are one fall."""
FORGET_AFTER_S = 30.0
"""A track unseen this long is dropped (its open incident, if any, ends)."""


@dataclass(slots=True, eq=False)
class _TrackState:
    """What the temporal rule remembers about one person track."""

    track_id: int
    recent: deque[bool]
    last_seen: float
    last_upright_at: float | None = None
    fell_at: float | None = None
    incident: Incident | None = None
    upright_height: float | None = None
    """Box height when the track was last judged upright (pose or box)."""
    history: deque[tuple[float, float, float]] = field(default_factory=lambda: deque(maxlen=32))
    """(timestamp, box top, box centre y) of its recent frames, for `may_be_down`."""


def may_be_down(
    state: _TrackState, box: np.ndarray, now: float, fall_boxes: np.ndarray, settings: FallThresholds
) -> bool:
    """Whether a person track's `box` on this frame needs a pose: it may be down or going down, or
    the rule is following a fall of it (module doc). Otherwise the box alone says upright."""
    if state.incident is not None or state.fell_at is not None or any(state.recent):
        return True
    x1, y1, x2, y2 = (float(v) for v in box)
    height = y2 - y1
    if height < settings.gate_upright_min_aspect * (x2 - x1):
        return True
    standing = state.upright_height or height
    if height < settings.gate_shrink_fraction * standing:
        return True
    drop = settings.gate_drop_fraction * standing
    centre = (y1 + y2) / 2
    if any(
        now - at <= settings.gate_drop_s and (y1 - top > drop or centre - middle > drop)
        for at, top, middle in state.history
    ):
        return True
    return bool(len(fall_boxes)) and float(box_iou(box, fall_boxes).max()) >= settings.gate_fall_box_iou


def keypoint_details(poses: Poses, index: int) -> list[list[float]]:
    """[[x, y, score], ...] of one pose, rounded for the incident's JSON details."""
    return [
        [round(float(x), 1), round(float(y), 1), round(float(s), 3)]
        for (x, y), s in zip(poses.keypoints[index], poses.scores[index], strict=True)
    ]


@register_analyzer(IncidentType.FALL, roles=(TRACKED_ROLE, FALL_ROLE), models=("pose", "fall"))
class FallAnalyzer:
    def __init__(self, camera: CameraConfig, thresholds: Thresholds, models: Mapping[str, object]) -> None:
        missing = [name for name in ("pose", "fall") if name not in models]
        if missing:
            raise ValueError(f"camera {camera.id!r}: the fall analyzer needs second-stage models {missing}")
        self._pose = cast(PoseEstimator, models["pose"])
        self._classifier = cast(FeatureClassifier, models["fall"])
        self._camera_id = camera.id
        self._settings: FallThresholds = thresholds.fall
        self._zone_filter = ZoneFilter(camera.zones, IncidentType.FALL)
        self._tracks: dict[int, _TrackState] = {}
        self._spots = FallSpots(self._settings)
        self._spot_incidents: dict[int, Incident] = {}

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        if self._settings.window_frames == 1:
            return self._still_image(analysis)
        return self._video(analysis)

    def _in_zones(self, boxes: np.ndarray, analysis: AnalysisInput) -> np.ndarray:
        """Which of `boxes` lie in the camera's fall zones (all when it has none)."""
        if len(boxes) == 0:
            return np.zeros(0, bool)
        indexed = sv.Detections(xyxy=boxes.astype(np.float32), class_id=np.arange(len(boxes)))
        kept = self._zone_filter(indexed, analysis.frame.width, analysis.frame.height)
        return np.isin(np.arange(len(boxes)), kept.class_id)

    def _fall_boxes(self, analysis: AnalysisInput) -> sv.Detections:
        """The fall detector's boxes at or above `min_box_confidence`, in the fall zones."""
        found = analysis.detections.get(FALL_ROLE, sv.Detections.empty())
        if len(found) == 0:
            return found
        found = found[found.confidence >= self._settings.min_box_confidence]
        return found[self._in_zones(found.xyxy, analysis)] if len(found) else found

    def _still_image(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        settings = self._settings
        boxes = self._fall_boxes(analysis)
        evidence = [
            EvidenceBox.of(box, "fallen person", float(confidence))
            for box, confidence in zip(boxes.xyxy, boxes.confidence, strict=True)
        ]
        details: dict[str, object] = {"fall_boxes": len(evidence)}
        if settings.still_image_pose:
            poses = still_image_poses(
                analysis.frame.image,
                analysis.detections.get(TRACKED_ROLE, sv.Detections.empty()),
                self._pose,
                settings.min_person_confidence,
                settings.min_frame_pose_confidence,
            )
            probability = self._classifier.probability(pose_features(poses))
            fallen = np.flatnonzero(
                (probability >= settings.min_probability) & self._in_zones(poses.boxes, analysis)
            )
            evidence += [EvidenceBox.of(poses.boxes[i], "fallen pose", float(probability[i])) for i in fallen]
            details["keypoints"] = [keypoint_details(poses, int(i)) for i in fallen]
        if not evidence:
            return []
        return [IncidentRaised(self._new_incident(analysis, evidence, details))]

    def _video(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        settings, now = self._settings, analysis.frame.timestamp
        tracks = analysis.tracks if analysis.tracks is not None else sv.Detections.empty()
        people = persons(tracks, settings.min_person_confidence)
        if len(people):
            people = people[self._in_zones(people.xyxy, analysis)]
        boxes = people.xyxy.astype(np.float32)
        states = [
            self._tracks.setdefault(int(t), _TrackState(int(t), deque(maxlen=settings.window_frames), now))
            for t in (people.tracker_id if len(people) else [])
        ]
        fall_boxes = analysis.detections.get(FALL_ROLE, sv.Detections.empty()).xyxy.astype(np.float32)
        posed = np.array(
            [
                not settings.pose_gate or may_be_down(state, box, now, fall_boxes, settings)
                for state, box in zip(states, boxes, strict=True)
            ],
            bool,
        )
        poses = self._pose.estimate(analysis.frame.image, boxes[posed])
        probability = self._classifier.probability(pose_features(poses))
        pose_index = np.cumsum(posed) - 1
        events: list[IncidentEvent] = []
        for index, (state, box) in enumerate(zip(states, boxes, strict=True)):
            if posed[index]:
                event = self._observe(state, analysis, poses, probability, int(pose_index[index]))
                if event is not None:
                    events.append(event)
            else:
                state.recent.append(False)
                state.last_seen = state.last_upright_at = now
                state.upright_height = float(box[3] - box[1])
            state.history.append((now, float(box[1]), float(box[1] + box[3]) / 2))
        events.extend(self._spot_events(analysis, boxes))
        events.extend(forget_unseen(self._tracks, now, FORGET_AFTER_S, self._camera_id))
        return events

    def _spot_events(self, analysis: AnalysisInput, person_boxes: np.ndarray) -> list[IncidentEvent]:
        """The fall detector's boxes through the spot rule; a spot over an open track incident (or
        the other way round, see `_observe`) is the same fall and raises nothing more."""
        now, fall = analysis.frame.timestamp, self._fall_boxes(analysis)
        update = self._spots.update(now, fall.xyxy.astype(np.float32), fall.confidence, person_boxes)
        events: list[IncidentEvent] = []
        for spot in update.raised:
            if self._overlaps_open_incident(spot.box, [s.incident for s in self._tracks.values()]):
                continue
            details = {
                "fell_at": spot.first_seen,
                "down_s": round(now - spot.first_seen, 2),
                "evidence": "fall boxes",
            }
            evidence = [EvidenceBox.of(spot.box, "fallen person", spot.confidence)]
            incident = self._new_incident(analysis, evidence, details)
            self._spot_incidents[id(spot)] = incident
            events.append(IncidentRaised(incident))
        for spot in update.ended:
            incident = self._spot_incidents.pop(id(spot), None)
            if incident is not None:
                events.append(IncidentEnded(incident.id, self._camera_id, now))
        return events

    @staticmethod
    def _overlaps_open_incident(box: np.ndarray, incidents: list[Incident | None]) -> bool:
        boxes = [b.xyxy for i in incidents if i is not None for b in i.boxes]
        return bool(boxes) and float(box_iou(box, np.asarray(boxes, np.float32)).max()) >= SAME_FALL_IOU

    def _observe(
        self, state: _TrackState, analysis: AnalysisInput, poses: Poses, probability: np.ndarray, index: int
    ) -> IncidentEvent | None:
        """One pose of one track through the rule; the event it causes, if any."""
        settings, now = self._settings, analysis.frame.timestamp
        x1, y1, x2, y2 = poses.boxes[index]
        fallen = bool(probability[index] >= settings.min_probability)
        upright = bool(probability[index] < settings.upright_max_probability and (y2 - y1) > (x2 - x1))
        state.recent.append(fallen)
        state.last_seen = now
        if upright:
            state.last_upright_at, state.fell_at, state.upright_height = now, None, float(y2 - y1)
            if state.incident is not None:
                ended, state.incident = state.incident, None
                return IncidentEnded(ended.id, self._camera_id, now)
            return None
        if not any(state.recent):
            state.fell_at = None
        elif fallen and state.fell_at is None:
            state.fell_at = now
        down = sum(state.recent) >= settings.persist_frames
        if (
            state.incident is None
            and not self._overlaps_open_incident(poses.boxes[index], list(self._spot_incidents.values()))
            and down
            and state.fell_at is not None
            and state.last_upright_at is not None
            and state.fell_at - state.last_upright_at <= settings.max_fall_s
            and now - state.fell_at >= settings.min_down_s
        ):
            details = {
                "track_id": state.track_id,
                "fell_at": state.fell_at,
                "down_s": round(now - state.fell_at, 2),
            }
            state.incident = self._incident(analysis, poses, probability, np.array([index]), details)
            return IncidentRaised(state.incident)
        return None

    def _incident(
        self,
        analysis: AnalysisInput,
        poses: Poses,
        probability: np.ndarray,
        people: np.ndarray,
        details: dict[str, object],
    ) -> Incident:
        evidence = [EvidenceBox.of(poses.boxes[i], "fallen person", float(probability[i])) for i in people]
        keypoints = [keypoint_details(poses, int(i)) for i in people]
        return self._new_incident(analysis, evidence, {**details, "keypoints": keypoints})

    def _new_incident(
        self, analysis: AnalysisInput, evidence: list[EvidenceBox], details: dict[str, object]
    ) -> Incident:
        frame = analysis.frame
        return Incident(
            type=IncidentType.FALL,
            camera_id=self._camera_id,
            started_at=frame.timestamp,
            confidence=max(b.confidence for b in evidence),
            frame_index=frame.index,
            boxes=evidence,
            details=details,
            frame=frame.image,
        )
