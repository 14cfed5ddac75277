"""No helmet: a motorcycle rider whose head the rider head detector keeps calling bare.

Heads come from our rider head detector (perception.rider_heads: boxes of heads with and without a
helmet), run on frames where the COCO model sees a two-wheeler. A bare head (class
`without_helmet`, at least `min_head_confidence`, at least `min_head_px` wide) belongs to a rider
when it lies in the top part of a rider's person box (a person whose lower half is on a two-wheeler
box, moving with it while tracked; passengers are riders too), or, when the COCO model found no
person there (small, distant riders), when it sits just above a two-wheeler box. Heads of
pedestrians belong to neither and are never judged.

Each analysed frame gives each rider (keyed by its person track, else by its two-wheeler's track) a
judgement: the confidence of its bare head, or 0 when none. A rider raises one incident in its life
when `persist_frames` of its last `window_frames` judgements are bare heads; the confidence is
their mean, so `min_head_confidence` orders the incidents (one threshold, one precision-recall curve).
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput, register_analyzer
from citywatch.analytics.track_episodes import forget_unseen
from citywatch.analytics.zones import ZoneFilter
from citywatch.config import CameraConfig, Thresholds
from citywatch.domain.incident import EvidenceBox, Incident, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.rider_heads import RIDER_HEADS_ROLE
from citywatch.perception.tracker import TRACKED_ROLE

BARE_HEAD = "without_helmet"
RIDDEN_CLASSES = ("motorcycle", "bicycle")
"""COCO classes a rider sits on. The COCO model calls small, distant scooters `bicycle` on Thai
street CCTV (seen on helmet_th), and a rider on one is then only found this way."""
HEAD_ZONE = 0.4
"""A rider's head lies in the top this-share of its person box (labelled heads of helmet_th: centre
at 0.10 of the box height, rarely below 0.3 when the rider leans)."""
ABOVE_VEHICLE = 1.2
"""Without a person box, a head belongs to a two-wheeler when its centre lies above the vehicle box
within this many vehicle heights (or inside its upper half), within the box's width widened by a
quarter on each side."""
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


@dataclass(slots=True, eq=False)
class _RiderTrack:
    motorcycle_id: int
    offset: np.ndarray
    """Rider centre minus motorcycle centre, in rider heights, at the last sighting."""
    last_seen: float
    judgements: deque[float] = field(default_factory=deque)
    incident: Incident | None = None


@dataclass(frozen=True, slots=True)
class _Rider:
    """A rider seen in this frame: a person on a two-wheeler, or a two-wheeler whose rider COCO
    missed (`person` -1); indices into the frame's persons and two-wheelers; `key` its track key."""

    person: int
    motorcycle: int
    key: tuple[str, int] | None
    """('person', track id) or ('vehicle', track id); None when not tracked."""


