"""The pydantic models of `cameras.yaml`, and the loader that turns mistakes into clear errors.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored setting.
Each field carries a description: it is the documentation of the key (see examples/cameras.yaml).
Relative paths are resolved against the folder of the config file; `${VAR}` and `${VAR:-default}`
are expanded from the environment in every string.
"""

import ipaddress
import math
import os
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from citywatch.domain.incident_types import DETECTION_TYPES, IncidentType, Severity

DetectionType = Literal[tuple(t.value for t in DETECTION_TYPES)]  # type: ignore[valid-type]
"""The incident types a camera may look for (domain.incident_types: the ones with an analyzer)."""


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the camera and the key."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(StrictModel):
    lat: float = Field(ge=-90, le=90, description="Latitude in degrees (WGS84).")
    lon: float = Field(ge=-180, le=180, description="Longitude in degrees (WGS84).")


Point = tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]]


class Zone(StrictModel):
    name: str = Field(min_length=1, description="Name shown to operators, e.g. 'crossing'.")
    polygon: list[Point] = Field(
        min_length=3,
        description="Corners as [x, y] fractions of the frame width and height (0..1), in order.",
    )
    incident_types: list[DetectionType] | None = Field(
        default=None, description="Types this zone applies to; all enabled types when left out."
    )


Sensitivity = Literal["low", "normal", "high"]
SENSITIVITY_LEVELS: tuple[str, ...] = Sensitivity.__args__


class PersistenceRule(StrictModel):
    """Thresholds of a type whose incidents need `persist_frames` of the last `window_frames`
    analysed frames (both fields defined by each subclass; relaxed_for_single_frame cuts them to 1).

    Both counts mean frames at `counted_at_fps`; `at_frame_rate` turns them into the same seconds at
    a camera's own analysed frame rate."""

    persist_frames: int
    window_frames: int
    SENSITIVITY: ClassVar[dict[str, dict[str, float]]] = {}
    """Per sensitivity level other than `normal` (the defaults): the field values of that measured
    point of the type's precision-recall curve (docs/ACCURACY.md). Types without a curve have none."""
    counted_at_fps: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description="The analysed frame rate `persist_frames` and `window_frames` are counted at. A camera "
        "analysing at another rate gets both scaled to the same seconds (4 of 6 at 2 fps is 10 of 15 at "
        "5 fps), so a camera set to 5 fps for fights does not raise on a sighting 2.5 times shorter.",
    )

    def at_frame_rate(self, fps: float) -> Self:
        """These thresholds for a camera analysing `fps` frames a second, rounded up. A window of
        one frame means a still image (relaxed_for_single_frame) and stays one; a longer window
        keeps at least two frames."""
        if fps == self.counted_at_fps or self.window_frames == 1:
            return self
        scale = fps / self.counted_at_fps
        window = max(math.ceil(self.window_frames * scale - 1e-9), 2)
        persist = min(window, max(1, math.ceil(self.persist_frames * scale - 1e-9)))
        update = {"window_frames": window, "persist_frames": persist, "counted_at_fps": fps}
        return self.model_copy(update=update)

    def at_sensitivity(self, level: str) -> Self:
        """These thresholds at a camera's `sensitivity`: the preset values of `level` for every field
        the config did not set itself (an explicit value always wins)."""
        preset = {k: v for k, v in self.SENSITIVITY.get(level, {}).items() if k not in self.model_fields_set}
        return self.model_copy(update=preset) if preset else self

    @model_validator(mode="after")
    def _persist_fits_window(self) -> Self:
        if self.persist_frames > self.window_frames:
            raise ValueError("persist_frames must not exceed window_frames")
        return self


class FireThresholds(PersistenceRule):
    # Defaults tuned with scripts/eval/tune_fire.py (tuning and held-out numbers in docs/ACCURACY.md).
    min_confidence: float = Field(
        default=0.25, ge=0, le=1, description="A fire box below this confidence is ignored."
    )
    smoke_min_confidence: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="A smoke box below this confidence is ignored: the model calls haze, dust and dark "
        "clothes smoke at 0.4-0.6 far more often than it calls anything fire (see docs/ACCURACY.md).",
    )
    max_area_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="A box covering more of the frame than this is ignored. The model calls empty grey "
        "scenes (asphalt, haze) smoke over the whole frame; real CCTV smoke also fills most of it, so "
        "the default (1.0: off) leaves this to persistence; lower it for a camera over grey asphalt.",
    )
    persist_frames: int = Field(
        default=4, ge=1, description="Sampled frames with smoke or fire, out of `window_frames`, to raise."
    )
    window_frames: int = Field(default=6, ge=1, description="Sliding window of sampled frames.")
    clear_after_s: float = Field(
        default=60, gt=0, description="Seconds without smoke or fire that end an episode (one incident each)."
    )


