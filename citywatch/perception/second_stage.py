"""Second-stage models: the ones analyzers run themselves on crops or features (pose on a person,
the fall classifier, the fight clip model), as opposed to the detectors the scheduler runs on whole frames.

Each is loaded once per process by name and shared by all cameras' analyzers; a new one registers
its loader in `SECOND_STAGES`. The built-in ones are registered at the end of this module, from
the modules that load them.
"""

from collections.abc import Callable

from citywatch.config import ModelSettings
from citywatch.perception.fall_classifier import load_fall_classifier
from citywatch.perception.fight_clip import load_fight_clip_model
from citywatch.perception.pose import load_pose_estimator
from citywatch.registry import Registry

SecondStageLoader = Callable[[ModelSettings], object]

SECOND_STAGES: Registry[str, SecondStageLoader] = Registry("second-stage model")


def load_second_stage(name: str, settings: ModelSettings) -> object:
    return SECOND_STAGES.get(name)(settings)


SECOND_STAGES.register("pose", load_pose_estimator)
SECOND_STAGES.register("fall", load_fall_classifier)
SECOND_STAGES.register("fight_clip", load_fight_clip_model)
