"""The pack's detectors by role: which model plays which part, and how it is loaded.

A role is what the pipeline asks for ("coco", "fire_smoke"); a new model (weapons, helmets) is
added by registering a loader for its role, without touching the callers. The built-in roles are
registered at the end of this module, from the modules that load them.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from citywatch.config import ModelSettings
from citywatch.perception.fall_detector import load_fall_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.rider_heads import BOX_FLOOR, load_rider_head_detector
from citywatch.perception.triggers import RoleTrigger
from citywatch.perception.weapon import load_weapon_detector
from citywatch.perception.yolo import YoloDetector
from citywatch.perception.yolo_loader import load_yolo
from citywatch.registry import Registry

DetectorLoader = Callable[[ModelPack, ModelSettings, float], YoloDetector]


@dataclass(frozen=True, slots=True)
class DetectorRole:
    load: DetectorLoader
    trigger: RoleTrigger | None
    """Gates the role on video frames (see perception.triggers); None: it runs on every frame."""


DETECTORS: Registry[str, DetectorRole] = Registry("detector role")


def register_detector(role: str, loader: DetectorLoader, trigger: RoleTrigger | None = None) -> None:
    """Make `role` loadable; later models (weapon, helmet) register here, with the trigger that
    gates them on video frames if they need one."""
    DETECTORS.register(role, DetectorRole(loader, trigger))


def triggers_for(roles: Iterable[str]) -> dict[str, RoleTrigger]:
    """The triggers of those of `roles` that have one and whose source is among `roles`."""
    roles = set(roles)
    triggers = {role: DETECTORS.get(role).trigger for role in sorted(roles) if role in DETECTORS}
    return {role: t for role, t in triggers.items() if t is not None and t.source in roles}


def load_detector(
    pack: ModelPack, role: str, settings: ModelSettings, conf_threshold: float = 0.25
) -> YoloDetector:
    """The detector for `role`, its model file verified against the manifest first."""
    return DETECTORS.get(role).load(pack, settings, conf_threshold)


def _yolo_loader(model: str) -> DetectorLoader:
    def load(pack: ModelPack, settings: ModelSettings, conf_threshold: float) -> YoloDetector:
        return load_yolo(pack, model, settings, conf_threshold)

    return load


def _load_rider_heads(pack: ModelPack, settings: ModelSettings, conf_threshold: float) -> YoloDetector:
    return load_rider_head_detector(pack, settings, min(conf_threshold, BOX_FLOOR))


register_detector("coco", _yolo_loader("coco-yolov8n-int8-640"))
register_detector("fire_smoke", _yolo_loader("fire-smoke-yolov8-416"))
register_detector("weapon", load_weapon_detector, RoleTrigger("coco", frozenset({"person"})))
# No trigger: the fall detector exists because COCO misses people lying on a floor.
register_detector("fall_detector", load_fall_detector)
# Rider heads matter only where a rider can be: on frames with a two-wheeler.
register_detector("rider_heads", _load_rider_heads, RoleTrigger("coco", frozenset({"motorcycle", "bicycle"})))