class NoHelmetThresholds(PersistenceRule):
    SENSITIVITY: ClassVar[dict[str, dict[str, float]]] = {
        "low": {"min_head_confidence": 0.64},
        "high": {"min_head_confidence": 0.1},
    }
    """Points of the no_helmet curve in docs/ACCURACY.md (precision >= 0.97 / >= 0.8)."""
    min_head_confidence: float = Field(
        default=0.26,
        ge=0,
        le=1,
        description="A head box of the rider head detector's `without_helmet` class at or above this "
        "confidence is a bare head; the operating point of the no_helmet precision-recall curve.",
    )
    min_head_px: float = Field(
        default=6,
        ge=1,
        description="Bare heads narrower than this, in px, are too far away to judge.",
    )
    min_rider_overlap: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="Share of a person box's lower half that must lie on a motorcycle box: a rider.",
    )
    persist_frames: int = Field(
        default=2, ge=1, description="Bare-head judgements of a rider, out of `window_frames`, to raise."
    )
    window_frames: int = Field(default=4, ge=1, description="A rider's most recent judgements considered.")


class FallThresholds(PersistenceRule):
    min_person_confidence: float = Field(
        default=0.25, ge=0, le=1, description="COCO person boxes below this confidence are not posed."
    )
    min_frame_pose_confidence: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Still images: people MoveNet finds in the whole frame (missed by the detector) "
        "at or above this score are posed too.",
    )
    min_probability: float = Field(
        default=0.22,
        gt=0,
        le=1,
        description="Fall-classifier probability at which a pose counts as fallen (the threshold that "
        "python -m citywatch.training.fall chose by camera-grouped cross-validation).",
    )
    upright_max_probability: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="A pose below this fall probability, in a box taller than wide, counts as upright.",
    )
    min_box_confidence: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="A fall-detector box (a person lying fallen) at or above this confidence counts: on a "
        "still image it raises, in video it starts or continues a fall spot (analytics.fall_spots).",
    )
    still_image_pose: bool = Field(
        default=False,
        description="Still images: also raise on a fallen pose (COCO and MoveNet people, the fall-pose "
        "classifier). Off by default: on the fall validation cameras it adds more false alarms than "
        "falls (docs/ACCURACY.md).",
    )
    max_fall_s: float = Field(
        default=3.0, gt=0, description="Video: the track was upright at most this long before lying."
    )
    min_down_s: float = Field(
        default=2.0, ge=0, description="Video: the track stays down this long before the incident."
    )
    persist_frames: int = Field(
        default=2,
        ge=1,
        description="Fallen poses of a track, out of its last `window_frames`, to count as down. "
        "With window_frames 1 (still images) one fallen pose raises: a single frame has no past.",
    )
    window_frames: int = Field(default=3, ge=1, description="A track's most recent poses considered.")


