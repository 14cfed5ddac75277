"""Second-stage models: the ones analyzers run themselves on crops or features (pose on a person,
the fall and fight classifiers), as opposed to the detectors the scheduler runs on whole frames.

Each is loaded once per process by name and shared by all cameras' analyzers; a module that
provides one registers its loader here and is listed in `_BUILTIN_MODULES`.
"""

import importlib
from collections.abc import Callable

from citywatch.config import ModelSettings

SecondStageLoader = Callable[[ModelSettings], object]

_LOADERS: dict[str, SecondStageLoader] = {}
_BUILTIN_MODULES: tuple[str, ...] = (
    "citywatch.perception.pose",
    "citywatch.perception.fall_classifier",
    "citywatch.perception.fight_classifier",
)


def register_second_stage(name: str, loader: SecondStageLoader) -> None:
    if name in _LOADERS:
        raise ValueError(f"second-stage model {name!r} is already registered")
    _LOADERS[name] = loader


def load_second_stage(name: str, settings: ModelSettings) -> object:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
    try:
        loader = _LOADERS[name]
    except KeyError:
        known = ", ".join(sorted(_LOADERS)) or "none"
        raise ValueError(f"unknown second-stage model {name!r} (known: {known})") from None
    return loader(settings)