@register_analyzer(IncidentType.NO_HELMET, roles=(TRACKED_ROLE, RIDER_HEADS_ROLE))
class NoHelmetAnalyzer:
    """One `no_helmet` incident per rider track (see the module docstring).

    A rider not (yet) confirmed as a track is judged only when a single judgement is enough
    (`window_frames` 1, as for a still image): ByteTrack confirms a track from its second frame.
    """

    def __init__(self, camera: CameraConfig, thresholds: Thresholds, models: Mapping[str, object]) -> None:
        self._camera_id = camera.id
        self._settings = thresholds.no_helmet
        self._zone_filter = ZoneFilter(camera.zones, IncidentType.NO_HELMET)
        self._judge_untracked = self._settings.window_frames == 1
        self._tracks: dict[tuple[str, int], _RiderTrack] = {}

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        frame = analysis.frame
        coco = analysis.detections.get(TRACKED_ROLE, sv.Detections.empty())
        ids = track_ids(coco, analysis.tracks)
        names = coco.data.get("class_name", np.empty(0, dtype=str))
        persons = coco[names == "person"]
        persons.tracker_id = ids[names == "person"]
        ridden = np.isin(names, RIDDEN_CLASSES)
        motorcycles = coco[ridden]
        motorcycles.tracker_id = ids[ridden]
        motorcycles = self._zone_filter(motorcycles, frame.width, frame.height)
        heads = self.bare_heads(analysis.detections.get(RIDER_HEADS_ROLE, sv.Detections.empty()))
        riders = self._riders(persons, motorcycles, frame.timestamp)
        owner = assign_heads(heads.xyxy, persons.xyxy, motorcycles.xyxy, riders)
        events: list[IncidentEvent] = []
        for index, rider in enumerate(riders):
            mine = np.flatnonzero(owner == index)
            head = int(mine[heads.confidence[mine].argmax()]) if len(mine) else None
            confidence = 0.0 if head is None else float(heads.confidence[head])
            incident = self._judge(rider, confidence, head, heads, persons, motorcycles, analysis)
            if incident is not None:
                events.append(IncidentRaised(incident))
        events.extend(forget_unseen(self._tracks, frame.timestamp, FORGET_AFTER_S, self._camera_id))
        return events

    def bare_heads(self, found: sv.Detections) -> sv.Detections:
        """The detector's bare heads at or above the operating point and big enough to judge."""
        if len(found) == 0:
            return sv.Detections(xyxy=np.zeros((0, 4), np.float32), confidence=np.zeros(0, np.float32))
        settings = self._settings
        keep = (
            (found.data["class_name"] == BARE_HEAD)
            & (found.confidence >= settings.min_head_confidence)
            & (found.xyxy[:, 2] - found.xyxy[:, 0] >= settings.min_head_px)
        )
        return found[keep]

    def _riders(self, persons: sv.Detections, motorcycles: sv.Detections, now: float) -> list[_Rider]:
        """Persons on a two-wheeler (moving with it, if tracked), then two-wheelers nobody rides in
        COCO's eyes (their rider may be too small for it)."""
        if len(motorcycles) == 0:
            return []
        riders: list[_Rider] = []
        ridden: set[int] = set()
        if len(persons):
            overlap = lower_half_overlap(persons.xyxy, motorcycles.xyxy)
            for index in np.flatnonzero(overlap.max(axis=1) >= self._settings.min_rider_overlap):
                moto = int(overlap[index].argmax())
                track_id = int(persons.tracker_id[index])
                if track_id != UNTRACKED and not self._moves_with(
                    track_id,
                    int(motorcycles.tracker_id[moto]),
                    persons.xyxy[index],
                    motorcycles.xyxy[moto],
                    now,
                ):
                    continue
                ridden.add(moto)
                riders.append(
                    _Rider(int(index), moto, None if track_id == UNTRACKED else ("person", track_id))
                )
        for moto in range(len(motorcycles)):
            if moto not in ridden:
                track_id = int(motorcycles.tracker_id[moto])
                riders.append(_Rider(-1, moto, None if track_id == UNTRACKED else ("vehicle", track_id)))
        return [r for r in riders if r.key is not None or self._judge_untracked]

    def _moves_with(
        self, track_id: int, motorcycle_id: int, person_xyxy: np.ndarray, moto_xyxy: np.ndarray, now: float
    ) -> bool:
        """Records where the rider sits on its motorcycle; False when it drifted off since last time."""
        height = max(float(person_xyxy[3] - person_xyxy[1]), 1.0)
        offset = ((person_xyxy[:2] + person_xyxy[2:]) - (moto_xyxy[:2] + moto_xyxy[2:])) / (2 * height)
        state = self._tracks.get(("person", track_id))
        if state is None:
            state = _RiderTrack(motorcycle_id, offset, now, deque(maxlen=self._settings.window_frames))
            self._tracks[("person", track_id)] = state
            return True
        same = motorcycle_id != UNTRACKED and motorcycle_id == state.motorcycle_id
        drift = float(np.abs(offset - state.offset).max())
        state.motorcycle_id, state.offset, state.last_seen = motorcycle_id, offset, now
        return not same or drift <= MAX_DRIFT

    def _judge(
        self,
        rider: _Rider,
        confidence: float,
        head: int | None,
        heads: sv.Detections,
        persons: sv.Detections,
        motorcycles: sv.Detections,
        analysis: AnalysisInput,
    ) -> Incident | None:
        """Adds a judgement to the rider's track; the incident when it is the one that tips it."""
        if rider.key is None:
            judgements = [confidence]
        else:
            state = self._tracks.get(rider.key)
            if state is None:
                window = deque(maxlen=self._settings.window_frames)
                state = _RiderTrack(int(motorcycles.tracker_id[rider.motorcycle]), np.zeros(2), 0.0, window)
                self._tracks[rider.key] = state
            state.last_seen = analysis.frame.timestamp
            if state.incident is not None:
                return None
            state.judgements.append(confidence)
            judgements = list(state.judgements)
        bare = [c for c in judgements if c > 0]
        if head is None or len(bare) < self._settings.persist_frames:
            return None
        incident = self._incident(
            rider, float(np.mean(bare)), len(judgements), head, heads, persons, motorcycles, analysis
        )
        if rider.key is not None:
            self._tracks[rider.key].incident = incident
        return incident

    def _incident(
        self,
        rider: _Rider,
        confidence: float,
        judged: int,
        head: int,
        heads: sv.Detections,
        persons: sv.Detections,
        motorcycles: sv.Detections,
        analysis: AnalysisInput,
    ) -> Incident:
        frame = analysis.frame
        head_box = heads.xyxy[head]
        boxes = [EvidenceBox.of(head_box, "head (no helmet)", float(heads.confidence[head]))]
        if rider.person >= 0:
            boxes.append(
                EvidenceBox.of(persons.xyxy[rider.person], "rider", float(persons.confidence[rider.person]))
            )
        boxes.append(
            EvidenceBox.of(
                motorcycles.xyxy[rider.motorcycle],
                str(motorcycles.data["class_name"][rider.motorcycle]),
                float(motorcycles.confidence[rider.motorcycle]),
            )
        )
        return Incident(
            type=IncidentType.NO_HELMET,
            camera_id=self._camera_id,
            started_at=frame.timestamp,
            confidence=confidence,
            frame_index=frame.index,
            boxes=boxes,
            details={
                "rider_track": None if rider.key is None else f"{rider.key[0]}:{rider.key[1]}",
                "head_px": round(float(head_box[2] - head_box[0]), 1),
                "judgements": judged,
                "window_frames": self._settings.window_frames,
            },
            frame=frame.image,
        )