class AccidentThresholds(PersistenceRule):
    # Rules, not a trained model (the accident data has no license). Swept with
    # scripts/eval/tune_accident.py on the accident tuning clips: no combination beat chance on
    # single frames, so the defaults are the rules' own values (docs/ACCURACY.md).
    min_vehicle_confidence: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Vehicle boxes (car, motorcycle, bus, truck, bicycle) below this are ignored.",
    )
    min_person_confidence: float = Field(
        default=0.3, ge=0, le=1, description="Person boxes below this confidence are ignored."
    )
    collision_min_overlap: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="Two vehicles meet when this share of the smaller box lies inside the other.",
    )
    duplicate_iou: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Two vehicle boxes with an IoU at or above this are one vehicle the detector named twice "
        "(car and truck), not two vehicles that meet.",
    )
    max_depth_gap: float = Field(
        default=0.5,
        ge=0,
        description="Meeting vehicles stand at the same depth: their box bottoms differ by at most this many "
        "heights of the taller box (a car queued behind another does not).",
    )
    min_size_ratio: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Meeting vehicles are of comparable size: smaller box area / larger at least this.",
    )
    min_speed: float = Field(
        default=0.6,
        gt=0,
        description="Video: a vehicle moving at least this fast, in box sizes (square root of its area) per "
        "second, can stop or turn abruptly.",
    )
    min_speed_drop: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="Video: an abrupt stop loses at least this share of the speed within `motion_window_s`.",
    )
    min_heading_change_deg: float = Field(
        default=60,
        gt=0,
        le=180,
        description="Video: an abrupt turn changes direction by at least this many degrees within "
        "`motion_window_s`.",
    )
    motion_window_s: float = Field(
        default=1.5,
        gt=0,
        description="Video: how recent the abrupt stop or turn must be, and how far back the speed "
        "before it is taken.",
    )
    stopped_speed: float = Field(
        default=0.15, ge=0, description="Video: a vehicle below this speed (box sizes per second) is stopped."
    )
    motorcycle_lying_aspect: float = Field(
        default=2.6,
        gt=0,
        description="A motorcycle or bicycle box at least this many times wider than tall lies on its side.",
    )
    person_lying_aspect: float = Field(
        default=1.3,
        gt=0,
        description="A person box at least this many times wider than tall is lying (rider_down candidates).",
    )
    near_distance: float = Field(
        default=0.5,
        ge=0,
        description="A person is next to a vehicle when the gap between their boxes is at most this many "
        "vehicle box sizes.",
    )
    min_fall_probability: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A lying person candidate must also have a fall-classifier probability at least this "
        "(pose on the person crop); 0 trusts the box aspect alone.",
    )
    gathering_min_people: int = Field(
        default=3,
        ge=1,
        description="Video: people (tracks that walked towards it) around an abruptly stopped vehicle that "
        "make an accident scene.",
    )
    gathering_radius: float = Field(
        default=1.5, gt=0, description="Video: 'around a vehicle' means within this many vehicle box sizes."
    )
    gathering_min_approach: float = Field(
        default=0.5,
        gt=0,
        description="Video: a person gathers when their distance to the vehicle shrank by at least this many "
        "vehicle box sizes.",
    )
    still_ambiguous_vehicle: bool = Field(
        default=False,
        description="Still images: a vehicle the detector names twice at once (boxes with IoU >= "
        "`duplicate_iou`, e.g. car and truck) counts as deformed or at an odd angle.",
    )
    persist_frames: int = Field(
        default=2,
        ge=1,
        description="Video: frames, out of the last `window_frames`, a collision pair must meet (or a rider "
        "lie) to raise. Still images: 1.",
    )
    window_frames: int = Field(default=3, ge=1, description="Video: sliding window of analysed frames.")
    clear_after_s: float = Field(
        default=30,
        gt=0,
        description="Seconds the involved tracks are all unseen before an episode ends (one incident each).",
    )


class FightThresholds(PersistenceRule):
    counted_at_fps: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="The analysed frame rate `persist_frames` and `window_frames` are counted at (the "
        "fight classifier's own rate, FIGHT_FPS); other rates are scaled to the same seconds.",
    )
    min_person_confidence: float = Field(
        default=0.25, ge=0, le=1, description="COCO person tracks below this confidence are left out."
    )
    min_frame_pose_confidence: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="People MoveNet finds in the whole frame (missed by the detector) at or above this "
        "score are followed too.",
    )
    max_group_gap: float = Field(
        default=0.3,
        ge=0,
        description="People whose boxes are at most this far apart (in their mean size) form a group. "
        "The classifier was trained with the default; larger values add bystanders.",
    )
    min_size_ratio: float = Field(
        default=0.4,
        gt=0,
        le=1,
        description="People of very different sizes (near and far from the camera) never form a group.",
    )
    min_people: int = Field(
        default=2,
        ge=1,
        description="People a group needs. 1 also judges people alone: the detector often boxes two "
        "wrestling people as one.",
    )
    min_probability: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="Fight-classifier probability at which a group's analysed frame counts as fighting (the "
        "median of the thresholds python -m citywatch.training.fight chose inside its source-video folds).",
    )
    persist_frames: int = Field(
        default=2,
        ge=1,
        description="Fighting frames of a group, out of its last `window_frames`, to raise. A still image "
        "(window_frames 1) never raises: a fight is motion, which one frame does not show.",
    )
    window_frames: int = Field(default=3, ge=1, description="A group's latest analysed frames considered.")
    end_after_s: float = Field(
        default=10.0, gt=0, description="An episode ends when none of its people fought for this long."
    )


