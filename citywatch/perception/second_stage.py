"""Second-stage models: the ones analyzers run themselves on crops or features (pose on a person,
the fall and fight classifiers), as opposed to the detectors the scheduler runs on whole frames.

Each is loaded once per process by name and shared by all cameras' analyzers; a new one registers
its loader here. The built-in ones are registered at the end of this module, from the modules
that load them.
"""

from collections.abc import Callable

from citywatch.config import ModelSettings
from citywatch.perception.fall_classifier import load_fall_classifier
from citywatch.perception.fight_classifier import load_fight_classifier
from citywatch.perception.pose import load_pose_estimator

SecondStageLoader = Callable[[ModelSettings], object]

_LOADERS: dict[str, SecondStageLoader] = {}


def register_second_stage(name: str, loader: SecondStageLoader) -> None:
    if name in _LOADERS:
        raise ValueError(f"second-stage model {name!r} is already registered")
    _LOADERS[name] = loader


def load_second_stage(name: str, settings: ModelSettings) -> object:
    try:
        loader = _LOADERS[name]
    except KeyError:
        known = ", ".join(sorted(_LOADERS)) or "none"
        raise ValueError(f"unknown second-stage model {name!r} (known: {known})") from None
    return loader(settings)


register_second_stage("pose", load_pose_estimator)
register_second_stage("fall", load_fall_classifier)
register_second_stage("fight", load_fight_classifier)
