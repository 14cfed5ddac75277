"""Fights: a group of close people whose poses and pixels move violently over time.

Each analysed frame, `FightFeatureExtractor` (analytics.fight_features) forms groups of close
person tracks, poses the grouped people on crops and gives each group one feature row over its
members' last ~1 s; the fight classifier turns each row into P(fight). A person track counts a
frame as fighting when its group's probability reaches `min_probability`; a group raises when one
of its members has `persist_frames` fighting frames among its last `window_frames` analysed ones
(`FightEpisodes`, which training replays too). One incident per episode: a group that shares a
person track with an open episode, or whose box overlaps the episode's, continues it (ByteTrack
often gives a new id to someone who wrestles out of sight for a moment), and the episode ends
when none of its people fought for `end_after_s`.

A still image (`window_frames` 1, see `relaxed_for_single_frame`) cannot raise a fight: the
signal is motion, which one frame does not have. The classifier was trained at FIGHT_FPS
analysed frames a second; cameras that look for fights should use that analytics rate.
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput, register_analyzer
from citywatch.analytics.fight_features import (
    FightFeatureExtractor,
    GroupSettings,
    PeopleTracker,
    motion_image,
)
from citywatch.analytics.zones import ZoneFilter
from citywatch.config import CameraConfig, FightThresholds, Thresholds
from citywatch.domain.incident import EvidenceBox, Incident, IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.feature_classifier import FeatureClassifier
from citywatch.perception.pose import PoseEstimator, Poses
from citywatch.perception.tracker import TRACKED_ROLE

FORGET_AFTER_S = 30.0
"""A person track unseen this long is dropped from the persistence rule."""


def _union(boxes: np.ndarray) -> np.ndarray:
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]))


@dataclass(slots=True, eq=False)
class Episode:
    """One fight: the person tracks seen in it, where it last was, and when it last fought."""

    track_ids: set[int]
    box: np.ndarray
    started_at: float
    last_fight: float
    incident_id: str | None = None


@dataclass(slots=True)
class EpisodeUpdate:
    raised: list[tuple[int, Episode]] = field(default_factory=list)
    """(group index, its new episode) for each group that starts an episode in this frame."""
    ended: list[Episode] = field(default_factory=list)


class FightEpisodes:
    """The temporal rule over per-group fight probabilities (no models, no pixels)."""

    def __init__(self, settings: FightThresholds) -> None:
        self.settings = settings
        self._recent: dict[int, deque[bool]] = {}
        self._last_seen: dict[int, float] = {}
        self.episodes: list[Episode] = []

    def update(
        self,
        now: float,
        seen: np.ndarray,
        groups: list[tuple[int, ...]],
        boxes: list[np.ndarray],
        probability: np.ndarray,
    ) -> EpisodeUpdate:
        """`seen`: the person track ids in this frame; `groups`: the track ids of each group,
        `boxes` their boxes, `probability` P(fight) of each group."""
        settings, update = self.settings, EpisodeUpdate()
        fighting = probability >= settings.min_probability
        flag = {int(t): False for t in seen}
        for ids, fights in zip(groups, fighting, strict=True):
            for t in ids:
                flag[t] = flag.get(t, False) or bool(fights)
        for t, fights in flag.items():
            self._recent.setdefault(t, deque(maxlen=settings.window_frames)).append(fights)
            self._last_seen[t] = now
        for index, (ids, group_boxes) in enumerate(zip(groups, boxes, strict=True)):
            if not fighting[index]:
                continue
            union = _union(group_boxes)
            episode = next(
                (e for e in self.episodes if e.track_ids & set(ids) or _overlap(e.box, union)), None
            )
            if episode is not None:
                episode.track_ids |= set(ids)
                episode.box, episode.last_fight = union, now
                continue
            if max(sum(self._recent[t]) for t in ids) >= settings.persist_frames:
                episode = Episode(set(ids), union, now, now)
                self.episodes.append(episode)
                update.raised.append((index, episode))
        for episode in list(self.episodes):
            if now - episode.last_fight > settings.end_after_s:
                self.episodes.remove(episode)
                update.ended.append(episode)
        for t in [t for t, last in self._last_seen.items() if now - last > FORGET_AFTER_S]:
            del self._last_seen[t], self._recent[t]
        return update


@register_analyzer(IncidentType.FIGHT, roles=(TRACKED_ROLE,), models=("pose", "fight"))
class FightAnalyzer:
    def __init__(self, camera: CameraConfig, thresholds: Thresholds, models: Mapping[str, object]) -> None:
        missing = [name for name in ("pose", "fight") if name not in models]
        if missing:
            raise ValueError(f"camera {camera.id!r}: the fight analyzer needs second-stage models {missing}")
        self._pose = cast(PoseEstimator, models["pose"])
        self._classifier = cast(FeatureClassifier, models["fight"])
        self._camera_id = camera.id
        self._settings: FightThresholds = thresholds.fight
        self._zone_filter = ZoneFilter(camera.zones, IncidentType.FIGHT)
        self._people = people_tracker(self._settings, camera.analytics_fps)
        self._features = FightFeatureExtractor(group_settings(self._settings))
        self._episodes = FightEpisodes(self._settings)

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        if self._settings.window_frames == 1:
            return []  # a still image: no motion, no fight (module doc)
        frame, now, image = analysis.frame, analysis.frame.timestamp, analysis.frame.image
        detections = analysis.detections.get(TRACKED_ROLE, sv.Detections.empty())
        frame_people = (
            self._pose.estimate_frame(image, min_confidence=self._settings.min_frame_pose_confidence)
            if self._people.wants_frame_people(detections)
            else Poses.empty()
        )
        boxes, ids = self._people.update(now, detections, frame_people)
        if len(boxes):
            inside = self._zone_filter(
                sv.Detections(xyxy=boxes, class_id=np.arange(len(boxes))), frame.width, frame.height
            ).class_id
            boxes, ids = boxes[inside], ids[inside]
        groups = self._features.update(
            now, boxes, ids, motion_image(image), frame.width, lambda asked: self._pose.estimate(image, asked)
        )
        probability = (
            self._classifier.probability(np.stack([g.features for g in groups]))
            if groups
            else np.zeros(0, np.float32)
        )
        update = self._episodes.update(
            now,
            ids,
            [g.track_ids for g in groups],
            [g.boxes for g in groups],
            probability,
        )
        events: list[IncidentEvent] = []
        for index, episode in update.raised:
            group = groups[index]
            incident = Incident(
                type=IncidentType.FIGHT,
                camera_id=self._camera_id,
                started_at=now,
                confidence=float(probability[index]),
                frame_index=frame.index,
                boxes=[
                    EvidenceBox(tuple(float(v) for v in box), "fighting person", float(probability[index]))
                    for box in group.boxes
                ],
                details={
                    "track_ids": list(group.track_ids),
                    "people": len(group.track_ids),
                    "probability": round(float(probability[index]), 3),
                },
                frame=image,
            )
            episode.incident_id = incident.id
            events.append(IncidentRaised(incident))
        events.extend(
            IncidentEnded(e.incident_id, self._camera_id, now) for e in update.ended if e.incident_id
        )
        return events


def group_settings(settings: FightThresholds) -> GroupSettings:
    return GroupSettings(
        max_gap=settings.max_group_gap, min_size_ratio=settings.min_size_ratio, min_people=settings.min_people
    )


def people_tracker(settings: FightThresholds, fps: float) -> PeopleTracker:
    return PeopleTracker(fps, settings.min_person_confidence, settings.min_frame_pose_confidence)