class WeaponThresholds(PersistenceRule):
    SENSITIVITY: ClassVar[dict[str, dict[str, float]]] = {
        "low": {"min_confidence": 0.345},
        "high": {"min_confidence": 0.25},
    }
    """Points of the weapon curve in docs/ACCURACY.md (best F1 at precision >= 0.97; most recall at
    precision >= 0.8, here the detector's lowest box)."""
    min_confidence: float = Field(
        default=0.26,
        ge=0,
        le=1,
        description="Weapon-detector boxes below this are ignored; the operating point of the weapon "
        "precision-recall curve (best F1 at precision >= 0.9 on held-out cameras, docs/ACCURACY.md). The "
        "detector gives no box below 0.25.",
    )
    coco_min_confidence: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="A COCO `knife` or `baseball bat` box below this is ignored (a bat means subtype blunt).",
    )
    min_person_confidence: float = Field(
        default=0.3, ge=0, le=1, description="Person boxes below this confidence cannot hold a weapon."
    )
    lone_weapon_factor: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="A weapon nobody holds (the COCO model missed the person, or a close-up shows only a "
        "hand) counts with its confidence times this factor against `min_confidence`: at 0.6 and 0.26 a "
        "loose box needs 0.43 (0.8 raised on a street video and five no_fight clips). 0 turns loose "
        "weapons off (a person must hold it).",
    )
    body_margin: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Each person box is widened by this fraction of its width and height on every side "
        "(an arm held out) before testing whether a weapon lies on the body.",
    )
    max_weapon_size: float = Field(
        default=2.0,
        gt=0,
        description="A weapon box whose longer side exceeds this many heights of a person box cannot be "
        "held by that person (a false box over half the frame). Not 1: a person cut off by the frame "
        "edge (a hand and arm) has a short box.",
    )
    min_body_overlap: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of a weapon box that must lie inside the widened person box to count as held.",
    )
    hand_radius: float = Field(
        default=0.12,
        ge=0,
        le=1,
        description="A weapon box within this distance (a fraction of the person's height) of a wrist "
        "(MoveNet, on the person crop) is held in that hand, even when it lies outside the body box. "
        "Pose runs only for people near a weapon that is not on their body.",
    )
    min_wrist_score: float = Field(
        default=0.3, ge=0, le=1, description="Wrist keypoints below this score are not used."
    )
    min_frame_pose_confidence: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Still images with a weapon nobody holds: people MoveNet finds in the whole frame "
        "at or above this score may hold it too.",
    )
    persist_frames: int = Field(
        default=3,
        ge=1,
        description="Frames a person track holds a weapon in, out of `window_frames`, to raise (3 of 5 "
        "at 2 fps: 2 of 4 let a table leg that a passer-by's body covered for two frames raise a knife).",
    )
    window_frames: int = Field(default=5, ge=1, description="A person track's most recent frames considered.")


class Thresholds(StrictModel):
    fire: FireThresholds = Field(default_factory=FireThresholds, description="Smoke and fire.")
    no_helmet: NoHelmetThresholds = Field(
        default_factory=NoHelmetThresholds, description="Motorcycle riders without a helmet."
    )
    fall: FallThresholds = Field(default_factory=FallThresholds, description="People who fall.")
    weapon: WeaponThresholds = Field(
        default_factory=WeaponThresholds, description="People holding a gun, knife or bat."
    )
    fight: FightThresholds = Field(default_factory=FightThresholds, description="Fights.")
    accident: AccidentThresholds = Field(
        default_factory=AccidentThresholds, description="Traffic accidents (collision, rider_down)."
    )

    def at_sensitivity(self, level: str) -> "Thresholds":
        """Every type's thresholds at `level` (PersistenceRule.at_sensitivity)."""
        if level == "normal":
            return self
        update = {name: getattr(self, name).at_sensitivity(level) for name in type(self).model_fields}
        return self.model_copy(update=update)


class MotionSettings(StrictModel):
    enabled: bool = Field(default=True, description="Run the detector only on frames that changed.")
    pixel_threshold: int = Field(
        default=25, ge=1, le=255, description="Grey-level difference that counts a pixel as changed."
    )
    min_changed_fraction: float = Field(
        default=0.002, ge=0, le=1, description="Fraction of changed pixels that counts a frame as moving."
    )
    full_check_every_s: float = Field(
        default=10, gt=0, description="Analyse a frame at least this often even without motion."
    )


CAMERA_ID_PATTERN = r"^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$"
"""Letters, digits, `_`, `.`, `-`, at least one of them not a dot; at most CAMERA_ID_MAX_LENGTH."""
CAMERA_ID_MAX_LENGTH = 64


