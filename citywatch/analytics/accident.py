"""Traffic accidents (`accident`, subtypes `collision` and `rider_down`) from vehicle and person
boxes: rules with per-camera thresholds, no trained model (the only accident data at hand has no
license, so it is used to measure and tune these thresholds, never to train weights).

Video (tracks of the `coco` role, see `vehicle_motion`):
- collision: two vehicle tracks whose boxes meet (share of the smaller box inside the other, at the
  same depth, of comparable size, not one vehicle named twice) in `persist_frames` of the last
  `window_frames` frames, while one of them stopped or turned abruptly within `motion_window_s`.
  Cars passing close in adjacent lanes meet without any abrupt change: nothing is raised.
- rider_down: a motorcycle or bicycle track lying on its side (box much wider than tall, no
  upright rider on it), or a person track lying (box wider than tall, and the fall classifier's
  pose probability when pose models are loaded) next to a vehicle, in `persist_frames` of the last
  `window_frames` frames.
- gathering (subtype collision): a vehicle that stopped abruptly and stays stopped, with at least
  `gathering_min_people` person tracks that walked towards it and now stand around it.

Still images (`window_frames` 1, see `relaxed_for_single_frame`) have no motion: vehicles that
meet, a two-wheeler on its side, a person lying next to a vehicle, and (if enabled) a vehicle the
detector names twice at once, decide.

One incident per episode per set of involved tracks: while any involved track belongs to an open
incident, no other incident is raised for it; the episode ends when all its tracks have been
unseen for `clear_after_s`.
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput, register_analyzer
from citywatch.analytics.pose_features import pose_features
from citywatch.analytics.vehicle_motion import (
    TrackMotion,
    aspect,
    box_gap,
    box_size,
    pair_geometry,
)
from citywatch.analytics.zones import ZoneFilter
from citywatch.config import AccidentThresholds, CameraConfig, Thresholds
from citywatch.domain.incident import EvidenceBox, Incident, IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.feature_classifier import FeatureClassifier
from citywatch.perception.pose import PoseEstimator
from citywatch.perception.tracker import TRACKED_ROLE

VEHICLES = ("car", "motorcycle", "bus", "truck", "bicycle")
TWO_WHEELERS = ("motorcycle", "bicycle")
PERSON = "person"
RIDER_OVERLAP = 0.3
"""Share of a person box's lower half on a two-wheeler that makes the person its rider."""
GATHERING_HISTORY_S = 30.0
"""How far back a person's path is kept to see whether they walked towards a stopped vehicle."""
STOP_MEMORY_S = 120.0
"""How long after an abrupt stop a still-stopped vehicle can gather people into an incident."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One accident cue in one frame: indices into the frame's vehicles and persons."""

    subtype: str
    rule: str
    vehicles: tuple[int, ...]
    persons: tuple[int, ...] = ()
    confidence: float = 0.0


@dataclass(slots=True, eq=False)
class _Episode:
    incident: Incident
    tracks: frozenset[int]


@dataclass(slots=True, eq=False)
class _State:
    """What the video rules remember of one camera."""

    frame_count: int = 0
    motions: dict[int, TrackMotion] = field(default_factory=dict)
    abrupt_at: dict[int, tuple[float, str]] = field(default_factory=dict)
    stopped_since: dict[int, float] = field(default_factory=dict)
    hits: dict[tuple, deque[tuple[int, float]]] = field(default_factory=dict)
    """Cue key (rule, track ids) -> (frame number, timestamp) of the frames it was seen in."""
    episodes: list[_Episode] = field(default_factory=list)


def _split(detections: sv.Detections, settings: AccidentThresholds) -> tuple[sv.Detections, sv.Detections]:
    """(vehicles, persons) above their confidence thresholds."""
    if len(detections) == 0:
        return detections, detections
    names = detections.data["class_name"]
    vehicles = detections[
        np.isin(names, VEHICLES) & (detections.confidence >= settings.min_vehicle_confidence)
    ]
    persons = detections[(names == PERSON) & (detections.confidence >= settings.min_person_confidence)]
    return vehicles, persons


def meeting_pairs(vehicles: sv.Detections, settings: AccidentThresholds) -> list[tuple[int, int]]:
    """Index pairs of vehicles whose boxes meet (see the module docstring)."""
    pairs = []
    for i in range(len(vehicles)):
        for j in range(i + 1, len(vehicles)):
            g = pair_geometry(vehicles.xyxy[i], vehicles.xyxy[j])
            if (
                g.iou < settings.duplicate_iou
                and g.overlap >= settings.collision_min_overlap
                and g.depth_gap <= settings.max_depth_gap
                and g.size_ratio >= settings.min_size_ratio
            ):
                pairs.append((i, j))
    return pairs


