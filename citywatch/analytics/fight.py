"""Fights: what moved in the last 1.2 s of a camera, scored by the fight clip model.

Each analysed frame, the frame's grey difference from the previous analysed frame (its motion
picture) is encoded into a map (perception.fight_clip, about 3 ms); the last WINDOW maps are scored
as P(fight) while `min_people` or more people (COCO person boxes at `min_person_confidence`, inside
the camera's fight zones) were in view in that window: the scorer does not run on empty scenes. A
frame counts as fighting when the score reaches `min_probability`; `persist_frames` fighting frames
among the camera's last `window_frames` raise one incident per episode, and the episode ends after
`end_after_s` without a fighting frame. The incident's boxes are the people in view, else the region
that moved.

The model was trained at CLIP_FPS analysed frames a second: cameras that look for fights should
analyse at that rate (`analytics_fps: 5`). A gap of more than MAX_GAP_S between analysed frames (a
dropped camera, shed frames) starts the window again rather than reading a jump as violent motion.
A still image (`window_frames` 1, see `relaxed_for_single_frame`) cannot raise a fight: the signal
is motion, which one frame does not have.
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import supervision as sv

from citywatch.analytics.base import AnalysisInput, register_analyzer
from citywatch.analytics.people import persons
from citywatch.analytics.zones import ZoneFilter
from citywatch.config import CameraConfig, FightThresholds, Thresholds
from citywatch.domain.incident import EvidenceBox, Incident, IncidentEnded, IncidentEvent, IncidentRaised
from citywatch.domain.incident_types import IncidentType
from citywatch.perception.fight_clip import CLIP_STEP_S, WINDOW, FightClipModel, grey_of, motion_picture
from citywatch.perception.tracker import TRACKED_ROLE

MAX_GAP_S = 3 * CLIP_STEP_S
MOVED_LEVEL = 25
"""Grey-level change that marks a pixel as moved, for the box of an incident with nobody boxed."""


@dataclass(slots=True, eq=False)
class _Episode:
    incident_id: str
    last_fight: float


@register_analyzer(IncidentType.FIGHT, roles=(TRACKED_ROLE,), models=("fight_clip",))
class FightAnalyzer:
    def __init__(self, camera: CameraConfig, thresholds: Thresholds, models: Mapping[str, object]) -> None:
        if "fight_clip" not in models:
            raise ValueError(
                f"camera {camera.id!r}: the fight analyzer needs the second-stage model 'fight_clip'"
            )
        self._model = cast(FightClipModel, models["fight_clip"])
        self._camera_id = camera.id
        self._settings: FightThresholds = thresholds.fight
        self._zone_filter = ZoneFilter(camera.zones, IncidentType.FIGHT)
        self._maps: deque[np.ndarray] = deque(maxlen=WINDOW)
        self._people: deque[int] = deque(maxlen=WINDOW)
        self._recent: deque[bool] = deque(maxlen=self._settings.window_frames)
        self._previous: tuple[float, np.ndarray] | None = None
        self._episode: _Episode | None = None

    def update(self, analysis: AnalysisInput) -> list[IncidentEvent]:
        if self._settings.window_frames == 1:
            return []  # a still image: no motion, no fight (module doc)
        frame, now = analysis.frame, analysis.frame.timestamp
        grey = grey_of(frame.image)
        before = self._continue_from(now, grey)
        self._previous = (now, grey)
        self._maps.append(self._model.encode(motion_picture(grey, before)))
        people = self._people_in_view(analysis)
        self._people.append(len(people))
        score = (
            self._model.score(np.stack(self._maps))
            if len(self._maps) == WINDOW and max(self._people) >= self._settings.min_people
            else None
        )
        fighting = score is not None and score >= self._settings.min_probability
        self._recent.append(fighting)
        events: list[IncidentEvent] = []
        if fighting and self._episode is not None:
            self._episode.last_fight = now
        elif fighting and sum(self._recent) >= self._settings.persist_frames:
            incident = self._incident(analysis, people, moved=(grey, before), score=cast(float, score))
            self._episode = _Episode(incident.id, now)
            events.append(IncidentRaised(incident))
        if self._episode is not None and now - self._episode.last_fight > self._settings.end_after_s:
            events.append(IncidentEnded(self._episode.incident_id, self._camera_id, self._episode.last_fight))
            self._episode = None
        return events

    def _continue_from(self, now: float, grey: np.ndarray) -> np.ndarray:
        """The grey frame this one's motion is measured against; after a gap, a resolution change or
        at the start, the frame itself (no motion) and an empty window."""
        if self._previous is not None:
            then, before = self._previous
            if 0 < now - then <= MAX_GAP_S and before.shape == grey.shape:
                return before
        self._maps.clear()
        self._people.clear()
        return grey

    def _people_in_view(self, analysis: AnalysisInput) -> np.ndarray:
        """[N, 4] boxes of the people in this frame, inside the camera's fight zones."""
        people = persons(
            analysis.detections.get(TRACKED_ROLE, sv.Detections.empty()), self._settings.min_person_confidence
        )
        inside = self._zone_filter(people, analysis.frame.width, analysis.frame.height)
        return inside.xyxy.astype(np.float32)

    def _incident(
        self, analysis: AnalysisInput, people: np.ndarray, moved: tuple[np.ndarray, np.ndarray], score: float
    ) -> Incident:
        frame = analysis.frame
        boxes = (
            [EvidenceBox.of(box, "person", score) for box in people]
            if len(people)
            else [EvidenceBox(_moved_region(*moved), "motion", score)]
        )
        return Incident(
            type=IncidentType.FIGHT,
            camera_id=self._camera_id,
            started_at=frame.timestamp,
            confidence=score,
            frame_index=frame.index,
            boxes=boxes,
            details={
                "score": round(score, 3),
                "people": len(people),
                "persist_frames": self._settings.persist_frames,
                "window_frames": self._settings.window_frames,
            },
            frame=frame.image,
        )


def _moved_region(grey: np.ndarray, before: np.ndarray) -> tuple[float, float, float, float]:
    """The box around every pixel that changed by MOVED_LEVEL or more (the whole frame if none)."""
    moved = (cv2.absdiff(grey, before) >= MOVED_LEVEL).astype(np.uint8)
    x, y, width, height = cv2.boundingRect(moved)
    if width == 0 or height == 0:
        return (0.0, 0.0, float(grey.shape[1]), float(grey.shape[0]))
    return (float(x), float(y), float(x + width), float(y + height))