class CameraConfig(StrictModel):
    id: str = Field(
        min_length=1,
        max_length=CAMERA_ID_MAX_LENGTH,
        description="Stable id used in the database and as the camera's evidence folder: letters, digits, "
        "`_`, `.` and `-`, not only dots (`.` and `..` would name a folder outside the evidence folder).",
    )
    name: str = Field(default="", description="Name shown to operators (Thai or English).")
    url: str = Field(
        min_length=1, description="rtsp://, rtsps://, http(s):// stream, or a local video file path."
    )
    loop: bool = Field(default=False, description="Restart a local file at its end (demos, soak runs).")
    realtime: bool = Field(
        default=True, description="Pace a local file at its own frame rate, like a live camera."
    )
    location: Location | None = Field(default=None, description="Where the camera is, for the map.")
    analytics_fps: float = Field(default=2.0, gt=0, le=30, description="Frames analysed per second.")
    incident_types: list[DetectionType] = Field(
        default_factory=lambda: ["fire"], description="Incident types looked for on this camera."
    )
    zones: list[Zone] = Field(default_factory=list, description="Areas that limit where incidents count.")
    sensitivity: Sensitivity = Field(
        default="normal",
        description="Trade alarms for misses on this camera without editing numbers: `normal` is each "
        "type's operating point (best F1 at precision >= 0.9 on held-out cameras), `low` a point with "
        "fewer false alarms and more misses, `high` one with fewer misses and more false alarms; the "
        "points are in docs/ACCURACY.md. Thresholds this camera sets itself are kept as set.",
    )
    thresholds: Thresholds | None = Field(
        default=None, description="Per-type thresholds; the top-level `thresholds` when left out."
    )
    motion: MotionSettings | None = Field(
        default=None, description="Motion gate; the top-level `motion` when left out."
    )
    enabled: bool = Field(default=True, description="A disabled camera is not opened.")

    @field_validator("id")
    @classmethod
    def _id_names_a_folder(cls, value: str) -> str:
        if not re.fullmatch(CAMERA_ID_PATTERN, value):
            raise ValueError(
                f"{value!r} is not a camera id: use letters, digits, '_', '.' and '-', not only dots"
            )
        return value


class ModelSettings(StrictModel):
    path: Path | None = Field(
        default=None,
        description="Model pack folder (with manifest.json); $CITYWATCH_MODELS or ../shared/models if unset.",
    )
    providers: list[str] = Field(
        default_factory=lambda: ["CPUExecutionProvider"],
        description="ONNX Runtime execution providers in order of preference.",
    )
    intra_op_threads: int = Field(default=0, ge=0, description="Threads per model; 0 lets ONNX Runtime pick.")
    batch_size: int = Field(default=8, ge=1, description="Most frames the scheduler takes in one go.")
    max_wait_ms: float = Field(default=20, ge=0, description="How long the scheduler waits to fill a batch.")
    queue_size: int = Field(
        default=16,
        ge=1,
        description="Frames waiting for inference, all cameras together; beyond it the oldest is shed.",
    )
    per_camera_queue: int = Field(
        default=2,
        ge=1,
        description="Frames of one camera waiting for inference; a newer one supersedes the oldest, so one "
        "busy camera cannot delay the others (the scheduler takes the cameras in turn).",
    )
    latency_budget_s: float | None = Field(
        default=2.0,
        gt=0,
        description="A frame older than this from its capture when its turn comes is skipped, not analysed "
        "late (counted per camera in /metrics); null analyses every frame however late.",
    )
    type_priority: list[DetectionType] = Field(
        default_factory=lambda: ["fire", "weapon", "fall", "fight", "accident", "no_helmet"],
        min_length=1,
        description="Which incident types keep their detector passes when the machine cannot do everything: "
        "a frame that waited more than half of latency_budget_s loses the passes of the types late in this "
        "list first (counted per camera and role in /metrics, citywatch_passes_skipped_total); types not "
        "listed come last.",
    )

    @field_validator("type_priority")
    @classmethod
    def _each_type_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("an incident type is listed more than once")
        return value


class StorageSettings(StrictModel):
    database_url: str = Field(
        default="sqlite:///citywatch.db",
        description="SQLAlchemy URL; sqlite:///file.db (relative to the config) or postgresql+psycopg://...",
    )
    evidence_dir: Path = Field(default=Path("evidence"), description="Folder of snapshots and clips.")
    retention_days: float = Field(default=30, gt=0, description="Evidence older than this is deleted.")
    retention_max_gb: float = Field(default=50, gt=0, description="Evidence beyond this size is deleted.")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                f"{value!r} is not a database URL (sqlite:///file.db or postgresql+psycopg://...)"
            ) from None
        backend = url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"database {backend!r} is not supported: use sqlite or postgresql")
        return value