def ambiguous_vehicles(vehicles: sv.Detections, settings: AccidentThresholds) -> list[tuple[int, int]]:
    """Index pairs of boxes over the same vehicle with two different class names."""
    names = vehicles.data["class_name"] if len(vehicles) else []
    pairs = []
    for i in range(len(vehicles)):
        for j in range(i + 1, len(vehicles)):
            if (
                names[i] != names[j]
                and pair_geometry(vehicles.xyxy[i], vehicles.xyxy[j]).iou >= settings.duplicate_iou
            ):
                pairs.append((i, j))
    return pairs


def _has_upright_rider(moto: np.ndarray, persons: sv.Detections) -> bool:
    for box in persons.xyxy:
        lower = box.copy()
        lower[1] = (box[1] + box[3]) / 2
        inside = box_gap(lower, moto) == 0 and pair_geometry(lower, moto).overlap >= RIDER_OVERLAP
        if inside and (box[3] - box[1]) > (box[2] - box[0]):
            return True
    return False


def lying_two_wheelers(
    vehicles: sv.Detections, persons: sv.Detections, settings: AccidentThresholds
) -> list[int]:
    """Motorcycles and bicycles on their side: box much wider than tall, no upright rider on it."""
    if len(vehicles) == 0:
        return []
    wide = aspect(vehicles.xyxy) >= settings.motorcycle_lying_aspect
    two = np.isin(vehicles.data["class_name"], TWO_WHEELERS)
    return [int(i) for i in np.flatnonzero(wide & two) if not _has_upright_rider(vehicles.xyxy[i], persons)]


def lying_people_near_vehicles(
    vehicles: sv.Detections, persons: sv.Detections, settings: AccidentThresholds
) -> list[tuple[int, int]]:
    """(person, nearest vehicle) of people whose box is wider than tall next to a vehicle."""
    if len(vehicles) == 0 or len(persons) == 0:
        return []
    found = []
    sizes = box_size(vehicles.xyxy)
    for p in np.flatnonzero(aspect(persons.xyxy) >= settings.person_lying_aspect):
        gaps = np.array([box_gap(persons.xyxy[p], v) for v in vehicles.xyxy]) / sizes
        nearest = int(gaps.argmin())
        if gaps[nearest] <= settings.near_distance:
            found.append((int(p), nearest))
    return found


