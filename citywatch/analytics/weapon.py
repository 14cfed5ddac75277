"""Weapons: a person holding a gun, a knife or a bat.

Weapons come from our own detector (role `weapon`: `gun`, `knife`) and from the COCO model
(`knife` adds evidence for a knife, `baseball bat` is the only source of subtype `blunt`: the
shared datasets have no labelled sticks or bats). A weapon counts only when a person holds it:

- on the body: at least `min_body_overlap` of the weapon box lies inside the person box widened by
  `body_margin` (a hand at the end of an arm is usually inside a person box), or
- in a hand: a wrist of the person's pose (MoveNet on the person crop) lies within `hand_radius`
  person heights of the weapon box. Pose runs only for people near a weapon that is not on their
  body, so it costs nothing in frames without weapons.

On a still image a weapon that no COCO person holds also gets the people MoveNet finds in the whole
frame (as the fall analyzer does), since the COCO model misses people seen from above.

A weapon nobody holds still counts when it is confident enough: the COCO model misses many people
in CCTV corridors and close-ups (an arm and a pistol, no body), so a loose weapon's confidence is
multiplied by `lone_weapon_factor` and it raises when that product reaches `min_confidence` (at the
defaults a loose box needs 0.31 / 0.6 = 0.52 where a held one needs 0.31). Thus one threshold,
`min_confidence`, orders every weapon incident, and its precision-recall curve is one sweep.

In video each person track keeps its last `window_frames` analysed frames; when it held a weapon in
`persist_frames` of them it raises one incident in its life (the person and the weapon boxed, the
subtype the weapon class with the most summed confidence). Weapons held by an untracked person or
by no one go to the camera's loose-weapon episode (`LooseWeapons`): sightings at about the same
place in `persist_frames` of the last `window_frames` frames raise one incident, which ends when no
loose weapon was seen for FORGET_AFTER_S. A still image (`window_frames` 1, see
`relaxed_for_single_frame`) raises for each person holding a weapon and for each loose weapon that
is confident enough.
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput, register_analyzer
from citywatch.analytics.no_helmet import UNTRACKED, track_ids
from citywatch.analytics.people import still_image_people
from citywatch.analytics.track_episodes import forget_unseen
from citywatch.analytics.zones import ZoneFilter
from citywatch.config import CameraConfig, Thresholds, WeaponThresholds
from citywatch.domain.incident import EvidenceBox, Incident, IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.geometry import box_iou
from citywatch.perception.pose import KEYPOINT, PoseEstimator
from citywatch.perception.tracker import TRACKED_ROLE
from citywatch.perception.weapon import WEAPON_ROLE

POSE_MODEL = "pose"
SUBTYPE_OF = {
    (WEAPON_ROLE, "gun"): "gun",
    (WEAPON_ROLE, "knife"): "knife",
    (TRACKED_ROLE, "knife"): "knife",
    (TRACKED_ROLE, "baseball bat"): "blunt",
}
"""(detector role, class) -> weapon subtype; other classes are not weapons."""
EVIDENCE_IOU = 0.3
"""A COCO knife box this close to a weapon-detector knife box is the same knife: their confidences
are combined (1 - (1 - a)(1 - b)) instead of counting two knives."""
WRISTS = (KEYPOINT["left_wrist"], KEYPOINT["right_wrist"])
FORGET_AFTER_S = 30.0
"""A track unseen this long is dropped (its open incident, if any, ends); likewise a loose-weapon
episode with no sighting for this long."""
LOOSE_REACH = 1.5
"""Loose-weapon sightings in two frames are the same weapon when their centres are within this many
of the newer box's longer side (a held-up gun moves with its hand between analysed frames)."""