class EvidenceSettings(StrictModel):
    pre_roll_s: float = Field(default=5, ge=0, le=60, description="Seconds of clip before the incident.")
    post_roll_s: float = Field(default=5, ge=0, le=60, description="Seconds of clip after the incident.")
    snapshot_quality: int = Field(default=85, ge=10, le=100, description="JPEG quality of snapshots.")
    clip_fps: float = Field(default=10, gt=0, le=30, description="Frame rate of evidence clips.")


class HealthSettings(StrictModel):
    connect_timeout_s: float = Field(default=10, gt=0, description="Time to open a stream.")
    stalled_after_s: float = Field(default=5, gt=0, description="No frame for this long: stalled.")
    offline_after_s: float = Field(
        default=30, gt=0, description="Down for this long: offline, and a camera_offline incident."
    )
    backoff_initial_s: float = Field(default=1, gt=0, description="First wait before reconnecting.")
    backoff_max_s: float = Field(default=30, gt=0, description="Longest wait between reconnects.")


class IncidentSettings(StrictModel):
    group_window_s: float = Field(
        default=300,
        ge=0,
        description="An incident started this soon after another of its camera and type joins its group.",
    )


class ApiSettings(StrictModel):
    host: str = Field(default="127.0.0.1", description="Address `citywatch serve` listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port `citywatch serve` listens on.")
    session_hours: float = Field(default=12, gt=0, description="Hours a login session lasts (one shift).")
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per user name and address, within the window, before 429."
    )
    login_window_s: float = Field(default=60, gt=0, description="Window of the login failure limit.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (e.g. 10.0.0.5, 10.0.0.0/24) of the reverse proxies in front of "
        "`citywatch serve`, whose X-Forwarded-For and X-Forwarded-Proto are believed (the client address of "
        "the audit log and the login limit, https for the cookie). Empty (the default): no such header is "
        "believed, from anyone; the client address is the connection's.",
    )
    docs: bool = Field(
        default=True,
        description="Serve the interactive API documentation (/docs, /redoc, /openapi.json) to anyone; "
        "false hides it (the same schema is in the repository).",
    )
    health_version: bool = Field(
        default=True,
        description="/api/health (no login) says which citywatch version runs; false leaves it out.",
    )
    timezone: str = Field(
        default="Asia/Bangkok", description="Time zone of the stats' hours and days (IANA name)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not an address or network (e.g. 10.0.0.5, 10.0.0.0/24)"
                ) from None
        return values


class UiSettings(StrictModel):
    tile_url: str = Field(
        default="",
        description="Map tile URL template of the dashboard, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png or a tile server of the command centre; empty "
        "(the default): no tiles, the cameras on a plain background (offline command centres).",
    )
    tile_attribution: str = Field(default="", description="Attribution shown with the tiles (HTML).")
    default_language: Literal["th", "en"] = Field(
        default="th", description="Dashboard language of users who have not chosen one."
    )


AlertType = Literal[tuple(t.value for t in IncidentType)]  # type: ignore[valid-type]
"""Every incident type, camera health included: what a notification route may name."""


class QuietHours(StrictModel):
    start: time = Field(description="Local time the quiet window starts, e.g. '22:00'.")
    end: time = Field(description="Local time it ends, e.g. '06:00'; earlier than start means past midnight.")
    min_severity: Severity = Field(
        default="high",
        description="Only incidents at least this severe are sent meanwhile (weapon, fight, accident, fire "
        "are high; fall, no_helmet, camera health are medium).",
    )


class MqttSettings(StrictModel):
    host: str = Field(default="127.0.0.1", description="MQTT broker host.")
    port: int = Field(default=1883, ge=1, le=65535, description="MQTT broker port (8883 is usual with TLS).")
    topic_prefix: str = Field(
        default="citywatch",
        pattern=r"^[^#+]+$",
        description="First level of every topic: <prefix>/cameras/<id>/status, "
        "<prefix>/incidents/<type>/<camera_id>.",
    )
    qos: Literal[1, 2] = Field(
        default=1, description="QoS of incident and status messages; 0 is not offered: it loses alerts."
    )
    username: str | None = Field(default=None, description="Broker user name, if it asks for one.")
    password: str | None = Field(default=None, description="Broker password (use ${VAR}, not the file).")
    tls: bool = Field(default=False, description="Connect with TLS, checking the broker's certificate.")
    client_id: str | None = Field(
        default=None, description="MQTT client id; 'citywatch-<host>-<pid>' if unset."
    )
    keepalive_s: int = Field(default=30, ge=5, description="Seconds between keep-alive pings.")
    max_queued: int = Field(
        default=10000, ge=1, description="Messages held while the broker is unreachable; more wait for room."
    )
    quiet_hours: QuietHours | None = Field(default=None, description="Quiet window of this channel.")