def assign_heads(
    heads_xyxy: np.ndarray, persons_xyxy: np.ndarray, vehicles_xyxy: np.ndarray, riders: list[_Rider]
) -> np.ndarray:
    """For each head, the index of the rider it belongs to (-1: none). A head in the top HEAD_ZONE of
    a person box is that person's: a rider's, or a pedestrian's (-1, even above a parked motorcycle).
    A head in no person box goes to the person-less two-wheeler it sits above (ABOVE_VEHICLE). The
    nearest box wins where several qualify."""
    rider_of_person = {r.person: i for i, r in enumerate(riders) if r.person >= 0}
    vehicle_riders = [(i, r.motorcycle) for i, r in enumerate(riders) if r.person < 0]
    persons = np.asarray(persons_xyxy, np.float32).reshape(-1, 4)
    owner = np.full(len(heads_xyxy), -1, dtype=int)
    for h, head in enumerate(np.asarray(heads_xyxy, np.float32).reshape(-1, 4)):
        cx, cy = (head[0] + head[2]) / 2, (head[1] + head[3]) / 2
        x1, y1, x2, y2 = persons.T
        in_head_zone = (x1 <= cx) & (cx <= x2) & (y1 <= cy) & (cy <= y1 + HEAD_ZONE * (y2 - y1))
        if in_head_zone.any():
            distance = np.where(in_head_zone, np.abs(cx - (x1 + x2) / 2) + np.abs(cy - y1), np.inf)
            owner[h] = rider_of_person.get(int(distance.argmin()), -1)
            continue
        best_distance = np.inf
        for index, vehicle in vehicle_riders:
            vx1, vy1, vx2, vy2 = vehicles_xyxy[vehicle]
            width, height = vx2 - vx1, vy2 - vy1
            above = (
                vx1 - width / 4 <= cx <= vx2 + width / 4
                and vy1 - ABOVE_VEHICLE * height <= cy <= vy1 + height / 2
            )
            distance = abs(cx - (vx1 + vx2) / 2) + abs(cy - vy1)
            if above and distance < best_distance:
                owner[h], best_distance = index, distance
    return owner