@dataclass(frozen=True, slots=True, eq=False)
class Weapons:
    """The weapons of one frame: boxes [N, 4] xyxy, confidences [N], subtypes [N] (gun/knife/blunt)."""

    xyxy: np.ndarray
    confidence: np.ndarray
    subtype: np.ndarray

    def __len__(self) -> int:
        return len(self.confidence)

    @classmethod
    def empty(cls) -> "Weapons":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, dtype="<U5"))


def frame_weapons(detections: Mapping[str, sv.Detections], settings: WeaponThresholds) -> Weapons:
    """Weapon-detector guns and knives plus COCO knives and bats, each above its confidence;
    a COCO knife on a detector knife is merged into it as extra evidence."""
    boxes, confidences, subtypes, from_coco = [], [], [], []
    for role, min_confidence in (
        (WEAPON_ROLE, settings.min_confidence),
        (TRACKED_ROLE, settings.coco_min_confidence),
    ):
        found = detections.get(role)
        if found is None or len(found) == 0:
            continue
        for xyxy, confidence, name in zip(
            found.xyxy, found.confidence, found.data["class_name"], strict=True
        ):
            subtype = SUBTYPE_OF.get((role, str(name)))
            if subtype is None or confidence < min_confidence:
                continue
            if role == TRACKED_ROLE and subtype == "knife":
                same = [
                    i for i, (box, kind) in enumerate(zip(boxes, subtypes, strict=True))
                    if kind == "knife" and not from_coco[i] and box_iou(xyxy, box[None])[0] >= EVIDENCE_IOU
                ]  # fmt: skip
                if same:
                    i = max(same, key=lambda j: confidences[j])
                    confidences[i] = 1 - (1 - confidences[i]) * (1 - float(confidence))
                    continue
            boxes.append(np.asarray(xyxy, np.float32))
            confidences.append(float(confidence))
            subtypes.append(subtype)
            from_coco.append(role == TRACKED_ROLE)
    if not boxes:
        return Weapons.empty()
    return Weapons(np.stack(boxes), np.asarray(confidences, np.float32), np.asarray(subtypes))


def body_overlap(person_xyxy: np.ndarray, weapon_xyxy: np.ndarray, margin: float) -> np.ndarray:
    """[P, W] share of each weapon box inside each person box widened by `margin` of its size."""
    people = np.asarray(person_xyxy, np.float32).reshape(-1, 4).copy()
    size = np.concatenate([people[:, 2:] - people[:, :2]] * 2, axis=1)
    people += size * margin * np.float32([-1, -1, 1, 1])
    weapons = np.asarray(weapon_xyxy, np.float32).reshape(-1, 4)
    width = np.minimum(people[:, None, 2], weapons[None, :, 2]) - np.maximum(
        people[:, None, 0], weapons[None, :, 0]
    )
    height = np.minimum(people[:, None, 3], weapons[None, :, 3]) - np.maximum(
        people[:, None, 1], weapons[None, :, 1]
    )
    area = (weapons[:, 2] - weapons[:, 0]) * (weapons[:, 3] - weapons[:, 1])
    return np.clip(width, 0, None) * np.clip(height, 0, None) / np.maximum(area, 1e-6)[None, :]


def weapon_fits(person_xyxy: np.ndarray, weapon_xyxy: np.ndarray, max_size: float) -> np.ndarray:
    """[P, W] whether each weapon box's longer side is at most `max_size` person heights: a box larger
    than the person holding it is a false detection (seen: a frame-wide `gun` box on a car park)."""
    people = np.asarray(person_xyxy, np.float32).reshape(-1, 4)
    weapons = np.asarray(weapon_xyxy, np.float32).reshape(-1, 4)
    longer = np.maximum(weapons[:, 2] - weapons[:, 0], weapons[:, 3] - weapons[:, 1])
    return longer[None, :] <= max_size * (people[:, 3] - people[:, 1])[:, None]