class HttpChannelSettings(StrictModel):
    timeout_s: float = Field(default=10, gt=0, description="Seconds to wait for connect and for the answer.")
    max_attempts: int = Field(default=5, ge=1, description="Tries before the message becomes a dead letter.")
    backoff_initial_s: float = Field(
        default=2, gt=0, description="Wait before the second try; doubles after."
    )
    backoff_max_s: float = Field(default=300, gt=0, description="Longest wait between tries.")
    quiet_hours: QuietHours | None = Field(default=None, description="Quiet window of this channel.")


class WebhookSettings(HttpChannelSettings):
    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Channel name used in `routes` and dead letters."
    )
    url: str = Field(pattern=r"^https?://", description="Receiver URL; incidents are POSTed to it as JSON.")
    secret: str = Field(
        min_length=16,
        description="HMAC-SHA256 key: X-Citywatch-Signature is sha256=<hex> of "
        "'<X-Citywatch-Timestamp>.<raw body>'.",
    )


class LineSettings(HttpChannelSettings):
    channel_access_token: str = Field(min_length=1, description="LINE Messaging API channel access token.")
    to: list[str] = Field(min_length=1, description="User, group or room ids that get each push.")
    base_url: str = Field(
        default="https://api.line.me", pattern=r"^https?://", description="LINE Messaging API base URL."
    )


class RouteRule(StrictModel):
    incident_types: list[AlertType] | None = Field(
        default=None, description="Incident types this rule matches; any type when left out."
    )
    cameras: list[str] | None = Field(
        default=None, description="Camera ids it matches; any camera when left out."
    )
    channels: list[str] = Field(
        description="Channels that get matching incidents: 'mqtt', 'line' or a webhook's name ([] for none)."
    )


