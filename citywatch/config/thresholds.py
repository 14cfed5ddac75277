"""Per incident type, the thresholds its analyzer decides with (measured operating points in
docs/ACCURACY.md) and their sensitivity presets."""

import math
from typing import ClassVar, Self

from pydantic import Field, model_validator

from citywatch.config.base import StrictModel


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
    check_every_s: float = Field(
        default=1.0,
        ge=0,
        description="Video: while it has seen no smoke or fire, the smoke/fire detector looks at a camera's "
        "frames this many seconds apart (every 2nd analysed frame at 2 fps), and at every frame from a "
        "sighting until the persistence window has passed it, so `persist_frames` still counts every "
        "frame of an episode (analytics.fire.fire_schedules). Smoke and fire change slowly: it delays a "
        "first sighting by at most this. 0: every analysed frame.",
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
    pose_gate: bool = Field(
        default=True,
        description="Video: pose (MoveNet) only the people whose box or track says they may be down or "
        "going down (the gate_* fields); anyone else counts as upright by their box. Off: every person "
        "on every frame is posed (costs a MoveNet run each, docs/BENCHMARKS.md).",
    )
    gate_upright_min_aspect: float = Field(
        default=1.6,
        gt=0,
        description="Pose gate: a box at least this many times taller than wide can be upright without a "
        "pose; a lower one (lying, sitting, crouching, half hidden) is posed.",
    )
    gate_shrink_fraction: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Pose gate: a box shorter than this share of its track's height when it last stood is "
        "posed.",
    )
    gate_drop_fraction: float = Field(
        default=0.15,
        gt=0,
        description="Pose gate: a box whose top or centre fell by this share of its track's upright height "
        "within `gate_drop_s` is posed (someone going down).",
    )
    gate_drop_s: float = Field(
        default=1.0, gt=0, description="Pose gate: the seconds over which a drop of the box counts."
    )
    gate_fall_box_iou: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Pose gate: a person box overlapping a fall-detector box (any confidence) this much "
        "(IoU) is posed.",
    )


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
    # Operating points read from the fight clip model's grouped cross-validation (python -m
    # citywatch.training.fight_clip; docs/ACCURACY.md, min_people 1). Its best F1 at precision >= 0.9,
    # 0.98, does not carry over to the shipped scorer (trained on every clip, its scores run lower in
    # the tail: in-sample fight clips peak at 0.92-0.97), so normal is 0.9: P 0.87, R 0.50, 7.5 % of
    # no_fight clips flagged in CV. high = best F1 at precision >= 0.8 (0.625: P 0.83, R 0.80, 16 %);
    # low = 0.95 (P 0.88, R 0.40, 5.4 %).
    SENSITIVITY: ClassVar[dict[str, dict[str, float]]] = {
        "low": {"min_probability": 0.95},
        "high": {"min_probability": 0.625},
    }
    counted_at_fps: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="The analysed frame rate `persist_frames` and `window_frames` are counted at (the "
        "fight clip model's own rate); other rates are scaled to the same seconds. Cameras that look for "
        "fights should analyse at 5 fps: the model reads motion over 0.2 s.",
    )
    min_person_confidence: float = Field(
        default=0.25, ge=0, le=1, description="COCO person boxes below this confidence are not counted."
    )
    min_people: int = Field(
        default=1,
        ge=0,
        description="People in view (in one frame of the model's 1.2 s window, inside the camera's fight "
        "zones) for the fight model to run at all; 0 runs it on every frame. Not 2: the int8 COCO model "
        "often boxes two wrestling people as one or misses them, and 2 lost a fifth of the fights found "
        "in cross-validation (docs/ACCURACY.md).",
    )
    min_probability: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Fight clip model score at which an analysed frame counts as fighting (read from the "
        "grouped cross-validation by source video; docs/ACCURACY.md says why not its P >= 0.9 point).",
    )
    persist_frames: int = Field(
        default=2,
        ge=1,
        description="Fighting frames, out of the camera's last `window_frames`, to raise. A still image "
        "(window_frames 1) never raises: a fight is motion, which one frame does not show.",
    )
    window_frames: int = Field(default=3, ge=1, description="The camera's latest analysed frames considered.")
    end_after_s: float = Field(
        default=10.0, gt=0, description="An episode ends after this long without a fighting frame."
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