def point_box_distance(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """[K, W] distance of each (x, y) point to each xyxy box (0 inside)."""
    points = np.asarray(points, np.float32).reshape(-1, 2)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    dx = np.maximum(
        np.maximum(boxes[None, :, 0] - points[:, None, 0], points[:, None, 0] - boxes[None, :, 2]), 0
    )
    dy = np.maximum(
        np.maximum(boxes[None, :, 1] - points[:, None, 1], points[:, None, 1] - boxes[None, :, 3]), 0
    )
    return np.hypot(dx, dy)


@dataclass(frozen=True, slots=True)
class Holding:
    """A person seen holding a weapon in one frame."""

    person: int
    """Index into the frame's persons."""
    weapon: int
    """Index into the frame's Weapons."""
    by: str
    """'body' or 'hand'."""


@dataclass(slots=True, eq=False)
class _TrackState:
    recent: deque[tuple[str, float] | None]
    """Per analysed frame the track was seen in: (subtype, confidence) of the weapon it held, or None."""
    last_seen: float
    incident: Incident | None = None


@dataclass(frozen=True, slots=True, eq=False)
class _Sighting:
    """The most confident loose weapon of one frame."""

    xyxy: np.ndarray
    subtype: str
    confidence: float
    """Already multiplied by `lone_weapon_factor` when nobody held it."""
    held: bool
    """Held by a person without a track (else by nobody)."""


class LooseWeapons:
    """A camera's recent loose-weapon sightings (one or None per analysed frame) and its open incident."""

    def __init__(self, window_frames: int) -> None:
        self.recent: deque[_Sighting | None] = deque(maxlen=window_frames)
        self.last_seen = float("-inf")
        self.incident: Incident | None = None

    def add(self, sighting: _Sighting | None, now: float) -> None:
        self.recent.append(sighting)
        if sighting is not None:
            self.last_seen = now

    def same_weapon(self, sighting: _Sighting) -> list[_Sighting]:
        """The sightings in the window near `sighting` (LOOSE_REACH), `sighting` included."""
        centre = (sighting.xyxy[:2] + sighting.xyxy[2:]) / 2
        reach = LOOSE_REACH * float(max(sighting.xyxy[2:] - sighting.xyxy[:2]))
        near = []
        for other in self.recent:
            if other is None:
                continue
            if float(np.hypot(*((other.xyxy[:2] + other.xyxy[2:]) / 2 - centre))) <= reach:
                near.append(other)
        return near

    def idle_for(self, now: float) -> float:
        return now - self.last_seen


@register_analyzer(IncidentType.WEAPON, roles=(TRACKED_ROLE, WEAPON_ROLE), models=(POSE_MODEL,))
class WeaponAnalyzer:
    """One `weapon` incident (subtype gun, knife or blunt) per person track holding a weapon; see the
    module docstring."""

    def __init__(self, camera: CameraConfig, thresholds: Thresholds, models: Mapping[str, object]) -> None:
        self._pose = cast(PoseEstimator | None, models.get(POSE_MODEL))
        self._camera_id = camera.id
        self._settings = thresholds.weapon
        self._zone_filter = ZoneFilter(camera.zones, IncidentType.WEAPON)
        self._single_frame = self._settings.window_frames == 1
        self._tracks: dict[int, _TrackState] = {}
        self._loose_episode = LooseWeapons(self._settings.window_frames)

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        frame, settings = analysis.frame, self._settings
        weapons = frame_weapons(analysis.detections, settings)
        people = self._people(analysis)
        holdings = self.holdings(analysis.frame.image, people.xyxy, weapons) if len(weapons) else []
        if self._single_frame:
            if len(weapons) and len(holdings) < len(weapons) and self._pose is not None:
                people = self._with_pose_people(analysis.frame.image, people)
                holdings = self.holdings(analysis.frame.image, people.xyxy, weapons)
            events = [IncidentRaised(self._incident(analysis, people, weapons, h, 1, {})) for h in holdings]
            held = {h.weapon for h in holdings}
            for w in self._loose(weapons, held, people.xyxy):
                events.append(IncidentRaised(self._loose_incident(analysis, weapons, w, [], {})))
            return events
        events: list[IncidentEvent] = []
        held = {h.person: h for h in holdings}
        tracked_weapons: set[int] = set()
        for index, track_id in enumerate(people.tracker_id):
            if track_id == UNTRACKED:
                continue
            state = self._tracks.setdefault(
                int(track_id), _TrackState(deque(maxlen=settings.window_frames), frame.timestamp)
            )
            state.last_seen = frame.timestamp
            holding = held.get(index)
            if holding is not None:
                tracked_weapons.add(holding.weapon)
            state.recent.append(
                None
                if holding is None
                else (str(weapons.subtype[holding.weapon]), float(weapons.confidence[holding.weapon]))
            )
            seen = [r for r in state.recent if r is not None]
            if holding is not None and state.incident is None and len(seen) >= settings.persist_frames:
                details = {
                    "track_id": int(track_id),
                    "frames_held": len(seen),
                    "window_frames": settings.window_frames,
                }
                state.incident = self._incident(analysis, people, weapons, holding, len(seen), details, seen)
                events.append(IncidentRaised(state.incident))
        untracked = {h.weapon for h in holdings if h.weapon not in tracked_weapons}
        held_weapons = {h.weapon for h in holdings}
        events.extend(self._update_loose(analysis, weapons, untracked, held_weapons, people.xyxy))
        events.extend(forget_unseen(self._tracks, frame.timestamp, FORGET_AFTER_S, self._camera_id))
        return events

    def _loose(self, weapons: Weapons, held: set[int], people_xyxy: np.ndarray) -> list[int]:
        """Weapons nobody holds whose confidence times `lone_weapon_factor` reaches `min_confidence`;
        not one too large for every person in view (`weapon_fits`: a false box over half the frame)."""
        settings = self._settings
        factor, floor = settings.lone_weapon_factor, settings.min_confidence
        fits_someone = (
            weapon_fits(people_xyxy, weapons.xyxy, settings.max_weapon_size).any(axis=0)
            if len(people_xyxy)
            else np.ones(len(weapons), bool)
        )
        return [
            w
            for w in range(len(weapons))
            if w not in held and fits_someone[w] and weapons.confidence[w] * factor >= floor
        ]

    def _update_loose(
        self,
        analysis: AnalysisInput,
        weapons: Weapons,
        untracked: set[int],
        held: set[int],
        people_xyxy: np.ndarray,
    ) -> list[IncidentEvent]:
        """The camera's loose-weapon episode: weapons held by an untracked person (full confidence)
        or by no one (`_loose`), the most confident one per frame."""
        candidates = [(w, float(weapons.confidence[w])) for w in untracked]
        factor = self._settings.lone_weapon_factor
        loose = self._loose(weapons, held, people_xyxy)
        candidates += [(w, float(weapons.confidence[w]) * factor) for w in loose]
        best = max(candidates, key=lambda c: c[1], default=None)
        sighting = None
        if best is not None:
            w, confidence = best
            sighting = _Sighting(weapons.xyxy[w], str(weapons.subtype[w]), confidence, w in untracked)
        episode = self._loose_episode
        episode.add(sighting, analysis.frame.timestamp)
        events: list[IncidentEvent] = []
        if sighting is not None and episode.incident is None and not self._open_track_incident():
            same = episode.same_weapon(sighting)
            if len(same) >= self._settings.persist_frames:
                seen = [(s.subtype, s.confidence) for s in same]
                details = {"frames_held": len(same), "window_frames": self._settings.window_frames}
                episode.incident = self._loose_incident(analysis, weapons, best[0], seen, details, sighting)
                events.append(IncidentRaised(episode.incident))
        if episode.incident is not None and episode.idle_for(analysis.frame.timestamp) > FORGET_AFTER_S:
            events.append(IncidentEnded(episode.incident.id, self._camera_id, episode.last_seen))
            episode.incident = None
        return events

    def _open_track_incident(self) -> bool:
        return any(state.incident is not None for state in self._tracks.values())

    def _people(self, analysis: AnalysisInput) -> sv.Detections:
        """Person boxes with their tracker ids (UNTRACKED when not a confirmed track), in the zones."""
        coco = analysis.detections.get(TRACKED_ROLE, sv.Detections.empty())
        if len(coco) == 0:
            people = sv.Detections(xyxy=np.zeros((0, 4), np.float32), confidence=np.zeros(0, np.float32))
            people.tracker_id = np.zeros(0, int)
            return people
        ids = track_ids(coco, analysis.tracks)
        keep = (coco.data["class_name"] == "person") & (
            coco.confidence >= self._settings.min_person_confidence
        )
        people = coco[keep]
        people.tracker_id = ids[keep]
        return self._zone_filter(people, analysis.frame.width, analysis.frame.height)

    def _with_pose_people(self, image: np.ndarray, people: sv.Detections) -> sv.Detections:
        """Still images with a weapon nobody holds: the people MoveNet finds in the whole frame are
        added to the COCO ones (see analytics.people: the COCO model misses people seen from above
        or cut off by the frame edge). A video has tracks and does not do this."""
        assert self._pose is not None
        boxes = still_image_people(
            image, people.xyxy.astype(np.float32), self._pose, self._settings.min_frame_pose_confidence
        )
        extra = len(boxes) - len(people)
        if extra == 0:
            return people
        confidence = np.concatenate([people.confidence, np.full(extra, np.nan, np.float32)])
        merged = sv.Detections(xyxy=boxes.astype(np.float32), confidence=confidence.astype(np.float32))
        merged.tracker_id = np.full(len(boxes), UNTRACKED, dtype=int)
        return merged

    def holdings(self, image: np.ndarray, people_xyxy: np.ndarray, weapons: Weapons) -> list[Holding]:
        """Who holds which weapon in one frame: each weapon goes to the person it overlaps most (on the
        body), else to the person with a wrist nearest to it (in a hand); a person holding several
        keeps the most confident one."""
        settings = self._settings
        if len(people_xyxy) == 0 or len(weapons) == 0:
            return []
        heights = np.maximum(people_xyxy[:, 3] - people_xyxy[:, 1], 1.0)
        fits = weapon_fits(people_xyxy, weapons.xyxy, settings.max_weapon_size)
        overlap = np.where(fits, body_overlap(people_xyxy, weapons.xyxy, settings.body_margin), 0.0)
        owner: dict[int, Holding] = {}
        for w in range(len(weapons)):
            best = int(overlap[:, w].argmax())
            if overlap[best, w] >= settings.min_body_overlap:
                owner[w] = Holding(best, w, "body")
        loose = [w for w in range(len(weapons)) if w not in owner]
        if loose and self._pose is not None and settings.hand_radius > 0:
            owner.update(self._held_in_hand(image, people_xyxy, heights, weapons, loose, fits))
        by_person: dict[int, Holding] = {}
        for holding in owner.values():
            current = by_person.get(holding.person)
            if current is None or weapons.confidence[holding.weapon] > weapons.confidence[current.weapon]:
                by_person[holding.person] = holding
        return [by_person[p] for p in sorted(by_person)]

    def _held_in_hand(
        self,
        image: np.ndarray,
        people_xyxy: np.ndarray,
        heights: np.ndarray,
        weapons: Weapons,
        loose: list[int],
        fits: np.ndarray,
    ) -> dict[int, Holding]:
        """Loose weapons held in a hand: pose only for people whose box, widened by twice the hand
        radius, touches such a weapon."""
        settings = self._settings
        assert self._pose is not None
        # A wrist may itself be outside the person box (an outstretched arm): reach twice the radius.
        radius = (2 * settings.hand_radius * heights)[:, None]
        widened = people_xyxy + np.concatenate([-radius, -radius, radius, radius], axis=1)
        reach = (body_overlap(widened, weapons.xyxy[loose], 0.0) > 0) & fits[:, loose]
        near = np.flatnonzero(reach.any(axis=1)).tolist()
        if not near:
            return {}
        poses = self._pose.estimate(image, people_xyxy[near])
        found: dict[int, tuple[float, Holding]] = {}
        for row, p in enumerate(near):
            wrists = poses.keypoints[row, list(WRISTS)][
                poses.scores[row, list(WRISTS)] >= settings.min_wrist_score
            ]
            if len(wrists) == 0:
                continue
            distance = point_box_distance(wrists, weapons.xyxy[loose]).min(axis=0) / heights[p]
            for column, w in enumerate(loose):
                if (
                    reach[p, column]
                    and distance[column] <= settings.hand_radius
                    and distance[column] < found.get(w, (np.inf,))[0]
                ):
                    found[w] = (float(distance[column]), Holding(p, w, "hand"))
        return {w: holding for w, (_, holding) in found.items()}

    def _incident(
        self,
        analysis: AnalysisInput,
        people: sv.Detections,
        weapons: Weapons,
        holding: Holding,
        frames_held: int,
        details: dict[str, object],
        seen: list[tuple[str, float]] | None = None,
    ) -> Incident:
        frame = analysis.frame
        seen = seen or [(str(weapons.subtype[holding.weapon]), float(weapons.confidence[holding.weapon]))]
        totals: dict[str, float] = {}
        for subtype, confidence in seen:
            totals[subtype] = totals.get(subtype, 0.0) + confidence
        subtype = max(totals, key=lambda s: totals[s])
        confidence = float(np.mean([c for s, c in seen if s == subtype]))
        return Incident(
            type=IncidentType.WEAPON,
            subtype=subtype,
            camera_id=self._camera_id,
            started_at=frame.timestamp,
            confidence=confidence,
            frame_index=frame.index,
            boxes=[
                EvidenceBox.of(
                    people.xyxy[holding.person],
                    "armed person",
                    float(np.nan_to_num(people.confidence[holding.person])),
                ),
                EvidenceBox.of(
                    weapons.xyxy[holding.weapon],
                    str(weapons.subtype[holding.weapon]),
                    float(weapons.confidence[holding.weapon]),
                ),
            ],
            details={**details, "held_by": holding.by, "frames_held": frames_held},
            frame=frame.image,
        )

    def _loose_incident(
        self,
        analysis: AnalysisInput,
        weapons: Weapons,
        weapon: int,
        seen: list[tuple[str, float]],
        details: dict[str, object],
        sighting: "_Sighting | None" = None,
    ) -> Incident:
        """A weapon incident without a tracked holder: the weapon boxed alone."""
        frame = analysis.frame
        factor = self._settings.lone_weapon_factor
        if not seen:
            seen = [(str(weapons.subtype[weapon]), float(weapons.confidence[weapon]) * factor)]
        totals: dict[str, float] = {}
        for subtype, confidence in seen:
            totals[subtype] = totals.get(subtype, 0.0) + confidence
        subtype = max(totals, key=lambda s: totals[s])
        by = "untracked person" if sighting is not None and sighting.held else "nobody"
        return Incident(
            type=IncidentType.WEAPON,
            subtype=subtype,
            camera_id=self._camera_id,
            started_at=frame.timestamp,
            confidence=float(np.mean([c for s, c in seen if s == subtype])),
            frame_index=frame.index,
            boxes=[
                EvidenceBox.of(
                    weapons.xyxy[weapon],
                    str(weapons.subtype[weapon]),
                    float(weapons.confidence[weapon]),
                )
            ],
            details={**details, "held_by": by, "frames_held": details.get("frames_held", 1)},
            frame=frame.image,
        )