class NotificationSettings(StrictModel):
    timezone: str = Field(default="Asia/Bangkok", description="Time zone of quiet hours and of LINE texts.")
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https://",
        description="Public https URL of the API; with evidence_link_secret, LINE pushes get the snapshot.",
    )
    evidence_link_secret: str | None = Field(
        default=None, min_length=16, description="Key that signs the expiring snapshot links sent to LINE."
    )
    evidence_link_ttl_s: float = Field(
        default=7 * 86400, gt=0, description="How long a signed snapshot link stays valid."
    )
    mqtt: MqttSettings | None = Field(default=None, description="MQTT broker; no MQTT when left out.")
    webhooks: list[WebhookSettings] = Field(default_factory=list, description="HTTP receivers of incidents.")
    line: LineSettings | None = Field(default=None, description="LINE push; no LINE when left out.")
    routes: list[RouteRule] = Field(
        default_factory=list,
        description="First rule matching an incident's type and camera picks its channels; all channels "
        "when none matches.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _known_channels(self) -> Self:
        names = [w.name for w in self.webhooks]
        for name in names:
            if name in ("mqtt", "line") or names.count(name) > 1:
                raise ValueError(f"webhook name {name!r} is used twice or is reserved ('mqtt', 'line')")
        known = set(self.channel_names())
        for i, route in enumerate(self.routes):
            unknown = sorted(set(route.channels) - known)
            if unknown:
                raise ValueError(f"routes[{i}] names channels that are not configured: {', '.join(unknown)}")
        return self

    def channel_names(self) -> list[str]:
        return (
            (["mqtt"] if self.mqtt else [])
            + (["line"] if self.line else [])
            + [w.name for w in self.webhooks]
        )


class CitywatchConfig(StrictModel):
    cameras: list[CameraConfig] = Field(default_factory=list, description="The cameras to watch.")
    models: ModelSettings = Field(default_factory=ModelSettings, description="Model pack and runtime.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="Database and evidence.")
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings, description="Snapshots and clips.")
    health: HealthSettings = Field(default_factory=HealthSettings, description="Camera health timings.")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="Default per-type thresholds.")
    motion: MotionSettings = Field(default_factory=MotionSettings, description="Default motion gate.")
    incidents: IncidentSettings = Field(
        default_factory=IncidentSettings, description="Grouping of related incidents."
    )
    api: ApiSettings = Field(default_factory=ApiSettings, description="The REST API of `citywatch serve`.")
    notifications: NotificationSettings = Field(
        default_factory=NotificationSettings, description="Outgoing alerts: MQTT, webhooks, LINE."
    )
    ui: UiSettings = Field(
        default_factory=UiSettings, description="The operator dashboard of `citywatch serve`."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")

    @model_validator(mode="after")
    def _unique_camera_ids(self) -> Self:
        seen: set[str] = set()
        for camera in self.cameras:
            if camera.id in seen:
                raise ValueError(f"camera id {camera.id!r} is used twice")
            seen.add(camera.id)
        return self

    def thresholds_for(self, camera: CameraConfig) -> Thresholds:
        """The camera's own thresholds (else the top-level ones) at the camera's sensitivity."""
        return (camera.thresholds or self.thresholds).at_sensitivity(camera.sensitivity)

    def motion_for(self, camera: CameraConfig) -> MotionSettings:
        return camera.motion or self.motion


_ENV_PATTERN = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
"""`${VAR}`, `${VAR:-default}`; `$${...}` is the literal text `${...}` (how the zone editor writes a
name that holds one)."""


def escape_env(text: str) -> str:
    """`text` written so that loading the config gives it back as it is (no variable expanded)."""
    return text.replace("${", "$${")


def _expand_env(value: Any, where: str, unset: list[str]) -> Any:
    """`value` with every `${VAR}` replaced; a variable without a default that is not set is added
    to `unset` (with the key it is in) instead of silently becoming empty."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            escaped, name, default = match.groups()
            if escaped:
                return match.group(0)[1:]
            if name in os.environ:
                return os.environ[name]
            if default is None:
                hint = f"${{{name}:-default}}"
                unset.append(f"{where}: environment variable {name} is not set (or write {hint})")
                return ""
            return default

        return _ENV_PATTERN.sub(replace, value)
    if isinstance(value, list):
        return [_expand_env(v, f"{where}[{i}]", unset) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{where}.{k}" if where else str(k), unset) for k, v in value.items()}
    return value


def expand_env(raw: Any, source: str, where: str = "") -> Any:
    """`raw` (parsed YAML) with its environment variables expanded as a config is; ConfigError
    naming each variable that is not set."""
    unset: list[str] = []
    expanded = _expand_env(raw, where, unset)
    if unset:
        raise ConfigError("\n".join(f"{source}: key {line}" for line in unset))
    return expanded


def _location_of(error: dict[str, Any], raw: dict[str, Any]) -> str:
    """'camera 'cam02' (cameras[1]) key analytics_fps' from a pydantic error location."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "cameras" and isinstance(loc[1], int):
        index = loc[1]
        cameras = raw.get("cameras") or []
        camera_id = (
            cameras[index].get("id") if index < len(cameras) and isinstance(cameras[index], dict) else None
        )
        rest = ".".join(str(p) for p in loc[2:]) or "(the camera entry)"
        return f"camera {camera_id!r} (cameras[{index}]), key {rest}"
    return "key " + (".".join(str(p) for p in loc) or "(top level)")


def parse_config(raw: Any, source: str = "<config>", base_dir: Path | None = None) -> CitywatchConfig:
    """Validate an already-parsed YAML document; `source` names it in errors."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, not {type(raw).__name__}")
    raw = expand_env(raw, source)
    try:
        config = CitywatchConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{source}: {_location_of(err, raw)}: {err['msg']}" for err in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
    return _resolve_paths(config, base_dir or Path.cwd())


def load_config(path: str | Path) -> CitywatchConfig:
    """Read and validate a cameras.yaml; every problem is a ConfigError naming file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: line {line} is not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    return parse_config(raw, source=str(path), base_dir=path.resolve().parent)


def _is_local_path(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _resolve_paths(config: CitywatchConfig, base: Path) -> CitywatchConfig:
    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else (base / p).resolve()

    cameras = []
    for camera in config.cameras:
        url = camera.url.removeprefix("file://") if camera.url.startswith("file://") else camera.url
        if _is_local_path(camera.url):
            url = str(resolve(Path(url)))
        cameras.append(camera.model_copy(update={"url": url}))
    db_url = config.storage.database_url
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        relative = db_url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            db_url = f"sqlite:///{resolve(Path(relative))}"
    storage = config.storage.model_copy(
        update={"database_url": db_url, "evidence_dir": resolve(config.storage.evidence_dir)}
    )
    models = config.models
    if models.path is not None:
        models = models.model_copy(update={"path": resolve(models.path)})
    return config.model_copy(update={"cameras": cameras, "storage": storage, "models": models})


def incident_types_of(camera: CameraConfig) -> set[IncidentType]:
    return {IncidentType(t) for t in camera.incident_types}
