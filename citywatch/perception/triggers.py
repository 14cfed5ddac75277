"""Triggers that keep a heavy detector off frames where its analyzers could find nothing.

The weapon detector only matters where a person can hold the weapon: on a frame in which the COCO
pass found nobody, the weapon analyzer raises nothing whatever the weapon detector says (an
incident needs a person track), so running it there is pure cost. A `RoleTrigger` says which
earlier role's classes must be present; the scheduler runs the trigger's source first and hands
the gated role an empty result where the trigger does not fire.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import supervision as sv


@dataclass(frozen=True)
class RoleTrigger:
    """Run a detector role on a frame only when `source` found one of `classes` in it."""

    source: str
    classes: frozenset[str]

    def fires(self, detections: Mapping[str, sv.Detections]) -> bool:
        """True when the trigger's classes are present, or when the source's result is missing
        (its detector failed, or the job did not ask for it): better a wasted pass than a miss."""
        found = detections.get(self.source)
        if found is None:
            return True
        names = found.data.get("class_name")
        return names is not None and bool(np.isin(names, list(self.classes)).any())


def trigger_order(roles: Iterable[str], triggers: Mapping[str, RoleTrigger]) -> list[str]:
    """`roles` with every triggered role after the roles that trigger it (one level deep)."""
    roles = list(dict.fromkeys(roles))
    return [r for r in roles if r not in triggers] + [r for r in roles if r in triggers]