@register_analyzer(IncidentType.ACCIDENT, roles=(TRACKED_ROLE,), models=("pose", "fall"))
class AccidentAnalyzer:
    """`accident` incidents from vehicle and person tracks (see the module docstring).

    The pose models are optional: without them a lying person is judged by box aspect alone.
    """

    def __init__(self, camera: CameraConfig, thresholds: Thresholds, models: Mapping[str, object]) -> None:
        self._camera_id = camera.id
        self._settings = thresholds.accident
        self._zone_filter = ZoneFilter(camera.zones, IncidentType.ACCIDENT)
        pose, fall = models.get("pose"), models.get("fall")
        self._pose = cast(PoseEstimator, pose) if pose is not None and fall is not None else None
        self._fall = cast(FeatureClassifier, fall) if pose is not None and fall is not None else None
        self._state = _State()

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        if self._settings.window_frames == 1:
            return self._still_image(analysis)
        return self._video(analysis)

    # --- cues shared by both paths -------------------------------------------------------------

    def _objects(
        self, detections: sv.Detections, analysis: AnalysisInput
    ) -> tuple[sv.Detections, sv.Detections]:
        vehicles, persons = _split(detections, self._settings)
        width, height = analysis.frame.width, analysis.frame.height
        return self._zone_filter(vehicles, width, height), self._zone_filter(persons, width, height)

    def _fall_probability(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """P(fallen) of the people in `boxes` by pose, or 1 where no pose models are loaded."""
        if (
            self._pose is None
            or self._fall is None
            or self._settings.min_fall_probability <= 0
            or len(boxes) == 0
        ):
            return np.ones(len(boxes), np.float32)
        poses = self._pose.estimate(image, boxes.astype(np.float32))
        return self._fall.probability(pose_features(poses))

    def _rider_down(
        self, analysis: AnalysisInput, vehicles: sv.Detections, persons: sv.Detections
    ) -> list[Finding]:
        settings = self._settings
        findings = [
            Finding("rider_down", "two_wheeler_on_its_side", (i,), (), float(vehicles.confidence[i]))
            for i in lying_two_wheelers(vehicles, persons, settings)
        ]
        lying = lying_people_near_vehicles(vehicles, persons, settings)
        if lying:
            boxes = persons.xyxy[[p for p, _ in lying]]
            probability = self._fall_probability(analysis.frame.image, boxes)
            for (p, v), prob in zip(lying, probability, strict=True):
                if prob >= settings.min_fall_probability:
                    subtype = "rider_down" if vehicles.data["class_name"][v] in TWO_WHEELERS else "collision"
                    confidence = float(persons.confidence[p]) * (
                        float(prob) if self._pose is not None else 1.0
                    )
                    findings.append(Finding(subtype, "person_lying_by_vehicle", (v,), (p,), confidence))
        return findings

    # --- still images ----------------------------------------------------------------------------

    def _still_image(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        settings = self._settings
        vehicles, persons = self._objects(
            analysis.detections.get(TRACKED_ROLE, sv.Detections.empty()), analysis
        )
        findings = self._rider_down(analysis, vehicles, persons)
        for i, j in meeting_pairs(vehicles, settings):
            confidence = float(min(vehicles.confidence[i], vehicles.confidence[j]))
            findings.append(Finding("collision", "vehicles_meet", (i, j), (), confidence))
        if settings.still_ambiguous_vehicle:
            for i, j in ambiguous_vehicles(vehicles, settings):
                confidence = float(max(vehicles.confidence[i], vehicles.confidence[j]))
                findings.append(Finding("collision", "vehicle_named_twice", (i, j), (), confidence))
        events: list[IncidentEvent] = []
        used: set[int] = set()
        for finding in findings:
            if used.intersection(finding.vehicles):
                continue
            used.update(finding.vehicles)
            incident = self._incident(analysis, finding, vehicles, persons, {})
            events.append(IncidentRaised(incident))
        return events

    # --- video -----------------------------------------------------------------------------------

    def _video(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        settings, state, frame = self._settings, self._state, analysis.frame
        now = frame.timestamp
        state.frame_count += 1
        tracks = analysis.tracks if analysis.tracks is not None else sv.Detections.empty()
        vehicles, persons = self._objects(tracks, analysis)
        vehicle_ids = [int(t) for t in vehicles.tracker_id] if len(vehicles) else []
        person_ids = [int(t) for t in persons.tracker_id] if len(persons) else []
        history = max(settings.motion_window_s * 2, GATHERING_HISTORY_S)
        for objects, ids in ((vehicles, vehicle_ids), (persons, person_ids)):
            for box, track_id in zip(objects.xyxy, ids, strict=True):
                motion = state.motions.setdefault(track_id, TrackMotion(history))
                motion.add(now, box, frame.width, frame.height)
        for track_id in vehicle_ids:
            self._vehicle_motion(track_id, now)

        candidates: list[tuple[tuple, Finding, bool]] = []
        """(cue key, finding, whether an involved vehicle must have stopped or turned abruptly)."""
        for i, j in meeting_pairs(vehicles, settings):
            key = ("meet", *sorted((vehicle_ids[i], vehicle_ids[j])))
            confidence = float(min(vehicles.confidence[i], vehicles.confidence[j]))
            candidates.append((key, Finding("collision", "vehicles_meet", (i, j), (), confidence), True))
        for finding in self._rider_down(analysis, vehicles, persons):
            ids = tuple(vehicle_ids[v] for v in finding.vehicles) + tuple(
                person_ids[p] for p in finding.persons
            )
            candidates.append(((finding.rule, *ids), finding, False))

        events: list[IncidentEvent] = []
        for key, _finding, _ in candidates:
            seen = state.hits.setdefault(key, deque(maxlen=settings.window_frames))
            seen.append((state.frame_count, now))
        for key, finding, needs_abrupt in candidates:
            recent = [t for n, t in state.hits[key] if n > state.frame_count - settings.window_frames]
            if len(recent) < settings.persist_frames:
                continue
            involved = frozenset(int(k) for k in key[1:])
            details: dict[str, object] = {"rule": finding.rule}
            if needs_abrupt:
                abrupt = [
                    (track_id, *state.abrupt_at[track_id])
                    for track_id in involved
                    if track_id in state.abrupt_at
                    and state.abrupt_at[track_id][0] >= min(recent) - settings.motion_window_s
                ]
                if not abrupt:
                    continue
                details["abrupt"] = [
                    {"track_id": t, "at": round(at, 2), "change": kind} for t, at, kind in abrupt
                ]
            if self._in_episode(involved):
                continue
            details["track_ids"] = sorted(involved)
            events.append(self._raise(analysis, finding, vehicles, persons, involved, details))
        events.extend(self._gathering(analysis, vehicles, persons, vehicle_ids, person_ids))
        events.extend(self._forget(now))
        return events

    def _vehicle_motion(self, track_id: int, now: float) -> None:
        settings, state = self._settings, self._state
        motion = state.motions[track_id]
        change = motion.abrupt_change(
            now,
            settings.motion_window_s,
            settings.min_speed,
            settings.min_speed_drop,
            settings.min_heading_change_deg,
            settings.stopped_speed,
        )
        if change is not None:
            state.abrupt_at[track_id] = (now, change)
            if change == "stop":
                state.stopped_since.setdefault(track_id, now)
        speed = motion.speed()
        moving = speed is not None and speed > settings.stopped_speed
        if moving and change != "stop" and track_id in state.stopped_since:
            del state.stopped_since[track_id]

    def _gathering(
        self,
        analysis: AnalysisInput,
        vehicles: sv.Detections,
        persons: sv.Detections,
        vehicle_ids: list[int],
        person_ids: list[int],
    ) -> list[IncidentEvent]:
        settings, state, now = self._settings, self._state, analysis.frame.timestamp
        events: list[IncidentEvent] = []
        for v, vehicle_id in enumerate(vehicle_ids):
            stopped_at = state.stopped_since.get(vehicle_id)
            if (
                stopped_at is None
                or now - stopped_at > STOP_MEMORY_S
                or vehicles.data["class_name"][v] == "bus"
            ):
                continue
            box = vehicles.xyxy[v]
            size = float(box_size(box)[0])
            centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
            gathered = []
            for p, person_id in enumerate(person_ids):
                if box_gap(persons.xyxy[p], box) > settings.gathering_radius * size:
                    continue
                points = state.motions[person_id].points
                if not points:
                    continue
                first = np.hypot(points[0][1] - centre[0], points[0][2] - centre[1])
                last = np.hypot(points[-1][1] - centre[0], points[-1][2] - centre[1])
                if first - last >= settings.gathering_min_approach * size:
                    gathered.append(p)
            if len(gathered) < settings.gathering_min_people:
                continue
            involved = frozenset([vehicle_id, *(person_ids[p] for p in gathered)])
            if self._in_episode(involved):
                continue
            finding = Finding(
                "collision",
                "people_gather_at_stopped_vehicle",
                (v,),
                tuple(gathered),
                float(vehicles.confidence[v]),
            )
            details = {
                "rule": finding.rule,
                "stopped_at": round(stopped_at, 2),
                "track_ids": sorted(involved),
            }
            events.append(self._raise(analysis, finding, vehicles, persons, involved, details))
        return events

    def _in_episode(self, tracks: frozenset[int]) -> bool:
        return any(episode.tracks & tracks for episode in self._state.episodes)

    def _raise(
        self,
        analysis: AnalysisInput,
        finding: Finding,
        vehicles: sv.Detections,
        persons: sv.Detections,
        involved: frozenset[int],
        details: dict[str, object],
    ) -> IncidentRaised:
        incident = self._incident(analysis, finding, vehicles, persons, details)
        self._state.episodes.append(_Episode(incident, involved))
        return IncidentRaised(incident)

    def _forget(self, now: float) -> list[IncidentEvent]:
        """Ends episodes whose tracks were all unseen for `clear_after_s`; drops old track state."""
        state, clear = self._state, self._settings.clear_after_s
        gone = {t for t, m in state.motions.items() if now - m.last_seen >= clear}
        events: list[IncidentEvent] = []
        for episode in list(state.episodes):
            if episode.tracks <= gone:
                last = max(state.motions[t].last_seen for t in episode.tracks)
                events.append(IncidentEnded(episode.incident.id, self._camera_id, last))
                state.episodes.remove(episode)
        for track_id in gone:
            del state.motions[track_id]
            state.abrupt_at.pop(track_id, None)
            state.stopped_since.pop(track_id, None)
        for key in [k for k, seen in state.hits.items() if now - seen[-1][1] >= clear]:
            del state.hits[key]
        return events

    def _incident(
        self,
        analysis: AnalysisInput,
        finding: Finding,
        vehicles: sv.Detections,
        persons: sv.Detections,
        details: dict[str, object],
    ) -> Incident:
        frame = analysis.frame
        boxes = [
            EvidenceBox.of(
                vehicles.xyxy[i], str(vehicles.data["class_name"][i]), float(vehicles.confidence[i])
            )
            for i in finding.vehicles
        ] + [EvidenceBox.of(persons.xyxy[i], "person", float(persons.confidence[i])) for i in finding.persons]
        return Incident(
            type=IncidentType.ACCIDENT,
            subtype=finding.subtype,
            camera_id=self._camera_id,
            started_at=frame.timestamp,
            confidence=finding.confidence,
            frame_index=frame.index,
            boxes=boxes,
            details={"rule": finding.rule, **details},
            frame=frame.image,
        )
